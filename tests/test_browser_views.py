"""The probe beside activations, tiles that say what they are, one layer
choice across views, zoom without clipping, comparing two runs, export, and
the keyboard."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import demo_runs, wait_ready

pytest_plugins = ["browser_util"]


def test_probe_input_beside_every_activation_card(panel, tensorboard):
    runs = demo_runs(tensorboard)
    panel.only(*runs)
    probes = panel.frame.query_selector_all(".nv-col .nv-probe img")
    assert len(probes) == len(runs)
    assert all(p.evaluate("i => i.complete && i.naturalWidth > 0") for p in probes)
    assert "input #0" in panel.frame.text_content(".nv-col .nv-probe")
    before = probes[0].get_attribute("src")
    panel.act(lambda f: f.select_option('select[name="probe input"]', "2"))
    assert (
        panel.frame.query_selector(".nv-col .nv-probe img").get_attribute("src")
        != before
    )
    assert "input #2" in panel.frame.text_content(".nv-col .nv-probe")


def test_tiles_have_numbers_borders_and_dead_marks(panel, tensorboard):
    panel.only(*demo_runs(tensorboard))
    tile = panel.frame.query_selector(".nv-col .nv-tile")
    assert tile.get_attribute("title") == "channel 0" or tile.get_attribute(
        "title"
    ).startswith("channel 0 ")
    assert tile.evaluate("t => getComputedStyle(t).outlineWidth") == "1px"
    tile.hover()
    assert (
        panel.frame.eval_on_selector(
            ".nv-col .nv-tile .nv-tile-num", "n => getComputedStyle(n).display"
        )
        == "block"
    )
    # A channel zero on every probe input is marked dead (the demo's lr 0.01 run has some).
    dead = panel.frame.query_selector_all(".nv-tile.nv-dead")
    assert dead, "the demo's lr 0.01 run should show a dead channel"
    assert "dead" in dead[0].get_attribute("title")
    assert "dead (zero on every probe input" in panel.frame.text_content(".nv-columns")


def test_one_layer_choice_across_views(panel, tensorboard):
    panel.only(*demo_runs(tensorboard))
    panel.act(lambda f: f.select_option("select[name=layer]", "conv2"))
    panel.act(lambda f: f.click("button[data-view=ascent]"))
    assert panel.layer() == "conv2"
    panel.act(lambda f: f.click("button[data-view=deconv]"))
    assert panel.layer() == "conv2"
    panel.act(lambda f: f.select_option("select[name=method]", "guided_backprop"))
    assert panel.layer() == "conv2"
    panel.act(lambda f: f.select_option("select[name=method]", "deconvnet"))
    assert panel.layer() == "conv2"
    panel.act(lambda f: f.click("button[data-view=activations]"))
    panel.act(
        lambda f: f.select_option("select[name=layer]", "dense")
    )  # only activations have it
    panel.act(lambda f: f.click("button[data-view=ascent]"))
    assert panel.layer() == "conv2"  # this view's last layer
    panel.act(lambda f: f.click("button[data-view=activations]"))
    assert panel.layer() == "dense"


def test_zoom_16_scrolls_instead_of_clipping(panel, tensorboard):
    panel.only(*demo_runs(tensorboard))
    panel.act(lambda f: f.select_option("select[name=zoom]", "16"))
    info = panel.frame.evaluate(
        """() => [...document.querySelectorAll('.nv-col .nv-scroll')].map(s => ({
            scroll: s.scrollWidth > s.clientWidth, overflow: getComputedStyle(s).overflowX,
            card: s.closest('.nv-col').getBoundingClientRect().right,
            main: document.querySelector('.nv-main').getBoundingClientRect().right}))"""
    )
    assert all(
        i["scroll"] and i["overflow"] == "auto" and i["card"] <= i["main"] for i in info
    ), info


def test_compare_two_runs(panel, tensorboard):
    panel.only(*demo_runs(tensorboard)[:2])
    panel.act(lambda f: f.click(".nv-col .nv-tile >> nth=2"))
    frame = panel.frame
    assert frame.query_selector(".nv-compare")

    def stage():
        return frame.eval_on_selector(".nv-compare-stage", "s => s.dataset.mode")

    frame.click('.nv-compare button[data-mode="overlay"]')
    assert stage() == "overlay"
    frame.fill(".nv-compare-slider", "30")
    assert frame.eval_on_selector(".nv-compare-top", "c => c.style.opacity") == "0.3"
    frame.click('.nv-compare button[data-mode="swipe"]')
    frame.fill(".nv-compare-slider", "25")
    assert "25%" in frame.eval_on_selector(".nv-compare-top", "c => c.style.clipPath")
    assert frame.query_selector(".nv-swipe-line")
    frame.click('.nv-compare button[data-mode="difference"]')
    assert stage() == "difference"
    legend = frame.text_content(".nv-compare-legend")
    assert "−" in legend and "activation" in legend
    # The difference is signed and drawn on the diverging map (not all mid-grey).
    colours = frame.eval_on_selector(
        ".nv-compare-stage canvas",
        "c => new Set(Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)).size",
    )
    assert colours > 3
    # Feature visualizations compare too.
    panel.act(lambda f: f.click(".nv-detail .nv-close"))
    panel.act(lambda f: f.click("button[data-view=ascent]"))
    panel.act(lambda f: f.click(".nv-col figure.nv-fig >> nth=0"))
    assert frame.query_selector(".nv-compare .nv-compare-stage canvas")


def png_size(path) -> tuple[int, int]:
    from PIL import Image

    with open(path, "rb") as f:
        return Image.open(io.BytesIO(f.read())).size


def test_export_card_and_filmstrip(panel, tensorboard):
    runs = demo_runs(tensorboard)
    panel.only(*runs)
    with panel.page.expect_download() as download:
        panel.frame.click(".nv-col >> nth=0 >> button.nv-export")
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".png")
    w, h = png_size(path)
    card = panel.frame.query_selector(".nv-col").bounding_box()
    assert (w, h) == (round(card["width"] * 2), round(card["height"] * 2))
    panel.act(lambda f: f.click("button[data-view=ascent]"))
    panel.act(lambda f: f.click(".nv-col figure.nv-fig >> nth=0"))
    with panel.page.expect_download() as download:
        panel.frame.click("button.nv-export-film")
    assert "filmstrip" in download.value.suggested_filename
    w, h = png_size(download.value.path())
    assert (
        w > 4 * h / len(runs) and h > 0
    )  # one strip: frames side by side, a row per run


def test_keyboard(panel, tensorboard):
    panel.only(demo_runs(tensorboard)[0])
    frame = panel.frame
    label = frame.text_content(".nv-step-label")
    assert "(newest)" in label
    frame.click(".nv-view-head h2")  # focus in the panel, not in a control
    panel.act(lambda f: panel.page.keyboard.press("ArrowLeft"))
    assert "(newest)" not in frame.text_content(".nv-step-label")
    older = frame.text_content(".nv-col-step")
    panel.act(lambda f: panel.page.keyboard.press("ArrowRight"))
    assert (
        "(newest)" in frame.text_content(".nv-step-label")
        and frame.text_content(".nv-col-step") != older
    )
    # Tab reaches the tiles; Enter opens the large view; Escape closes it.
    frame.focus(".nv-col button.nv-export")
    panel.page.keyboard.press("Tab")
    focused = frame.evaluate(
        "() => document.activeElement.className + ' ' + document.activeElement.dataset.channel"
    )
    assert focused.startswith("nv-tile") and focused.endswith(" 0"), focused
    panel.act(lambda f: panel.page.keyboard.press("Enter"))
    assert frame.query_selector(".nv-detail")
    assert frame.evaluate("() => document.activeElement.classList.contains('nv-close')")
    panel.act(lambda f: panel.page.keyboard.press("Escape"))
    assert frame.query_selector(".nv-detail") is None
    assert (
        frame.evaluate("() => document.activeElement.dataset.channel") == "0"
    )  # focus back on the tile
    wait_ready(frame)
