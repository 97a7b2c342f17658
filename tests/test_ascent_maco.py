"""MACO (Fel et al. 2023): the fixed magnitude spectrum, the transparency map,
1 and 3 input channels, odd sizes, and facets with the diversity penalty."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from ascent_models import strokes

from tb_netviz.methods import feature_visualization_result
from tb_netviz.methods.ascent import FeatureVisualizer, maco, optimize, transforms


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


def _crop_reference(images, frac, offset):
    """Loops over pixels: the window [offset, offset + frac * size) resized
    bilinearly, pixel centres at integers, reflecting without the edge."""
    b, h, w, c = images.shape
    v = frac.shape[1]

    def reflect(i, n):
        return -i if i < 0 else (2 * (n - 1) - i if i > n - 1 else i)

    out = np.zeros((b * v, h, w, c))
    for i in range(b):
        for j in range(v):
            sy = frac[i, j] * (np.arange(h) + 0.5) + offset[i, j, 0] - 0.5
            sx = frac[i, j] * (np.arange(w) + 0.5) + offset[i, j, 1] - 0.5
            for qy, y in enumerate(sy):
                for qx, x in enumerate(sx):
                    y0, x0 = int(np.floor(y)), int(np.floor(x))
                    for dy, wy in ((0, 1 - (y - y0)), (1, y - y0)):
                        for dx, wx in ((0, 1 - (x - x0)), (1, x - x0)):
                            pixel = images[i, reflect(y0 + dy, h), reflect(x0 + dx, w)]
                            out[i * v + j, qy, qx] += wy * wx * pixel
    return out


def test_crops_cover_their_window_as_a_numpy_reference_does():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(2, 7, 9, 2)).astype(np.float32)
    # Corners, a full window, and windows touching each border.
    frac = np.array([[0.6, 1.0, 0.75], [0.8, 0.6, 0.9]], np.float32)
    size = np.array([7, 9], np.float32)
    corner = np.array([[[0, 0], [0, 0], [1, 1]], [[1, 0], [0.3, 0.9], [0.5, 0.5]]])
    offset = (corner * (1 - frac[..., None]) * size).astype(np.float32)
    got = transforms.crop_resize(images, frac, offset).numpy()
    np.testing.assert_allclose(got, _crop_reference(images, frac, offset), atol=1e-6)
    np.testing.assert_allclose(got[1], images[0], atol=1e-6)  # the full window
    # On a ramp of column indices, output column q lands on the window's
    # q-th pixel centre: offset + frac (q + 1/2) - 1/2, inside the image.
    ramp = np.broadcast_to(np.arange(9, dtype=np.float32)[:, None], (1, 7, 9, 1))
    f, o = np.float32([[0.6]]), np.float32([[[2.0, 3.0]]])
    want = 3.0 + 0.6 * (np.arange(9) + 0.5) - 0.5
    np.testing.assert_allclose(
        transforms.crop_resize(ramp, f, o)[0, 3, :, 0], want, atol=1e-5
    )


def test_maco_crops_equal_the_general_sampler():
    # The separable crops are the same map as `sample` with A = frac I.
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(3, 16, 20, 3)).astype(np.float32)
    u = rng.uniform(size=(3, 4, 3)).astype(np.float32)
    got = optimize._crop_resize(images, u, 0.6).numpy()
    flat = u.reshape(12, 3)
    frac = 0.6 + 0.4 * flat[:, 0]
    a = frac[:, None, None] * np.eye(2, dtype=np.float32)
    b = flat[:, 1:] * (1 - frac[:, None]) * np.float32([16, 20])
    want = transforms.sample(np.repeat(images, 4, axis=0), a, b, "reflect").numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
