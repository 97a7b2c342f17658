"""End to end: a real `tensorboard` process, headless Chromium, the NetViz panel.

The fixture logdir comes from `tb_netviz.demo.run_all` plus a copy of one run
under the name `<img src=x onerror=alert(1)>`. Every test fails on a JavaScript
dialog, an uncaught page error, or a console error from the plugin's frame.

Set NETVIZ_SCREENSHOTS=1 to write docs/panel.png (and docs/ascent.png,
docs/deconv.png when the logdir has those kinds); otherwise screenshots go to
a temporary folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "Chromium is not installed at /usr/bin/chromium", allow_module_level=True
    )

from browser_util import (  # noqa: E402
    HOSTILE_RUN,
    TensorBoard,
    data_server_available,
    images_loaded,
    launch_chromium,
    plugin_frame,
    wait_ready,
)

REPO = Path(__file__).resolve().parent.parent
# A second hostile run (it sorts first, so it is the panel's default run) with
# layer names that are markup; "/" cannot be in a run directory's name.
HOSTILE_RUN_2 = "\"'><svg onload=alert(3)>"
HOSTILE_LAYERS = ("<script>alert(2)</script>\"'", "seq<b onmouseover=alert(4)>")
VIEWPORT = {"width": 1360, "height": 860}


@pytest.fixture(scope="session")
def logdir(request, tmp_path_factory) -> Path:
    """The shared demo logdir (conftest, `demo.run_all`) copied, plus a copy of its
    last run named `<img src=x onerror=alert(1)>`.

    NETVIZ_BROWSER_LOGDIR=<logdir> uses a copy of that logdir instead (handy for
    trying the panel on other data; it needs runs laid out as `<run>/netviz`).
    """
    source = os.environ.get("NETVIZ_BROWSER_LOGDIR") or request.getfixturevalue(
        "demo_logdir"
    )
    root = tmp_path_factory.mktemp("netviz_browser") / "logs"
    shutil.copytree(source, root)
    last = sorted(p.parent for p in root.glob("*/netviz/events.out.tfevents.*"))[-1]
    shutil.copytree(last, root / HOSTILE_RUN)
    write_hostile_layers(root / HOSTILE_RUN_2)
    return root


def write_hostile_layers(run_dir: Path) -> None:
    """A run whose layer names are markup: a conv-shaped layer (a NaN at step 1)
    and a sequence layer, written by the public `summary.activation_arrays`."""
    import numpy as np
    import tensorflow as tf

    from tb_netviz import summary

    rng = np.random.default_rng(0)
    with tf.summary.create_file_writer(str(run_dir)).as_default():
        for step in (0, 1):
            conv = rng.normal(size=(2, 8, 8, 4)).astype(np.float32)
            if step == 1:
                conv[0, 0, 0, 0] = np.nan
            summary.activation_arrays(HOSTILE_LAYERS[0], conv, step)
            seq = rng.normal(size=(2, 12, 6)).astype(np.float32)
            summary.activation_arrays(HOSTILE_LAYERS[1], seq, step)
        tf.summary.flush()


@pytest.fixture(scope="session")
def tensorboard(logdir):
    with TensorBoard(logdir, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(4)
        yield tb


@pytest.fixture(scope="session")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def shot_dir(tmp_path_factory) -> Path:
    if os.environ.get("NETVIZ_SCREENSHOTS"):
        return REPO / "docs"
    return tmp_path_factory.mktemp("screenshots")


class Panel:
    """A browser page on TensorBoard's NetViz tab, recording what must not happen."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport=VIEWPORT)
        self.problems: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("console", self._on_console)
        self.page.goto(url + "#netviz")
        self.frame = plugin_frame(self.page)
        wait_ready(self.frame)

    def _on_dialog(self, dialog):
        self.problems.append(f"dialog ({dialog.type}): {dialog.message}")
        dialog.dismiss()

    def _on_console(self, message):
        where = (message.location or {}).get("url", "")
        ours = "plugin/netviz" in where or "plugin_entry" in where
        if message.type == "error" and (
            ours or "Content Security Policy" in message.text
        ):
            self.problems.append(f"console error: {message.text} @ {where}")

    def act(self, action):
        """Runs an action on the frame and waits for the panel to render again."""
        action(self.frame)
        wait_ready(self.frame)

    def layer(self) -> str:
        return self.frame.eval_on_selector("select[name=layer]", "s => s.value")

    def columns(self):
        return self.frame.query_selector_all(".nv-columns > .nv-col")

    def check_run(self, run: str, checked: bool = True):
        labels = self.frame.query_selector_all(".nv-run-name")
        for label in labels:
            if label.text_content() == run:
                box = self.frame.query_selector(f"#{label.get_attribute('for')}")
                self.act(lambda f, box=box: box.set_checked(checked))
                return
        raise AssertionError(
            f"no run {run!r} among {[x.text_content() for x in labels]}"
        )

    def only(self, *runs: str):
        """Chooses exactly these runs in the sidebar."""
        self.act(lambda f: f.click(".nv-sidebar button.nv-link >> text=none"))
        for run in runs:
            self.check_run(run)

    def reload(self):
        """Reloads only the plugin iframe: a fresh panel, without TensorBoard's app."""
        self.frame.goto(self.frame.url)
        self.frame = plugin_frame(self.page)
        wait_ready(self.frame)

    def close(self):
        self.page.close()
        assert not self.problems, self.problems


@pytest.fixture(scope="module")
def shared_panel(browser, tensorboard):
    """One TensorBoard page on the NetViz tab for the tests on the fixture logdir."""
    p = Panel(browser, tensorboard.url)
    p.fresh = True
    yield p
    p.close()


@pytest.fixture
def panel(shared_panel):
    """The shared page with a freshly loaded panel; fails on dialogs and errors."""
    if not shared_panel.fresh:
        shared_panel.reload()
    shared_panel.fresh = False
    yield shared_panel
    problems, shared_panel.problems = shared_panel.problems, []
    assert not problems, problems


def demo_runs(tb) -> list[str]:
    return [r for r in tb.runs if r not in (HOSTILE_RUN, HOSTILE_RUN_2)]


def fetch_steps(tb, run: str, kind: str, layer: str) -> list[dict]:
    """The plugin's `steps` response for a run's kind/layer, straight from the server."""
    query = urllib.parse.urlencode(
        {"run": run, "tag": tb.runs[run][kind][layer]["tag"]}
    )
    with urllib.request.urlopen(f"{tb.url}data/plugin/netviz/steps?{query}") as r:
        return json.load(r)["steps"]


def tile_center(info: dict, k: int, zoom: float) -> dict:
    """Where tile k's centre is on a grid canvas drawn at `zoom` CSS pixels per pixel."""
    layout = info["layout"]
    row, col = divmod(k, layout["cols"])
    x = col * (layout["tile_width"] + layout["pad"]) + layout["tile_width"] / 2
    y = row * (layout["tile_height"] + layout["pad"]) + layout["tile_height"] / 2
    return {"x": x * zoom, "y": y * zoom}


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


def test_panel_shows_colormapped_grid(panel):
    assert len(panel.columns()) == 1
    assert_images_loaded(panel.frame, 1)
    assert canvas_has_pixels(panel.frame, "canvas.nv-grid")
    style = panel.frame.eval_on_selector(
        "canvas.nv-grid", "c => getComputedStyle(c).imageRendering"
    )
    assert style == "pixelated"


def test_two_runs_side_by_side(panel, tensorboard, shot_dir):
    first, second = demo_runs(tensorboard)[:2]
    panel.only(first, second)
    columns = panel.columns()
    assert [c.query_selector(".nv-run-label").text_content() for c in columns] == [
        first,
        second,
    ]
    assert_images_loaded(panel.frame, 2)
    a, b = (c.bounding_box() for c in columns)
    assert abs(a["y"] - b["y"]) < 1 and b["x"] >= a["x"] + a["width"], (a, b)
    # The large view of a tile, shown for both runs; then the README screenshot.
    panel.act(
        lambda f: f.click(
            ".nv-col >> nth=0 >> canvas.nv-grid", position={"x": 4, "y": 4}
        )
    )
    assert (
        len(panel.frame.query_selector_all(".nv-detail .nv-card canvas.nv-pixelated"))
        == 2
    )
    # README screenshot: 2x zoom, the large view of the first run's most active channel.
    info = fetch_steps(tensorboard, first, "activations", panel.layer())[-1]["info"]
    k = max(range(len(info["channels"])), key=lambda i: info["stats"]["mean"][i])
    panel.act(lambda f: f.select_option("select[name=zoom]", "2"))
    panel.act(
        lambda f: f.click(
            ".nv-col >> nth=0 >> canvas.nv-grid", position=tile_center(info, k, 2)
        )
    )
    panel.page.set_viewport_size({"width": 1360, "height": 1020})
    panel.page.screenshot(path=str(shot_dir / "panel.png"))
    panel.page.set_viewport_size(VIEWPORT)


def test_hostile_names_are_text(panel, tensorboard):
    """Run and layer names with markup, quotes and script are shown as text only."""
    frame = panel.frame
    names = [x.text_content() for x in frame.query_selector_all(".nv-run-name")]
    assert HOSTILE_RUN in names and HOSTILE_RUN_2 in names, names
    # The default run is the first: the one with hostile layer names.
    assert [
        c.query_selector(".nv-run-label").text_content() for c in panel.columns()
    ] == [HOSTILE_RUN_2]
    options = frame.eval_on_selector(
        "select[name=layer]", "s => [...s.options].map(o => o.textContent)"
    )
    assert options == sorted(HOSTILE_LAYERS)
    assert frame.text_content(".nv-view-head h2") == f"Activations · {options[0]}"
    # Its step 1 holds a NaN: flagged in the sidebar and in the column header.
    assert "non-finite values at step 1" in frame.text_content(".nv-flagged")
    assert frame.query_selector(".nv-col .nv-flag")
    # The sequence layer (time x channel), then both hostile runs side by side.
    panel.act(lambda f: f.select_option("select[name=layer]", HOSTILE_LAYERS[1]))
    assert "time runs down" in frame.text_content(".nv-col .nv-note")
    panel.check_run(HOSTILE_RUN)
    panel.act(lambda f: f.select_option("select[name=layer]", "conv1"))
    headers = [
        c.query_selector(".nv-run-label").text_content() for c in panel.columns()
    ]
    assert headers == [HOSTILE_RUN]
    canvas = frame.query_selector("canvas.nv-grid")
    canvas.hover(position={"x": 2, "y": 2})
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


def test_click_tile_shows_channel_large(panel, tensorboard):
    panel.only(demo_runs(tensorboard)[0])
    panel.act(lambda f: f.click("canvas.nv-grid", position={"x": 3, "y": 3}))
    detail = panel.frame.wait_for_selector(".nv-detail")
    assert re.search(r"(Channel|Unit) 0", detail.text_content())
    assert "value" in detail.text_content()
    assert canvas_has_pixels(panel.frame, ".nv-detail canvas.nv-pixelated")
    panel.act(lambda f: f.click(".nv-detail .nv-link"))
    assert panel.frame.query_selector(".nv-detail") is None


def test_colormap_and_normalization_repaint(panel):
    def grid_pixels():
        return panel.frame.eval_on_selector("canvas.nv-grid", "c => c.toDataURL()")

    before = grid_pixels()
    panel.act(lambda f: f.select_option("select[name=colormap]", "gray"))
    gray = grid_pixels()
    assert gray != before
    panel.act(lambda f: f.select_option("select[name=normalization]", "layer"))
    assert grid_pixels() != gray


def test_browser_decode_matches_png(panel, tensorboard):
    """The value the panel reads out at a pixel equals lo + q/qmax·(hi−lo) from the PNG."""
    from PIL import Image

    run = demo_runs(tensorboard)[0]
    panel.only(run)
    layer = panel.layer()
    tag = tensorboard.runs[run]["activations"][layer]["tag"]
    base = tensorboard.url + "data/plugin/netviz/"
    step = fetch_steps(tensorboard, run, "activations", layer)[-1]
    info = step["info"]
    query = urllib.parse.urlencode(
        {"run": run, "tag": tag, "step": step["step"], "sample": 0}
    )
    with urllib.request.urlopen(f"{base}image?{query}") as r:
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
    canvas.hover(
        position={
            "x": (x + 0.5) * box["width"] / width,
            "y": (y + 0.5) * box["height"] / height,
        }
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
    assert_images_loaded(panel.frame, 1)


def _kind_view(panel, tb, kind, view, sample=0):
    """Opens a view on (up to) two demo runs, at probe input `sample` if there is
    one; clicks a channel the runs share if any.

    Returns the runs shown; skips when the logdir has no data of `kind`.
    """
    runs = [r for r in demo_runs(tb) if kind in tb.runs[r]][:2]
    if not runs:
        pytest.skip(f"the demo logdir has no {kind} data")
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
    figure = f'.nv-col >> nth=0 >> figure.nv-fig[title^="channel {channel} "]'
    panel.act(lambda f: f.click(figure))
    assert panel.frame.query_selector(".nv-detail canvas")
    assert f"Channel {channel}" in panel.frame.text_content(".nv-detail h3")
    return runs


def test_ascent_view(panel, tensorboard, shot_dir):
    runs = _kind_view(panel, tensorboard, "ascent", "ascent")
    assert len(panel.frame.query_selector_all(".nv-film-row")) == len(runs)
    assert panel.frame.query_selector_all(".nv-film-row canvas")  # frames over steps
    assert "objective" in panel.frame.text_content(".nv-detail")
    panel.page.set_viewport_size({"width": 1360, "height": 1200})
    panel.page.screenshot(path=str(shot_dir / "ascent.png"))
    panel.page.set_viewport_size(VIEWPORT)


def test_deconv_view(panel, tensorboard, shot_dir):
    # The view opens on deconvnet when a run has it; probe #2 is a demo disk.
    has_deconvnet = any("deconvnet" in kinds for kinds in tensorboard.runs.values())
    kind = "deconvnet" if has_deconvnet else "guided_backprop"
    _kind_view(panel, tensorboard, kind, "deconv", sample=2)
    assert "Adebayo" in panel.frame.text_content(".nv-caveat")
    panel.page.screenshot(path=str(shot_dir / "deconv.png"))
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
            # tag name holds a '"' (JSON-escaped in the key), so the default run
            # may show the server's error instead of images: as text, no crash.
            column = p.columns()[0]
            assert images_loaded(p.frame) or "blob" in column.text_content()
            p.only(demo_runs(tb)[0])
            assert_images_loaded(p.frame, 1)
            assert canvas_has_pixels(p.frame, "canvas.nv-grid")
        finally:
            p.close()


def test_panel_logic_modules(panel):
    """Pure parts of the panel, run in the plugin frame: colormaps and step choice."""
    result = panel.frame.evaluate(
        """async () => {
        const cm = await import("./static/colormaps.js");
        const st = await import("./static/state.js");
        const ends = {};
        for (const name of Object.keys(cm.COLORMAPS)) {
          const t = cm.lut(name);
          ends[name] = [Array.from(t.slice(0, 3)), Array.from(t.slice(765, 768)),
                        Array.from(t.slice(381, 384))];
        }
        const steps = [{step: 2}, {step: 5}, {step: 9}];
        return {
          ends,
          union: st.unionSteps([steps, [{step: 3}, {step: 5}]]),
          at4: st.stepAt(steps, 4), at9: st.stepAt(steps, 9), at1: st.stepAt(steps, 1),
        };
    }"""
    )
    # matplotlib's end colours: viridis #440154..#fde725, magma #000004..#fcfdbf,
    # inferno #000004..#fcffa4; coolwarm (Moreland) #3b4cc0..#b40426, grey at 0.5.
    expected = {
        "viridis": ([0x44, 0x01, 0x54], [0xFD, 0xE7, 0x25]),
        "magma": ([0x00, 0x00, 0x04], [0xFC, 0xFD, 0xBF]),
        "inferno": ([0x00, 0x00, 0x04], [0xFC, 0xFF, 0xA4]),
        "coolwarm": ([0x3B, 0x4C, 0xC0], [0xB4, 0x04, 0x26]),
        "gray": ([0, 0, 0], [255, 255, 255]),
    }
    for name, (low, high) in expected.items():
        got_low, got_high, _ = result["ends"][name]
        assert max(abs(a - b) for a, b in zip(got_low + got_high, low + high)) <= 6, (
            name,
            got_low,
            got_high,
        )
    assert all(abs(c - 221) <= 3 for c in result["ends"]["coolwarm"][2])  # ~white at 0
    assert result["union"] == [2, 3, 5, 9]
    assert result["at4"]["entry"]["step"] == 2 and "nearest" in result["at4"]["note"]
    assert result["at9"] == {"entry": {"step": 9}, "note": ""}
    assert result["at1"]["entry"]["step"] == 2 and "first" in result["at1"]["note"]
