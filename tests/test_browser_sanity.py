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
    "same": "barely changes with random weights",
    "undetermined": "can't tell with",
}


def write_sanity_logdir(root: Path) -> Path:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(Path(__file__).parent))
    import tensorflow as tf
    from models import data, small_cnn

    from tb_netviz import loggers

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
    write_ascent_with_checks(model, root)
    return root


def write_ascent_with_checks(model, root: Path) -> None:
    """A real AscentLogger record of conv2 whose step JSON gains the `checks`
    object of `pictures.sanity.fv_checks_info` (channel 0: weaker than its
    best exemplar, seeds SSIM 0.4; channel 1: no exemplar, one seed)."""
    import json

    import numpy as np
    import tensorflow as tf
    from browser_util import _events, write_events

    from tb_netviz import loggers
    from tb_netviz.pictures import sanity as pictures

    scratch = root.parent / "scratch"
    ascent = loggers.AscentLogger(model, ["conv2"], channels=2, steps=4, budget_s=None)
    writer = tf.summary.create_file_writer(str(scratch))
    with writer.as_default():
        ascent.log(1)
    writer.close()
    events = [e for e in _events(scratch) if e.summary.value]
    for event in events:
        for value in event.summary.value:
            if not value.tag.startswith("ascent.info/"):
                continue
            info = json.loads(value.tensor.string_val[0])
            objective = np.asarray(info["objective"], np.float64)
            info["checks"] = pictures.fv_checks_info(
                objective,
                [abs(objective[0]) * 2 + 1, np.nan],
                [0.4, np.nan],
                [0.6, np.nan],
                [0.7, np.nan],
                ["conv1", "conv2"],
            )
            value.tensor.string_val[0] = json.dumps(info).encode()
    write_events(root / "run" / "netviz", events)


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


def test_feature_visualization_checks_in_the_large_view(browser, sanity_tb):
    p = Panel(
        browser,
        sanity_tb.url,
        hash_="#netviz&p.netviz.view=ascent&p.netviz.layer=conv2&p.netviz.channel=0",
    )
    try:
        checks = p.frame.wait_for_selector(".nv-detail .nv-fv-checks")
        text = checks.text_content()
        assert "vs best real example" in text and "weaker than real data" in text
        assert checks.query_selector("tr.nv-fv-weak")
        assert "0.4" in text and "two seeds" in text
        assert "0.6" in text and "among themselves 0.7" in text
        assert "conv1 → conv2" in checks.get_attribute("title")
        p.act(lambda f: f.click(".nv-detail .nv-close"))
        p.act(lambda f: f.click('.nv-fig[data-channel="1"]'))
        text = p.frame.text_content(".nv-detail .nv-fv-checks")
        assert "no exemplars logged" in text and "ascent_seeds=2" in text
    finally:
        p.close()
