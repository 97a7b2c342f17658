"""Tiny Keras models shared by the tests."""

from __future__ import annotations

import keras
import numpy as np


def small_cnn(seed: int = 0) -> keras.Model:
    """Sequential conv8 - pool - conv16 - gap - dense4 on 16x16x3 inputs."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 3, activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Conv2D(16, 3, activation="relu", name="conv2"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(4, name="logits"),
        ],
        name="small_cnn",
    )


def nested_cnn(seed: int = 0) -> keras.Model:
    """Functional model whose backbone is a nested functional model."""
    keras.utils.set_random_seed(seed)
    inner_in = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(6, 3, activation="relu", name="block1_conv1")(inner_in)
    h = keras.layers.Conv2D(5, 3, padding="same", name="block1_conv2")(h)
    backbone = keras.Model(inner_in, h, name="backbone")
    inp = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(0.5, name="scale")(inp)
    x = backbone(x)
    x = keras.layers.Flatten(name="flat")(x)
    out = keras.layers.Dense(3, activation="softmax", name="probs")(x)
    return keras.Model(inp, out, name="nested")


def data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 16, 16, 3)).astype(np.float32)
    return x, (x.mean(axis=(1, 2, 3)) * 40).astype(np.int32) % 4


def compiled(model: keras.Model) -> keras.Model:
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def snapshot(model: keras.Model) -> dict:
    """Everything a visualization must leave unchanged on the caller's model:
    its config, weights, each (sub)layer's attributes (by identity) and nodes."""
    layers = model._flatten_layers()
    return {
        "config": model.to_json(),
        "weights": [w.copy() for w in model.get_weights()],
        "trainable": [w.trainable for w in model.weights],
        "layers": layers,
        "attributes": [dict(vars(layer)) for layer in layers],
        "nodes": [
            (len(layer._inbound_nodes), len(layer._outbound_nodes)) for layer in layers
        ],
    }


def assert_model_unchanged(model: keras.Model, before: dict) -> None:
    """Asserts `model` is as `snapshot` saw it (also after an exception)."""
    after = snapshot(model)
    assert after["layers"] == before["layers"]
    for layer, was, now in zip(
        after["layers"], before["attributes"], after["attributes"]
    ):
        assert now.keys() == was.keys(), layer.name
        for key, value in was.items():
            assert now[key] is value, (layer.name, key)
    assert after["nodes"] == before["nodes"]
    assert after["config"] == before["config"]
    assert after["trainable"] == before["trainable"]
    for a, b in zip(before["weights"], after["weights"]):
        np.testing.assert_array_equal(a, b)
