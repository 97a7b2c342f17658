"""What the faithfulness metrics remove, in which order, and their traced passes.

- `baseline_image`: what replaces removed pixels (see `metrics`);
- `ranks`: each pixel's place in decreasing attribution;
- `curves`: the deletion and insertion AUCs, `mufidelity`: MuFidelity's
  subset sums and probability drops, each over copies in passes of at most
  `batch_size` rows (`batches.chunked_sum`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tb_netviz.methods.attributions import batches
from tb_netviz.methods.attributions.forward import Forward


def blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of `(N, H, W, C)` along H and W, rows of the kernel
    renormalized at the borders; float32."""

    def matrix(size):
        d = np.arange(size)[:, None] - np.arange(size)[None]
        k = np.exp(-(d**2) / (2 * sigma**2))
        return k / k.sum(axis=1, keepdims=True)

    _, h, w, _ = x.shape
    return np.einsum("ij,njkc,lk->nilc", matrix(h), x, matrix(w)).astype(np.float32)


def baseline_image(baseline, x: np.ndarray) -> np.ndarray:
    """The image that replaces removed pixels, float32 like `x` `(N, H, W, C)`."""
    if isinstance(baseline, str):
        if baseline == "blur":
            return blur(x, max(1.0, min(x.shape[1:3]) / 45))
        if baseline == "mean":
            return np.broadcast_to(x.mean(axis=(1, 2), keepdims=True), x.shape)
        raise ValueError(
            f"baseline must be 'blur', 'mean', a number or an array, got {baseline!r}"
        )
    try:
        return np.broadcast_to(np.asarray(baseline, np.float32), x.shape)
    except ValueError:
        raise ValueError(
            f"baseline of shape {np.shape(baseline)} does not fit {x.shape}"
        ) from None


def ranks(maps: np.ndarray, seed: int) -> np.ndarray:
    """Each pixel's place in decreasing attribution, int32 `(N, T, H, W)`;
    ties in a random order drawn from `seed`."""
    flat = maps.reshape(*maps.shape[:2], -1)
    tie = np.random.default_rng(seed).random(flat.shape)
    order = np.lexsort((tie, -flat), axis=-1)
    found = np.empty_like(order)
    np.put_along_axis(found, order, np.arange(flat.shape[-1]), axis=-1)
    return found.reshape(maps.shape).astype(np.int32)


def curves(forward: Forward, x, base, rank, targets, *, steps, batch_size, which):
    """AUC of the deletion and/or insertion curves, `{metric: (N, T)}`."""
    rows, t_rows = batches.tile(x, targets)
    base_rows, _ = batches.tile(base, targets)
    rank = tf.reshape(rank, [-1, *rank.shape[2:]])  # (R, H, W)
    n_rows, pixels = rows.shape[0], int(np.prod(rank.shape[1:]))
    cuts = tf.constant(np.rint(np.arange(steps + 1) * pixels / steps), tf.int32)
    trapezoid = tf.concat([[0.5], tf.ones([steps - 1]), [0.5]], 0) / steps
    chunk = batches.per_pass(batch_size, n_rows * len(which), steps + 1)

    def body(idx):
        c = idx.shape[0]
        moved = (rank[None] < tf.gather(cuts, idx)[:, None, None, None])[..., None]
        images = [
            tf.where(moved, base_rows[None], rows[None])
            if metric == "deletion"
            else tf.where(moved, rows[None], base_rows[None])
            for metric in which
        ]
        out = forward(tf.reshape(tf.stack(images), [-1, *rows.shape[1:]]))
        p = batches.pick(out.probabilities, tf.tile(t_rows, [len(which) * c]))
        p = tf.reshape(p, [len(which), c, n_rows])
        return tf.einsum("c,mcr->mr", tf.gather(trapezoid, idx), p)

    auc = batches.chunked_sum(body, steps + 1, chunk, tf.zeros([len(which), n_rows]))
    return {m: batches.untile(auc[i], targets) for i, m in enumerate(which)}


def subsets(seed, samples: int, cells: int, share: float, height: int, width: int):
    """MuFidelity's subsets as pixel masks float32 `(S, H, W)`: 1 where removed."""
    drawn = tf.random.stateless_uniform([samples, cells * cells], tf.stack([seed, 2]))
    place = tf.argsort(tf.argsort(drawn, axis=1), axis=1)
    grid = tf.reshape(
        tf.cast(place < max(1, round(share * cells * cells)), tf.float32),
        [samples, cells, cells],
    )
    rows = tf.constant(np.arange(height) * cells // height)  # each pixel's cell
    cols = tf.constant(np.arange(width) * cells // width)
    return tf.gather(tf.gather(grid, rows, axis=1), cols, axis=2)


def mufidelity(
    forward: Forward, x, base, maps, targets, seed, *, cells, share, samples, batch_size
):
    """`(attribution sums, probability drops)`, each float32 `(N, T, S)`."""
    n, h, w = x.shape[:3]
    cells = min(cells, h, w)
    masks = subsets(seed, samples, cells, share, h, w)
    p_x = batches.pick_all(forward(x).probabilities[None], targets)[0]  # (N, T)
    chunk = batches.per_pass(batch_size, n, samples)

    def body(idx):
        m = tf.gather(masks, idx)[:, None, :, :, None]  # (c, 1, H, W, 1)
        images = tf.where(m > 0, base[None], x[None])
        out = forward(tf.reshape(images, [-1, *x.shape[1:]]))
        p = batches.pick_all(
            tf.reshape(out.probabilities, [idx.shape[0], n, -1]), targets
        )
        place = tf.one_hot(idx, samples)  # (c, S)
        return tf.einsum("cnt,cs->nts", p_x[None] - p, place)

    drops = batches.chunked_sum(
        body, samples, chunk, tf.zeros([n, targets.shape[1], samples])
    )
    return tf.einsum("nthw,shw->nts", maps, masks), drops
