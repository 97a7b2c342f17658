"""The receptive-field test model shared by the exemplar tests."""

from __future__ import annotations

import keras
import numpy as np

LAYERS = ["conv", "pool", "strided", "inner/dilated", "inner/last", "dense"]


def rf_model(seed: int = 0) -> keras.Model:
    """conv - pool - strided conv - nested(dilated conv - conv) - gap - dense."""
    keras.utils.set_random_seed(seed)
    inner_in = keras.Input((5, 5, 8))
    h = keras.layers.Conv2D(
        8, 3, dilation_rate=2, padding="same", activation="relu", name="dilated"
    )(inner_in)
    h = keras.layers.Conv2D(6, 2, activation="relu", name="last")(h)
    inner = keras.Model(inner_in, h, name="inner")
    inp = keras.Input((24, 24, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv")(inp)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu", name="strided")(x)
    x = inner(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(5, activation="relu", name="dense")(x)
    return keras.Model(inp, out, name="rf_model")


def examples(n: int = 700, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 24, 24, 3)).astype(np.float32)
    x[::7] *= 0.2  # dim inputs
    if n > 400:
        x[10] = x[3]  # exact duplicates: ties broken by the lower index
        x[400] = x[3]
        x[50:60] = 0.0  # and an all-zero block
    return x
