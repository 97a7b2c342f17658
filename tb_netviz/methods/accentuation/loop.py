"""The optimization of feature accentuation (Hamblin et al. 2024).

From a seed image x0 (a probe image) and a channel c, per (image, channel)
pair, it maximizes

    obj_c(T(x)) / s(x0)  -  reg_weight * ||R(T(x)) - R(T(x0))||^2 / ||R(T(x0))||^2

- obj_c: the mean over positions of channel c of the layer (a Dense unit:
  the unit itself); s(x0): the whole layer's mean |activation| on x0, so
  both terms are free of the layer's scale;
- R: the activations of the regularization layer, or the pixels in unit
  range minus 0.5 (the paper's distance at an earlier layer);
- T: a random jitter (1 px per 16 px of the side), zoom (0.95, 1, 1.05) and
  rotation (-5, 0, 5 degrees), the same for x and x0 within a step, drawn
  statelessly from (seed, step);
- x lives in Lucid's Fourier space with decorrelated colour
  (`ascent.param.Fourier`), starting from the exact inverse of x0 (pixels
  at a bound start 1e-3 inside it), so images stay in range and step 0 is
  the seed itself;
- Adam with learning rate `lr`, `steps` steps, one `tf.while_loop` that
  traces once inside the caller's `tf.function`.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from tb_netviz.methods.ascent import param, transforms

# Robustness transforms, the same for the image and its seed within a step.
SCALES = (0.95, 1.0, 1.05)
ANGLES = (-5.0, 0.0, 5.0)
JITTER_PER_PX = 1 / 16  # jitter: 1 px per 16 px of the shorter side, at least 1


def _channel_mean(acts: tf.Tensor, picked: tf.Tensor) -> tf.Tensor:
    """Mean over positions of channel `picked[b]` of `acts[b]`: `(B,)`."""
    mine = tf.gather(acts, picked, axis=-1, batch_dims=1)
    return tf.reduce_mean(tf.reshape(mine, (tf.shape(mine)[0], -1)), axis=1)


def _distance(reg: tf.Tensor, ref: tf.Tensor) -> tf.Tensor:
    """Relative squared distance `||reg - ref||^2 / ||ref||^2` per row: `(B,)`."""
    num = tf.reduce_sum(tf.square(reg - ref), axis=1)
    return num / (tf.reduce_sum(tf.square(ref), axis=1) + 1e-12)


def accentuate(
    forward: Callable,
    reference: Callable,
    x0: tf.Tensor,
    picked: tf.Tensor,
    seed: tf.Tensor,
    *,
    reg_weight: float,
    steps: int | tf.Tensor,
    lr: float,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Runs the optimization from seed images `x0`, one pair per row.

    Args:
      forward: unit-range images `(B, H, W, C)` -> (the layer's activations
        `(B, ..., channels)`, the regularization layer's `(B, D)`), float32.
      reference: the same images -> the regularization layer's `(B, D)` only.
      x0: float32 `(B, H, W, C)`, the seed images in unit range [0, 1].
      picked: int32 `(B,)`, the channel to raise in row b.
      seed: int64 scalar; the transforms are drawn from (seed, step).
      reg_weight, steps, lr: see `accentuate.feature_accentuation`.

    Returns:
      `(x, start, end, distance)`: the images float32 `(B, H, W, C)` in unit
      range; the channel's mean on x0 and on x, and the relative squared
      distance at the regularization layer, untransformed, each `(B,)`.
    """
    b, h, w, c = x0.shape
    fourier = param.Fourier(h, w, c, init_sd=0.0, decorrelate=True)
    cfg = transforms.TransformConfig(
        jitter=max(1, round(min(h, w) * JITTER_PER_PX)),
        scales=SCALES,
        angles=ANGLES,
        fill="reflect",
    )
    acts0, reg0 = forward(x0)
    # s(x0): the whole layer's mean |activation| on the seed, per row.
    scale = tf.reduce_mean(tf.abs(tf.reshape(acts0, (b, -1))), axis=1) + 1e-6

    def step(t, params, m, v):
        u = tf.random.stateless_uniform(
            (b, transforms.N_RANDOM), tf.stack([seed, tf.cast(t, tf.int64)])
        )
        ref = reference(transforms.random_transform(x0, u, cfg))
        with tf.GradientTape() as tape:
            tape.watch(params)
            view = transforms.random_transform(fourier.image(params), u, cfg)
            acts, reg = forward(view)
            gain = _channel_mean(acts, picked) / scale
            loss = tf.reduce_sum(reg_weight * _distance(reg, ref) - gain)
        g = tape.gradient(loss, params)
        # Adam (descending the loss), bias-corrected.
        n = tf.cast(t + 1, tf.float32)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * tf.square(g)
        rate = lr * tf.sqrt(1.0 - 0.999**n) / (1.0 - 0.9**n)
        return t + 1, params - rate * m / (tf.sqrt(v) + 1e-8), m, v

    params = fourier.init(None, x0)  # the exact inverse of x0 (see Fourier.init)
    zeros = tf.zeros_like(params)
    _, params, _, _ = tf.while_loop(
        lambda t, *_: t < steps, step, (tf.constant(0), params, zeros, zeros)
    )
    x = fourier.image(params)
    acts, reg = forward(x)
    start, end = _channel_mean(acts0, picked), _channel_mean(acts, picked)
    return x, start, end, _distance(reg, reg0)
