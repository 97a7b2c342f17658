"""Feature visualizations in the panel: marks of pictures that show nothing
(dead, saturated, constant; flat, noise, border against the data, from
`info.flags`) with a one-line reason, MACO's transparency map as an overlay
toggle and beside the picture in the large view, and facets there; on a
logdir written by `AscentLogger(..., preset="maco", facets=3)` plus one
record made by `pictures.ascent.record` with a dead, a saturated, a constant,
a noise and a border picture, and exemplars for it (the best one stands in
for the noise picture)."""

from __future__ import annotations

import os
import re
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
    layer `marks` (`marked_pictures`) with an exemplar per channel."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keras = pytest.importorskip("keras")
    import tensorflow as tf

    from tb_netviz import writer as nv_writer
    from tb_netviz.loggers import AscentLogger
    from tb_netviz.pictures import ascent as pictures
    from tb_netviz.pictures import exemplars as exemplar_pictures
    from tb_netviz.pictures import readability

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
        # Step 1 as the overhead budget runs it past its share: half the steps.
        assert logger.log(0) and logger.log(1, scale=0.5), logger.failures
        images, examples = marked_pictures()
        n = len(images)
        alpha = np.random.default_rng(1).uniform(0, 1, (n, 16, 16))
        alpha /= alpha.sum(axis=(1, 2), keepdims=True)
        info, grids = pictures.record(
            images,
            list(range(n)),
            np.array([1.0, 0.1, 2.0, 0.5, 1.0, 1.0]),
            np.zeros(n, bool),
            (0.0, 1.0),
            alpha=alpha,
            start_objective=np.array([0.0, 0.5, 0.0, 0.0, 0.0, 0.0]),  # 1 fell: dead
            gradient=np.ones(n),
            data=readability.data_stats(examples),
            preset="maco",
            seed=0,
            steps_done=8,
        )
        assert info["flags"]["saturated"] == [False, False, True, False, False, False]
        pngs = [nv_writer.encode_png(g) for g in grids]
        nv_writer.write_record("ascent", "marks", 0, {**info, "seconds": 0.0}, pngs)
        info, grids = exemplar_pictures.record(
            np.arange(n),
            np.arange(n)[:, None],
            np.ones((n, 1)),
            np.zeros((n, 1, 2), int),
            np.tile([0, 0, 16, 16], (n, 1, 1)),
            np.tile([0, 0, 16, 16], (n, 1, 1)),
            {i: examples[i] for i in range(n)},
            (0.0, 1.0),
            n,
            len(examples),
            {"jump": [1, 1], "size": [16, 16], "offset": [0, 0], "exact": True},
        )
        pngs = [nv_writer.encode_png(g) for g in grids]
        nv_writer.write_record("exemplars", "marks", 0, {**info, "seconds": 0.0}, pngs)
    writer.close()
    return root


def marked_pictures() -> tuple[np.ndarray, np.ndarray]:
    """Six 16x16x3 pictures: 0 fine, 1 dead, 2 saturated, 3 constant (so flat),
    4 pixel noise, 5 a frame (border); and 16 examples (blobs and a little
    noise), the data they are measured against."""
    yy, xx = np.mgrid[:16, :16]

    def blob(cy, cx, s):
        return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))

    rng = np.random.default_rng(1)
    examples = np.stack(
        [
            np.stack([blob(*rng.uniform(5, 11, 2), rng.uniform(2, 4))] * 3, -1)
            for _ in range(16)
        ]
    )
    examples = np.clip(0.8 * examples + 0.1 + rng.normal(0, 0.03, examples.shape), 0, 1)
    images = np.full((6, 16, 16, 3), 0.5)
    images[0] = np.stack([blob(8, 8, 3), blob(6, 9, 3), blob(9, 7, 4)], -1) * 0.6 + 0.2
    images[1] = images[0, ::-1]
    images[2] = np.clip((blob(8, 8, 4) - 0.5) * 4 + 0.5, 0, 1)[
        ..., None
    ]  # at the bounds
    images[4] = rng.uniform(0, 1, (16, 16, 3))
    images[5, [0, -1]] = images[5, :, [0, -1]] = 0.1
    return images, examples


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
            title: f.title, cls: f.className, badges: [...f.querySelectorAll('.nv-mark')].map(b => b.title),
            reason: (f.querySelector('.nv-mark-reason') || {}).textContent || ""}))""",
    )


def alpha_mean(frame, selector) -> float:
    """Mean alpha (0..255) of the first canvas matched."""
    return frame.eval_on_selector(
        selector,
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let s = 0; for (let i = 3; i < d.length; i += 4) s += d[i]; return s / (d.length / 4); }""",
    )


def test_marked_pictures_are_dimmed_and_say_why(ap):
    ap.act(lambda f: f.select_option("select[name=layer]", "marks"))
    figs = figures(ap.frame)
    assert [f["marks"] for f in figs] == [
        *("", "dead", "saturated", "constant flat", "noise", "border")
    ]
    assert "nv-marked" not in figs[0]["cls"] and not figs[0]["badges"]
    assert (
        "nv-dead" in figs[1]["cls"] and "never rose above its start" in figs[1]["title"]
    )
    assert "nv-saturated" in figs[2]["cls"]
    assert "80% of the pixels sit at a bound of the input range" in figs[2]["badges"][0]
    assert "not a feature" in figs[2]["title"]
    assert "nv-constant" in figs[3]["cls"] and "one flat colour" in figs[3]["badges"][0]
    # One line under each marked tile says why, with the figure against the data.
    reasons = [f["reason"] for f in figs]
    assert reasons[3] == "constant: one flat colour · flat: contrast 0% of the data's"
    noise = re.fullmatch(r"noise: high-frequency power (\d+)× the data's", reasons[4])
    assert noise and int(noise[1]) > 3, reasons[4]
    assert reasons[5] == "border: 77% of the energy in the frame"
    assert (
        "(flagged above 3× with a spectral flatness above 0.25)" in figs[4]["title"]
        and not figs[0]["reason"]
    )
    # Dimmed: a marked picture is not shown as if it were a finding.
    opacity = ap.frame.eval_on_selector_all(
        ".nv-col .nv-fig > .nv-tile-pic",
        "cs => cs.map(c => getComputedStyle(c).opacity)",
    )
    assert opacity == ["1"] + ["0.4"] * 5
    note = ap.frame.text_content(".nv-col .nv-note")
    assert "1 dead" in note and "1 saturated" in note and "1 constant" in note
    assert "1 noise" in note and "1 border" in note
    # The large view says what is wrong and how much of the picture is at the bounds.
    ap.act(lambda f: f.click(".nv-col .nv-fig[data-channel='2']"))
    detail = ap.frame.text_content(".nv-detail")
    assert "◐ saturated: 80% of the pixels" in detail
    assert "pixels at the bounds" in detail
    assert "spectrum vs the data's" in ap.frame.text_content(".nv-detail .nv-fv-checks")
    ap.act(lambda f: ap.page.keyboard.press("Escape"))
    # A noise picture: its best real example stands in, labelled as such.
    ap.act(lambda f: f.click(".nv-col .nv-fig[data-channel='4']"))
    stand_in = ap.frame.wait_for_selector(".nv-detail .nv-stand-in")
    assert stand_in.get_attribute("data-example") == "4"
    assert "best real example (the feature visualization is noise)" in (
        stand_in.text_content()
    )
    assert "flagged noise" in ap.frame.text_content(".nv-detail .nv-big-pics")
    ap.act(lambda f: ap.page.keyboard.press("Escape"))


def test_a_step_the_budget_made_smaller_says_so(ap):
    ap.act(lambda f: f.select_option("select[name=layer]", "conv2"))
    header = ap.frame.text_content(".nv-col .nv-col-head")
    assert "step 1" in header
    shrunk = ap.frame.text_content(".nv-col .nv-shrunk")
    assert shrunk == "4 of 8 steps (made smaller by the overhead budget)"


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
