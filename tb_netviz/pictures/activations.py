"""Activations as quantized grayscale grids, one per probe input (numpy only).

Tile k shows channel `channels[k]` (the grid contract is in `layout.py`); pixel
value q of a tile decodes to `lo + q / qmax * (hi - lo)` with that tile's
`[lo, hi]` for that probe input.

* `(N, H, W, C)` conv outputs: one `H x W` tile per channel (block-averaged down
  to at most `max_tile_size` pixels a side), tiles in a near-square grid, pad 1.
* `(N, T, C)` sequences: one `T x 1` tile per channel in a single row with pad 0,
  so each probe's picture is a time x channel image.
* `(N, U)` dense outputs: one `1 x 1` tile per unit in a single row, pad 0: a strip.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tb_netviz.pictures.layout import QMAX, assemble, short, square_cols


def _block_mean(x: np.ndarray, axis: int, factor: int) -> np.ndarray:
    """Averages blocks of `factor` along `axis`; the edge fills the last block."""
    if factor == 1:
        return x
    size = x.shape[axis]
    extra = -size % factor
    if extra:
        pad = [(0, 0)] * x.ndim
        pad[axis] = (0, extra)
        x = np.pad(x, pad, mode="edge")
    shape = x.shape[:axis] + (x.shape[axis] // factor, factor) + x.shape[axis + 1 :]
    return x.reshape(shape).mean(axis=axis + 1)


def _tiles(
    acts: np.ndarray, k: int, max_tile_size: int
) -> tuple[np.ndarray, int, int, int]:
    """Tiles `(N, K, h, w)` of the first `k` channels, and the grid's `cols`,
    `pad` and downsampling factor for the rank."""
    x = acts[..., :k]  # a view: the channels are always the first k
    if acts.ndim == 4:
        factor = math.ceil(max(x.shape[1], x.shape[2]) / max_tile_size)
        x = _block_mean(_block_mean(x, 1, factor), 2, factor)  # before the transpose
        return np.moveaxis(x, -1, 1), square_cols(k), 1, factor
    if acts.ndim == 3:
        factor = math.ceil(x.shape[1] / max_tile_size)
        x = _block_mean(x, 1, factor)
        return np.moveaxis(x, -1, 1)[..., None], max(k, 1), 0, factor  # (N, K, T, 1)
    if acts.ndim == 2:
        return x[:, :, None, None], max(k, 1), 0, 1
    raise ValueError(
        f"cannot draw a layer output of shape {acts.shape}: expected (N, H, W, C), "
        "(N, T, C) or (N, units)"
    )


def _stats(full: np.ndarray) -> tuple[list, list, bool]:
    """Per channel of `full` `(M, K)`: the mean of the finite values, the share
    of values > 0, and whether every value was finite."""
    rows = max(len(full), 1)
    positive = np.count_nonzero(full > 0, axis=0) / rows
    if np.isfinite(full.sum()):  # the common case: no mask needed
        return short(full.mean(axis=0, dtype=np.float64)), short(positive), True
    finite = np.isfinite(full)
    counts = np.maximum(finite.sum(axis=0), 1)
    mean = np.where(finite, full, 0).sum(axis=0, dtype=np.float64) / counts
    return short(mean), short(positive), False


def record(
    acts: np.ndarray,
    max_channels: int = 64,
    max_tile_size: int = 64,
    channels_total: int | None = None,
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Quantizes a layer's output into one grayscale grid per probe input.

    Args:
      acts: float array `(N, H, W, C)`, `(N, T, C)` or `(N, units)`.
      max_channels: at most this many tiles; the JSON says how many were left out.
      max_tile_size: tiles are block-averaged to at most this many pixels a side.
      channels_total: the layer's channel count when `acts` holds only its first
        channels (cut before the copy to numpy); default `acts.shape[-1]`.

    Returns:
      `(info, grids)`: `info` is the step JSON (`layout`, `channels`,
      `channels_total`, `channels_omitted`, `downsample`, `qmax`, `ranges`
      `[N][K][2]`, `stats` with per-tile `mean` and `frac_positive`, `samples`,
      `output_shape`, `nonfinite`, `nonfinite_tiles` `[N][...]`); `grids` is
      uint8 `(N, height, width)`.
    """
    acts = np.asarray(acts, dtype=np.float32)
    if acts.ndim < 2:
        raise ValueError(f"layer output of shape {acts.shape} has no channel axis")
    chosen = list(range(min(acts.shape[-1], max_channels)))
    tiles, cols, pad, factor = _tiles(acts, len(chosen), max_tile_size)
    n, k, h, w = tiles.shape
    finite = np.isfinite(tiles)
    safe = np.where(finite, tiles, 0.0)
    lo = np.where(finite, tiles, np.inf).min(axis=(2, 3))
    hi = np.where(finite, tiles, -np.inf).max(axis=(2, 3))
    empty = ~np.isfinite(lo)  # a tile with no finite value at all
    lo, hi = np.where(empty, 0.0, lo), np.where(empty, 0.0, hi)
    span = np.where(hi > lo, hi - lo, 1.0)
    q = np.rint((safe - lo[..., None, None]) / span[..., None, None] * QMAX)
    q = np.where(finite, np.clip(q, 0, QMAX), 0).astype(np.uint8)

    grids, layout = assemble(q[..., None], cols, pad)

    total = int(acts.shape[-1] if channels_total is None else channels_total)
    # Statistics over every probe and position at full resolution.
    mean, frac_positive, all_finite = _stats(
        acts[..., : len(chosen)].reshape(-1, len(chosen))
    )
    info = {
        "output_shape": list(acts.shape),
        "layout": layout,
        "channels": chosen,
        "channels_total": total,
        "channels_omitted": total - len(chosen),
        "downsample": factor,
        "qmax": QMAX,
        "ranges": short(np.stack([lo, hi], axis=-1)),
        "stats": {"mean": mean, "frac_positive": frac_positive},
        "samples": n,
        "nonfinite": not all_finite,
        # Per probe input, the tiles with a non-finite pixel (drawn as 0 there).
        "nonfinite_tiles": [
            np.flatnonzero(row).tolist() for row in ~finite.all((2, 3))
        ],
    }
    return info, grids[..., 0]


HISTOGRAM_BUCKETS = 30  # tf.summary.histogram's default


def histogram_buckets(values: np.ndarray, count: int = HISTOGRAM_BUCKETS) -> np.ndarray:
    """The buckets of TensorBoard's histogram summary (`tf.summary.histogram`),
    computed in NumPy: eagerly, TensorFlow's bucketing is about 80 small ops,
    two thirds of a default activations step on the demo CNN.

    Args:
      values: finite numbers, any shape (flattened).
      count: the number of buckets, >= 1.

    Returns:
      float64 `(count, 3)`, rows `(left edge, right edge, count)`: `count`
      equal-width buckets from the minimum to the maximum (the last edge is
      the maximum; the last bucket holds it); for one distinct value every
      edge is that value and the last bucket holds all; all zeros without
      values.
    """
    data = np.asarray(values, np.float64).reshape(-1)
    if data.size == 0:
        return np.zeros((count, 3))
    lo, hi = data.min(), data.max()
    if hi == lo:
        counts = np.zeros(count)
        counts[-1] = data.size
        return np.stack([np.full(count, hi), np.full(count, hi), counts], axis=1)
    width = (hi - lo) / count
    index = np.minimum(np.floor((data - lo) / width).astype(np.int64), count - 1)
    counts = np.bincount(index, minlength=count).astype(np.float64)
    edges = lo + np.arange(count + 1) * width
    edges[-1] = hi
    return np.stack([edges[:-1], edges[1:], counts], axis=1)
