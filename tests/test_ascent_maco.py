"""MACO (Fel et al. 2023): the fixed magnitude spectrum, the transparency map,
1 and 3 input channels, odd sizes, and facets with the diversity penalty."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from ascent_models import strokes

from tb_netviz.methods import feature_visualization_result
from tb_netviz.methods.ascent import FeatureVisualizer, maco, optimize


def _cnn(h: int, w: int, c: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((h, w, c)),
            keras.layers.Conv2D(6, 3, activation="relu", name="conv1"),
            keras.layers.Conv2D(8, 3, activation="relu", name="conv2"),
        ]
    )


@pytest.fixture(scope="module")
def gray():
    return _cnn(28, 28, 1), strokes(32, 3)[0]


def test_the_amplitude_spectrum_is_the_one_estimated_from_the_examples(gray):
    model, x = gray
    vis = FeatureVisualizer(model, "conv2", preset="maco", examples=x, steps=20)
    result = vis([0, 3, 5], steps=20)
    fixed = vis._param.magnitude  # (1, 28, 15), fixed for good
    want, _ = maco.spectrum(x, 28, 28, 1)
    np.testing.assert_allclose(fixed, want, rtol=1e-5)
    # The final images are clipped to the input range; their spectrum stays
    # close to the fixed one (the exact property is the next test's).
    centred = result.images[..., 0] - result.images.mean(axis=(1, 2, 3))[:, None, None]
    final = np.abs(np.fft.rfft2(centred))[:, 1:, 1:14]
    fixed = np.broadcast_to(fixed[0, 1:, 1:14], final.shape)
    corr = np.corrcoef(np.log(final + 1e-3).ravel(), np.log(fixed + 1e-3).ravel())
    assert corr[0, 1] > 0.8, corr


def test_unclipped_image_has_exactly_the_fixed_magnitude():
    mag, mean = maco.spectrum(
        np.random.default_rng(0).uniform(size=(8, 16, 20, 3)), 16, 20, 3
    )
    phases = maco.Maco(16, 20, 3, mag, mean)
    seeds = tf.constant([[0, 1], [0, 2]], tf.int64)
    raw = phases.unclipped(phases.init(seeds, None)).numpy()
    got = np.abs(np.fft.rfft2((raw - mean).transpose(0, 3, 1, 2)))
    # Columns 1 .. W/2-1 are free of irfft2's Hermitian projection.
    np.testing.assert_allclose(
        got[..., 1:10], np.broadcast_to(mag, got.shape)[..., 1:10], rtol=1e-3, atol=1e-3
    )
    # Parseval: the pixel variance is the examples' mean variance.
    assert abs(raw.var(axis=(1, 2)).mean() / (1 / 12) - 1) < 0.35


def test_without_examples_the_spectrum_falls_as_one_over_frequency():
    mag, mean = maco.spectrum(None, 32, 32, 1)
    assert mag[0, 0, 0] == 0 and np.allclose(mean, 0.5)
    assert mag[0, 0, 1] == pytest.approx(2 * mag[0, 0, 2], rel=1e-4)


@pytest.mark.parametrize("shape", [(16, 16, 1), (17, 21, 3), (28, 28, 1)])
def test_alpha_is_a_distribution_and_the_objective_rises(shape):
    model = _cnn(*shape)
    x = np.random.default_rng(1).uniform(size=(4, *shape)).astype(np.float32)
    result = feature_visualization_result(
        model, "conv2", [0, 1, 2, 7], preset="maco", steps=12, examples=x
    )
    assert result.images.shape == (4, *shape)
    assert result.alpha.shape == (4, *shape[:2]) and (result.alpha >= 0).all()
    np.testing.assert_allclose(result.alpha.sum(axis=(1, 2)), 1.0, rtol=1e-5)
    assert (result.gradient > 0).all()
    # Untrained random filters: some channels stay at 0 (flagged dead).
    assert (result.objective > result.start_objective).mean() >= 0.5
    assert result.images.min() >= 0 and result.images.max() <= 1


def test_facets_differ_and_the_penalty_makes_them_differ_more(gray):
    model, x = gray
    common = dict(preset="maco", steps=16, examples=x, facets=3)
    plain = feature_visualization_result(
        model, "conv2", [1, 4], diversity=0.0, **common
    )
    diverse = feature_visualization_result(model, "conv2", [1, 4], **common)
    assert diverse.facets.shape == (2, 3, 28, 28, 1)
    np.testing.assert_array_equal(diverse.images, diverse.facets[:, 0])
    acts = lambda f: keras.Model(model.inputs, model.get_layer("conv2").output)(  # noqa: E731
        f.reshape(-1, 28, 28, 1)
    )
    sim_plain = optimize.gram_similarity(acts(plain.facets), 3).numpy().mean()
    sim_diverse = optimize.gram_similarity(acts(diverse.facets), 3).numpy().mean()
    assert sim_diverse < sim_plain, (sim_plain, sim_diverse)
    assert not np.allclose(diverse.facets[:, 0], diverse.facets[:, 1])
