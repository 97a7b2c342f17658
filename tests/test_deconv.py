"""Deconvnet and guided backprop: the NumPy reference, the model left alone, errors.

The reference (`deconv_reference.py`) is written from the definition in
`tb_netviz/methods/deconv.py`; the models have fixed weights and use every way of
writing a ReLU between them (`test_relu_override.py` checks each form alone).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf
from deconv_reference import (
    assert_close,
    assert_differ,
    conv_op,
    inputs,
    reference,
    set_conv,
)
from models import assert_model_unchanged, snapshot

from tb_netviz.methods import (
    Deconvolver,
    deconvolution,
    deconvolution_result,
    layer_activations,
)
from tb_netviz.methods.deconv import relu_override

# --- the models ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def seq():
    """Sequential: conv relu="relu", pool, conv, ReLU(max, threshold), dense relu fn."""
    rng = np.random.default_rng(1)
    c1, c2, c3 = (
        conv_op(rng, 2, 4, 3),
        conv_op(rng, 4, 4, 3),
        conv_op(rng, 5, 3, 2, "valid"),
    )
    dense = ("conv", rng.normal(0, 0.6, (1, 1, 4, 5)), rng.normal(0, 0.1, 5), "valid")
    model = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(4, 3, padding="same", name="c2"),
            keras.layers.ReLU(max_value=1.5, threshold=0.1),
            keras.layers.Dense(5, activation=keras.activations.relu, name="dense"),
            keras.layers.Conv2D(3, 2, name="out"),
        ]
    )
    for name, op in [("c1", c1), ("c2", c2), ("dense", dense), ("out", c3)]:
        set_conv(model.get_layer(name), op)
    relu = ("relu", None, 0.0)
    spec = [c1, relu, ("pool",), c2, ("relu", 1.5, 0.1), dense, relu, c3]
    return model, spec


@pytest.fixture(scope="module")
def nested():
    """Functional model around a nested Sequential with Activation("relu"), ReLU()."""
    rng = np.random.default_rng(2)
    ca, cb, head = (
        conv_op(rng, 1, 3, 3),
        conv_op(rng, 3, 4, 3),
        conv_op(rng, 4, 3, 2, "valid"),
    )
    backbone = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(3, 3, padding="same", name="conv_a"),
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(4, 3, padding="same", name="conv_b"),
            keras.layers.ReLU(),
        ],
        name="backbone",
    )
    inp = keras.Input((8, 8, 1))
    model = keras.Model(inp, keras.layers.Conv2D(3, 2, name="head")(backbone(inp)))
    set_conv(backbone.get_layer("conv_a"), ca)
    set_conv(backbone.get_layer("conv_b"), cb)
    set_conv(model.get_layer("head"), head)
    relu = ("relu", None, 0.0)
    return model, [ca, relu, ("pool",), cb, relu, head]


# --- the reference, both methods, every ReLU form -----------------------------------


@pytest.mark.parametrize("strongest_only", [False, True])
def test_sequential_matches_reference(seq, strongest_only):
    model, spec = seq
    x = inputs((3, 8, 8, 2), seed=3)
    snap = snapshot(model)
    result = deconvolution_result(
        model, "out", x, top_k=2, strongest_only=strongest_only
    )
    assert_model_unchanged(model, snap)

    _, out = reference(spec, x, [[0]] * 3, "deconvnet")
    maxima = out.max(axis=(1, 2))  # (N, C)
    np.testing.assert_array_equal(result.channels, np.argsort(-maxima, axis=1)[:, :2])
    assert result.channels.dtype == np.int64
    np.testing.assert_allclose(
        result.activation_max, np.sort(maxima, axis=1)[:, ::-1][:, :2], rtol=1e-5
    )
    images = {}
    for method in ("deconvnet", "guided_backprop", "gradient"):
        images[method], _ = reference(spec, x, result.channels, method, strongest_only)
    for method in relu_override.METHODS:
        assert result.images[method].dtype == np.float32
        assert_close(result.images[method], images[method])
    assert_differ(images["deconvnet"], images["guided_backprop"])
    assert_differ(images["deconvnet"], images["gradient"])
    assert_differ(images["guided_backprop"], images["gradient"])


def test_reference_gradient_is_tf_gradient(seq):
    """The reference's plain gradient agrees with TF's, validating the reference."""
    model, spec = seq
    x = tf.constant(inputs((2, 8, 8, 2), seed=4))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)
    seed = np.zeros(y.shape, np.float32)
    seed[..., 1] = y.numpy()[..., 1]
    grad = tape.gradient(y, x, output_gradients=tf.constant(seed)).numpy()
    want, _ = reference(spec, x.numpy(), [[1]] * 2, "gradient")
    assert_close(grad, want[:, 0])


def test_nested_functional_matches_reference(nested):
    model, spec = nested
    x = inputs((2, 8, 8, 1), seed=5)
    snap = snapshot(model)
    deconvolver = Deconvolver(model, "head")
    result = deconvolver(x, channels=[2, 0])
    np.testing.assert_array_equal(result.channels, [[2, 0], [2, 0]])
    for method in relu_override.METHODS:
        want, _ = reference(spec, x, result.channels, method)
        assert_close(result.images[method], want)
    assert_differ(result.images["deconvnet"], result.images["guided_backprop"])
    # Reused on other inputs (traced function kept, ReLUs swapped again).
    again = deconvolver(x[:1], channels=[2, 0])
    assert_close(again.images["deconvnet"], result.images["deconvnet"][:1])
    assert_model_unchanged(model, snap)


def test_layer_inside_nested_model(nested):
    model, spec = nested
    x = inputs((2, 8, 8, 1), seed=6)
    got = deconvolution(model, "backbone/conv_b", x, [3], method="guided_backprop")
    want, _ = reference(spec[:4], x, [[3]] * 2, "guided_backprop")
    assert got.shape == (2, 1, 8, 8, 1)
    assert_close(got, want)


# --- the user's model is left alone ----------------------------------------------------


def test_forward_pass_and_model_unchanged(seq):
    model, _ = seq
    x = inputs((2, 8, 8, 2), seed=10)
    before, snap = model.predict(x, verbose=0), snapshot(model)
    weights = [w.copy() for w in model.get_weights()]
    result = deconvolution_result(model, "c2", x, top_k=3)
    assert_model_unchanged(model, snap)
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    # The forward pass inside (ReLUs swapped) gives the plain activations.
    plain = layer_activations(model, x, ["c2"])["c2"].max(axis=(1, 2))
    np.testing.assert_allclose(result.activation_max, np.sort(plain)[:, ::-1][:, :3])


class Boom(keras.layers.Layer):
    """Identity that raises when armed, recording whether the ReLUs were swapped."""

    armed, saw_swapped = False, None

    def call(self, x):
        if Boom.armed:
            Boom.saw_swapped = "activation" in vars(self._conv) and (
                self._conv.activation is not keras.activations.relu
            )
            raise RuntimeError("boom")
        return x


def test_model_unchanged_after_exception_part_way():
    conv = keras.layers.Conv2D(3, 3, activation="relu", name="conv")
    boom = Boom()
    boom._conv = conv
    inp = keras.Input((6, 6, 1))
    h = keras.layers.ReLU(name="relu")(conv(inp))
    model = keras.Model(inp, keras.layers.Conv2D(2, 1, name="out")(boom(h)))
    x = inputs((2, 6, 6, 1), seed=11)
    before, snap = model.predict(x, verbose=0), snapshot(model)
    deconvolver = Deconvolver(model, "out")
    Boom.armed = True
    try:
        with pytest.raises(RuntimeError, match="boom"):
            deconvolver(x, [0])
    finally:
        Boom.armed = False
    assert Boom.saw_swapped  # it failed part way, with the ReLUs swapped
    assert_model_unchanged(model, snap)
    assert conv.activation is keras.activations.relu
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)
    assert deconvolver(x, [0]).images["deconvnet"].shape == (2, 1, 6, 6, 1)
    assert_model_unchanged(model, snap)


# --- bad input ----------------------------------------------------------------------


def test_errors(seq):
    model, _ = seq
    x = inputs((1, 8, 8, 2), seed=12)
    with pytest.raises(ValueError, match="no layer 'ot'.*Closest: out"):
        deconvolution(model, "ot", x)
    for bad in ([3], [-1], []):
        with pytest.raises(
            ValueError, match=r"out of range: layer .out. has 3 channels"
        ):
            deconvolution(model, "out", x, bad)
    with pytest.raises(ValueError, match="method must be one of"):
        deconvolution(model, "out", x, method="lrp")
    with pytest.raises(ValueError, match="top_k must be positive"):
        deconvolution(model, "out", x, top_k=0)
    inp = keras.Input((4, 4, 1))
    flat = keras.Model(
        inp, keras.layers.Dense(3, name="fc")(keras.layers.Flatten()(inp))
    )
    with pytest.raises(ValueError, match="no spatial structure"):
        deconvolution(flat, "fc", np.zeros((1, 4, 4, 1), np.float32))
    a, b = keras.Input((4, 4, 1)), keras.Input((4, 4, 1))
    two = keras.Model([a, b], keras.layers.Conv2D(2, 1, name="c")(a + b))
    with pytest.raises(ValueError, match="one input"):
        deconvolution(two, "c", np.zeros((1, 4, 4, 1), np.float32))


@pytest.mark.parametrize("act", [None, "leaky"])
def test_no_relu_warns_and_equals_plain_gradient(act):
    layers = [keras.Input((6, 6, 1)), keras.layers.Conv2D(3, 3, name="c1")]
    layers += [keras.layers.LeakyReLU()] if act else []
    layers += [keras.layers.MaxPooling2D(), keras.layers.Conv2D(4, 2, name="c2")]
    model = keras.Sequential(layers)
    x = tf.constant(inputs((2, 6, 6, 1), seed=13))
    with pytest.warns(UserWarning, match="No ReLU .* plain gradient"):
        result = deconvolution_result(model, "c2", x.numpy(), [1], top_k=1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)
    seed = y * tf.one_hot(1, 4)
    grad = tape.gradient(y, x, output_gradients=seed).numpy()[:, None]
    for method in relu_override.METHODS:
        assert_close(result.images[method], grad)


def test_top_k_is_capped_at_the_channel_count(nested):
    model, _ = nested
    result = deconvolution_result(model, "head", inputs((1, 8, 8, 1), seed=14), top_k=9)
    assert result.channels.shape == (1, 3)
    assert sorted(result.channels[0]) == [0, 1, 2]


def test_batch_norm_and_dropout_run_in_inference_mode():
    inp = keras.Input((6, 6, 1))
    bn = keras.layers.BatchNormalization()
    h = keras.layers.Dropout(0.5)(bn(keras.layers.Conv2D(3, 3)(inp)))
    model = keras.Model(inp, keras.layers.Conv2D(2, 1, name="out")(h))
    bn.moving_mean.assign([0.5, -1.0, 2.0])
    bn.moving_variance.assign([4.0, 0.25, 1.0])
    x = tf.constant(inputs((3, 6, 6, 1), seed=15))
    with pytest.warns(UserWarning, match="plain gradient"):
        got = deconvolution(model, "out", x.numpy(), [1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x, training=False)
    grad = tape.gradient(y, x, output_gradients=y * tf.one_hot(1, 2))
    assert_close(got, grad.numpy()[:, None])
