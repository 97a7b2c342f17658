"""Cascading weight randomization: the published direction, blocks, the model untouched.

The trained CNN learns in about a second on generated pictures (a horizontal
bar, a vertical bar or a square near the centre, in noise). Adebayo et al.
2018 found that plain gradients change once the weights are randomized while
guided backprop keeps looking like the input; the tests assert that ordering,
not numbers.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
from models import assert_model_unchanged, nested_cnn, snapshot, trained_bars_cnn

from tb_netviz.methods import deconvolution, randomization_check
from tb_netviz.methods.common import similarity
from tb_netviz.methods.sanity import blocks as sanity_blocks
from tb_netviz.methods.sanity import check as sanity


@pytest.fixture(scope="module")
def trained():
    return trained_bars_cnn(3, 600, 4)


def test_gradients_fall_below_the_baseline_before_guided_backprop(trained):
    model, probe = trained
    before = snapshot(model)
    result = randomization_check(model, "conv3", probe)
    assert_model_unchanged(model, before)
    assert result.blocks == [["conv3"], ["conv2"], ["conv1"]]
    assert result.methods == ("deconvnet", "guided_backprop", "gradient")
    for m in result.methods:
        assert result.ssim[m].shape == result.spearman[m].shape == (3,)
        assert 0 < result.baseline[m] < 1
        assert result.maps[m].shape == (4, 1, 24, 24)
    gradient = result.first_below("gradient")
    guided = result.first_below("guided_backprop")
    assert gradient is not None, result.ssim
    assert guided is None or guided > gradient, result.ssim
    assert result.ssim["guided_backprop"][-1] > result.ssim["gradient"][-1]
    assert result.verdict("gradient") == sanity.DEPENDS
    assert result.depends("gradient") is True


def test_the_check_is_reproducible_and_seeded(trained):
    model, probe = trained
    a = randomization_check(model, "conv2", probe[:3], "gradient", channels=[1, 4])
    b = randomization_check(model, "conv2", probe[:3], "gradient", channels=[1, 4])
    c = randomization_check(
        model, "conv2", probe[:3], "gradient", channels=[1, 4], seed=1
    )
    np.testing.assert_array_equal(a.channels, [1, 4])
    np.testing.assert_array_equal(a.ssim["gradient"], b.ssim["gradient"])
    assert not np.array_equal(a.ssim["gradient"], c.ssim["gradient"])


def test_the_trained_maps_are_the_deconvolution_of_the_model(trained):
    model, probe = trained
    result = randomization_check(model, "conv2", probe[:2], "gradient", channels=[3])
    want = similarity.saliency(
        deconvolution(model, "conv2", probe[:2], [3], method="gradient")
    )
    np.testing.assert_allclose(result.maps["gradient"][0], want[0], atol=1e-6)


def test_the_model_is_unchanged_after_an_exception(trained, monkeypatch):
    model, probe = trained
    before = snapshot(model)

    def broken(*args):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(similarity, "ssim", broken)  # after the first cascade step
    with pytest.raises(RuntimeError, match="on purpose"):
        randomization_check(model, "conv3", probe[:2])
    assert_model_unchanged(model, before)
    with pytest.raises(ValueError, match="out of range"):
        randomization_check(model, "conv3", probe[:2], channels=[99])
    with pytest.raises(ValueError, match="method"):
        randomization_check(model, "conv3", probe[:2], "saliency")
    assert_model_unchanged(model, before)


def residual():
    inp = keras.Input((12, 12, 2))
    x = keras.layers.Conv2D(4, 3, name="stem")(inp)
    y = keras.layers.Conv2D(4, 3, padding="same", name="a")(x)
    y = keras.layers.BatchNormalization(name="bn")(y)
    y = keras.layers.ReLU(name="relu_a")(y)
    y = keras.layers.Conv2D(4, 3, padding="same", name="b")(y)
    z = keras.layers.Add(name="add")([x, y])
    z = keras.layers.ReLU(name="relu")(z)
    z = keras.layers.Conv2D(3, 3, name="top")(z)
    out = keras.layers.Dense(2, name="head")(keras.layers.Flatten()(z))
    return keras.Model(inp, out)


def paths(model, layer):
    return [[p for p, _ in block] for block in sanity_blocks.blocks(model, layer)]


def test_blocks_are_layers_and_residual_blocks_top_first():
    model = residual()
    assert paths(model, "top") == [["top"], ["a", "bn", "b"], ["stem"]]
    assert paths(model, "relu") == [["a", "bn", "b"], ["stem"]]
    # Inside the branch, the layers are a chain again.
    assert paths(model, "b") == [["b"], ["bn"], ["a"], ["stem"]]
    assert paths(model, "head") == [["head"], ["top"], ["a", "bn", "b"], ["stem"]]


def test_blocks_look_into_nested_models():
    model = nested_cnn()
    assert paths(model, "backbone/block1_conv2") == [
        ["backbone/block1_conv2"],
        ["backbone/block1_conv1"],
    ]
    assert paths(model, "probs")[0] == ["probs"]
    result = randomization_check(
        model, "backbone/block1_conv2", np.ones((2, 16, 16, 3))
    )
    assert result.blocks == [["backbone/block1_conv2"], ["backbone/block1_conv1"]]


def test_reinitialize_draws_from_the_layers_initializers():
    model = residual()
    before = [w.copy() for w in model.get_weights()]
    bn = model.get_layer("bn")
    for v in bn.weights:  # learned-looking statistics
        v.assign(np.full(v.shape, 3.0, np.float32))
    sanity_blocks.reinitialize(bn, seed=0)
    gamma, beta, mean, var = (np.asarray(v) for v in bn.weights)
    assert (gamma == 1).all() and (beta == 0).all()
    assert (mean == 0).all() and (var == 1).all()
    conv = model.get_layer("a")
    sanity_blocks.reinitialize(conv, seed=0)
    kernel = np.asarray(conv.kernel)
    assert not np.array_equal(kernel, before[2])
    limit = np.sqrt(6 / (3 * 3 * 4 + 3 * 3 * 4))  # Glorot uniform
    assert np.abs(kernel).max() <= limit
    sanity_blocks.reinitialize(conv, seed=0)
    np.testing.assert_array_equal(np.asarray(conv.kernel), kernel)  # seeded
    # Depthwise and pointwise kernels come from their own initializers (not a
    # shuffle of the trained values).
    for layer, shape in (
        (keras.layers.DepthwiseConv2D(3, depthwise_initializer="ones"), (8, 8, 4)),
        (
            keras.layers.SeparableConv2D(
                2, 3, depthwise_initializer="ones", pointwise_initializer="ones"
            ),
            (8, 8, 4),
        ),
    ):
        layer.build((None, *shape))
        for v in layer.weights:
            v.assign(np.random.default_rng(0).normal(size=v.shape).astype("float32"))
        sanity_blocks.reinitialize(layer, seed=0)
        kernels = [v for v in layer.weights if "kernel" in v.path]
        assert kernels and all((np.asarray(v) == 1).all() for v in kernels), layer.name
