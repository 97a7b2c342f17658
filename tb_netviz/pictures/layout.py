"""The grid contract shared by every kind, and conversions to uint8 (numpy only).

Tile k of a grid is at row `k // cols`, column `k % cols`, its top-left pixel
at `(row * (tile_height + pad), col * (tile_width + pad))`; pad pixels are 0.
The README's "Log format" section documents the same contract.
"""

from __future__ import annotations

import math

import numpy as np

QMAX = 255


def assemble(tiles: np.ndarray, cols: int, pad: int) -> tuple[np.ndarray, dict]:
    """Lays tiles out in rows of `cols`, tile k at row `k // cols`, col `k % cols`.

    Args:
      tiles: uint8 `(N, K, h, w, c)`.
      cols: tiles per row.
      pad: pixels (value 0) between tiles.

    Returns:
      `(grids, layout)`: uint8 `(N, rows*(h+pad)-pad, cols*(w+pad)-pad, c)` and
      the layout dict (`rows`, `cols`, `tile_height`, `tile_width`, `pad`).
    """
    n, k, h, w, c = tiles.shape
    rows = max(1, math.ceil(k / cols))
    t = np.pad(tiles, [(0, 0), (0, rows * cols - k), (0, pad), (0, pad), (0, 0)])
    grid = t.reshape(n, rows, cols, h + pad, w + pad, c).transpose(0, 1, 3, 2, 4, 5)
    grid = grid.reshape(n, rows * (h + pad), cols * (w + pad), c)
    grid = grid[:, : grid.shape[1] - pad, : grid.shape[2] - pad]
    layout = {"rows": rows, "cols": cols, "tile_height": h, "tile_width": w, "pad": pad}
    return np.ascontiguousarray(grid), layout


def square_cols(k: int) -> int:
    """Columns of a near-square grid of `k` tiles."""
    return max(1, math.ceil(math.sqrt(k)))


def to_uint8(images: np.ndarray, input_range: tuple[float, float]) -> np.ndarray:
    """Maps images in `input_range` to uint8, keeping 1, 3 or 4 colour channels.

    Args:
      images: float `(..., H, W, C)`.
      input_range: `(lo, hi)` of the model's inputs.

    Returns:
      uint8 `(..., H, W, C')`: C' = C for 1, 3 or 4 channels, else 1 (the mean).
    """
    lo, hi = input_range
    x = np.nan_to_num(np.asarray(images, np.float32), nan=lo, posinf=hi, neginf=lo)
    if x.shape[-1] not in (1, 3, 4):
        x = x.mean(axis=-1, keepdims=True)
    return np.clip(np.rint((x - lo) / (hi - lo) * QMAX), 0, QMAX).astype(np.uint8)


def short(values: np.ndarray, digits: int = 7) -> list:
    """`values` rounded to `digits` significant digits, as nested lists.

    JSON writes each float with the fewest digits that read back the same
    value, so a float32 statistic (1.7300000190734863 as a double) costs 17
    digits; rounded, 4. Non-finite values and zeros pass through.
    """
    x = np.asarray(values, np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = np.floor(np.log10(np.abs(x)))
        scale = np.where(np.isfinite(exponent), 10.0 ** (digits - 1 - exponent), 1.0)
        rounded = np.where(np.isfinite(exponent), np.round(x * scale) / scale, x)
    return rounded.tolist()
