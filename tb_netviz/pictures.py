"""Turn feature visualizations and deconvolutions into PNG-ready grids (numpy only).

* Feature visualizations: K images in the model's input range become one RGB (or
  grayscale) grid, tile k for `channels[k]`, pad 2.
* Deconvolutions: for each probe input one row: the input itself, then one
  tile per reconstruction. Signed values are drawn around mid-grey: pixel q
  stands for `(q - 128) / 127 * scale`, with one symmetric `scale` per probe
  input (the 99.5th percentile of its |values|; larger ones clip), so the
  tiles of one input compare directly.
"""

from __future__ import annotations

import math

import numpy as np

from tb_netviz.grid import assemble

PAD = 2
# A few large gradients would leave everything else mid-grey: the symmetric
# scale is this percentile of |value|, and the rarer larger values clip.
SCALE_PERCENTILE = 99.5


def infer_input_range(probe: np.ndarray) -> tuple[float, float]:
    """Guesses the model's input range from a probe batch.

    Returns the smallest common range that holds the probe: (0, 1), (-1, 1),
    (0, 255) or (-128, 128), else the probe's own (min, max).
    """
    lo, hi = float(np.nanmin(probe)), float(np.nanmax(probe))
    for a, b in ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0), (-128.0, 128.0)):
        if a <= lo and hi <= b:
            return a, b
    return (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)


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
    return np.clip(np.rint((x - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)


def ascent_grid(
    images: np.ndarray, input_range: tuple[float, float]
) -> tuple[np.ndarray, dict]:
    """Packs K feature visualizations `(K, H, W, C)` into one grid.

    Returns:
      `(grid, layout)`: uint8 `(height, width, C')` and the layout dict.
    """
    k = len(images)
    cols = max(1, math.ceil(math.sqrt(k)))
    grids, layout = assemble(to_uint8(images, input_range)[None], cols, PAD)
    return grids[0], layout


def deconv_rows(
    inputs: np.ndarray, recons: np.ndarray, input_range: tuple[float, float]
) -> tuple[np.ndarray, dict, list[float]]:
    """Packs each probe input beside its K signed reconstructions.

    Args:
      inputs: float `(N, H, W, C)`, the probe inputs.
      recons: float `(N, K, H, W, C)`, raw reconstructions.
      input_range: the model's input range, to draw the inputs.

    Returns:
      `(rows, layout, scales)`: uint8 `(N, H, W*(K+1)+pad*K, C')`, the layout
      (tile 0 is the input), and the symmetric scale of each probe input.
    """
    r = np.nan_to_num(np.asarray(recons, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if r.shape[-1] not in (1, 3, 4):  # drawn as one grey channel, like the input
        r = r.mean(axis=-1, keepdims=True)
    magnitudes = np.abs(r).reshape(len(r), -1)
    scales = (
        np.percentile(magnitudes, SCALE_PERCENTILE, axis=1)
        if magnitudes.size
        else np.zeros(len(r))
    )
    safe = np.where(scales > 0, scales, 1.0)[:, None, None, None, None]
    signed = np.clip(np.rint(128 + r / safe * 127), 0, 255).astype(np.uint8)
    tiles = np.concatenate([to_uint8(inputs, input_range)[:, None], signed], axis=1)
    rows, layout = assemble(tiles, tiles.shape[1], PAD)
    return rows, layout, [float(s) for s in scales]
