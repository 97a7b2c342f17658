"""Tiny fixed-weight models for the attribution tests, each with its NumPy twin.

- `cam_model`: 8x8x2 -> conv 3x3 valid (3, relu) "conv" -> conv 1x1 (4, relu)
  "mix" -> global average pool -> dense (3, softmax) "probs". The CAM layer
  "conv" is 6x6, so the maps are upsampled to 8x8.
- `mlp_model`: 4x4x2 -> flatten -> dense (6, relu) -> dense (3, softmax).
- `unit_model`: 4x4x2 -> flatten -> one relu unit -> dense (2, linear).
- `region_model`: 8x8x1 -> the sum of a fixed 4x4 region (one linear unit).
"""

from __future__ import annotations

import keras
import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def relu(z):
    return np.maximum(z, 0.0)


def conv_valid(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """`(N, H, W, C)` * `(k, k, C, K)` valid, stride 1 -> `(N, H-k+1, W-k+1, K)`."""
    k = kernel.shape[0]
    patches = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
    return np.einsum("nhwcij,ijck->nhwk", patches, kernel) + bias


def bilinear(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """Half-pixel-centre bilinear resize of `(..., h, w)` (source clamped to the edges)."""
    h, w = maps.shape[-2:]

    def axis(out, size):
        src = np.clip((np.arange(out) + 0.5) * size / out - 0.5, 0, size - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, size - 1)
        return lo, hi, src - lo

    r0, r1, fr = axis(height, h)
    c0, c1, fc = axis(width, w)
    rows = maps[..., r0, :] * (1 - fr)[:, None] + maps[..., r1, :] * fr[:, None]
    return rows[..., c0] * (1 - fc) + rows[..., c1] * fc


class CamNet:
    """`cam_model`'s weights and its forward pass in NumPy."""

    def __init__(self, seed: int = 3):
        rng = np.random.default_rng(seed)
        self.k1 = rng.normal(0, 0.6, (3, 3, 2, 3))
        self.b1 = np.array([0.05, -0.1, 0.1])
        self.v = rng.normal(0, 0.8, (1, 1, 3, 4))
        self.c = np.array([0.1, -0.05, 0.0, 0.2])
        self.w = rng.normal(0, 1.0, (4, 3))
        self.b = np.array([0.1, 0.0, -0.1])

    def model(self) -> keras.Model:
        model = keras.Sequential(
            [
                keras.Input((8, 8, 2)),
                keras.layers.Conv2D(3, 3, activation="relu", name="conv"),
                keras.layers.Conv2D(4, 1, activation="relu", name="mix"),
                keras.layers.GlobalAveragePooling2D(name="gap"),
                keras.layers.Dense(3, activation="softmax", name="probs"),
            ],
            name="cam_model",
        )
        model.get_layer("conv").set_weights([self.k1, self.b1])
        model.get_layer("mix").set_weights([self.v, self.c])
        model.get_layer("probs").set_weights([self.w, self.b])
        return model

    def features(self, x):
        """A `(N, 6, 6, 3)` and the pre-activation of "mix" `(N, 6, 6, 4)`."""
        a = relu(conv_valid(x, self.k1, self.b1))
        return a, conv_valid(a, self.v, self.c)

    def logits(self, x):
        _, z = self.features(x)
        return relu(z).mean(axis=(1, 2)) @ self.w + self.b

    def layer_grad(self, x, target: int):
        """`A` and `dS_target / dA`, each `(N, 6, 6, 3)`."""
        a, z = self.features(x)
        upstream = (z > 0) * self.w[:, target] / 36.0  # (N, 6, 6, 4)
        return a, upstream @ self.v[0, 0].T


class Mlp:
    """`mlp_model`'s weights, forward pass and input gradient in NumPy."""

    def __init__(self, seed: int = 4):
        rng = np.random.default_rng(seed)
        self.w1 = rng.normal(0, 0.5, (32, 6))
        self.b1 = rng.normal(0, 0.2, 6)
        self.w2 = rng.normal(0, 1.0, (6, 3))
        self.b2 = np.array([0.2, -0.1, 0.0])

    def model(self) -> keras.Model:
        model = keras.Sequential(
            [
                keras.Input((4, 4, 2)),
                keras.layers.Flatten(),
                keras.layers.Dense(6, activation="relu", name="hidden"),
                keras.layers.Dense(3, activation="softmax", name="probs"),
            ],
            name="mlp_model",
        )
        model.get_layer("hidden").set_weights([self.w1, self.b1])
        model.get_layer("probs").set_weights([self.w2, self.b2])
        return model

    def logits(self, x):
        return relu(x.reshape(len(x), -1) @ self.w1 + self.b1) @ self.w2 + self.b2

    def probs(self, x):
        return softmax(self.logits(x))

    def grad(self, x, target: int):
        """`dS_target / dx`, `(N, 4, 4, 2)`."""
        z = x.reshape(len(x), -1) @ self.w1 + self.b1
        return (((z > 0) * self.w2[:, target]) @ self.w1.T).reshape(x.shape)


def unit_model(w: np.ndarray, b: float, v: np.ndarray) -> keras.Model:
    """score_c = v[c] * relu(w . x + b): the gradient is `v[c] w [w . x + b > 0]`."""
    model = keras.Sequential(
        [
            keras.Input((4, 4, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="relu", name="unit"),
            keras.layers.Dense(2, name="out"),
        ]
    )
    model.get_layer("unit").set_weights([w.reshape(-1, 1), np.array([b])])
    model.get_layer("out").set_weights([v.reshape(1, 2), np.zeros(2)])
    return model


REGION = (slice(2, 6), slice(1, 5))  # the 4x4 region of `region_model`


def region_mask() -> np.ndarray:
    mask = np.zeros((8, 8), np.float32)
    mask[REGION] = 1.0
    return mask


def region_model() -> keras.Model:
    """f(x) = the sum of x over `REGION` (8x8x1 inputs, one linear unit)."""
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(1, use_bias=False, name="sum"),
        ]
    )
    model.get_layer("sum").set_weights([region_mask().reshape(64, 1)])
    return model
