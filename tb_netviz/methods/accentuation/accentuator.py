"""Feature accentuation (Hamblin et al. 2024): what in this image drives channel c.

Starting from a probe image, the image is changed to raise channel c of
`layer` while an earlier layer's activations (`reg_layer`) stay close to the
image's own; the objective, transforms and parameterization are defined in
`accentuate_loop.py`. All (image, channel) pairs are one batch of one
compiled loop. With `reg_weight=0` it is Fourier-space gradient ascent from
the image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.accentuation import loop as accentuate_loop
from tb_netviz.methods.common import default_layers
from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.common.traced import traced

INPUT = "input"  # reg_layer for the distance in pixel space
DEFAULT_REG_WEIGHT = 16.0
DEFAULT_STEPS = 64
DEFAULT_LR = 0.05
DEFAULT_TOP_K = 4


@dataclasses.dataclass(frozen=True)
class AccentuationResult:
    """Accentuated images of K channels for N probe images.

    Attributes:
      images: float32 `(N, K, H, W, C)` in the input range; `images[n, k]`
        accentuates `channels[n, k]` in probe image n.
      channels: int64 `(N, K)`.
      objective_start, objective_end: float32 `(N, K)`, the channel's mean
        activation on the probe image and on the accentuated image.
      distance: float32 `(N, K)`, `||R(x) - R(x0)|| / ||R(x0)||` at
        `reg_layer`, untransformed (0 for the probe image itself).
      reg_layer: the layer path the distance is measured at, or `"input"`.
    """

    images: np.ndarray
    channels: np.ndarray
    objective_start: np.ndarray
    objective_end: np.ndarray
    distance: np.ndarray
    reg_layer: str


class Accentuator:
    """Feature accentuation for one layer; keep one to reuse its trace.

    Attributes:
      layer, reg_layer: the layer paths (`reg_layer` resolved).
      num_channels: the layer's channel count.
      settings: `reg_weight`, `steps`, `lr` and `reg_layer`, JSON-able.
    """

    def __init__(
        self,
        model: keras.Model,
        layer: str,
        *,
        reg_layer: str | None = None,
        reg_weight: float = DEFAULT_REG_WEIGHT,
        steps: int = DEFAULT_STEPS,
        lr: float = DEFAULT_LR,
        input_range: tuple[float, float] = (0.0, 1.0),
    ):
        """Arguments and errors as in `feature_accentuation`."""
        layers_lib.check_float_inputs(model, "feature accentuation")
        shapes = [tuple(t.shape) for t in model.inputs]
        if len(shapes) != 1 or len(shapes[0]) != 4:
            raise ValueError(
                "feature accentuation changes one image input (batch, H, W, C); "
                f"model {model.name!r} has inputs of shapes {shapes}"
            )
        self._shape, self._range = shapes[0][1:], tuple(map(float, input_range))
        facts = layers_lib.lookup(model, layer)  # unknown layer: lists names
        if facts.num_channels is None:
            raise ValueError(
                f"layer {layer!r} has no channel axis: {facts.output_shape}"
            )
        if not (reg_weight >= 0 and steps >= 1 and lr > 0):
            raise ValueError(
                f"need reg_weight >= 0, steps >= 1, lr > 0: {reg_weight, steps, lr}"
            )
        if not self._range[0] < self._range[1]:
            raise ValueError(f"input_range must be (lo, hi), lo < hi: {input_range}")
        if reg_layer is None:
            reg_layer = default_layers.regularization_layer(model, layer) or INPUT
        self.layer, self.reg_layer = layer, reg_layer
        self.num_channels = int(facts.num_channels)
        paths = [layer] if reg_layer == INPUT else [layer, reg_layer]
        self._features = layers_lib.feature_model(model, paths)
        self._reg_model = None  # the pixels themselves
        if reg_layer != INPUT:
            self._reg_model = layers_lib.feature_model(model, [reg_layer])
        self._loop_settings = dict(
            reg_weight=float(reg_weight), steps=int(steps), lr=float(lr)
        )
        self.settings = {"reg_layer": reg_layer, **self._loop_settings}
        # One trace per batch shape: the transforms need a static batch size.
        self._run = traced(self._trace)

    def _forward(self, unit: tf.Tensor, reg_only: bool = False):
        """Unit-range images -> (layer activations, R flattened), float32; with
        `reg_only`, R alone (the model runs only up to `reg_layer`)."""
        (lo, hi), model = self._range, self._reg_model if reg_only else self._features
        x = lo + unit * (hi - lo)
        out = layers_lib.call_features(model, x) if model is not None else []
        reg = unit - 0.5 if self.reg_layer == INPUT else tf.cast(out[-1], tf.float32)
        reg = tf.reshape(reg, (tf.shape(reg)[0], -1))
        return reg if reg_only else (tf.cast(out[0], tf.float32), reg)

    def _trace(self, x0: tf.Tensor, picked: tf.Tensor, seed: tf.Tensor, steps):
        return accentuate_loop.accentuate(
            self._forward,
            lambda unit: self._forward(unit, reg_only=True),
            x0,
            picked,
            seed,
            **{**self._loop_settings, "steps": steps},
        )

    def __call__(
        self,
        images,
        channels=None,
        top_k: int = DEFAULT_TOP_K,
        seed: int = 0,
        steps: int | None = None,
    ) -> AccentuationResult:
        """Returns an `AccentuationResult`; arguments as in `feature_accentuation`;
        `steps` (default: this accentuator's) runs another number of steps
        without a new trace."""
        steps = self._loop_settings["steps"] if steps is None else int(steps)
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        x0, (lo, hi) = self.check_images(images), self._range
        unit, n = (x0 - lo) / (hi - lo), len(x0)
        picked = self._pick(x0, channels, top_k)
        k = picked.shape[1]
        batch = np.repeat(unit, k, axis=0).astype(np.float32)
        x, start, end, dist = self._run(
            tf.constant(batch),
            tf.constant(picked.reshape(-1), tf.int32),
            tf.constant(int(seed), tf.int64),
            tf.constant(steps, tf.int32),
        )
        images = lo + np.asarray(x, np.float32) * (hi - lo)
        return AccentuationResult(
            images=images.reshape(n, k, *unit.shape[1:]),
            channels=picked,
            objective_start=np.asarray(start, np.float32).reshape(n, k),
            objective_end=np.asarray(end, np.float32).reshape(n, k),
            distance=np.sqrt(np.asarray(dist, np.float32)).reshape(n, k),
            reg_layer=self.reg_layer,
        )

    def _pick(self, x0: np.ndarray, channels, top_k: int) -> np.ndarray:
        """int64 `(N, K)`: `channels` checked, or each image's `top_k` strongest."""
        n = len(x0)
        if channels is None:
            if int(top_k) < 1:
                raise ValueError(f"top_k must be positive, got {top_k}")
            acts = layers_lib.call_features(self._features, x0)[0]
            maxima = tf.reduce_max(tf.reshape(acts, (n, -1, self.num_channels)), 1)
            k = min(int(top_k), self.num_channels)
            return tf.math.top_k(maxima, k=k).indices.numpy().astype(np.int64)
        picked = np.asarray(channels, np.int64)
        picked = np.tile(picked[None], (n, 1)) if picked.ndim == 1 else picked
        if picked.ndim != 2 or len(picked) != n:
            raise ValueError(
                f"channels must be (K,) or (N, K) for N={n}: {picked.shape}"
            )
        layers_lib.check_channels(picked.ravel(), self.num_channels, self.layer)
        return picked

    def check_images(self, images) -> np.ndarray:
        """Returns images as float32 `(N, H, W, C)`; raises `ValueError` for
        arrays that do not fit the model's input or lie outside the range."""
        x = np.asarray(images, np.float32)
        fits = x.ndim == 4 and all(
            want in (None, got) for want, got in zip(self._shape, x.shape[1:])
        )
        if not fits or len(x) == 0:
            raise ValueError(
                "feature accentuation needs images (N, H, W, C) that fit the model's "
                f"input (None, {', '.join(map(str, self._shape))}); got {x.shape}"
            )
        lo, hi = self._range
        tol = 1e-6 * (hi - lo)
        if not np.isfinite(x).all() or x.min() < lo - tol or x.max() > hi + tol:
            raise ValueError(
                f"images hold values in [{x.min():g}, {x.max():g}] outside input_range "
                f"{self._range}; pass the model's input_range"
            )
        return x


def feature_accentuation(
    model: keras.Model,
    layer: str,
    images,
    channels: Sequence[int] | np.ndarray | None = None,
    *,
    top_k: int = DEFAULT_TOP_K,
    reg_layer: str | None = None,
    reg_weight: float = DEFAULT_REG_WEIGHT,
    steps: int = DEFAULT_STEPS,
    lr: float = DEFAULT_LR,
    seed: int = 0,
    input_range: tuple[float, float] = (0.0, 1.0),
) -> AccentuationResult:
    """Accentuates channels of `layer` in each image (see the module docstring).

    The model is left exactly as it was.

    Args:
      model: a built single-input image model `(batch, H, W, C)`, any C.
      layer: layer path whose channel (or Dense unit) is raised.
      images: float `(N, H, W, C)` probe images in `input_range`.
      channels: `(K,)` channels for every image or `(N, K)` per image; None
        for each image's `top_k` channels with the largest maximum activation
        (the rule of `deconvolution`).
      top_k: K when `channels` is None; capped at the layer's channel count.
      reg_layer: layer path whose activations stay close to the image's;
        None: `default_layers.regularization_layer` (the first non-linearity
        before `layer`, e.g. the first conv's ReLU), else `"input"` (the
        pixels).
      reg_weight: weight of the relative squared distance at `reg_layer`
        (0: plain Fourier-space ascent from the image).
      steps, lr: Adam steps and learning rate.
      seed: seeds the random transforms; the same seed gives the same images.
      input_range: `(lo, hi)` of the model's inputs; images are made in it.

    Returns:
      An `AccentuationResult`: `images` float32 `(N, K, H, W, C)`.

    Raises:
      ValueError: unknown layer (the message lists layer paths), a channel
        out of range, images that are not `(N, H, W, C)` for the model or lie
        outside `input_range`, a model without one float image input, bad
        settings.
    """
    accentuator = Accentuator(
        model,
        layer,
        reg_layer=reg_layer,
        reg_weight=reg_weight,
        steps=steps,
        lr=lr,
        input_range=input_range,
    )
    return accentuator(images, channels, top_k, seed)
