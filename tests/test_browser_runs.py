"""Runs at scale: a 100-run logdir (copies of one demo layer), the filter,
natural order, colours, middle ellipsis, runs without data; equal tile sizes
for runs whose layer has different channel counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import (
    DEMO_LOGS,
    Panel,
    TensorBoard,
    activation_event,
    copy_run,
    wait_ready,
    write_events,
)

pytest_plugins = ["browser_util"]

LONG = "sweep_with_a_long_name_lr_0.001_batch_128_dropout_0.5_seed_7"
RUNS = 100


def one_layer(kind: str, layer: str):
    """A `keep` for copy_run: the tags of one kind/layer (format v1 or v2)."""
    return lambda tag: tag in (f"{kind}/{layer}", f"{kind}.info/{layer}")


def make_many_runs(root: Path, n: int = RUNS) -> Path:
    """`sweep_0` … `sweep_{n-3}` with the demo's conv1 activations, `sweep_50`
    with conv2 only, a long-named run, and `narrow` whose conv1 has 8 channels."""
    source = sorted(DEMO_LOGS.glob("*/netviz"))[0]
    template = root / "_template"
    copy_run(source, template, keep=one_layer("activations", "conv1"))
    for i in range(n - 2):
        if i == 50:
            copy_run(
                source,
                root / f"sweep_{i}" / "netviz",
                keep=one_layer("activations", "conv2"),
            )
        else:
            shutil.copytree(template, root / f"sweep_{i}" / "netviz")
    shutil.copytree(template, root / LONG / "netviz")
    rng = np.random.default_rng(1)
    x = np.maximum(rng.normal(size=(2, 32, 32, 8)), 0).astype(np.float32)
    write_events(root / "narrow" / "netviz", [activation_event("conv1", x, 4)])
    shutil.rmtree(template)
    return root


@pytest.fixture(scope="module")
def many(tmp_path_factory, browser):
    root = tmp_path_factory.mktemp("many") / "logs"
    root.mkdir()
    make_many_runs(root)
    with TensorBoard(root, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(RUNS, timeout=240)
        p = Panel(browser, tb.url)
        yield p
        p.close()


def names(frame, visible_only=True) -> list[str]:
    return frame.evaluate(
        """v => [...document.querySelectorAll('.nv-run')]
            .filter(r => !v || !r.hidden).map(r => r.querySelector('.nv-run-name').dataset.name)""",
        visible_only,
    )


def test_hundred_runs_in_natural_order_first_eight_chosen(many):
    listed = names(many.frame)
    assert len(listed) == RUNS
    assert listed[:12] == [
        "narrow",
        "sweep_0",
        "sweep_1",
        "sweep_2",
        "sweep_3",
        "sweep_4",
        "sweep_5",
        "sweep_6",
        "sweep_7",
        "sweep_8",
        "sweep_9",
        "sweep_10",
    ]
    # The run's own name, not "sweep_0/netviz"; all runs chosen by default, up to 8.
    assert many.headers() == ["narrow"] + [f"sweep_{i}" for i in range(7)]
    assert "8 of 100 runs chosen" in many.frame.text_content(".nv-run-count")
    colours = many.frame.eval_on_selector_all(
        ".nv-run .nv-swatch", "s => s.slice(0, 8).map(e => e.style.background)"
    )
    assert len(set(colours)) == 8
    card = many.frame.eval_on_selector(".nv-col", "c => c.style.borderTopColor")
    assert card == colours[0]


def test_filter_is_a_regular_expression(many):
    frame = many.frame
    many.act(lambda f: f.fill("input.nv-filter", r"sweep_1\d$"))
    assert names(frame) == [f"sweep_{i}" for i in range(10, 20)]
    assert many.headers() == []  # none of them is chosen yet
    many.act(lambda f: f.click("text=all shown"))
    assert many.headers() == [f"sweep_{i}" for i in range(10, 20)]
    assert "10 match the filter" in frame.text_content(".nv-run-count")
    many.act(lambda f: f.fill("input.nv-filter", "sweep_(1"))
    assert "not a regular expression" in frame.text_content(".nv-run-section")
    assert names(frame) == []
    many.act(lambda f: f.fill("input.nv-filter", ""))
    assert len(names(frame)) == RUNS
    many.act(lambda f: f.click("text=first 8"))


def test_long_names_are_shortened_in_the_middle(many):
    label = many.frame.evaluate_handle(
        "n => [...document.querySelectorAll('.nv-run-name')].find(l => l.dataset.name === n)",
        LONG,
    ).as_element()
    text = label.text_content()
    assert "…" in text and text.endswith("seed_7") and text.startswith("sweep_with")
    assert label.get_attribute("title").startswith(LONG)
    box = label.bounding_box()
    sidebar = many.frame.query_selector(".nv-sidebar").bounding_box()
    assert box["x"] + box["width"] <= sidebar["x"] + sidebar["width"]


def test_run_without_the_layer_is_greyed_and_blocks_nothing(many):
    many.only("sweep_0/netviz", "sweep_50/netviz")
    row = many.frame.query_selector('.nv-run[data-run="sweep_50/netviz"]')
    assert "nv-missing" in row.get_attribute("class")
    assert many.headers() == ["sweep_0"]
    assert "sweep_50" in many.frame.text_content(".nv-view-head")
    # Its layer is still offered, and choosing it shows that run.
    options = many.frame.eval_on_selector(
        "select[name=layer]", "s => [...s.options].map(o => o.value)"
    )
    assert options == ["conv1", "conv2"]
    many.act(lambda f: f.select_option("select[name=layer]", "conv2"))
    assert many.headers() == ["sweep_50"]


def test_same_tile_size_for_a_layer_in_every_run(many):
    """`narrow` has 8 channels of conv1 (a 3×3 grid), the sweeps 16 (4×4):
    tiles are drawn at one size all the same."""
    many.only("narrow/netviz", "sweep_0/netviz")
    many.act(lambda f: f.select_option("select[name=layer]", "conv1"))
    sizes = many.frame.evaluate(
        """() => [...document.querySelectorAll('.nv-col')].map(c => {
            const t = c.querySelector('.nv-tile').getBoundingClientRect();
            return [c.querySelectorAll('.nv-tile').length, t.width, t.height];
        })"""
    )
    assert [s[0] for s in sizes] == [8, 16]
    assert sizes[0][1:] == sizes[1][1:] and sizes[0][1] >= 32, sizes


def test_cards_side_by_side_at_1000px(many):
    many.only("sweep_0/netviz", "sweep_1/netviz", "sweep_2/netviz")
    many.page.set_viewport_size({"width": 1000, "height": 700})
    many.frame.wait_for_timeout(400)
    wait_ready(many.frame)
    boxes = [c.bounding_box() for c in many.columns()]
    assert (
        abs(boxes[0]["y"] - boxes[1]["y"]) < 1
        and boxes[1]["x"] > boxes[0]["x"] + boxes[0]["width"]
    )
    assert boxes[2]["y"] > boxes[0]["y"]  # the third wraps
    main = many.frame.query_selector(".nv-main").bounding_box()
    assert all(b["x"] + b["width"] <= main["x"] + main["width"] for b in boxes)
    many.page.set_viewport_size({"width": 1360, "height": 860})


def test_a_logdir_that_is_itself_a_run_shows_its_folder_name(tmp_path, browser):
    """`tb-netviz serve logs/mymodel`: TensorBoard's run is `netviz`, the panel
    says `mymodel`, and asks for the run by TensorBoard's id."""
    source = sorted(DEMO_LOGS.glob("*/netviz"))[0]
    copy_run(
        source, tmp_path / "mymodel" / "netviz", keep=one_layer("activations", "conv1")
    )
    with TensorBoard(tmp_path / "mymodel", load_fast=False) as tb:
        assert list(tb.wait_for_runs(1)) == ["netviz"]
        p = Panel(browser, tb.url)
        try:
            assert p.headers() == ["mymodel"]
            label = p.frame.query_selector(".nv-run .nv-run-name")
            assert label.text_content() == "mymodel"
            assert label.get_attribute("title") == "mymodel  (run netviz)"
            assert p.frame.query_selector("canvas.nv-grid")  # its data loaded
            p.page.screenshot(path="/tmp/netviz_logdir_run.png")
        finally:
            p.close()
