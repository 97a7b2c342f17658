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


def bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise `(n, 24, 24, 1)` with a horizontal bar, a vertical bar or a
    square (classes 0-2): what the sanity tests train on."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.1, (n, 24, 24, 1)).astype(np.float32)
    y = rng.integers(0, 3, n)
    for i in range(n):
        r, c = rng.integers(10, 15, 2)
        if y[i] == 0:
            x[i, r, c - 6 : c + 6] += 1
        elif y[i] == 1:
            x[i, r - 6 : r + 6, c] += 1
        else:
            x[i, r - 2 : r + 2, c - 2 : c + 2] += 1
    return x, y


def trained_bars_cnn(convs: int, samples: int, epochs: int):
    """A CNN of `convs` conv layers (`conv1`, ...; 8 then 16 channels, a max
    pool between), trained on `bars`, and a probe of 8 other bar images."""
    keras.utils.set_random_seed(0)
    body = [keras.Input((24, 24, 1))]
    for i in range(1, convs + 1):
        if i > 1:
            body.append(keras.layers.MaxPooling2D(name=f"pool{i - 1}"))
        body.append(
            keras.layers.Conv2D(
                8 if i == 1 else 16,
                3,
                padding="same",
                activation="relu",
                name=f"conv{i}",
            )
        )
    model = keras.Sequential(
        [
            *body,
            keras.layers.GlobalMaxPooling2D(name="gmp"),
            keras.layers.Dense(3, name="logits"),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = bars(samples, 0)
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model, bars(8, 1)[0]
