"""Models trained on generated data for the feature-visualization acceptance tests.

Three kinds a user brings (issue 10): the demo CNN (32x32x3), a CNN on
MNIST-like 28x28x1 strokes, and a residual CNN with batch norm and 10 conv
layers. Each trains for a few seconds; `acceptance` measures what the tests
assert (`test_ascent_accept.py`, `test_ascent_maco.py`).
"""

from __future__ import annotations

import functools

import keras
import numpy as np

from tb_netviz import demo
from tb_netviz.methods import layer_activations


def strokes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-like strokes: white lines on black, float32 `(n, 28, 28, 1)` in [0, 1].

    Classes cycle: 0 horizontal bar, 1 vertical bar, 2 diagonal, 3 ring; each
    with random position, length, thickness and a little blur-like softness.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    y = np.arange(n) % 4
    x = np.zeros((n, 28, 28, 1), np.float32)
    for i, label in enumerate(y):
        cy, cx = rng.uniform(9, 19, 2)
        half, width = rng.uniform(6, 10), rng.uniform(1.0, 2.2)
        if label == 3:
            d = np.abs(np.hypot(yy - cy, xx - cx) - rng.uniform(4, 8))
            along = np.zeros_like(d)
        else:
            angle = (0.0, np.pi / 2, rng.choice([np.pi / 4, -np.pi / 4]))[label]
            angle += rng.normal(0, 0.1)
            uy, ux = np.sin(angle), np.cos(angle)
            along = (yy - cy) * uy + (xx - cx) * ux
            d = np.abs(-(yy - cy) * ux + (xx - cx) * uy)
            d = np.where(np.abs(along) > half, np.inf, d)
        x[i, ..., 0] = np.clip(1.5 * (width - d) / width + 0.5, 0, 1) * (d < width + 1)
    return x, y.astype(np.int32)


def strokes_cnn(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(8, 3, activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(4, name="logits"),
        ],
        name="strokes_cnn",
    )


def residual_cnn(seed: int = 0) -> keras.Model:
    """Stem conv, 4 residual blocks of conv-BN-ReLU-conv-BN, a 1x1 projection:
    10 conv layers (`conv0`, `b<i>_conv<j>`, `b3_proj`) on 32x32x3 inputs."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((32, 32, 3))
    h = keras.layers.Conv2D(12, 3, padding="same", name="conv0")(inp)
    h = keras.layers.ReLU()(keras.layers.BatchNormalization()(h))
    for i, (width, stride) in enumerate([(12, 1), (12, 1), (16, 2), (16, 1)], 1):
        r = keras.layers.Conv2D(width, 3, stride, "same", name=f"b{i}_conv1")(h)
        r = keras.layers.ReLU()(keras.layers.BatchNormalization()(r))
        r = keras.layers.Conv2D(width, 3, padding="same", name=f"b{i}_conv2")(r)
        r = keras.layers.BatchNormalization()(r)
        if stride > 1:
            h = keras.layers.Conv2D(width, 1, stride, name=f"b{i}_proj")(h)
        h = keras.layers.ReLU()(keras.layers.Add()([h, r]))
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.Model(inp, keras.layers.Dense(4, name="logits")(h), name="resnet")


def conv_layers(model: keras.Model) -> list[str]:
    return [la.name for la in model.layers if isinstance(la, keras.layers.Conv2D)]


@functools.cache
def trained(kind: str) -> tuple[keras.Model, np.ndarray]:
    """(model, training images) for kind "demo", "strokes" or "resnet"; cached."""
    if kind == "strokes":
        x, y = strokes(512, 0)
        model, epochs = strokes_cnn(0), 4
    else:
        x, y = demo.make_data(512, 0)
        model = demo.make_model(0) if kind == "demo" else residual_cnn(0)
        epochs = 4
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    return model, x


def at_bounds(images: np.ndarray, input_range=(0.0, 1.0)) -> tuple[float, float]:
    """Shares of pixel values that quantize to the low and the high bound of
    the input range (0 and 255 in the PNG)."""
    lo, hi = input_range
    eps = 0.5 / 255 * (hi - lo)
    return float((images <= lo + eps).mean()), float((images >= hi - eps).mean())


def acceptance(model, data, layer: str, result) -> dict:
    """Issue 10's figures for one layer: fractions over its live channels, and
    how far the pictures' share of pixels at each bound exceeds the data's."""
    chans = list(result.channels)
    seen = layer_activations(model, data, [layer])[layer].mean(axis=(1, 2))[:, chans]
    acts = layer_activations(model, result.images, [layer])[layer]
    acts = acts.mean(axis=(1, 2))[:, chans]
    live = seen.max(axis=0) > 0
    own = np.diag(acts)
    others = np.where(np.eye(len(chans), dtype=bool), -np.inf, acts).max(axis=0)
    (low, high), (data_low, data_high) = at_bounds(result.images), at_bounds(data)
    return {
        "live": int(live.sum()),
        "beats_data": float((own > seen.max(axis=0))[live].mean()),
        "beats_others": float((own > others)[live].mean()),
        "excess_low": low - data_low,
        "excess_high": high - data_high,
    }
