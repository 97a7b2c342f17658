"""Feature accentuation: the channel rises, the image stays close to the probe
image (measured against unregularized ascent from the same image), the
model is left alone, and bad input is refused with a clear message."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from models import assert_model_unchanged, data, nested_cnn, small_cnn, snapshot

from tb_netviz.methods import (
    Accentuator,
    deconvolution_result,
    feature_accentuation,
    feature_visualization_result,
    layer_activations,
)

STEPS = 64  # the default, so the default reg_weight is what is measured


@pytest.fixture(scope="module")
def model():
    return small_cnn(0)


@pytest.fixture(scope="module")
def probe():
    return data(3, seed=1)[0]


@pytest.fixture(scope="module")
def runs(model, probe):
    """conv2's top 2 channels per image: the default, reg_weight=0, and the
    ascent package's Fourier ascent (Lucid's recipe) from the same images."""
    regularized = feature_accentuation(model, "conv2", probe, top_k=2)
    free = feature_accentuation(model, "conv2", probe, top_k=2, reg_weight=0.0)
    picked = regularized.channels.reshape(-1)
    ascent = feature_visualization_result(
        model,
        "conv2",
        list(picked),
        preset="lucid",
        steps=STEPS,
        lr=0.05,
        init_image=np.repeat(probe, 2, axis=0),
        input_range=(0.0, 1.0),
    )
    return regularized, free, ascent.images.reshape(regularized.images.shape)


def _objective(model, images, channels):
    """The channel's mean on images `(N, K, H, W, C)`: `(N, K)`."""
    n, k = channels.shape
    acts = layer_activations(model, images.reshape(n * k, *images.shape[2:]), ["conv2"])
    means = acts["conv2"].mean(axis=(1, 2))
    return means[np.arange(n * k), channels.reshape(-1)].reshape(n, k)


def _distance(model, images, probe):
    """`||conv1(x) - conv1(x0)|| / ||conv1(x0)||` for images `(N, K, ...)`."""
    n, k = images.shape[:2]
    x = images.reshape(n * k, *images.shape[2:])
    acts = layer_activations(model, np.concatenate([x, probe]), ["conv1"])["conv1"]
    got, ref = acts[: n * k], np.repeat(acts[n * k :], k, axis=0)
    num = np.linalg.norm((got - ref).reshape(n * k, -1), axis=1)
    return (num / np.linalg.norm(ref.reshape(n * k, -1), axis=1)).reshape(n, k)


def test_every_pair_rises_and_stays_closer_than_unregularized_ascent(
    model, probe, runs
):
    regularized, free, ascent = runs
    assert regularized.reg_layer == "conv1"  # the first ReLU before conv2
    assert regularized.images.shape == (3, 2, 16, 16, 3)
    assert (regularized.images >= 0).all() and (regularized.images <= 1).all()
    assert (regularized.objective_end > regularized.objective_start).all()
    # The reported measures are what the model says about the returned images.
    np.testing.assert_allclose(
        regularized.objective_end,
        _objective(model, regularized.images, regularized.channels),
        rtol=1e-4,
    )
    mine = _distance(model, regularized.images, probe)
    np.testing.assert_allclose(regularized.distance, mine, rtol=1e-3)
    # Closer to the image than ascent from it, for every pair, by a margin.
    assert (mine < 0.6 * _distance(model, ascent, probe)).all()
    assert (mine < 0.6 * free.distance).all()
    np.testing.assert_array_equal(free.objective_start, regularized.objective_start)


def test_reg_weight_zero_is_fourier_ascent_from_the_image(model, runs):
    regularized, free, ascent = runs
    np.testing.assert_array_equal(free.channels, regularized.channels)
    by_ascent = _objective(model, ascent, free.channels)
    rise = by_ascent - free.objective_start
    assert (rise > 0).all()
    # Same parameterization, optimizer and steps; the transforms differ.
    assert (np.abs(free.objective_end - by_ascent) < 0.15 * rise).all()
    assert (free.objective_end > regularized.objective_end).all()


def test_starts_at_the_image_and_picks_the_deconvolution_channels(model, probe):
    still = feature_accentuation(model, "conv2", probe, steps=1, lr=1e-6, top_k=3)
    np.testing.assert_allclose(still.images, np.repeat(probe[:, None], 3, 1), atol=2e-3)
    assert still.distance.max() < 1e-2
    picked = deconvolution_result(model, "conv2", probe, top_k=3).channels
    np.testing.assert_array_equal(still.channels, picked)


def test_same_seed_same_images_and_channels_per_image(model, probe):
    accentuator = Accentuator(model, "conv2", steps=8)
    chosen = np.array([[0, 5], [3, 3], [15, 1]])
    first, again = accentuator(probe, chosen), accentuator(probe, chosen)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.channels, chosen)
    other = accentuator(probe, chosen, seed=1)
    assert not np.array_equal(first.images, other.images)
    shared = accentuator(probe, [4])
    assert shared.channels.tolist() == [[4], [4], [4]]


def test_model_unchanged(model, probe):
    before, snap = model.predict(probe, verbose=0), snapshot(model)
    weights = [w.copy() for w in model.get_weights()]
    feature_accentuation(model, "conv2", probe, [1], steps=4)
    assert_model_unchanged(model, snap)
    np.testing.assert_array_equal(model.predict(probe, verbose=0), before)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)


def test_nested_layers_dense_units_and_another_input_range(probe):
    nested = nested_cnn(0)
    result = feature_accentuation(nested, "backbone/block1_conv2", probe, steps=16)
    assert result.reg_layer == "backbone/block1_conv1"
    assert (result.objective_end > result.objective_start).all()
    wide = 2 * probe - 1  # the same pictures in (-1, 1)
    dense = feature_accentuation(
        small_cnn(0), "logits", wide, [2], steps=16, input_range=(-1, 1)
    )
    assert dense.reg_layer == "conv1"
    assert (dense.objective_end > dense.objective_start).all()
    assert dense.images.min() >= -1 and dense.images.max() <= 1
    pixels = feature_accentuation(small_cnn(0), "conv1", probe, [0], steps=16)
    assert pixels.reg_layer == "input"  # nothing non-linear before conv1


def test_errors(model, probe):
    with pytest.raises(ValueError, match="no layer 'conv3'.*Closest: conv2"):
        feature_accentuation(model, "conv3", probe)
    with pytest.raises(ValueError, match="no layer 'pol'.*Closest: pool"):
        feature_accentuation(model, "conv2", probe, reg_layer="pol")
    with pytest.raises(ValueError, match=r"out of range: layer 'conv2' has 16"):
        feature_accentuation(model, "conv2", probe, [16])
    with pytest.raises(ValueError, match=r"channels must be \(K,\) or \(N, K\)"):
        feature_accentuation(model, "conv2", probe, [[1, 2]])
    with pytest.raises(ValueError, match=r"needs images \(N, H, W, C\)"):
        feature_accentuation(model, "conv2", probe[..., 0])
    with pytest.raises(ValueError, match="outside input_range"):
        feature_accentuation(model, "conv2", probe * 255)
    with pytest.raises(ValueError, match="top_k must be positive"):
        feature_accentuation(model, "conv2", probe, top_k=0)
    with pytest.raises(ValueError, match="reg_weight >= 0"):
        Accentuator(model, "conv2", reg_weight=-1)
    seq = keras.Sequential(
        [keras.Input((12, 3)), keras.layers.Conv1D(4, 3, name="conv")]
    )
    with pytest.raises(ValueError, match="one image input"):
        Accentuator(seq, "conv")
    tokens = keras.Input((6,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4)(tokens)
    with pytest.raises(ValueError, match="token ids"):
        Accentuator(keras.Model(tokens, embedded), "embedding")
