"""Sanity-check badges in the deconvolution view, in a real `tensorboard` and
headless Chromium: a badge per method, and the randomization curve on click.

The logdir is written by the real loggers (`DeconvLogger` with the plain
gradient as a third method, `SanityLogger`, `ProbeLogger`) inside a
`tf.summary` writer on `small_cnn`, no training.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import Panel, TensorBoard

pytest_plugins = ["browser_util"]

METHODS = ("deconvnet", "guided_backprop", "gradient")
VERDICTS = {
    "depends": "depends on the learned weights",
    "same": "looks the same with random weights",
    "undetermined": "undetermined",
}


def write_sanity_logdir(root: Path) -> Path:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(Path(__file__).parent))
    import tensorflow as tf
    from models import data, small_cnn

    from tb_netviz import loggers

    if not hasattr(loggers, "SanityLogger"):
        pytest.skip("no SanityLogger in this checkout")
    model = small_cnn(0)
    x, _ = data(16)
    probe = x[:4]
    deconv = loggers.DeconvLogger(model, probe, ["conv2"], top_k=2, methods=METHODS)
    sanity = loggers.SanityLogger(model, probe, ["conv2"])
    writer = tf.summary.create_file_writer(str(root / "run" / "netviz"))
    with writer.as_default():
        loggers.ProbeLogger(model, probe).log(0)
        for step in (0, 1):
            deconv.log(step)
        sanity.log(1)
    writer.close()
    return root


@pytest.fixture(scope="module")
def sanity_tb(tmp_path_factory):
    root = tmp_path_factory.mktemp("netviz_sanity") / "logs"
    write_sanity_logdir(root)
    with TensorBoard(root, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(1)
        yield tb


@pytest.fixture
def sanity_panel(browser, sanity_tb):
    p = Panel(
        browser,
        sanity_tb.url,
        hash_="#netviz&p.netviz.view=deconv&p.netviz.method=guided_backprop",
    )
    yield p
    p.close()  # fails on dialogs, page errors and console errors


def badges(frame):
    return {
        b.get_attribute("data-method"): b
        for b in frame.query_selector_all(".nv-col .nv-sanity .nv-badge")
    }


def test_badges_render_for_every_method_and_the_curve_opens(sanity_panel):
    frame = sanity_panel.frame
    found = badges(frame)
    assert set(found) == set(METHODS)
    for method, badge in found.items():
        kind = badge.get_attribute("data-verdict")
        assert VERDICTS[kind] in badge.text_content(), (method, badge.text_content())
    # The shown method's badge comes first and stands out.
    first = frame.query_selector(".nv-col .nv-sanity .nv-badge")
    assert first.get_attribute("data-method") == "guided_backprop"
    assert "nv-current" in first.get_attribute("class")
    assert "measure it for this model" in frame.text_content(".nv-caveat")

    sanity_panel.act(lambda f: f.click('.nv-badge[data-method="guided_backprop"]'))
    curve = frame.wait_for_selector('.nv-sanity-curve[data-method="guided_backprop"]')
    assert (
        frame.get_attribute('.nv-badge[data-method="guided_backprop"]', "aria-expanded")
        == "true"
    )
    chart = curve.query_selector("svg.nv-chart")
    labels = [
        s.get_attribute("data-label")
        for s in chart.query_selector_all(".nv-chart-series")
    ]
    assert "SSIM" in labels and "Spearman |·|" in labels
    # small_cnn has two blocks (conv2, conv1): trained + 2 points per curve.
    ssim = chart.query_selector('.nv-chart-series[data-label="SSIM"]')
    assert len(ssim.query_selector_all("circle")) == 3
    assert chart.query_selector(".nv-chart-hline")  # the baseline
    assert "baseline" in curve.text_content()
    assert "1: conv2 · 2: conv1" in curve.text_content()
    maps = curve.query_selector_all(".nv-sanity-maps canvas")
    assert len(maps) == 3

    # The other method's curve, from the deconvnet view; a second click closes it.
    sanity_panel.act(lambda f: f.select_option("select[name=method]", "deconvnet"))
    assert (
        frame.query_selector(".nv-col .nv-sanity .nv-badge").get_attribute(
            "data-method"
        )
        == "deconvnet"
    )
    sanity_panel.act(lambda f: f.click('.nv-badge[data-method="deconvnet"]'))
    assert frame.query_selector('.nv-sanity-curve[data-method="deconvnet"]')
    assert not frame.query_selector('.nv-sanity-curve[data-method="guided_backprop"]')
    sanity_panel.act(lambda f: f.click('.nv-badge[data-method="deconvnet"]'))
    assert not frame.query_selector(".nv-sanity-curve")
