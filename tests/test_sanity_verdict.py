"""The sanity verdict on known answers: synthetic distributions, a trained CNN's
gradients (depend on the weights), and a map that cannot depend on them."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
from models import bars, trained_bars_cnn

from tb_netviz.methods import randomization_check
from tb_netviz.methods.sanity import verdict as V
from tb_netviz.pictures import sanity as pictures


def synthetic(n, s_mean, b_mean, spread=0.03, steps=3, channels=2, seed=0):
    """s `(B, N, K)` around s_mean at the last step, pairs `(N, N, K)` around b_mean."""
    rng = np.random.default_rng(seed)
    s = rng.normal(s_mean, spread, (steps, n, channels))
    s[:-1] = 0.9  # the early steps: still alike
    p = rng.normal(b_mean, spread, (n, n, channels))
    p = (p + p.transpose(1, 0, 2)) / 2
    return s, p


def test_signed_rank_null_and_the_smallest_probe():
    np.testing.assert_allclose(V.signed_rank_null(3) * 8, [1, 1, 1, 2, 1, 1, 1])
    assert V.signed_rank_null(10).sum() == pytest.approx(1)
    assert V.min_inputs(0.90) == 5  # 2**-5 <= 5% < 2**-4
    # Five inputs: the 90% interval runs from the smallest to the largest.
    assert V.rank_interval([3.0, 1.0, 2.0, 5.0, 4.0]) == (3.0, 1.0, 5.0)
    assert V.rank_interval([1.0, 2.0, 3.0, 4.0]) == (2.5, -np.inf, np.inf)


def test_clearly_lower_depends():
    v = V.verdict(*synthetic(8, 0.03, 0.30))
    assert v.depends is True and v.verdict == V.DEPENDS
    assert v.interval[1] < V.MARGIN and v.inputs == 8 and v.inputs_needed is None
    assert v.first_below == 3  # the early steps stay alike
    assert v.caption.endswith(": depends on the learned weights")
    assert v.caption.startswith("SSIM with random weights 0.0")
    assert "vs different inputs 0.3" in v.caption
    # The band is what the caption quotes.
    last = [v.band[k][-1] for k in ("lo", "median", "hi")]
    assert f"{last[1]:.2f} [{last[0]:.2f}, {last[2]:.2f}]" in v.caption
    assert len(v.band["median"]) == len(v.baseline_band["hi"]) == 3
    assert v.band["lo"][-1] < v.band["median"][-1] < v.band["hi"][-1]


def test_clearly_higher_barely_changes():
    v = V.verdict(*synthetic(8, 0.90, 0.20))
    assert v.depends is False and v.verdict == V.SAME
    assert v.interval[0] > V.MARGIN and v.first_below is None
    assert v.caption.endswith(": barely changes with random weights")


def test_overlapping_with_two_inputs_cannot_tell_and_says_how_many_would():
    v = V.verdict(*synthetic(2, 0.30, 0.28))
    assert v.depends is None and v.verdict == "can't tell with 2 inputs"
    assert v.interval == (-np.inf, np.inf)
    assert v.inputs_needed is not None and v.inputs_needed > 2
    assert v.caption.endswith(f"(about {v.inputs_needed} would tell)")
    # Enough inputs, a difference inside the margin's reach: still can't tell,
    # and the estimate scales the interval's half-width by sqrt(N / N').
    v = V.verdict(*synthetic(8, 0.30, 0.26, spread=0.05, seed=3))
    lo, hi = v.interval
    assert lo < V.MARGIN < hi and v.depends is None
    half = hi - v.estimate if v.estimate < V.MARGIN else v.estimate - lo
    want = int(np.ceil(8 * (half / abs(v.estimate - V.MARGIN)) ** 2))
    assert v.inputs_needed == max(want, 9)


def test_one_input_and_no_cascade():
    s, p = synthetic(1, 0.5, 0.5)
    v = V.verdict(s, p)
    assert v.depends is None and v.inputs_needed is None
    assert "no baseline with 1 input" in v.caption
    assert v.baseline_band["median"] == [None] * 3
    v = V.verdict(np.zeros((0, 6, 1)), np.zeros((6, 6, 1)))
    assert v.depends is None and v.band["median"] == []


def test_the_record_copies_the_verdict():
    s, p = synthetic(8, 0.03, 0.30, steps=1, channels=1)
    v = V.verdict(s, p)
    info, _ = pictures.record(
        [["c"]], [0], 8, {"gradient": [0.03]}, {"gradient": [0.1]},
        {"gradient": 0.3}, {"gradient": np.ones((2, 1, 4, 5))},
        verdicts={"gradient": v},
    )  # fmt: skip
    entry = info["methods"]["gradient"]
    assert set(pictures.VERDICT_KEYS) <= set(entry)
    assert entry["verdict"] == v.verdict and entry["caption"] == v.caption
    assert entry["depends_on_weights"] is True and entry["inputs"] == 8
    assert entry["band"] == v.band and entry["baseline_band"] == v.baseline_band
    assert entry["interval"] == list(v.interval)


@pytest.fixture(scope="module")
def trained_cnn():
    return trained_bars_cnn(2, 400, 3)


def test_gradients_of_a_trained_cnn_depend_on_the_weights(trained_cnn):
    model, probe = trained_cnn
    result = randomization_check(model, "conv2", probe, "gradient", top_k=2)
    v = result.verdicts["gradient"]
    assert result.similarities["gradient"].shape == (2, 8, 2)
    assert result.pairs["gradient"].shape == (8, 8, 2)
    np.testing.assert_allclose(
        result.ssim["gradient"], result.similarities["gradient"].mean(axis=(1, 2))
    )
    assert result.verdict("gradient") == V.DEPENDS, v.caption
    assert result.depends("gradient") is True and v.interval[1] < V.MARGIN
    assert result.caption("gradient") == v.caption


def edge_model() -> keras.Model:
    """gain (a trainable 1x1 scale) -> edges (a fixed Sobel filter) -> a head.

    The cascade of "edges" randomizes edges (its initializer *is* the Sobel
    filter: re-initialized, it is the same) and gain (any new scale w; the
    maps scale by w**2, and maps are divided by their maximum): the maps of
    "edges" cannot depend on the weights that the cascade randomizes.
    """
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)[..., None, None]
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((24, 24, 1)),
            keras.layers.Conv2D(1, 1, use_bias=False, name="gain"),
            keras.layers.Conv2D(
                1,
                3,
                padding="same",
                use_bias=False,
                kernel_initializer=keras.initializers.Constant(sobel),
                trainable=False,
                name="edges",
            ),
            keras.layers.Conv2D(8, 3, activation="relu", name="head_conv"),
            keras.layers.GlobalMaxPooling2D(name="gmp"),
            keras.layers.Dense(3, name="logits"),
        ]
    )


def test_a_map_that_cannot_depend_on_the_weights_barely_changes():
    model = edge_model()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = bars(200, 0)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    result = randomization_check(model, "edges", bars(8, 1)[0], "gradient")
    assert result.blocks == [["edges"], ["gain"]]
    np.testing.assert_allclose(result.similarities["gradient"], 1.0, atol=1e-6)
    v = result.verdicts["gradient"]
    assert result.verdict("gradient") == V.SAME, v.caption
    assert v.interval[0] > V.MARGIN and v.first_below is None
