"""Every way Keras 3 writes a ReLU is swapped, and put back; other activations not."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf
from deconv_reference import inputs, relu_bwd
from models import assert_model_unchanged, snapshot

from tb_netviz.methods.deconv import relu_override

RELU_FORMS = {  # name: (layer factory, max_value, threshold) of the ReLU it applies
    "Activation('relu')": (lambda: keras.layers.Activation("relu"), None, 0.0),
    "Activation(keras.activations.relu)": (
        lambda: keras.layers.Activation(keras.activations.relu),
        None,
        0.0,
    ),
    "Activation('relu6')": (lambda: keras.layers.Activation("relu6"), 6.0, 0.0),
    "Activation(tf.nn.relu)": (lambda: keras.layers.Activation(tf.nn.relu), None, 0.0),
    "ReLU()": (lambda: keras.layers.ReLU(), None, 0.0),
    "ReLU(max_value=6)": (lambda: keras.layers.ReLU(max_value=6), 6.0, 0.0),
    "ReLU(threshold)": (lambda: keras.layers.ReLU(threshold=0.5), None, 0.5),
    "ReLU(max, threshold)": (
        lambda: keras.layers.ReLU(max_value=1.0, threshold=0.5),
        1.0,
        0.5,
    ),
    "Dense(activation='relu')": (lambda: keras.layers.Dense(2, activation="relu"),),
    "Conv2D(activation=relu fn)": (
        lambda: keras.layers.Conv2D(2, 1, activation=keras.activations.relu),
    ),
    "Conv2D(activation=ReLU())": (
        lambda: keras.layers.Conv2D(2, 1, activation=keras.layers.ReLU()),
    ),
}
NOT_RELU = {
    "LeakyReLU": lambda: keras.layers.LeakyReLU(),
    "ReLU(negative_slope)": lambda: keras.layers.ReLU(negative_slope=0.1),
    "Activation('elu')": lambda: keras.layers.Activation("elu"),
    "Dense(activation='gelu')": lambda: keras.layers.Dense(2, activation="gelu"),
}


def in_nested_model(layer):
    inner = keras.Sequential([keras.Input((3, 3, 2)), layer], name="inner")
    inp = keras.Input((3, 3, 2))
    return keras.Model(inp, inner(inp))


@pytest.mark.parametrize("form", RELU_FORMS)
def test_every_relu_form_is_swapped_and_restored(form):
    make, *spec = RELU_FORMS[form]
    layer = make()
    model = in_nested_model(layer)  # the ReLU sits inside a nested model
    # Values below 0, in (0, 0.5), in (0.5, 1), in (1, 6) and above 6.
    x = tf.reshape(tf.linspace(-3.0, 8.0, 18), (1, 3, 3, 2))
    dy = tf.constant(inputs((1, 3, 3, 2), seed=9))
    plain = model(x)
    snap = snapshot(model)
    rule = relu_override.BackwardRule()
    with relu_override.swap_relus(model, rule) as swapped:
        assert swapped == 1
        for method in relu_override.METHODS:
            rule.method = method
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = model(x)
            np.testing.assert_array_equal(y, plain)  # forward unchanged
            if spec:  # an activation layer: check the rule itself
                want = relu_bwd(dy.numpy(), x.numpy(), method, *spec)
                np.testing.assert_allclose(tape.gradient(y, x, dy), want, rtol=1e-6)
    assert_model_unchanged(model, snap)


@pytest.mark.parametrize("form", NOT_RELU)
def test_other_activations_keep_their_gradient(form):
    model = in_nested_model(NOT_RELU[form]())
    with relu_override.swap_relus(model, relu_override.BackwardRule()) as swapped:
        assert swapped == 0
