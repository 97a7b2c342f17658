"""Perturbation attributions, forward passes only: Occlusion and RISE. Both read
the model's output for the target (its probability), as the papers measure it.

- occlusion (Zeiler & Fergus 2014): a square patch set to `fill` (default the
  grey in the middle of the input range) slides over the input; a pixel's
  value is the mean, over the patch positions covering it, of
  `p(x) - p(x with the patch filled)` (signed: occluding can raise p). By
  default the patch side is `max(1, round(min(H, W) / 8))` and the stride
  `max(1, patch // 2)`; the last position in each axis is flush with the edge,
  so every pixel is covered.
- rise (Petsiuk et al. 2018): `masks` random binary grids of `cells x cells`
  (each cell kept with probability `keep`), upsampled bilinearly to
  `(cells + 1) * ceil(H / cells)` pixels a side and cropped to `H x W` at a
  random shift in `[0, ceil(H / cells))` per axis; the map is
  `sum_i p(x * M_i) M_i / (masks * keep)`. Seeded; the same masks for all
  inputs (`rise_masks` makes them).

Traced by the `Attributor` as the functions of `gradients` are.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tb_netviz.methods.attributions import batches
from tb_netviz.methods.attributions.forward import Forward


def occlusion_geometry(
    height: int, width: int, patch=None, stride=None
) -> tuple[int, int]:
    """`(patch, stride)`: as given, else derived from the input size (see the module)."""
    patch = max(1, round(min(height, width) / 8)) if patch is None else int(patch)
    stride = max(1, patch // 2) if stride is None else int(stride)
    if not 1 <= patch <= min(height, width) or stride < 1:
        raise ValueError(
            f"occlusion needs 1 <= patch <= {min(height, width)} and stride >= 1 "
            f"for {height}x{width} inputs, got patch={patch}, stride={stride}"
        )
    return patch, stride


def _starts(size: int, patch: int, stride: int) -> list[int]:
    starts = list(range(0, size - patch + 1, stride))
    return starts if starts[-1] == size - patch else [*starts, size - patch]


def occlusion_boxes(height: int, width: int, patch: int, stride: int) -> np.ndarray:
    """The patch positions, int32 `(Q, 2)`: top-left `(row, column)` of each."""
    rows, cols = _starts(height, patch, stride), _starts(width, patch, stride)
    return np.array([(r, c) for r in rows for c in cols], np.int32)


def occlusion(forward: Forward, x, targets, aux, *, patch, stride, batch_size) -> dict:
    """Occlusion; see the module. `aux["fill"]` is the patch's value."""
    n, h, w = x.shape[:3]
    patch, stride = occlusion_geometry(h, w, patch, stride)
    boxes = tf.constant(occlusion_boxes(h, w, patch, stride))
    count = int(boxes.shape[0])
    rows, cols = tf.range(h), tf.range(w)
    clean = forward(x)
    p_x = batches.pick_all(clean.probabilities[None], targets)[0]  # (N, T)
    chunk = batches.per_pass(batch_size, n, count)

    def body(idx):
        c = idx.shape[0]
        top, left = tf.gather(boxes, idx)[:, 0], tf.gather(boxes, idx)[:, 1]
        in_rows = (rows[None] >= top[:, None]) & (rows[None] < top[:, None] + patch)
        in_cols = (cols[None] >= left[:, None]) & (cols[None] < left[:, None] + patch)
        box = tf.cast(in_rows[:, :, None] & in_cols[:, None, :], tf.float32)  # (c,H,W)
        b = tf.cast(box[:, None, :, :, None], x.dtype)
        filled = x[None] * (1 - b) + tf.cast(aux["fill"], x.dtype) * b
        out = forward(tf.reshape(filled, [c * n, *x.shape[1:]]))
        p = batches.pick_all(tf.reshape(out.probabilities, [c, n, -1]), targets)
        drop = p_x[None] - p  # (c, N, T)
        return tf.einsum("cnt,chw->nthw", drop, box), tf.reduce_sum(box, 0)

    init = (tf.zeros([n, targets.shape[1], h, w]), tf.zeros([h, w]))
    total, covered = batches.chunked_sum(body, count, chunk, init)
    return {"maps": total / covered, "probabilities": p_x}


def rise_grids(seed, masks: int, cells: int, keep: float, cell_size) -> tuple:
    """The random part of RISE's masks: binary grids float32 `(masks, cells, cells)`
    and shifts int32 `(masks, 2)` in `[0, cell_size)` (rows, columns)."""
    seed = tf.cast(tf.stack([seed, 1]), tf.int64)
    grids = tf.random.stateless_uniform([masks, cells, cells], seed) < keep
    u = tf.random.stateless_uniform([masks, 2], seed + tf.constant([0, 1], tf.int64))
    shifts = tf.cast(tf.floor(u * tf.constant(cell_size, tf.float32)), tf.int32)
    return tf.cast(grids, tf.float32), shifts


def rise_masks(grids, shifts, height: int, width: int) -> tf.Tensor:
    """Grids `(M, cells, cells)` and shifts `(M, 2)` -> masks float32 `(M, H, W)`:
    each grid upsampled bilinearly to `(cells + 1) * cell` a side, then cropped."""
    cells = grids.shape[1]
    ch, cw = -(-height // cells), -(-width // cells)
    up = batches.upsample(grids, ((cells + 1) * ch, (cells + 1) * cw))
    rows = shifts[:, :1] + tf.range(height)[None]  # (M, H)
    cols = shifts[:, 1:] + tf.range(width)[None]  # (M, W)
    up = tf.gather(up, rows, axis=1, batch_dims=1)
    return tf.gather(up, cols, axis=2, batch_dims=1)


def rise(forward: Forward, x, targets, aux, *, masks, cells, keep, batch_size) -> dict:
    """RISE; see the module."""
    n, h, w = x.shape[:3]
    cell_size = [-(-h // cells), -(-w // cells)]
    grids, shifts = rise_grids(aux["seed"], masks, cells, keep, cell_size)
    chunk = batches.per_pass(batch_size, n, masks)

    def body(idx):
        c = idx.shape[0]
        m = rise_masks(tf.gather(grids, idx), tf.gather(shifts, idx), h, w)
        masked = x[None] * tf.cast(m[:, None, :, :, None], x.dtype)
        out = forward(tf.reshape(masked, [c * n, *x.shape[1:]]))
        p = batches.pick_all(tf.reshape(out.probabilities, [c, n, -1]), targets)
        return tf.einsum("cnt,chw->nthw", p, m)

    total = batches.chunked_sum(
        body, masks, chunk, tf.zeros([n, targets.shape[1], h, w])
    )
    return {"maps": total / (masks * keep)}
