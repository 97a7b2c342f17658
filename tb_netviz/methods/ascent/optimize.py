"""One gradient-ascent step of feature visualization, and loops of them.

The step is a pure function of tensors (parameters, optimizer moments, step
index, seed, channel labels), so it can run under `tf.function`, inside a
`tf.while_loop`, or under XLA, and two runs with the same inputs agree.
"""

from __future__ import annotations

import time
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
    return params + g * (settings.lr / (mean_abs + 1e-12)), m, v


def _crop_resize(images: tf.Tensor, u: tf.Tensor, crop_min: float) -> tf.Tensor:
    """MACO's random crops: a square-ish window of side fraction s ~ U[crop_min, 1]
    at a uniform position, resized back to the full size (bilinear).

    `u` is float32 `(B, V, 3)` uniform draws, V crops of each of the images
    `(B, H, W, C)`; returns `(B * V, H, W, C)`, the crops of image b at rows
    `b * V .. b * V + V - 1`.
    """
    _, h, w, _ = images.shape
    frac = crop_min + (1.0 - crop_min) * u[..., 0]
    size = tf.constant([h, w], tf.float32)
    offset = u[..., 1:3] * (1.0 - frac[..., None]) * size
    return transforms.crop_resize(images, frac, offset)


def _rows(ok: tf.Tensor, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """Row k of `x` where `ok[k]`, else of `y`; `ok` bool `(K,)`.

    The rank-1 `Select` copies whole rows; `tf.where` with a broadcast
    `(K, 1, 1, 1)` mask takes the general broadcasting path, several times
    slower on CPU, and there are up to five per step.
    """
    return tf.raw_ops.Select(condition=ok, x=x, y=y)


def gram_similarity(acts: tf.Tensor, facets: int, views: int = 1) -> tf.Tensor:
    """Mean cosine similarity of each image's Gram matrix with its facet group's.

    Olah et al. 2017's diversity term: images `g * facets .. g * facets +
    facets - 1` are the facets of one channel; their style (the Gram matrix of
    the layer's activations over positions) should differ.

    Args:
      acts: float32 `(B * views, ..., C)` activations of `views` consecutive
        views (crops) of each of B images, B a multiple of `facets`.
      facets: images per group.
      views: views per image; an image's Gram matrix is their mean.

    Returns:
      float32 `(B,)`: for image i, the mean cosine similarity of its Gram
      matrix with those of the other images of its group.
    """
    c = acts.shape[-1]
    flat = tf.reshape(acts, (tf.shape(acts)[0], -1, c))
    gram = tf.matmul(flat, flat, transpose_a=True)
    gram = tf.reduce_mean(tf.reshape(gram, (-1, views, c * c)), axis=1)
    b = tf.shape(gram)[0]
    gram = tf.math.l2_normalize(tf.reshape(gram, (b // facets, facets, -1)), axis=-1)
    sim = tf.matmul(gram, gram, transpose_b=True)  # (groups, facets, facets)
    off = sim * (1.0 - tf.eye(facets))[None]
    return tf.reshape(tf.reduce_sum(off, -1) / (facets - 1), (b,))


def make_step(
    settings: presets.Settings,
    param,
    transform: transforms.TransformConfig,
    objective: Callable,
    n_rows: int,
):
    """Returns `step(params, m, v, bad, acc, index, seed, keys, labels)`.

    Args:
      settings: effective settings (see `presets.py`).
      param: a parameterization from `param.py`.
      transform: the robustness transforms, applied to every crop.
      objective: `(images in unit range (N, H, W, C), labels (K,), rows (N,))
        -> (values (N,), activations (N, ..., C'))`: image n is a view of
        image `rows[n]` of the batch, whose channel is `labels[rows[n]]`.
      n_rows: size of the per-step random table; > every key.

    The returned function takes parameters and Adam moments of the
    parameterization's shape, `bad` bool `(K,)` (sticky non-finite flags),
    `acc` float32 `(K, H, W)` (the accumulated input-gradient magnitude, the
    transparency map of MACO), the global step `index` int32, `seed` int64,
    `keys` int32 `(K,)` (which row of the random table each image draws) and
    `labels` int32 `(K,)`; it returns `(params, m, v, bad, acc)`.
    """
    s = settings
    n_crop = s.crops
    per_crop = transforms.N_RANDOM + 3
    # Without transforms or crops ("bounded") a step draws nothing: no
    # random table to make and gather.
    draws = not transform.identity or s.crop_min < 1.0

    def views(images, u, index, seed):
        k = images.shape[0]
        x, per_image = images, n_crop
        if not transform.identity:  # the chain transforms each crop's own copy
            x = tf.repeat(images, n_crop, axis=0) if n_crop > 1 else images
            chain = tf.reshape(u, (k * n_crop, per_crop))[:, : transforms.N_RANDOM]
            x = transforms.random_transform(x, chain, transform)
            per_image = 1
        if s.crop_min < 1.0:
            u = tf.reshape(u, (k, n_crop, per_crop))[..., transforms.N_RANDOM :]
            x = _crop_resize(x, tf.reshape(u, (x.shape[0], per_image, 3)), s.crop_min)
        elif per_image > 1:
            x = tf.repeat(x, per_image, axis=0)
        if s.noise > 0:
            # One noise field per crop slot and step, shared by all images:
            # an image's draws do not depend on the rest of the batch.
            shape = (n_crop, *images.shape[1:])
            noise = tf.random.stateless_normal(
                (1, *shape), seed=tf.stack([seed + 7919, tf.cast(index, tf.int64)])
            )
            x = tf.reshape(tf.reshape(x, (k, *shape)) + s.noise * noise, x.shape)
        return x

    def step(params, m, v, bad, acc, index, seed, keys, labels):
        axes = list(range(1, params.shape.rank))
        k = labels.shape[0]
        u = None
        if draws:
            # One draw table per step, indexed by key: an image's draws do not
            # depend on the rest of the batch.
            u = tf.random.stateless_uniform(
                [n_rows, n_crop * per_crop],
                seed=tf.stack([seed, tf.cast(index, tf.int64)]),
            )
            u = tf.gather(u, keys)
        rows = tf.repeat(tf.range(k), n_crop)
        with tf.GradientTape() as tape:
            tape.watch(params)
            images = param.image(params)
            values, acts = objective(views(images, u, index, seed), labels, rows)
            score = values
            if n_crop > 1:
                score = tf.reduce_mean(tf.reshape(values, (k, n_crop)), axis=1)
            if s.l1 or s.l2 or s.tv:
                score -= transforms.penalties(images, s.l1, s.l2, s.tv)
            if s.facets > 1 and s.diversity > 0:
                score -= s.diversity * gram_similarity(acts, s.facets, n_crop)
            total = tf.reduce_sum(score)  # images are independent: one backward
        g, g_image = tape.gradient(total, [params, images])
        finite = tf.math.is_finite(score)
        # Per row, whether every entry of g is finite: 0 * g is 0 exactly where
        # g is finite and NaN where it is not, so its sum is NaN iff a row has
        # a non-finite entry (and cannot overflow). A float sum: `reduce_all`
        # of `is_finite` was the step's costliest op after the network's.
        ok = tf.math.is_finite(tf.reduce_sum(g * 0.0, axis=axes)) & finite
        # Every update below is row by row, and every row that is not ok is
        # put back from the old state at the end: a non-finite gradient needs
        # no zeroing first (two full-size ops a step fewer).
        new, m2, v2 = _update(s, params, g, m, v, index)
        if s.decay:
            new = param.decay(new, s.decay)
        if transforms.blurs(s.blur_sigma) and s.blur_every > 0:
            due = tf.equal((index + 1) % s.blur_every, 0)
            new = tf.cond(due, lambda: param.blur(new, s.blur_sigma), lambda: new)
        new = param.project(new)
        magnitude = tf.reduce_sum(tf.abs(g_image), axis=-1)
        if s.optimizer == "adam":  # normalized_sgd has no moments to keep
            m2, v2 = _rows(ok, m2, m), _rows(ok, v2, v)
        # A non-finite step leaves the image (and Adam's moments) as they were.
        return (
            _rows(ok, new, params),
            m2,
            v2,
            bad | ~ok,
            _rows(ok, acc + magnitude, acc),
        )

    return step


def make_loop(step):
    """Returns `loop(params, m, v, bad, acc, start, n, seed, keys, labels)`: n
    steps in a while loop; returns `(params, m, v, bad, acc)`."""

    def loop(params, m, v, bad, acc, start, n, seed, keys, labels):
        def body(i, *state):
            return (i + 1, *step(*state, start + i, seed, keys, labels))

        _, *state = tf.while_loop(
            lambda i, *_: i < n, body, (tf.constant(0), params, m, v, bad, acc)
        )
        return tuple(state)

    return loop


def run_in_chunks(loop, state, steps, seed_t, key_t, label_t, budget_s, t0):
    """Runs the compiled `loop` for `steps` steps, in chunks under `budget_s`.

    Returns:
      `(state, steps done, whether the budget stopped it)`.
    """
    done, per_step = 0, None
    while done < steps:
        n = steps - done
        if budget_s is not None:
            left = budget_s - (time.perf_counter() - t0)
            if left <= 0 or (per_step is not None and left < per_step):
                return state, done, True
            # One step until the step time is known, then half of what is left.
            n = 1 if per_step is None else max(1, min(n, int(0.5 * left / per_step)))
        t = time.perf_counter()
        start, count = tf.constant(done), tf.constant(n)
        state = loop(*state, start, count, seed_t, key_t, label_t)
        if budget_s is not None:
            state[-1].numpy()  # wait for the chunk before timing it
            if done:  # the first chunk also traced the loop
                per_step = (time.perf_counter() - t) / n
        done += n
    return state, done, False
