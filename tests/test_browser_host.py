"""The panel and TensorBoard's page around it: dark mode, state in the URL,
TensorBoard's reload button."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import Panel, demo_runs, wait_ready

pytest_plugins = ["browser_util"]


def panel_background(frame) -> str:
    return frame.evaluate("() => getComputedStyle(document.body).backgroundColor")


def choose_theme(page, label: str):
    """Picks Light or Dark in TensorBoard's own theme menu."""
    page.click('button[aria-label="Menu for changing light or dark theme"]')
    page.click(f'.mat-mdc-menu-content button:has-text("{label}")')


def test_dark_mode_follows_tensorboard_live(panel):
    frame = panel.frame
    assert panel_background(frame) == "rgb(255, 255, 255)"
    choose_theme(panel.page, "Dark")
    frame.wait_for_function(
        "() => document.documentElement.classList.contains('nv-dark')"
    )
    assert panel.page.evaluate("() => document.body.classList.contains('dark-mode')")
    assert panel_background(frame) == "rgb(48, 48, 48)"  # TensorBoard's own #303030
    text = frame.evaluate(
        "() => getComputedStyle(document.querySelector('.nv-view-head h2')).color"
    )
    assert text.startswith("rgba(255, 255, 255")
    # Controls follow too: the filter's text and the cards' background.
    card = frame.eval_on_selector(".nv-col", "c => getComputedStyle(c).backgroundColor")
    assert card == "rgb(58, 58, 58)"
    choose_theme(panel.page, "Light")
    frame.wait_for_function(
        "() => !document.documentElement.classList.contains('nv-dark')"
    )
    assert panel_background(frame) == "rgb(255, 255, 255)"


def test_dark_mode_from_the_os_when_tensorboard_follows_it(browser, tensorboard):
    p = Panel(browser, tensorboard.url, color_scheme="dark")
    try:
        assert p.frame.evaluate(
            "() => document.documentElement.classList.contains('nv-dark')"
        )
        assert panel_background(p.frame) == "rgb(48, 48, 48)"
    finally:
        p.close()


def set_non_default_state(panel, tensorboard):
    run = demo_runs(tensorboard)[-1]
    panel.only(run)
    panel.act(lambda f: f.select_option("select[name=layer]", "conv2"))
    panel.act(lambda f: f.select_option('select[name="probe input"]', "3"))
    panel.act(lambda f: f.fill("input.nv-slider", "1"))
    panel.act(lambda f: f.select_option("select[name=colormap]", "magma"))
    panel.act(lambda f: f.select_option("select[name=normalization]", "layer"))
    panel.act(lambda f: f.select_option("select[name=zoom]", "3"))
    panel.act(lambda f: f.click(".nv-col .nv-tile >> nth=5"))
    return run


def state_of(frame) -> dict:
    return frame.evaluate(
        """() => {
        const s = window.netviz.state;
        return {runs: s.selectedRuns, view: s.view, layer: s.layers[s.view === "deconv" ? s.method : s.view],
                sample: s.sample, step: s.step, cmap: s.cmap, norm: s.norm, zoom: String(s.zoom),
                channel: s.selected && s.selected.channel};
    }"""
    )


def test_reload_and_copied_link_restore_the_state(panel, tensorboard, browser):
    run = set_non_default_state(panel, tensorboard)
    expected = state_of(panel.frame)
    assert expected["runs"] == [run] and expected["channel"] is not None
    url = panel.page.url
    params = dict(urllib.parse.parse_qsl(url.split("#", 1)[1].split("&", 1)[1]))
    assert params["p.netviz.layer"] == "conv2" and params["p.netviz.cmap"] == "magma"
    assert params["p.netviz.step"] and params["p.netviz.channel"] == str(
        expected["channel"]
    )
    assert url.split("#", 1)[1].startswith("netviz&")  # TensorBoard's tab key is kept
    panel.reload()
    assert state_of(panel.frame) == expected
    assert panel.frame.query_selector(".nv-detail")  # the large view is open again
    assert (
        panel.frame.eval_on_selector("select[name=colormap]", "s => s.value") == "magma"
    )
    # A copied link opens the same state in a new tab.
    other = Panel(browser, url.split("#")[0], hash_="#" + url.split("#", 1)[1])
    try:
        assert state_of(other.frame) == expected
    finally:
        other.close()


def test_view_and_method_in_the_url(panel, tensorboard):
    panel.only(*demo_runs(tensorboard))
    panel.act(lambda f: f.click("button[data-view=deconv]"))
    panel.act(lambda f: f.select_option("select[name=method]", "guided_backprop"))
    assert "p.netviz.view=deconv" in panel.host_hash()
    assert "p.netviz.method=guided_backprop" in panel.host_hash()
    panel.reload()
    assert panel.frame.text_content(".nv-view-head h2").startswith("Guided backprop")


def test_tensorboard_reload_button_reaches_the_panel(panel):
    frame = panel.frame
    before = frame.eval_on_selector(".nv-root", "r => Number(r.dataset.reloads || 0)")
    panel.page.click("button.reload-button")
    frame.wait_for_function(
        "n => Number(document.querySelector('.nv-root').dataset.reloads || 0) > n",
        arg=before,
        timeout=15000,
    )
    wait_ready(frame)
    assert frame.query_selector("canvas.nv-grid")


def test_tensorboard_sees_the_panels_hash(panel):
    """TensorBoard's parsed copy of its hash has our keys, so its next write of
    the hash (another tab, its own settings) keeps them."""
    panel.act(lambda f: f.select_option("select[name=colormap]", "gray"))
    assert "p.netviz.cmap=gray" in panel.host_hash()
    tb_dict = panel.page.evaluate(
        "() => window.tensorboard.tf_storage.getUrlHashDict()"
    )
    assert tb_dict.get("p.netviz.cmap") == "gray" and tb_dict.get("__tab__") == "netviz"


def paste_link(panel, **params) -> None:
    """Sets the host's hash as a pasted link does (no reload); waits for the panel."""
    parts = ["netviz"] + [
        f"p.netviz.{k}={urllib.parse.quote(str(v), safe='')}" for k, v in params.items()
    ]
    before = panel.frame.eval_on_selector(
        ".nv-root", "r => Number(r.dataset.renders || 0)"
    )
    panel.page.evaluate("h => { location.hash = h; }", "#" + "&".join(parts))
    panel.frame.wait_for_function(
        "n => Number(document.querySelector('.nv-root').dataset.renders || 0) > n",
        arg=before,
    )
    wait_ready(panel.frame)


def test_a_pasted_link_is_applied_without_a_reload(panel, tensorboard):
    runs = demo_runs(tensorboard)
    frame = panel.frame
    frame.evaluate("() => { window.nvSameDocument = true; }")
    defaults = state_of(frame)
    paste_link(
        panel, runs=json.dumps(runs[-1:]), layer="conv2", cmap="magma", channel=3
    )
    state = state_of(frame)
    assert state["runs"] == runs[-1:] and state["layer"] == "conv2"
    assert state["cmap"] == "magma" and state["channel"] == 3
    assert frame.query_selector(".nv-detail")  # the link's large view is open
    assert frame.eval_on_selector("select[name=colormap]", "s => s.value") == "magma"
    # What a link leaves out returns to its default, as in a new tab.
    paste_link(panel, zoom=3)
    state = state_of(frame)
    assert state == {**defaults, "zoom": "3"}
    assert not frame.query_selector(".nv-detail")
    assert frame.evaluate("() => window.nvSameDocument") is True  # never reloaded
    assert "p.netviz.zoom=3" in panel.host_hash()
