"""End to end: a real `tensorboard` process, headless Chromium, the NetViz panel.

The logdir is demo_logs' runs plus two hostile runs (browser_util). Every test
fails on a JavaScript dialog, an uncaught page error, or a console error from
the plugin's frame. This module: the grid, hostile names, the large view,
colormaps and decoding, the step slider, the other views, empty logdirs.
Topics live in tests/test_browser_*.py.
"""

from __future__ import annotations

import io
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import (
    HOSTILE_LAYERS,
    HOSTILE_RUN,
    HOSTILE_RUN_2,
    Panel,
    TensorBoard,
    data_server_available,
    demo_runs,
    display,
    images_loaded,
)

pytest_plugins = ["browser_util"]


def fetch_steps(tb, run: str, kind: str, layer: str) -> list[dict]:
    """The plugin's `steps` response for a run's kind/layer, straight from the server."""
    query = urllib.parse.urlencode(
        {"run": run, "tag": tb.runs[run][kind][layer]["tag"]}
    )
    with urllib.request.urlopen(f"{tb.url}data/plugin/netviz/steps?{query}") as r:
        return json.load(r)["steps"]


def assert_images_loaded(frame, count: int):
    images = images_loaded(frame)
    assert len(images) == count, images
    assert all(i["complete"] and i["w"] > 0 and i["h"] > 0 for i in images), images


def canvas_has_pixels(frame, selector: str) -> bool:
    return frame.eval_on_selector(
        selector,
        """c => {
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
        return false;
    }""",
    )


def test_panel_shows_colormapped_grids_of_all_runs(panel, tensorboard):
    # All runs are chosen by default (up to 8), shown by their own names; the
    # layer is the one most of them have, and the run without it is named.
    demo = demo_runs(tensorboard)
    assert panel.headers() == [HOSTILE_RUN] + [display(r) for r in demo]
    assert "No data for this view and layer in" in panel.frame.text_content(
        ".nv-view-head"
    )
    assert_images_loaded(panel.frame, 3)
    assert canvas_has_pixels(panel.frame, "canvas.nv-grid")
    style = panel.frame.eval_on_selector(
        "canvas.nv-grid", "c => getComputedStyle(c).imageRendering"
    )
    assert style == "pixelated"


def test_two_runs_side_by_side(panel, tensorboard):
    first, second = demo_runs(tensorboard)[:2]
    panel.only(first, second)
    columns = panel.columns()
    assert panel.headers() == [display(first), display(second)]
    a, b = (c.bounding_box() for c in columns)
    assert abs(a["y"] - b["y"]) < 1 and b["x"] >= a["x"] + a["width"], (a, b)
    assert abs(a["width"] - b["width"]) < 1  # widths do not follow the names
    panel.act(lambda f: f.click(".nv-col >> nth=0 >> .nv-tile >> nth=0"))
    assert (
        len(panel.frame.query_selector_all(".nv-detail .nv-card canvas.nv-pixelated"))
        == 2
    )


def test_hostile_names_are_text(panel):
    """Run and layer names with markup, quotes and script are shown as text only."""
    frame = panel.frame
    names = [
        x.get_attribute("data-name") for x in frame.query_selector_all(".nv-run-name")
    ]
    assert HOSTILE_RUN in names and HOSTILE_RUN_2 in names, names
    panel.only(HOSTILE_RUN_2)
    assert panel.headers() == [HOSTILE_RUN_2]
    options = frame.eval_on_selector(
        "select[name=layer]", "s => [...s.options].map(o => o.textContent)"
    )
    assert options == sorted(HOSTILE_LAYERS)
    panel.act(lambda f: f.select_option("select[name=layer]", HOSTILE_LAYERS[0]))
    assert (
        frame.text_content(".nv-view-head h2") == f"Activations · {HOSTILE_LAYERS[0]}"
    )
    # Its step 1 holds a NaN: flagged in the sidebar and in the card header.
    assert "non-finite values at step 1" in frame.text_content(".nv-flagged")
    assert frame.query_selector(".nv-col .nv-flag")
    # The sequence layer (time x channel), then the other hostile run.
    panel.act(lambda f: f.select_option("select[name=layer]", HOSTILE_LAYERS[1]))
    assert "time runs down" in frame.text_content(".nv-col .nv-note")
    panel.check_run(HOSTILE_RUN)
    panel.act(lambda f: f.select_option("select[name=layer]", "conv1"))
    assert panel.headers() == [HOSTILE_RUN]
    frame.query_selector(".nv-tile").hover()
    frame.wait_for_timeout(300)  # an onerror/onload/onmouseover would have run by now
    injected = frame.evaluate(
        """() => ({
        handlers: [...document.querySelectorAll("*")]
            .filter(e => [...e.attributes].some(a => a.name.startsWith("on")))
            .map(e => e.tagName),
        svg: document.querySelectorAll("svg, b, img[src='x']").length,
        scripts: document.querySelectorAll("script").length,
    })"""
    )
    assert injected == {"handlers": [], "svg": 0, "scripts": 1}  # plugin_entry's own
    assert not panel.problems


def test_click_tile_shows_channel_large_in_viewport(panel, tensorboard):
    panel.only(*demo_runs(tensorboard))
    panel.resize(1000, 700)
    panel.act(
        lambda f: f.evaluate(
            "() => document.querySelector('.nv-main').scrollTo(0, 9999)"
        )
    )
    tile = panel.frame.query_selector_all(".nv-col >> nth=1 >> .nv-tile")[-1]
    channel = tile.get_attribute("data-channel")
    panel.act(lambda f: tile.click())
    detail = panel.frame.wait_for_selector(".nv-detail")
    assert re.search(rf"(Channel|Unit) {channel}\b", detail.text_content())
    assert "value" in detail.text_content()
    assert canvas_has_pixels(panel.frame, ".nv-detail canvas.nv-pixelated")
    box = detail.bounding_box()
    frame_box = panel.page.query_selector("iframe").bounding_box()
    assert box["y"] >= frame_box["y"] and box["x"] >= frame_box["x"], (box, frame_box)
    assert box["y"] < 700 and box["y"] + min(box["height"], 200) <= 700, box
    panel.act(lambda f: f.click(".nv-detail .nv-close"))
    assert panel.frame.query_selector(".nv-detail") is None


def test_colormap_and_normalization_repaint(panel, tensorboard):
    panel.only(demo_runs(tensorboard)[0])

    def grid_pixels():
        return panel.frame.eval_on_selector("canvas.nv-grid", "c => c.toDataURL()")

    before = grid_pixels()
    assert "each channel scaled to its own range" in panel.frame.text_content(
        ".nv-col .nv-cbar-row"
    )
    panel.act(lambda f: f.select_option("select[name=colormap]", "gray"))
    gray = grid_pixels()
    assert gray != before
    panel.act(lambda f: f.select_option("select[name=normalization]", "layer"))
    assert grid_pixels() != gray
    assert "one scale for the layer" in panel.frame.text_content(".nv-col .nv-cbar-row")


def test_dense_layer_says_unit_and_per_layer(panel, tensorboard):
    panel.only(demo_runs(tensorboard)[0])
    panel.act(lambda f: f.select_option("select[name=layer]", "dense"))
    assert (
        panel.frame.query_selector(".nv-tile")
        .get_attribute("title")
        .startswith("unit ")
    )
    assert "per layer" in panel.frame.text_content(".nv-sub")
    assert "one scale for the layer" in panel.frame.text_content(".nv-col .nv-cbar-row")


def test_browser_decode_matches_png(panel, tensorboard):
    """The value the panel reads out at a pixel equals lo + q/qmax·(hi−lo) from the PNG."""
    from PIL import Image

    run = demo_runs(tensorboard)[0]
    panel.only(run)
    layer = panel.layer()
    tag = tensorboard.runs[run]["activations"][layer]["tag"]
    step = fetch_steps(tensorboard, run, "activations", layer)[-1]
    info = step["info"]
    query = urllib.parse.urlencode(
        {"run": run, "tag": tag, "step": step["step"], "sample": 0}
    )
    with urllib.request.urlopen(
        f"{tensorboard.url}data/plugin/netviz/image?{query}"
    ) as r:
        png = Image.open(io.BytesIO(r.read()))
    pixels = png.convert("L").load()
    layout = info["layout"]
    k = len(info["channels"]) - 1  # the last tile: its top-left pixel
    row, col = divmod(k, layout["cols"])
    x = col * (layout["tile_width"] + layout["pad"])
    y = row * (layout["tile_height"] + layout["pad"])
    lo, hi = info["ranges"][0][k]
    expected = lo + pixels[x, y] / info["qmax"] * (hi - lo)

    canvas = panel.frame.query_selector("canvas.nv-grid")
    box = canvas.bounding_box()
    width, height = panel.frame.eval_on_selector(
        "canvas.nv-grid", "c => [c.width, c.height]"
    )
    assert (width, height) == png.size  # a conv layer keeps the stored layout
    panel.page.mouse.move(
        box["x"] + (x + 0.5) * box["width"] / width,
        box["y"] + (y + 0.5) * box["height"] / height,
    )
    readout = panel.frame.text_content(".nv-readout")
    match = re.search(rf"channel {info['channels'][k]} · \(0, 0\) = (\S+)", readout)
    assert match, readout
    assert float(match.group(1)) == pytest.approx(expected, rel=1e-3, abs=1e-6)


def test_step_slider_shows_older_step(panel):
    steps = int(panel.frame.eval_on_selector("input.nv-slider", "s => Number(s.max)"))
    assert steps >= 1
    assert "(newest)" in panel.frame.text_content(".nv-step-label")
    panel.act(lambda f: f.fill("input.nv-slider", "0"))
    assert "(newest)" not in panel.frame.text_content(".nv-step-label")
    assert re.match(r"step \d+", panel.frame.text_content(".nv-col-step"))


def _kind_view(panel, tb, kind, view, sample=0):
    """Opens a view on (up to) two demo runs at probe input `sample`; clicks a
    channel the runs share. Returns the runs shown."""
    runs = [r for r in demo_runs(tb) if kind in tb.runs[r]][:2]
    assert runs, f"the demo logdir has no {kind} data"
    panel.only(*runs)
    panel.act(lambda f: f.click(f"button[data-view={view}]"))
    probes = panel.frame.eval_on_selector(
        'select[name="probe input"]', "s => s.options.length"
    )
    sample = sample if sample < probes else 0
    if sample:
        panel.act(lambda f: f.select_option('select[name="probe input"]', str(sample)))
    assert len(panel.columns()) == len(runs)
    assert_images_loaded(panel.frame, len(runs))
    assert panel.frame.query_selector_all(".nv-col figure.nv-fig canvas")
    layer = panel.layer()
    chosen = []
    for run in runs:
        channels = fetch_steps(tb, run, kind, layer)[-1]["info"]["channels"]
        chosen.append(channels[sample] if isinstance(channels[0], list) else channels)
    shared = [c for c in chosen[0] if all(c in other for other in chosen[1:])]
    channel = (shared or chosen[0])[0]
    panel.act(
        lambda f: f.click(
            f'.nv-col >> nth=0 >> figure.nv-fig[data-channel="{channel}"]'
        )
    )
    assert panel.frame.query_selector(".nv-detail canvas")
    assert f"Channel {channel}" in panel.frame.text_content(".nv-detail h3")
    return runs


def test_ascent_view(panel, tensorboard):
    runs = _kind_view(panel, tensorboard, "ascent", "ascent")
    assert len(panel.frame.query_selector_all(".nv-film-row")) == len(runs)
    assert panel.frame.query_selector_all(".nv-film-row canvas")  # frames over steps
    assert "objective" in panel.frame.text_content(".nv-detail")
    border = panel.frame.eval_on_selector(
        ".nv-col canvas.nv-tile-pic", "c => getComputedStyle(c).borderTopWidth"
    )
    assert border == "1px"


def test_deconv_view(panel, tensorboard):
    has_deconvnet = any("deconvnet" in kinds for kinds in tensorboard.runs.values())
    kind = "deconvnet" if has_deconvnet else "guided_backprop"
    _kind_view(panel, tensorboard, kind, "deconv", sample=2)
    assert "Adebayo" in panel.frame.text_content(".nv-caveat")
    panel.act(lambda f: f.click(".nv-detail .nv-close"))
    recon = ".nv-col figure.nv-fig:not(.nv-input) canvas"
    before = panel.frame.eval_on_selector(recon, "c => c.toDataURL()")
    panel.act(lambda f: f.check("text=Overlay magnitude on input"))
    assert panel.frame.eval_on_selector(recon, "c => c.toDataURL()") != before


def test_empty_logdir_says_how_to_add_the_callback(browser, tmp_path):
    (tmp_path / "empty").mkdir()
    with TensorBoard(tmp_path / "empty") as tb:
        tb.wait_for_runs(0)
        p = Panel(browser, tb.url)
        try:
            text = p.frame.text_content(".nv-empty-state")
            assert (
                "No NetViz data" in text
                and "NetVizCallback(log_dir, probe=x[:8])" in text
            )
        finally:
            p.close()


@pytest.mark.skipif(
    not data_server_available(), reason="tensorboard_data_server binary is missing"
)
def test_rust_data_server(browser, logdir):
    with TensorBoard(logdir, load_fast=True) as tb:
        tb.runs = tb.wait_for_runs(4)
        p = Panel(browser, tb.url)
        try:
            # The data server (0.7) cannot parse its own blob keys when a run or
            # tag name holds a '"': such a card shows the server's error as text.
            p.only(demo_runs(tb)[0])
            assert_images_loaded(p.frame, 1)
            assert canvas_has_pixels(p.frame, "canvas.nv-grid")
        finally:
            p.close()
