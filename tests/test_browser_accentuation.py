"""Feature accentuation in the deconvolution view, in a real `tensorboard` and
headless Chromium: a method beside deconvnet, rows of pictures drawn in the
input range, the change overlaid on the input, and the large view.

The logdir is written by the real loggers (`DeconvLogger` with deconvnet and
accentuation, `ProbeLogger`) inside a `tf.summary` writer on `small_cnn`, no
training.
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

TOP_K = 3


def write_logdir(root: Path) -> Path:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(Path(__file__).parent))
    import tensorflow as tf
    from models import data, small_cnn

    from tb_netviz import loggers

    model = small_cnn(0)
    probe = data(2, seed=3)[0]
    deconv = loggers.DeconvLogger(
        model, probe, ["conv2"], top_k=TOP_K, methods="deconvnet"
    )
    accentuation = loggers.AccentuationLogger(model, probe, ["conv2"], top_k=TOP_K)
    writer = tf.summary.create_file_writer(str(root / "run" / "netviz"))
    with writer.as_default():
        loggers.ProbeLogger(model, probe).log(0)
        deconv.log(0)
        accentuation.log(0)
    writer.close()
    return root


@pytest.fixture(scope="module")
def accent_tb(tmp_path_factory):
    root = tmp_path_factory.mktemp("netviz_accent") / "logs"
    write_logdir(root)
    with TensorBoard(root, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(1)
        yield tb


@pytest.fixture
def accent_panel(browser, accent_tb):
    p = Panel(
        browser,
        accent_tb.url,
        hash_="#netviz&p.netviz.view=deconv&p.netviz.method=accentuation",
    )
    yield p
    p.close()  # fails on dialogs, page errors and console errors


MEAN_ABS_DIFF = """([a, b]) => {
  const pixels = (c) => c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const p = pixels(a), q = pixels(b);
  let sum = 0;
  for (let i = 0; i < p.length; i += 4) for (let c = 0; c < 3; c++) sum += Math.abs(p[i + c] - q[i + c]);
  return sum / (p.length / 4 * 3);
}"""


def test_accentuation_rows_beside_the_deconvnet_rows(accent_panel):
    frame = accent_panel.frame
    methods = frame.eval_on_selector(
        "select[name=method]",
        "s => [...s.options].map(o => [o.value, o.textContent])",
    )
    assert methods == [
        ["deconvnet", "deconvnet"],
        ["accentuation", "feature accentuation"],
    ]
    assert "Feature accentuation · conv2" in frame.text_content(".nv-view-head")
    assert "Hamblin et al. 2024" in frame.text_content(".nv-view")
    assert "Hamblin" in frame.text_content(".nv-caveat")
    assert not frame.query_selector(".nv-sanity")  # no randomization check of it
    figures = frame.query_selector_all(".nv-col figure.nv-fig")
    assert len(figures) == 1 + TOP_K
    assert figures[0].text_content() == "input #0"
    for fig in figures[1:]:
        assert fig.get_attribute("title").startswith("channel ")
        assert "distance" in fig.get_attribute("title")
        assert "at conv1" in fig.get_attribute("title")
        assert "→" in fig.query_selector(".nv-minor").text_content()
    assert "input range 0 … 1" in frame.text_content(".nv-col .nv-note")
    # Drawn as pictures in the input range: each accentuation looks like its
    # input (a signed map would sit around mid-grey instead).
    canvases = frame.query_selector_all(".nv-col figure.nv-fig canvas")
    for canvas in canvases[1:]:
        diff = frame.evaluate(MEAN_ABS_DIFF, [canvases[0], canvas])
        assert 0 < diff < 40, diff

    # The deconvnet rows of the same layer and input, one choice away.
    accent_panel.act(lambda f: f.select_option("select[name=method]", "deconvnet"))
    assert "Deconvnet · conv2" in frame.text_content(".nv-view-head")
    deconv = frame.query_selector_all(".nv-col figure.nv-fig")
    assert [f.get_attribute("data-channel") for f in deconv] == [
        f.get_attribute("data-channel") for f in figures
    ]
    assert "p.netviz.method" not in accent_panel.host_hash()
    accent_panel.act(lambda f: f.select_option("select[name=method]", "accentuation"))
    assert "p.netviz.method=accentuation" in accent_panel.host_hash()


def test_overlay_shows_what_changed_and_the_large_view(accent_panel):
    frame = accent_panel.frame
    tile = ".nv-col figure.nv-fig:not(.nv-input) canvas"
    before = frame.eval_on_selector(tile, "c => c.toDataURL()")
    accent_panel.act(lambda f: f.check("text=Overlay magnitude on input"))
    assert frame.eval_on_selector(tile, "c => c.toDataURL()") != before
    assert "accentuated − input" in frame.text_content(".nv-col .nv-note")
    accent_panel.act(lambda f: f.click(".nv-col figure.nv-fig:not(.nv-input)"))
    detail = frame.text_content(".nv-detail")
    assert "accentuated" in detail and "change on input" in detail
    assert "peak |Δ|" in detail
    assert len(frame.query_selector_all(".nv-detail .nv-cards figure canvas")) == 3
