"""Feature visualizations in the panel: marks of pictures that show nothing
(dead, saturated, constant, from `info.flags`), MACO's transparency map as an
overlay toggle and beside the picture in the large view, and facets there;
on a logdir written by `AscentLogger(..., preset="maco", facets=3)` plus one
record made by `pictures.ascent.record` with a dead, a saturated and a
constant picture."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import Panel, TensorBoard

pytest_plugins = ["browser_util"]


def make_ascent_logdir(root: Path) -> Path:
    """Run `maco`: layer conv2 by MACO with 3 facets at steps 0 and 1, and
    layer `marks`: tiles 0 fine, 1 dead, 2 saturated, 3 constant."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keras = pytest.importorskip("keras")
    import tensorflow as tf

    from tb_netviz import writer as nv_writer
    from tb_netviz.loggers import AscentLogger
    from tb_netviz.pictures import ascent as pictures

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    probe = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype("float32")
    logger = AscentLogger(
        model, ["conv2"], channels=4, steps=8, preset="maco", facets=3, examples=probe
    )
    writer = tf.summary.create_file_writer(str(root / "maco" / "netviz"))
    with writer.as_default():
        assert logger.log(0) and logger.log(1), logger.failures
        rng = np.random.default_rng(1)
        images = rng.uniform(0.2, 0.8, (4, 16, 16, 3))
        images[2] = rng.integers(0, 2, (16, 16, 3))  # every pixel at a bound
        images[3] = 0.5  # one flat colour
        alpha = rng.uniform(0, 1, (4, 16, 16))
        alpha /= alpha.sum(axis=(1, 2), keepdims=True)
        info, grids = pictures.record(
            images,
            [0, 1, 2, 3],
            np.array([1.0, 0.1, 2.0, 0.5]),
            np.zeros(4, bool),
            (0.0, 1.0),
            alpha=alpha,
            start_objective=np.array([0.0, 0.5, 0.0, 0.0]),  # channel 1 fell: dead
            gradient=np.ones(4),
            preset="maco",
            seed=0,
            steps_done=8,
        )
        assert info["flags"]["saturated"] == [False, False, True, False]
        pngs = [nv_writer.encode_png(g) for g in grids]
        nv_writer.write_record("ascent", "marks", 0, {**info, "seconds": 0.0}, pngs)
    writer.close()
    return root


@pytest.fixture(scope="module")
def ascent_panel(tmp_path_factory, browser):
    root = tmp_path_factory.mktemp("ascent_maco") / "logs"
    root.mkdir()
    make_ascent_logdir(root)
    with TensorBoard(root, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(1)
        p = Panel(browser, tb.url, hash_="#netviz&p.netviz.view=ascent")
        yield p
        p.close()


@pytest.fixture
def ap(ascent_panel):
    yield ascent_panel
    problems, ascent_panel.problems = ascent_panel.problems, []
    assert not problems, problems


def figures(frame) -> list[dict]:
    return frame.eval_on_selector_all(
        ".nv-col .nv-gallery .nv-fig",
        """fs => fs.map(f => ({channel: f.dataset.channel, marks: f.dataset.marks,
            title: f.title, cls: f.className, badges: [...f.querySelectorAll('.nv-mark')].map(b => b.title)}))""",
    )


def alpha_mean(frame, selector) -> float:
    """Mean alpha (0..255) of the first canvas matched."""
    return frame.eval_on_selector(
        selector,
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let s = 0; for (let i = 3; i < d.length; i += 4) s += d[i]; return s / (d.length / 4); }""",
    )


def test_dead_saturated_and_constant_pictures_are_marked(ap):
    ap.act(lambda f: f.select_option("select[name=layer]", "marks"))
    figs = figures(ap.frame)
    assert [f["marks"] for f in figs] == ["", "dead", "saturated", "constant"]
    assert "nv-marked" not in figs[0]["cls"] and not figs[0]["badges"]
    assert (
        "nv-dead" in figs[1]["cls"] and "never rose above its start" in figs[1]["title"]
    )
    assert "nv-saturated" in figs[2]["cls"]
    assert (
        "100% of the pixels sit at a bound of the input range" in figs[2]["badges"][0]
    )
    assert "not a feature" in figs[2]["title"]
    assert "nv-constant" in figs[3]["cls"] and "one flat colour" in figs[3]["badges"][0]
    # Dimmed: a marked picture is not shown as if it were a finding.
    opacity = ap.frame.eval_on_selector_all(
        ".nv-col .nv-fig .nv-tile-pic", "cs => cs.map(c => getComputedStyle(c).opacity)"
    )
    assert opacity == ["1", "0.4", "0.4", "0.4"]
    note = ap.frame.text_content(".nv-col .nv-note")
    assert "1 dead" in note and "1 saturated" in note and "1 constant" in note
    # The large view says what is wrong and how much of the picture is at the bounds.
    ap.act(lambda f: f.click(".nv-col .nv-fig[data-channel='2']"))
    detail = ap.frame.text_content(".nv-detail")
    assert "◐ saturated: 100% of the pixels" in detail
    assert "pixels at the bounds" in detail


def test_transparency_map_toggle_and_facets_in_the_large_view(ap):
    ap.act(lambda f: f.select_option("select[name=layer]", "conv2"))
    frame = ap.frame
    toggle = "input[name='transparency map']"
    assert frame.is_visible(toggle) and not frame.is_checked(toggle)
    first = ".nv-col .nv-gallery .nv-tile-pic"
    assert alpha_mean(frame, first) == 255
    ap.act(lambda f: f.check(toggle))
    assert frame.is_checked(toggle)
    faded = alpha_mean(frame, first)
    assert 0 < faded < 255
    assert "faded by the transparency map" in frame.text_content(".nv-col")
    # The large view: the picture (faded), its transparency map, and 3 facets.
    ap.act(lambda f: f.click(".nv-col .nv-fig[data-channel='0']"))
    assert frame.is_visible(".nv-detail .nv-alpha-map canvas")
    assert "transparency map peak" in frame.text_content(".nv-detail")
    facets = frame.query_selector_all(".nv-detail .nv-facets .nv-facet canvas")
    assert len(facets) == 3
    sizes = {(c.get_attribute("width"), c.get_attribute("height")) for c in facets}
    assert len(sizes) == 1
    assert "Facets: 3 pictures" in frame.text_content(".nv-detail .nv-facets")
    ap.act(lambda f: ap.page.keyboard.press("Escape"))
    ap.act(lambda f: f.uncheck(toggle))
    assert alpha_mean(frame, first) == 255
