"""`layer_activations`: the forward pass to chosen layers, model left as it was."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from models import assert_model_unchanged, data, nested_cnn, small_cnn, snapshot

from tb_netviz.methods import layer_activations


def test_sequential_matches_a_hand_built_prefix_model():
    model = small_cnn()
    x, _ = data(3)
    got = layer_activations(model, x, ["conv2", "logits"])
    prefix = keras.Sequential(model.layers[:3])
    np.testing.assert_allclose(got["conv2"], prefix(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["logits"], model(x), rtol=1e-5, atol=1e-6)


def test_nested_path_reaches_into_the_backbone():
    model = nested_cnn()
    x, _ = data(2)
    got = layer_activations(model, x, ["backbone/block1_conv1", "scale"])
    backbone = model.get_layer("backbone")
    inner = keras.Model(backbone.inputs, backbone.get_layer("block1_conv1").output)
    np.testing.assert_allclose(
        got["backbone/block1_conv1"], inner(x * 0.5), rtol=1e-5, atol=1e-6
    )
    assert got["scale"].shape == (2, 16, 16, 3)


def test_model_is_unchanged_and_its_layers_still_have_one_output():
    model = nested_cnn()
    before = snapshot(model)
    layer_activations(model, data(2)[0], ["backbone/block1_conv2", "flat"])
    assert_model_unchanged(model, before)
    assert model.get_layer("backbone").get_layer("block1_conv1").output is not None


def test_unknown_nested_path_lists_close_names():
    with pytest.raises(
        ValueError,
        match="no layer 'backbone/block1_conv3'. Closest: backbone/block1_conv2, backbone/block1_conv1",
    ):
        layer_activations(nested_cnn(), data(1)[0], ["backbone/block1_conv3"])


def test_subclassed_model_without_graph_says_how_to_build_it():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(ValueError, match="Build it on a keras.Input"):
        layer_activations(Net(), np.zeros((1, 3)), ["dense"])
