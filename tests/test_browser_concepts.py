"""The Concepts view in a real `tensorboard` and headless Chromium.

The logdir is written with the real encoder (`pictures.concepts.record`) and
writer from hand-made concepts. Run "a", two steps, layer "conv2", 3 probe
inputs, 3 concepts a step with 4 exemplar crops each: step 0 ids [0, 1, 2];
step 1 ids [2, 0, 3] (id 0 moves to row 1, 3 is new, 1 is gone, id 3 is
unstable), each concept's heatmap a bright square at a place of its own,
its feature visualization stripes in a colour of its own (id i: channel
i % 3), except id 3's, one flat grey (flagged).
Run "b": one step, ids [0, 1, 2], no importance.
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import Panel, TensorBoard

pytest_plugins = ["browser_util"]

LAYER = "conv2"
N, K, EX, H, W, MH, MW = 3, 3, 4, 16, 16, 8, 8
CLASSES = ["plane", "car", "bird", "cat"]
RUN_A, RUN_B = "a/netviz", "b/netviz"
SHOTS = Path(os.environ.get("NETVIZ_SHOTS", "/tmp/netviz_concepts_shots"))


def concept_step(ids, new, gone, step, importance=True, unstable=None):
    """One step's `(info, pngs)` from the real encoder; concept of id i is drawn
    with a hue of its own and a heatmap square at column 2 * i."""
    from tb_netviz import writer
    from tb_netviz.pictures import concepts

    k = len(ids)
    rng = np.random.default_rng(step)
    inputs = {}
    for j in range(12):
        img = np.zeros((H, W, 3), np.float32)
        img[..., j % 3] = 0.3 + 0.05 * j
        inputs[j] = img
    indices = np.array([[(3 * i + j) % 12 for j in range(EX)] for i in ids])
    windows = np.tile(np.array([0, 0, 8, 8]), (k, EX, 1))
    yy, xx = np.mgrid[0:H, 0:W] / (H - 1)
    probe = np.stack(
        [np.stack([yy, xx, np.full_like(yy, 0.3 * n)], -1) for n in range(N)]
    )
    probe = (0.2 + 0.3 * probe + 0.01 * rng.random(probe.shape)).astype(np.float32)
    maps = np.zeros((N, k, MH, MW), np.float32)
    for c, i in enumerate(ids):
        maps[:, c, 2:5, 2 * i % MW : 2 * i % MW + 2] = 1.0 + c
    maps[2, k - 1] = 0.0  # blank on the last input
    imp = None
    if importance:
        imp = np.zeros((k, len(CLASSES)), np.float32)
        for c, i in enumerate(ids):
            imp[c, i % len(CLASSES)] = 0.8 - 0.1 * step
            imp[c, (i + 1) % len(CLASSES)] = 0.3
    share = np.array([0.5, 0.3, 0.2])[:k]
    pictures = np.full((k, H, W, 3), 0.1, np.float32)
    for c, i in enumerate(ids):
        if i == 3:
            pictures[c] = 0.5  # one flat colour: flagged, never a finding
        else:
            pictures[c, :, :, i % 3] = 0.3 + 0.6 * (np.arange(W) // 2 % 2)
    fv = {
        "images": pictures,
        "objective": np.ones(k),
        "start_objective": np.zeros(k),
        "gradient": np.ones(k),
        "data": None,
        "facts": {"preset": "bounded", "steps": 200, "steps_done": 200},
    }
    info, images = concepts.record(
        directions=np.ones((k, 16)),
        share=share,
        indices=indices,
        values=np.ones((k, EX)),
        boxes=windows,
        windows=windows,
        ids=np.array(ids),
        cosines=np.full(k, 0.9),
        new=np.array([i in new for i in ids]),
        gone=np.array(gone, int),
        inputs=inputs,
        probe=probe,
        heatmaps=maps,
        input_range=(0.0, 1.0),
        facts={
            "explained": 0.83 - 0.1 * step,
            "class_names": CLASSES if importance else None,
        },
        importance=imp,
        stability=np.full(k, 0.9) if unstable is not None else None,
        unstable=np.array(unstable) if unstable is not None else None,
        fv=fv,
    )
    return info, [writer.encode_png(g) for g in images]


def write_concepts_logdir(root: Path) -> Path:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(Path(__file__).parent))
    from logs import event_writer

    from tb_netviz import writer

    steps_a = [
        (0, [0, 1, 2], [0, 1, 2], [], [False, False, False]),
        (1, [2, 0, 3], [3], [1], [False, False, True]),
    ]
    with event_writer(root / "a" / "netviz"):
        for step, ids, new, gone, unstable in steps_a:
            info, pngs = concept_step(ids, new, gone, step, unstable=unstable)
            assert writer.write_record("concepts", LAYER, step, info, pngs)
    with event_writer(root / "b" / "netviz"):
        info, pngs = concept_step([0, 1, 2], [0, 1, 2], [], 0, importance=False)
        assert writer.write_record("concepts", LAYER, 0, info, pngs)
    return root


@pytest.fixture(scope="module")
def concepts_tb(tmp_path_factory):
    root = tmp_path_factory.mktemp("netviz_concepts") / "logs"
    write_concepts_logdir(root)
    with TensorBoard(root, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(2)
        yield tb


@pytest.fixture
def view(browser, concepts_tb):
    p = Panel(browser, concepts_tb.url, hash_="#netviz&p.netviz.view=concepts")
    yield p
    p.close()  # fails on dialogs, page errors and console errors


def shot(view, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        view.frame.evaluate(
            "d => document.documentElement.classList.toggle('nv-dark', d)",
            theme == "dark",
        )
        view.page.screenshot(path=str(SHOTS / f"{name}_{theme}.png"), full_page=True)
    view.frame.evaluate("() => document.documentElement.classList.remove('nv-dark')")


def test_cards_show_the_concepts_with_ids_badges_and_importance(view):
    frame = view.frame
    assert view.headers() == ["a", "b"]
    a = f'.nv-col[data-run="{RUN_A}"]'
    cards = frame.query_selector_all(f"{a} .nv-cpt-card")
    assert [c.get_attribute("data-id") for c in cards] == ["2", "0", "3"]
    assert "explains 73%" in frame.text_content(f"{a} .nv-cpt-facts")
    assert "gone: 1" in frame.text_content(f"{a} .nv-cpt-gone")
    new = frame.query_selector_all(f"{a} .nv-cpt-card .nv-cpt-new")
    assert [b.evaluate("b => b.closest('.nv-cpt-card').dataset.id") for b in new] == [
        "3"
    ]
    warn = frame.query_selector_all(f"{a} .nv-cpt-card .nv-cpt-warn")
    assert [b.evaluate("b => b.closest('.nv-cpt-card').dataset.id") for b in warn] == [
        "3"
    ]
    card0 = frame.query_selector(f'{a} .nv-cpt-card[data-id="0"]')
    names = card0.eval_on_selector_all(
        ".nv-cpt-bar-name", "ns => ns.map(n => n.textContent)"
    )
    assert names == ["plane", "car"]
    assert "30%" in card0.text_content()  # row 1's share
    assert len(card0.query_selector_all(".nv-cpt-crops canvas")) == EX
    # Each card shows its concept's FV; id 0's is its own colour (red), id
    # 3's flat grey is flagged and dimmed.
    px = card0.eval_on_selector(
        ".nv-cpt-fv canvas",
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)",
    )
    rgb = np.asarray(px, np.float64).reshape(H, W, 4)[..., :3].mean(axis=(0, 1))
    assert rgb.argmax() == 0 and rgb[0] > rgb[1] + 50, rgb
    assert card0.get_attribute("data-id") == "0"
    assert not card0.query_selector(".nv-cpt-fv.nv-flagged")
    flagged = frame.query_selector(f'{a} .nv-cpt-card[data-id="3"] .nv-cpt-fv')
    assert "nv-flagged" in flagged.get_attribute("class")
    assert "constant" in flagged.get_attribute("data-flags").split()
    assert "constant" in flagged.get_attribute("title")
    b = f'.nv-col[data-run="{RUN_B}"]'
    assert len(frame.query_selector_all(f"{b} .nv-cpt-card")) == K
    assert len(frame.query_selector_all(f"{b} .nv-cpt-new")) == K
    assert "no importance logged" in frame.text_content(
        f'{b} .nv-cpt-card[data-id="1"]'
    )
    shot(view, "cards")


def test_a_concept_page_its_heatmaps_url_and_history(view):
    frame = view.frame
    view.act(
        lambda f: f.click(f'.nv-col[data-run="{RUN_A}"] .nv-cpt-card[data-id="0"]')
    )
    hash_ = urllib.parse.unquote(view.host_hash())
    assert "p.netviz.view=concepts" in hash_ and "p.netviz.concept=0" in hash_, hash_
    a = f'.nv-col[data-run="{RUN_A}"]'
    assert len(frame.query_selector_all(f"{a} .nv-cpt-heat canvas")) == N
    assert "Concept 0" in frame.text_content(".nv-view-head h2")
    # The heatmap of id 0 (row 1 at step 1): its square at columns 0-1 is hot.
    px = frame.eval_on_selector(
        f'{a} .nv-cpt-heat[data-input="0"] canvas',
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)",
    )
    px = np.asarray(px, np.float64).reshape(MH, MW, 4)[..., :3].mean(axis=-1)
    square = np.zeros((MH, MW), bool)
    square[2:5, 0:2] = True  # id 0's square
    assert px[square].min() > px[~square].max() + 40
    # History: id 0 at row 0 at step 0 and row 1 at step 1.
    frames = frame.eval_on_selector_all(
        f"{a} .nv-cpt-frame", "fs => fs.map(f => [f.dataset.step, f.dataset.row])"
    )
    assert frames == [["0", "0"], ["1", "1"]]
    assert len(frame.query_selector_all(f"{a} .nv-cpt-frame .nv-cpt-fv canvas")) == 2
    assert frame.query_selector(f"{a} .nv-cpt-history svg")
    # Run b has only step 0: one frame, one blank.
    b = f'.nv-col[data-run="{RUN_B}"]'
    assert len(frame.query_selector_all(f"{b} .nv-cpt-frame")) == 1
    view.act(lambda f: f.fill('input[name="concept opacity"]', "30"))
    assert "p.netviz.copacity=30" in view.host_hash()
    shot(view, "page")
    view.reload()
    frame = view.frame
    assert len(frame.query_selector_all(f"{a} .nv-cpt-heat canvas")) == N
    assert frame.input_value('input[name="concept opacity"]') == "30"
    view.act(lambda f: f.click(".nv-cpt-back"))
    assert "concept=" not in view.host_hash()
    assert len(frame.query_selector_all(f"{a} .nv-cpt-card")) == K
    # Escape closes a concept's page too.
    view.act(lambda f: f.click(f'{a} .nv-cpt-card[data-id="0"]'))
    assert "p.netviz.concept=0" in urllib.parse.unquote(view.host_hash())
    view.act(lambda f: f.press("body", "Escape"))
    assert "concept=" not in view.host_hash()
    assert len(frame.query_selector_all(f"{a} .nv-cpt-card")) == K
