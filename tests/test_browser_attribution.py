"""The Attribution view in a real `tensorboard` and headless Chromium.

The logdir is written with the real encoder (`pictures.attribution.record`)
and writer, from maps of known content: each map is zero but for an 8x8
square at a place that depends on the input, the target and the step, so the
page's pixels can be checked against the map. Run "a": 3 inputs, 2 targets,
Grad-CAM (input 1's map four times dimmer than input 0's), saliency (not
better than the random map on insertion - deletion), integrated gradients
(signed; input 0 target 1 incomplete), input 2 target 1's Grad-CAM blank at
the newest step, class names, a weight-randomization verdict. Run "b": 1
target, no class names, labels as targets, Grad-CAM and integrated gradients.
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

N, H, W, SIDE = 3, 32, 32, 8
LAYER = "predictions"
CLASSES = [
    "plane",
    "car",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
AMPLITUDE = (1.0, 0.25, 0.5)  # Grad-CAM's peak per input: input 1 is the dimmer map
FAITH = {  # (deletion, insertion, mufidelity) per method, every input and target
    "gradcam": (0.1, 0.8, 0.6),
    "integrated_gradients": (0.2, 0.6, 0.5),
    "saliency": (0.45, 0.5, 0.1),  # insertion - deletion 0.05 < random's 0.1
    "random": (0.4, 0.5, 0.0),
}


def square(n: int, t: int, step: int) -> tuple[int, int]:
    """Top-left (y, x) of the bright square of input n, target t, at a step."""
    return 4 + 12 * t, 4 + 6 * n + 2 * step


def maps_of(methods, targets: int, step: int, blank=()) -> dict[str, np.ndarray]:
    out = {}
    for method in methods:
        m = np.zeros((N, targets, H, W), np.float32)
        for n in range(N):
            for t in range(targets):
                y, x = square(n, t, step)
                if method == "gradcam":
                    m[n, t, y : y + SIDE, x : x + SIDE] = AMPLITUDE[n]
                elif method == "saliency":
                    m[n, t] = 0.01
                    m[n, t, y : y + SIDE, x : x + SIDE] = 0.1
                else:  # signed: + on the square, - on the row below it
                    m[n, t, y : y + SIDE, x : x + SIDE] = 2.0
                    m[n, t, y + SIDE : y + SIDE + 2, x : x + SIDE] = -2.0
                if (method, n, t) in blank:
                    m[n, t] = 0.0
        out[method] = m
    return out


def write_attribution_logdir(root: Path) -> Path:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(Path(__file__).parent))
    from logs import attribution_record, event_writer

    from tb_netviz.methods.sanity import verdict

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W] / (H - 1)
    inputs = np.stack(
        [np.stack([yy, xx, np.full_like(yy, 0.2 * n + 0.3)], -1) for n in range(N)]
    ).astype(np.float32)
    runs = {
        "a": dict(
            methods=("gradcam", "saliency", "integrated_gradients"),
            targets=np.array([[3, 5], [1, 3], [7, 2]]),
            steps=(0, 1, 2),
            facts={"class_names": CLASSES, "target_source": "predicted",
                   "predicted": [3, 1, 7], "labels": None},
        ),
        "b": dict(
            methods=("gradcam", "integrated_gradients"),
            targets=np.array([[3], [1], [7]]),
            steps=(0, 2),
            facts={"class_names": None, "target_source": "label",
                   "predicted": [3, 4, 7], "labels": [3, 1, 7]},
        ),
    }  # fmt: skip
    for name, run in runs.items():
        targets = run["targets"]
        t = targets.shape[1]
        with event_writer(root / name / "netviz"):
            for step in run["steps"]:
                last = step == run["steps"][-1]
                blank = {("gradcam", 2, 1)} if last and t > 1 else set()
                maps = maps_of(run["methods"], t, step, blank)
                faith = {
                    metric: {
                        m: np.full((N, t), FAITH[m][i], np.float32)
                        for m in (*run["methods"], "random")
                    }
                    for i, metric in enumerate(("deletion", "insertion", "mufidelity"))
                }
                completeness = np.zeros((N, t))
                completeness[0, t - 1] = 0.2 if t > 1 else 0.0
                sanity = None
                if t > 1:
                    sanity = {
                        "blocks": [["predictions"], ["conv2"], ["conv1"]],
                        "methods": {
                            m: {
                                "ssim": [0.6, 0.3, 0.1],
                                **verdict.verdict(
                                    rng.random((3, N, t)) * 0.2, np.full((N, N, t), 0.3)
                                ).to_json(),
                            }
                            for m in ("gradcam", "saliency")
                        },
                    }
                attribution_record(
                    LAYER,
                    step,
                    inputs,
                    maps,
                    targets=targets,
                    probabilities=np.full(targets.shape, 0.9) / (1 + np.arange(t)),
                    faithfulness=faith,
                    input_range=(0.0, 1.0),
                    signed=("integrated_gradients",),
                    facts={
                        **run["facts"],
                        "cam_layer": "conv2",
                        "metrics": ["deletion", "insertion", "mufidelity"],
                        "reference": "random",
                        "settings": {"steps": 32, "baseline": "zeros"},
                        "seconds_per_method": {m: 0.01 for m in run["methods"]},
                        "sanity": sanity,
                    },
                    completeness=completeness,
                )
    return root


RUN_A, RUN_B = "a/netviz", "b/netviz"
NEWEST = 2


@pytest.fixture(scope="module")
def attribution_tb(tmp_path_factory):
    root = tmp_path_factory.mktemp("netviz_attribution") / "logs"
    write_attribution_logdir(root)
    with TensorBoard(root, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(2)
        yield tb


@pytest.fixture
def view(browser, attribution_tb):
    p = Panel(browser, attribution_tb.url, hash_="#netviz&p.netviz.view=attribution")
    yield p
    p.close()  # fails on dialogs, page errors and console errors


_PIXELS = """([run, input, target, method]) => {
  const col = [...document.querySelectorAll('.nv-columns > .nv-col')].find(c => c.dataset.run === run);
  const row = col.querySelector(`.nv-attr-row[data-input="${input}"]`);
  const fig = row.querySelector(`.nv-attr-map[data-method="${method}"][data-target="${target}"]`);
  const px = (c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
  const map = fig.querySelector('canvas');
  return {w: map.width, h: map.height, map: px(map), input: px(row.querySelector('.nv-attr-input canvas'))};
}"""
_LUT = """async (name) => {
  const m = await import(new URL('static/shared/colormaps.js', document.baseURI));
  return Array.from(m.lut(name));
}"""


def lut(frame, name: str) -> np.ndarray:
    return np.asarray(frame.evaluate(_LUT, name), np.float64).reshape(256, 3)


def heat(frame, run, n, t, method, opacity=0.6) -> np.ndarray:
    """The colour the page blended over the input of map (n, t): `(H, W, 3)`."""
    d = frame.evaluate(_PIXELS, [run, n, t, method])
    shape = (d["h"], d["w"], 4)
    out = np.asarray(d["map"], np.float64).reshape(shape)[..., :3]
    under = np.asarray(d["input"], np.float64).reshape(shape)[..., :3]
    return (out - (1 - opacity) * under) / opacity


def near(colours: np.ndarray, colour: np.ndarray, tol: float = 5.0) -> np.ndarray:
    return np.abs(colours - colour).max(axis=-1) <= tol


def square_mask(n, t, step=NEWEST) -> np.ndarray:
    y, x = square(n, t, step)
    mask = np.zeros((H, W), bool)
    mask[y : y + SIDE, x : x + SIDE] = True
    return mask


def test_each_heatmap_is_drawn_where_its_map_is(view):
    frame = view.frame
    inferno = lut(frame, "inferno")
    for n, t in ((0, 0), (0, 1), (2, 0)):
        colours = heat(frame, RUN_A, n, t, "gradcam")
        # Per map: the square is the top of the colormap, everything else its bottom.
        np.testing.assert_array_equal(near(colours, inferno[255]), square_mask(n, t))
        np.testing.assert_array_equal(near(colours, inferno[0]), ~square_mask(n, t))
    # Signed: + (the square) at the red end, - (two rows below it) at the blue end.
    coolwarm = lut(frame, "coolwarm")
    colours = heat(frame, RUN_A, 1, 0, "integrated_gradients")
    np.testing.assert_array_equal(near(colours, coolwarm[255]), square_mask(1, 0))
    below = np.roll(square_mask(1, 0), SIDE, axis=0) & ~np.roll(
        square_mask(1, 0), SIDE + 2, axis=0
    )
    np.testing.assert_array_equal(near(colours, coolwarm[0]), below)


def test_shared_scale_dims_the_weaker_map(view):
    frame = view.frame
    inferno = lut(frame, "inferno")
    inside = square_mask(1, 0)
    assert near(heat(frame, RUN_A, 1, 0, "gradcam")[inside], inferno[255]).all()
    view.act(lambda f: f.click('.nv-attr-toolbar button[data-scale="shared"]'))
    assert "p.netviz.ascale=shared" in view.host_hash()
    # Input 1's Grad-CAM peaks at a quarter of input 0's: a quarter up the colormap now.
    dim = inferno[round(AMPLITUDE[1] / AMPLITUDE[0] * 255)]
    assert near(heat(frame, RUN_A, 1, 0, "gradcam")[inside], dim).all()
    assert near(
        heat(frame, RUN_A, 0, 0, "gradcam")[square_mask(0, 0)], inferno[255]
    ).all()
    note = frame.text_content(f'.nv-col[data-run="{RUN_A}"] .nv-attr-card > .nv-note')
    assert "one scale per method" in note and "Grad-CAM 0 … 1" in note


def test_the_url_keeps_methods_opacity_colormap_and_scale(view):
    frame = view.frame
    view.act(lambda f: f.uncheck('.nv-attr-chip input[data-method="saliency"]'))
    view.act(lambda f: f.fill('input[name="heatmap opacity"]', "30"))
    view.act(
        lambda f: f.select_option('select[name="attribution colormap"]', "viridis")
    )
    view.act(lambda f: f.click('.nv-attr-toolbar button[data-scale="shared"]'))
    hash_ = urllib.parse.unquote(view.host_hash())
    for part in (
        "amethods=gradcam,integrated_gradients",
        "aopacity=30",
        "acmap=viridis",
        "ascale=shared",
    ):
        assert f"p.netviz.{part}" in hash_, hash_
    view.reload()
    frame = view.frame
    assert not frame.query_selector('.nv-attr-map[data-method="saliency"]')
    assert frame.query_selector('.nv-attr-map[data-method="gradcam"]')
    assert not frame.is_checked('.nv-attr-chip input[data-method="saliency"]')
    assert frame.input_value('input[name="heatmap opacity"]') == "30"
    assert frame.input_value('select[name="attribution colormap"]') == "viridis"
    assert "nv-active" in frame.get_attribute('button[data-scale="shared"]', "class")
    top = lut(frame, "viridis")[255]
    colours = heat(frame, RUN_A, 0, 0, "gradcam", opacity=0.3)
    assert near(colours[square_mask(0, 0)], top, tol=8).all()
    # Saliency is gone from the ranking too; the random reference stays.
    ranked = frame.eval_on_selector_all(
        f'.nv-col[data-run="{RUN_A}"] .nv-attr-ranking tr[data-method]',
        "rs => rs.map(r => r.dataset.method)",
    )
    assert ranked == ["gradcam", "integrated_gradients", "random"]


def test_flags_show_dimmed_with_their_reason(view):
    frame = view.frame
    col = f'.nv-col[data-run="{RUN_A}"]'
    blank = frame.query_selector(
        f'{col} .nv-attr-row[data-input="2"] .nv-attr-map[data-method="gradcam"][data-target="1"]'
    )
    assert blank.get_attribute("data-flags") == "blank"
    assert "blank: one value everywhere" in blank.text_content()
    assert "ReLU removed every positive contribution" in blank.get_attribute("title")
    assert blank.query_selector(".nv-attr-veil")
    d = frame.evaluate(_PIXELS, [RUN_A, 2, 1, "gradcam"])
    assert d["map"] == d["input"]  # no heat: the input alone, dimmed by CSS
    assert (
        float(blank.eval_on_selector("canvas", "c => getComputedStyle(c).opacity")) < 1
    )
    ig = frame.query_selector(
        f'{col} .nv-attr-row[data-input="0"] .nv-attr-map[data-method="integrated_gradients"][data-target="1"]'
    )
    assert ig.get_attribute("data-flags") == "incomplete"
    assert "incomplete: sum off by 20%" in ig.text_content()
    ok = frame.query_selector(
        f'{col} .nv-attr-row[data-input="0"] .nv-attr-map[data-method="gradcam"][data-target="0"]'
    )
    assert ok.get_attribute("data-flags") == ""


def test_targets_figures_random_reference_and_ranking(view):
    frame = view.frame
    a = f'.nv-col[data-run="{RUN_A}"]'
    rows = frame.query_selector_all(f"{a} .nv-attr-ranking tr[data-method]")
    assert [r.get_attribute("data-method") for r in rows] == [
        "gradcam", "integrated_gradients", "saliency", "random",
    ]  # fmt: skip
    assert "not better than a random map" in rows[2].text_content()
    assert "not better" not in rows[0].text_content() + rows[1].text_content()
    assert "0.05" in rows[2].text_content() and "0.7" in rows[0].text_content()
    titles = frame.eval_on_selector_all(
        f"{a} .nv-attr-ranking th[title]", "ts => ts.map(t => t.title)"
    )
    assert any("Deletion" in t and "lower is better" in t for t in titles)
    assert any("Insertion" in t and "higher is better" in t for t in titles)
    assert any("MuFidelity" in t and "higher is better" in t for t in titles)
    head = frame.text_content(
        f'{a} .nv-attr-row[data-input="0"] .nv-attr-target[data-target="1"] .nv-attr-target-head'
    )
    assert "dog" in head and "p 0.45" in head and "predicted #2" in head
    assert "random map: del 0.4" in head
    sal = frame.query_selector(
        f'{a} .nv-attr-row[data-input="0"] .nv-attr-map[data-method="saliency"][data-target="0"]'
    )
    assert "≈ random map" in sal.text_content()
    assert sal.query_selector('td[data-metric="deletion"].nv-attr-loses')
    cam = f'{a} .nv-attr-row[data-input="0"] .nv-attr-map[data-method="gradcam"][data-target="0"]'
    assert frame.query_selector(f'{cam} td[data-metric="insertion"].nv-attr-beats')
    b = f'.nv-col[data-run="{RUN_B}"]'
    head = frame.text_content(f'{b} .nv-attr-row[data-input="1"] .nv-attr-target-head')
    assert "class 1" in head and "label" in head
    assert "predicted class 4" in frame.text_content(
        f'{b} .nv-attr-row[data-input="1"] .nv-attr-input'
    )
    badges = frame.query_selector_all(f"{a} .nv-sanity .nv-badge")
    assert [x.get_attribute("data-method") for x in badges] == ["gradcam", "saliency"]
    assert not frame.query_selector(f"{b} .nv-sanity")


def test_two_runs_side_by_side_and_the_map_over_steps(view):
    frame = view.frame
    assert view.headers() == ["a", "b"]
    assert (
        len(frame.query_selector_all(f'.nv-col[data-run="{RUN_B}"] .nv-attr-row')) == N
    )
    assert not frame.query_selector(
        f'.nv-col[data-run="{RUN_B}"] .nv-attr-map[data-method="saliency"]'
    )
    grid = frame.eval_on_selector(
        ".nv-columns", "g => getComputedStyle(g).gridTemplateColumns.split(' ').length"
    )
    assert grid == 2
    view.act(
        lambda f: f.click(
            f'.nv-col[data-run="{RUN_A}"] .nv-attr-row[data-input="1"] .nv-attr-map[data-method="gradcam"][data-target="0"]'
        )
    )
    assert (
        "p.netviz.probe=1" in view.host_hash()
        and "p.netviz.channel=1" in view.host_hash()
    )
    detail = frame.wait_for_selector(".nv-detail")
    assert "Grad-CAM · input #1 · car" in detail.text_content()
    assert len(detail.query_selector_all(".nv-attr-detail-card")) == 2
    assert detail.query_selector(".nv-compare")
    films = detail.query_selector_all(".nv-film-row")
    assert len(films) == 2
    steps = [
        [c.get_attribute("data-step") for c in r.query_selector_all(".nv-film > *")]
        for r in films
    ]
    assert steps == [
        ["0", "1", "2"],
        ["0", None, "2"],
    ]  # one step axis; b has no step 1
    for s in (0, 1, 2):
        px = frame.eval_on_selector(
            f'.nv-film-row:first-child .nv-attr-frame[data-step="{s}"] canvas',
            "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)",
        )
        grey = np.asarray(px, np.float64).reshape(H, W, 4)[..., :3].mean(axis=-1)
        inside = square_mask(1, 0, s)  # the square moves with the step
        assert grey[inside].min() > grey[~inside].max(), s
    view.act(
        lambda f: f.click('.nv-film-row:first-child .nv-attr-frame[data-step="0"]')
    )
    assert "p.netviz.step=0" in view.host_hash()
    assert "step 0" in frame.text_content(f'.nv-col[data-run="{RUN_A}"] .nv-col-step')
    view.act(lambda f: view.page.keyboard.press("Escape"))
    assert not frame.query_selector(".nv-detail")
