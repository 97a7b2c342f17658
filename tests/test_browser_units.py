"""The Units view, the unit's page and exemplars beside feature visualizations,
in a real `tensorboard` and headless Chromium.

The logdir is written by the real loggers (`ExemplarsLogger`, `UnitsLogger`,
`AscentLogger`, `ProbeLogger`) inside a `tf.summary` writer on `small_cnn`, no
training: run "healthy" as built, run "dying" with conv1's channels 0-5 given
a bias of -50, so they never rise above 0 (dead) on any input.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import Panel, TensorBoard

pytest_plugins = ["browser_util"]

STEPS = 3
DEAD = list(range(6))  # conv1 channels killed in the "dying" run
TOP_K = 4
ASCENT_CHANNELS = 4


def write_units_logdir(root: Path) -> Path:
    """Two runs of small_cnn logged by the real loggers (3 steps, no training)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(Path(__file__).parent))
    import tensorflow as tf
    from models import data, small_cnn

    from tb_netviz import loggers

    for name, kill in (("healthy", False), ("dying", True)):
        model = small_cnn(0)
        x, _ = data(64)
        if kill:
            kernel, bias = model.get_layer("conv1").get_weights()
            bias[DEAD] = -50.0
            model.get_layer("conv1").set_weights([kernel, bias])
        probe = x[:4]
        examples = loggers.ExemplarsLogger(model, x, ["conv1", "conv2"], top_k=TOP_K)
        units = loggers.UnitsLogger(
            model, probe, ["conv1", "conv2"], exemplars=examples
        )
        ascent = loggers.AscentLogger(
            model, ["conv1"], channels=ASCENT_CHANNELS, steps=8, budget_s=None
        )
        writer = tf.summary.create_file_writer(str(root / name / "netviz"))
        with writer.as_default():
            loggers.ProbeLogger(model, probe).log(0)
            for step in range(STEPS):
                examples.log(step)
                units.log(step)
                if step >= 1:
                    ascent.log(step)
        writer.close()
    return root


@pytest.fixture(scope="module")
def units_tb(tmp_path_factory):
    root = tmp_path_factory.mktemp("netviz_units") / "logs"
    write_units_logdir(root)
    with TensorBoard(root, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(2)
        yield tb


@pytest.fixture
def units_panel(browser, units_tb, request):
    hash_ = getattr(
        request, "param", "#netviz&p.netviz.view=units&p.netviz.layer=conv1"
    )
    p = Panel(browser, units_tb.url, hash_=hash_)
    yield p
    p.close()  # fails on dialogs, page errors and console errors


def card(frame, run: str):
    return frame.query_selector(f'.nv-columns > .nv-col[data-run="{run}/netviz"]')


def pixel(element, x: int, y: int) -> list[int]:
    return element.evaluate(
        "(c, [x, y]) => Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data)",
        [x, y],
    )


def test_units_heatmap_marks_dead_cells_and_charts_dead_share(units_panel):
    frame = units_panel.frame
    assert frame.eval_on_selector(".nv-view", "v => v.dataset.view") == "units"
    dying = card(frame, "dying").query_selector("canvas.nv-units-heat")
    healthy = card(frame, "healthy").query_selector("canvas.nv-units-heat")
    assert dying.get_attribute("data-channels") == "8"
    assert dying.get_attribute("data-steps") == str(STEPS)
    assert dying.get_attribute("data-dead-cells") == str(len(DEAD) * STEPS)
    assert healthy.get_attribute("data-dead-cells") == "0"
    # Dead cells are red; a live channel (7) is on the colormap.
    height = int(dying.get_attribute("height"))
    row = lambda c: int((c + 0.5) * height / 8)  # noqa: E731
    assert pixel(dying, 1, row(0))[:3] == [211, 47, 47]
    assert pixel(dying, 1, row(7))[:3] != [211, 47, 47]
    assert pixel(healthy, 1, row(0))[:3] != [211, 47, 47]
    # The share of dead channels, at a glance.
    head = card(frame, "dying").query_selector(".nv-units-headline")
    assert "75% dead" in head.text_content()
    assert "nv-bad" in head.get_attribute("class")
    assert "0% dead" in card(frame, "healthy").text_content()
    # The dead share per layer over steps: one line per layer, the shown one bold.
    chart = card(frame, "dying").query_selector(".nv-units-dead-chart svg")
    series = chart.query_selector_all(".nv-chart-series")
    assert [s.get_attribute("data-label") for s in series] == ["conv1", "conv2"]
    conv1 = chart.query_selector('.nv-chart-series[data-label="conv1"]')
    assert len(conv1.query_selector_all("circle")) == STEPS
    assert conv1.query_selector("path").get_attribute("stroke-width") == "3"
    assert "0.75" in conv1.query_selector("circle title").text_content()
    # Hover says what a cell is; the statistic switch keeps the dead marks and
    # goes into the URL.
    dying.hover(position={"x": 2, "y": 2})
    assert "dead" in card(frame, "dying").query_selector(".nv-readout").text_content()
    units_panel.act(
        lambda f: f.click('[data-control="statistic"] button[data-value="mean"]')
    )
    dying = card(units_panel.frame, "dying").query_selector("canvas.nv-units-heat")
    assert dying.get_attribute("data-dead-cells") == str(len(DEAD) * STEPS)
    assert "p.netviz.ustat=mean" in units_panel.host_hash()


def test_unit_page_shows_exemplars_and_the_whole_input_on_hover(units_panel):
    frame = units_panel.frame
    canvas = card(frame, "healthy").query_selector("canvas.nv-units-heat")
    box = canvas.bounding_box()
    # Channel 2: dead in "dying", alive (and feature-visualized) in "healthy".
    units_panel.act(
        lambda f: canvas.click(
            position={"x": box["width"] - 2, "y": (2.5 / 8) * box["height"]}
        )
    )
    page = frame.wait_for_selector(".nv-unit-page")
    assert page.get_attribute("data-channel") == "2"
    assert "Channel 2 · conv1" in frame.text_content(".nv-detail-head")
    cards = page.query_selector_all(".nv-unit-card")
    assert [c.get_attribute("data-run") for c in cards] == [
        "dying/netviz",
        "healthy/netviz",
    ]
    dying, healthy = cards
    left, right = dying.bounding_box(), healthy.bounding_box()
    assert right["x"] >= left["x"] + left["width"] and abs(right["y"] - left["y"]) < 2
    # Both runs side by side: health, activation over steps, exemplars.
    assert "dead" in dying.query_selector(".nv-unit-stats").evaluate(
        "t => t.parentElement.textContent"
    )
    assert dying.query_selector(".nv-unit-activation svg")
    assert "ties at 0" in dying.text_content()
    crops = healthy.query_selector_all(".nv-ex-crop")
    assert len(crops) == TOP_K
    assert all(
        c.query_selector("canvas").evaluate("c => c.width > 0 && c.height > 0")
        for c in crops
    )
    # Hover a crop: its whole input with the receptive-field box.
    crops[2].hover()
    preview = healthy.query_selector(".nv-ex-preview canvas")
    assert preview.get_attribute("data-example") == crops[2].get_attribute(
        "data-example"
    )
    y0, x0, y1, x1 = (int(v) for v in json.loads(preview.get_attribute("data-box")))
    assert 0 <= y0 < y1 <= 16 and 0 <= x0 < x1 <= 16
    scale = int(preview.get_attribute("width")) // 16
    red = pixel(preview, x0 * scale + 1, ((y0 + y1) // 2) * scale)
    assert red[:3] == [255, 61, 0], red  # the box's left edge
    # Its feature visualization over the steps it was logged at.
    frames = healthy.query_selector_all(".nv-unit-film .nv-frame")
    assert [f.get_attribute("data-step") for f in frames] == ["1", "2"]
    # Escape closes the page.
    units_panel.act(lambda f: units_panel.page.keyboard.press("Escape"))
    assert not units_panel.frame.query_selector(".nv-unit-page")


@pytest.mark.parametrize(
    "units_panel", ["#netviz&p.netviz.view=ascent&p.netviz.layer=conv1"], indirect=True
)
def test_exemplars_beside_feature_visualizations(units_panel):
    frame = units_panel.frame
    healthy = card(frame, "healthy")
    strips = healthy.query_selector_all(".nv-fig .nv-ex-strip")
    assert len(strips) == ASCENT_CHANNELS
    assert [s.get_attribute("data-channel") for s in strips] == ["0", "1", "2", "3"]
    assert all(len(s.query_selector_all("canvas")) == TOP_K for s in strips)
    # Beside the image, not below it.
    fig = healthy.query_selector(".nv-fig.nv-with-ex")
    image = fig.query_selector("canvas.nv-tile-pic").bounding_box()
    strip = fig.query_selector(".nv-ex-strip").bounding_box()
    assert strip["x"] >= image["x"] + image["width"] - 1
    assert abs(strip["y"] - image["y"]) < 4
    # Dead channels have no exemplars worth showing (every example ties at 0).
    assert not card(frame, "dying").query_selector(".nv-ex-strip")
