"""Real handwritten digits for the tests, from `fixtures/digits.npz`.

The fixture holds scikit-learn's `load_digits()` (UCI optdigits; see
`fixtures/make_digits.py`), so the tests need no scikit-learn.
"""

from __future__ import annotations

import functools
import pathlib

import keras
import numpy as np

FIXTURE = pathlib.Path(__file__).with_name("fixtures") / "digits.npz"
TRAIN = 1500  # digits_cnn trains on x[:TRAIN]; x[TRAIN:] (297 images) is held out


@functools.lru_cache(maxsize=4)
def _digits(size: int) -> tuple[np.ndarray, np.ndarray]:
    with np.load(FIXTURE) as f:
        raw, y = f["x"], f["y"]
    x = raw.astype(np.float32)[..., None] / 16.0
    if size != raw.shape[1]:
        x = keras.ops.convert_to_numpy(
            keras.ops.image.resize(x, (size, size), interpolation="bilinear")
        )
    x = np.clip(x, 0.0, 1.0).astype(np.float32)
    y = y.astype(np.int64)
    x.flags.writeable = y.flags.writeable = False  # shared by the cache
    return x, y


def digits(size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits, bilinearly upsampled from 8x8.

    Args:
        size: side of the returned images.

    Returns:
        `(x, y)`: x float32 `(1797, size, size, 1)` in [0, 1] (ink is 1),
        y int64 `(1797,)`, the digit 0..9. Both read-only (cached).
    """
    return _digits(size)


def digits_cnn(epochs: int = 3, size: int = 28) -> keras.Model:
    """A user's plain CNN, trained (seeded) on the first `TRAIN` digits.

    conv1 (8, 3x3, relu) - pool1 - conv2 (16, 3x3, relu) - pool2 - flatten -
    logits (Dense 10, no activation) on `(size, size, 1)` inputs; compiled
    with Adam and sparse cross-entropy from logits, metric "accuracy".
    About 85% held-out accuracy after 3 epochs (batch 16), ~2 s on a CPU.
    """
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((size, size, 1)),
            keras.layers.Conv2D(8, 3, activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(name="pool1"),
            keras.layers.Conv2D(16, 3, activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(name="pool2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, name="logits"),
        ],
        name="digits_cnn",
    )
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x, y = digits(size)
    model.fit(x[:TRAIN], y[:TRAIN], epochs=epochs, batch_size=16, verbose=0)
    return model
