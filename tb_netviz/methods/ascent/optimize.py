"""One gradient-ascent step of feature visualization, and loops of them.

The step is a pure function of tensors (parameters, optimizer moments, step
index, seed, channel labels), so it can run under `tf.function`, inside a
`tf.while_loop`, or under XLA, and two runs with the same inputs agree.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from tb_netviz.methods.ascent import presets, transforms


def _update(settings: presets.Settings, params, g, m, v, step):
    """The optimizer: returns (new params, m, v); ascent, so params move along g."""
    axes = list(range(1, params.shape.rank))
    if settings.optimizer == "adam":
        t = tf.cast(step + 1, tf.float32)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * tf.square(g)
        lr = settings.lr * tf.sqrt(1.0 - 0.999**t) / (1.0 - 0.9**t)
        return params + lr * m / (tf.sqrt(v) + 1e-8), m, v
    # normalized_sgd: every image moves by `lr` per pixel on average.
    mean_abs = tf.reduce_mean(tf.abs(g), axis=axes, keepdims=True)
    return params + settings.lr * g / (mean_abs + 1e-12), m, v


def make_step(
    settings: presets.Settings,
    param,
    transform: transforms.TransformConfig,
    objective: Callable[[tf.Tensor, tf.Tensor], tf.Tensor],
    n_rows: int,
):
    """Returns `step(params, m, v, bad, index, seed, labels) -> (params, m, v, bad)`.

    Args:
      settings: effective settings (see `presets.py`).
      param: a parameterization from `param.py`.
      transform: the robustness transforms.
      objective: `(images in unit range (K, H, W, C), labels (K,)) -> (K,)`.
      n_rows: size of the per-step random table; > every label.

    The returned function takes parameters and Adam moments of the
    parameterization's shape, `bad` bool `(K,)` (sticky non-finite flags), the
    global step `index` int32, `seed` int64 and `labels` int32 `(K,)`.
    """
    s = settings

    def step(params, m, v, bad, index, seed, labels):
        axes = list(range(1, params.shape.rank))
        # One draw table per step, indexed by channel: a channel's draws do
        # not depend on the rest of the batch.
        u = tf.random.stateless_uniform(
            [n_rows, transforms.N_RANDOM],
            seed=tf.stack([seed, tf.cast(index, tf.int64)]),
        )
        u = tf.gather(u, labels)
        with tf.GradientTape() as tape:
            tape.watch(params)
            images = param.image(params)
            x = transforms.random_transform(images, u, transform)
            score = objective(x, labels)
            score -= transforms.penalties(images, s.l1, s.l2, s.tv)
            total = tf.reduce_sum(score)  # images are independent: one backward
        g = tape.gradient(total, params)
        finite = tf.math.is_finite(score)
        ok = tf.reduce_all(tf.math.is_finite(g), axis=axes) & finite
        okb = tf.reshape(ok, [-1] + [1] * len(axes))
        new, m2, v2 = _update(s, params, tf.where(okb, g, 0.0), m, v, index)
        if s.decay:
            new = param.decay(new, s.decay)
        if s.blur_sigma > 0 and s.blur_every > 0:
            due = tf.equal((index + 1) % s.blur_every, 0)
            new = tf.cond(due, lambda: param.blur(new, s.blur_sigma), lambda: new)
        new = param.project(new)
        # A non-finite step leaves the image (and Adam's moments) as they were.
        return (
            tf.where(okb, new, params),
            tf.where(okb, m2, m),
            tf.where(okb, v2, v),
            bad | ~ok,
        )

    return step


def make_loop(step):
    """Returns `loop(params, m, v, bad, start, n, seed, labels)`: n steps in a while loop."""

    def loop(params, m, v, bad, start, n, seed, labels):
        def body(i, params, m, v, bad):
            out = step(params, m, v, bad, start + i, seed, labels)
            return (i + 1, *out)

        _, params, m, v, bad = tf.while_loop(
            lambda i, *_: i < n, body, (tf.constant(0), params, m, v, bad)
        )
        return params, m, v, bad

    return loop
