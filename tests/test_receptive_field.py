"""Receptive-field boxes: pixels outside cannot change the unit, pixels inside can."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from exemplar_models import LAYERS, examples, rf_model

from tb_netviz.demo import make_model
from tb_netviz.methods import layer_activations, top_examples
from tb_netviz.methods.common.layers import feature_model
from tb_netviz.methods.units import receptive_field


@pytest.fixture(scope="module")
def model() -> keras.Model:
    return rf_model(seed=3)


def _unit(features, x, position, channel):
    out = np.asarray(features(x, training=False))
    return out[(slice(None), *position, channel)]


@pytest.mark.parametrize("layer", LAYERS)
def test_outside_the_box_nothing_changes_inside_something_does(model, layer):
    rng = np.random.default_rng(0)
    features = feature_model(model, [layer])
    x = examples(40)
    indices, _, positions, boxes = top_examples(model, layer, x, k=2)
    changed_inside = 0
    for channel in range(positions.shape[0]):
        for j in range(2):
            base = x[indices[channel, j]][None]
            pos, (y0, x0, y1, x1) = positions[channel, j], boxes[channel, j]
            inside = np.zeros(base.shape[1:3], bool)
            inside[y0:y1, x0:x1] = True
            # Five random perturbations of everything outside the box.
            noisy = np.repeat(base, 5, axis=0)
            noise = rng.uniform(-2, 3, noisy.shape).astype(np.float32)
            noisy[:, ~inside] = noise[:, ~inside]
            want = _unit(features, base, pos, channel)
            got = _unit(features, noisy, pos, channel)
            np.testing.assert_allclose(got, np.repeat(want, 5), rtol=1e-5, atol=1e-5)
            if inside.all():
                continue
            # The same inside the box: the unit can move.
            noisy = np.repeat(base, 5, axis=0)
            noisy[:, inside] = noise[:, inside]
            got = _unit(features, noisy, pos, channel)
            changed_inside += int(not np.allclose(got, want, atol=1e-5))
    if layer != "dense":  # the dense box is the whole input: nothing to compare
        assert changed_inside > 0


def test_field_arithmetic_of_the_demo_model():
    model = make_model()
    expect = {  # (jump, size, offset) per axis
        "conv1": (1, 3, -1),
        "pool1": (2, 4, -1),
        "conv2": (2, 8, -3),
        "pool2": (4, 10, -3),
    }
    for layer, (jump, size, offset) in expect.items():
        field = receptive_field(model, layer)
        assert field.exact
        assert (field.jump, field.size, field.offset) == (
            (jump, jump),
            (size, size),
            (offset, offset),
        )
    assert not receptive_field(model, "dense").exact
    box = receptive_field(model, "conv2").boxes(np.array([[0, 0], [15, 15], [5, 7]]))
    np.testing.assert_array_equal(
        box, [[0, 0, 5, 5], [27, 27, 32, 32], [7, 11, 15, 19]]
    )


def test_attention_and_unknown_layers_give_the_whole_input():
    inp = keras.Input((8, 8, 4))
    seq = keras.layers.Reshape((64, 4), name="seq")(inp)
    att = keras.layers.MultiHeadAttention(2, 4, name="att")(seq, seq)
    back = keras.layers.Reshape((8, 8, 4), name="back")(att)
    conv = keras.layers.Conv2D(3, 3, name="conv")(back)
    model = keras.Model(inp, conv)
    for layer in ("seq", "att", "conv"):
        field = receptive_field(model, layer)
        assert not field.exact
        pos = np.zeros((2, len(model.get_layer(layer).output.shape) - 2), np.int64)
        np.testing.assert_array_equal(field.boxes(pos), [[0, 0, 8, 8]] * 2)
    acts = layer_activations(model, np.ones((1, 8, 8, 4), np.float32), ["conv"])
    assert acts["conv"].shape == (1, 6, 6, 3)


def test_one_dimensional_convolutions():
    inp = keras.Input((40, 2))
    x = keras.layers.Conv1D(4, 5, strides=2, padding="same", name="c1")(inp)
    x = keras.layers.MaxPooling1D(3, name="p1")(x)
    model = keras.Model(inp, keras.layers.Conv1D(2, 3, dilation_rate=2, name="c2")(x))
    field = receptive_field(model, "c2")
    assert field.exact and field.jump == (6,)
    features = feature_model(model, ["c2"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 40, 2)).astype(np.float32)
    for p in range(model.get_layer("c2").output.shape[1]):
        (start, stop) = field.boxes(np.array([p]))
        noisy = rng.normal(size=(4, 40, 2)).astype(np.float32)
        noisy[:, start:stop] = x[0, start:stop]
        got = np.asarray(features(noisy))[:, p]
        np.testing.assert_allclose(
            got, np.repeat(np.asarray(features(x))[:, p], 4, 0), atol=1e-5
        )
