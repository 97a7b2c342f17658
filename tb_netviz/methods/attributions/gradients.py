"""Input-gradient attributions: Saliency, Gradient x Input, SmoothGrad, VarGrad,
Integrated Gradients. `g` below is d score / d x for the target's score (the
logit where the output is a softmax or sigmoid; see `forward`), per row.

- saliency (Simonyan et al. 2014): `max_c |g|`.
- gradient_x_input (Shrikumar et al. 2016): `sum_c g * x`, signed.
- smoothgrad (Smilkov et al. 2017): `max_c |mean_s g(x + e_s)|`, the gradient
  averaged over `samples` copies with Gaussian noise `e_s` of standard
  deviation `noise * (hi - lo)` (a share of the input range), then reduced
  as saliency is. The noise of an input is the same for all its targets.
- vargrad (Adebayo et al. 2018): `max_c var_s g(x + e_s)` (population
  variance), the same noise as SmoothGrad.
- integrated_gradients (Sundararajan et al. 2017): `sum_c (x - x') *
  integral_0^1 g(x' + a (x - x')) da`, the integral by the trapezoid rule
  over `steps` equally spaced points, both ends included (`steps - 1`
  intervals; `steps` gradient evaluations, as Captum's `n_steps` counts
  them), so `sum(map) ~ f(x) - f(x')` (completeness, reported per map).

Every function is traced by the `Attributor`: `(forward, x (N,H,W,C),
targets (N,T) int32, aux, **static options) -> dict` with `maps` float32
`(N, T, H, W)` and, where the clean input runs, `probabilities` `(N, T)`.
"""

from __future__ import annotations

import tensorflow as tf

from tb_netviz.methods.attributions import batches
from tb_netviz.methods.attributions.forward import Forward


def _grads(forward: Forward, x_rows: tf.Tensor, t_rows: tf.Tensor):
    """Per-row `(g (R,H,W,C), score (R,), probability (R,))` of each row's target."""
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x_rows)
        out = forward(x_rows)
        score = batches.pick(out.scores, t_rows)
    # Rows are independent (inference mode), so the gradient of the sum is
    # each row's own gradient: one backward pass for all rows.
    g = tf.cast(tape.gradient(score, x_rows), tf.float32)
    return g, score, batches.pick(out.probabilities, t_rows)


def saliency(forward: Forward, x, targets, aux) -> dict:
    """`max_c |g|`; see the module."""
    g, _, p = _grads(forward, *batches.tile(x, targets))
    maps = tf.reduce_max(tf.abs(g), axis=-1)
    return {
        "maps": batches.untile(maps, targets),
        "probabilities": batches.untile(p, targets),
    }


def gradient_x_input(forward: Forward, x, targets, aux) -> dict:
    """`sum_c g * x`; see the module."""
    rows, t_rows = batches.tile(x, targets)
    g, _, p = _grads(forward, rows, t_rows)
    maps = tf.reduce_sum(g * tf.cast(rows, tf.float32), axis=-1)
    return {
        "maps": batches.untile(maps, targets),
        "probabilities": batches.untile(p, targets),
    }


def _noisy_moments(forward, x, targets, aux, samples, noise, batch_size):
    """Mean and population variance over noise samples of g, each `(N*T, H, W, C)`."""
    rows, t_rows = batches.tile(x, targets)
    n_rows, t = rows.shape[0], targets.shape[1]
    sigma = noise * (aux["hi"] - aux["lo"])
    chunk = batches.per_pass(batch_size, n_rows, samples)

    def body(idx):
        c = idx.shape[0]
        # The seed of a pass is (seed, its first sample): reproducible.
        seed = tf.stack([aux["seed"], tf.cast(idx[0], tf.int64)])
        e = tf.random.stateless_normal([c, *x.shape], seed, dtype=x.dtype)
        e = tf.repeat(e * tf.cast(sigma, x.dtype), t, axis=1)  # same noise per target
        noisy = tf.reshape(rows[None] + e, [c * n_rows, *rows.shape[1:]])
        g, _, _ = _grads(forward, noisy, tf.tile(t_rows, [c]))
        g = tf.reshape(g, [c, *rows.shape])
        return tf.reduce_sum(g, 0), tf.reduce_sum(g * g, 0)

    zeros = tf.zeros(rows.shape, tf.float32)
    s1, s2 = batches.chunked_sum(body, samples, chunk, (zeros, zeros))
    mean = s1 / samples
    return mean, tf.nn.relu(s2 / samples - mean * mean)


def smoothgrad(forward, x, targets, aux, *, samples, noise, batch_size) -> dict:
    """`max_c |mean_s g(x + e_s)|`; see the module."""
    mean, _ = _noisy_moments(forward, x, targets, aux, samples, noise, batch_size)
    return {"maps": batches.untile(tf.reduce_max(tf.abs(mean), -1), targets)}


def vargrad(forward, x, targets, aux, *, samples, noise, batch_size) -> dict:
    """`max_c var_s g(x + e_s)`; see the module."""
    _, var = _noisy_moments(forward, x, targets, aux, samples, noise, batch_size)
    return {"maps": batches.untile(tf.reduce_max(var, -1), targets)}


def integrated_gradients(forward, x, targets, aux, *, steps, batch_size) -> dict:
    """Trapezoid-rule Integrated Gradients, with completeness; see the module.

    `aux["baseline"]` is `x'`, `(N, H, W, C)`. Also returns `completeness`
    `(N, T)`: `|sum(map) - (f(x) - f(x'))| / max(|f(x) - f(x')|, 1e-6)`.
    """
    rows, t_rows = batches.tile(x, targets)
    base, _ = batches.tile(tf.cast(aux["baseline"], x.dtype), targets)
    n_rows = rows.shape[0]
    alphas = tf.linspace(0.0, 1.0, steps)
    trapezoid = tf.concat([[0.5], tf.ones([steps - 2]), [0.5]], 0) / (steps - 1)
    chunk = batches.per_pass(batch_size, n_rows, steps)

    def body(idx):
        c = idx.shape[0]
        a = tf.cast(tf.reshape(tf.gather(alphas, idx), [-1, 1, 1, 1, 1]), x.dtype)
        path = tf.reshape(base[None] + a * (rows - base)[None], [-1, *rows.shape[1:]])
        g, s, p = _grads(forward, path, tf.tile(t_rows, [c]))
        w = tf.gather(trapezoid, idx)
        total = tf.einsum("k,krhwc->rhwc", w, tf.reshape(g, [c, *rows.shape]))
        s, p = tf.reshape(s, [c, n_rows]), tf.reshape(p, [c, n_rows])
        at_0 = tf.cast(idx == 0, tf.float32)
        at_1 = tf.cast(idx == steps - 1, tf.float32)
        ends = tf.stack([at_0, at_1])  # (2, c): where the path starts, ends
        s_0, s_1 = tf.unstack(ends @ s)
        p_1 = tf.unstack(ends @ p)[1]
        return total, s_0, s_1, p_1

    zero = tf.zeros([n_rows])
    init = (tf.zeros(rows.shape, tf.float32), zero, zero, zero)
    total, f_base, f_x, p_x = batches.chunked_sum(body, steps, chunk, init)
    maps = tf.reduce_sum(tf.cast(rows - base, tf.float32) * total, axis=-1)
    delta = f_x - f_base
    gap = tf.abs(tf.reduce_sum(maps, axis=[1, 2]) - delta)
    completeness = gap / tf.maximum(tf.abs(delta), 1e-6)
    return {
        "maps": batches.untile(maps, targets),
        "probabilities": batches.untile(p_x, targets),
        "completeness": batches.untile(completeness, targets),
    }
