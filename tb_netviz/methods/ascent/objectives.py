"""Composable objectives for feature visualization (Lucid's idea, batched).

An `Objective` maps a layer's activations for a batch of K images, float32
`(K, ...)` with channels last, and the channel index of each image, int32
`(K,)`, to one float32 value per image, `(K,)`, which the optimization raises.
Objectives add, subtract and scale:

    objectives.channel() + 0.1 * objectives.deepdream()

A plain callable `f(activations) -> (K,)` is an objective that ignores the
channel indices (they then only label the images and seed their noise).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

NAMES = ("channel", "neuron", "unit", "logit", "deepdream")


class Objective:
    """A per-image objective; see the module docstring.

    Attributes:
      name: a short description, written to the log as the objective setting.
      uses_channels: whether images differ by their channel index.
      preactivation: evaluate on the layer's input to its activation function
        (its logits for a softmax layer) instead of its output.
      own_channel: reads only each image's own channel, so the visualizer
        may compute just those channels of the layer.
    """

    def __init__(
        self,
        fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor],
        name: str,
        *,
        uses_channels: bool = True,
        preactivation: bool = False,
        own_channel: bool = False,
    ):
        self.fn = fn
        self.name = name
        self.uses_channels = uses_channels
        self.preactivation = preactivation
        self.own_channel = own_channel

    def __call__(self, activations: tf.Tensor, channels: tf.Tensor) -> tf.Tensor:
        value = self.fn(activations, channels)
        if value.shape.rank != 1:
            raise ValueError(
                f"objective {self.name!r} must return one value per image, shape "
                f"(batch,); it returned shape {tuple(value.shape)}"
            )
        return value

    def _combine(self, other: Objective, op, symbol: str) -> Objective:
        other = as_objective(other)
        if other.preactivation != self.preactivation:
            raise ValueError(
                "cannot combine objectives on a layer's output with objectives on "
                f"its pre-activation ({self.name!r} and {other.name!r})"
            )
        return Objective(
            lambda a, c: op(self(a, c), other(a, c)),
            f"{self.name} {symbol} {other.name}",
            uses_channels=self.uses_channels or other.uses_channels,
            preactivation=self.preactivation,
            own_channel=self.own_channel and other.own_channel,
        )

    def __add__(self, other) -> Objective:
        return self._combine(other, tf.add, "+")

    def __sub__(self, other) -> Objective:
        return self._combine(other, tf.subtract, "-")

    def __mul__(self, factor: float) -> Objective:
        factor = float(factor)
        return Objective(
            lambda a, c: factor * self(a, c),
            f"{factor:g} * ({self.name})",
            uses_channels=self.uses_channels,
            preactivation=self.preactivation,
            own_channel=self.own_channel,
        )

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return -1.0 * self


def _per_image_channel(activations: tf.Tensor, channels: tf.Tensor) -> tf.Tensor:
    """Channel `channels[k]` of image k: `(K, ...)` without the channel axis."""
    return tf.gather(
        activations, channels, axis=activations.shape.rank - 1, batch_dims=1
    )


def channel() -> Objective:
    """Mean of each image's own channel over all positions; a unit for (K, units)."""

    def fn(a, c):
        picked = _per_image_channel(a, c)
        return tf.reduce_mean(tf.reshape(picked, (tf.shape(picked)[0], -1)), axis=1)

    return Objective(fn, "channel", own_channel=True)


def unit() -> Objective:
    """A Dense unit (the layer's output after its activation)."""
    obj = channel()
    obj.name = "unit"
    return obj


def logit() -> Objective:
    """The layer's pre-activation for each image's unit: a class logit before softmax.

    The layer's output is not used: the pre-activation is computed beside the
    model, with the layer's weights (see `targets.target_model`).
    """
    obj = channel()
    obj.name, obj.preactivation = "logit", True
    return obj


def neuron() -> Objective:
    """Each image's channel at the centre position only (Lucid's `neuron`)."""

    def fn(a, c):
        picked = _per_image_channel(a, c)
        for axis_len in picked.shape[1:]:  # centre of every spatial axis
            picked = picked[:, axis_len // 2]
        return picked

    return Objective(fn, "neuron", own_channel=True)


def deepdream() -> Objective:
    """Mean square of the whole layer (Mordvintsev et al. 2015); ignores channels."""

    def fn(a, c):
        del c
        return tf.reduce_mean(tf.reshape(tf.square(a), (tf.shape(a)[0], -1)), axis=1)

    return Objective(fn, "deepdream", uses_channels=False)


def direction(vectors) -> Objective:
    """Mean over positions of the activations' dot product with a direction:
    image k raises `mean_p a_p . vectors[c_k]`.

    Args:
      vectors: float32 `(D, K)`, one direction per row in the layer's channel
        space (a `tf.Variable` to change them without retracing); the images'
        channel indices pick the rows.
    """

    def fn(a, c):
        v = tf.gather(tf.cast(vectors, a.dtype), c)  # (B, K)
        flat = tf.reshape(a, (tf.shape(a)[0], -1, a.shape[-1]))  # (B, P, K)
        return tf.reduce_mean(tf.einsum("bpk,bk->bp", flat, v), axis=1)

    return Objective(fn, "direction")


def as_objective(spec) -> Objective:
    """Returns an `Objective` from a name in `NAMES`, an `Objective` or a callable."""
    if isinstance(spec, Objective):
        return spec
    if isinstance(spec, str):
        makers = dict(
            channel=channel, neuron=neuron, unit=unit, logit=logit, deepdream=deepdream
        )
        if spec not in makers:
            raise ValueError(
                f"unknown objective {spec!r}; use one of {', '.join(NAMES)}, an "
                "objectives.Objective or a callable activations -> (batch,)"
            )
        return makers[spec]()
    if callable(spec):
        name = getattr(spec, "__name__", "custom")
        return Objective(
            lambda a, c: tf.cast(spec(a), tf.float32),
            "custom" if name == "<lambda>" else name,
            uses_channels=False,
        )
    raise TypeError(f"objective must be a name, an Objective or a callable: {spec!r}")
