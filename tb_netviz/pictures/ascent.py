"""Feature visualizations as grids per step, with flags for unreadable pictures (numpy only).

K images in the model's input range become one RGB (or grayscale) grid, tile k
for `channels[k]`, pad 2 (the grid contract is in `layout.py`). Beside it,
optionally: the transparency maps as a grayscale grid of the same layout, and
the facets as a grid of K rows and F columns. The step JSON's `images` says
which blob is which. The flags and the naturalness check measure each
picture against the data (`readability.py`; its reference is the step JSON's
`data_reference`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tb_netviz.pictures import readability, spectra
from tb_netviz.pictures.layout import QMAX, assemble, square_cols, to_uint8

PAD = 2
# A picture with more than this share of its values at a bound of the input
# range is flagged `saturated` (the share itself is always recorded).
SATURATED_SHARE = 0.5
# A picture whose values span less than this share of the input range is
# flagged `constant`.
CONSTANT_SPAN = 2.0 / QMAX


def flags(
    images: np.ndarray,
    input_range: tuple[float, float],
    objective: np.ndarray,
    start_objective: np.ndarray | None,
    gradient: np.ndarray | None,
    data: readability.DataStats | None = None,
) -> dict[str, list]:
    """Per-channel marks of pictures that show nothing, as parallel lists.

    Args:
      images: float `(K, H, W, C)` in `input_range`.
      input_range: `(lo, hi)`.
      objective: float `(K,)`, the final objective.
      start_objective: float `(K,)`, the objective of the starting image, or
        None if unknown.
      gradient: float `(K,)`, the accumulated gradient magnitude, or None.
      data: the data's reference (`readability.data_stats`); None: 1/f noise
        (`reference`).

    Returns:
      `{"dead": [bool], "saturated": [bool], "at_bounds": [float],
      "constant": [bool], **readability.readability_flags(...)}` (`flat`,
      `noise`, `border` and their figures), each of length K: dead = the objective never rose
      above its start (final <= start) or the gradient was always zero;
      at_bounds = share of values that quantize to a bound of the input range
      (0 or 255 in the PNG); saturated = at_bounds > `SATURATED_SHARE`;
      constant = the image's values span less than `CONSTANT_SPAN` of the
      range (one flat colour).
    """
    lo, hi = input_range
    k = len(images)
    x = np.nan_to_num(np.asarray(images, np.float64).reshape(k, -1), nan=lo)
    eps = 0.5 / QMAX * (hi - lo)
    at_bounds = ((x <= lo + eps) | (x >= hi - eps)).mean(axis=1)
    span = (x.max(axis=1) - x.min(axis=1)) / (hi - lo) if x.size else np.zeros(k)
    objective = np.asarray(objective, np.float64).reshape(-1)
    dead = ~np.isfinite(objective)
    if start_objective is not None:
        dead |= ~(objective > np.asarray(start_objective, np.float64).reshape(-1))
    if gradient is not None:
        dead |= ~(np.asarray(gradient, np.float64).reshape(-1) > 0)
    return {
        "dead": [bool(v) for v in dead],
        "saturated": [bool(v > SATURATED_SHARE) for v in at_bounds],
        "at_bounds": [round(float(v), 4) for v in at_bounds],
        "constant": [bool(v < CONSTANT_SPAN) for v in span],
        **readability.readability_flags(images, reference(images, input_range, data)),
    }


def reference(
    images: np.ndarray,
    input_range: tuple[float, float],
    data: readability.DataStats | None,
) -> readability.DataStats:
    """`data`, or without it the 1/f reference for images `(K, H, W, C)`."""
    if data is not None:
        return data
    lo, hi = input_range
    return readability.natural_stats(tuple(np.shape(images)[1:4]), float(hi - lo))


def naturalness(images: np.ndarray, data: readability.DataStats) -> dict[str, list]:
    """The spectrum check of `checks`: per picture `spectrum_distance` (decades
    from the data's log spectrum; compare `data_reference.spectrum_spread`)
    and `spectral_slope`, null for a uniform picture."""
    return {
        "spectrum_distance": _floats(readability.spectrum_distance(images, data)),
        "spectral_slope": _floats(spectra.spectral_slope(images)),
    }


def _floats(values: np.ndarray) -> list[float | None]:
    return [round(float(v), 4) if np.isfinite(v) else None for v in values]


def alpha_tiles(alpha: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Transparency maps `(K, H, W)` (each summing to 1) as uint8 `(K, H, W, 1)`.

    Each tile is scaled by its own maximum: pixel q decodes to
    `q / 255 * alpha_max[k]`. Returns the tiles and `alpha_max`.
    """
    a = np.nan_to_num(np.asarray(alpha, np.float64))
    peak = a.reshape(len(a), -1).max(axis=1) if a.size else np.zeros(0)
    scaled = a / np.where(peak > 0, peak, 1.0)[:, None, None]
    q = np.clip(np.rint(scaled * QMAX), 0, QMAX).astype(np.uint8)
    return q[..., None], [float(v) for v in peak]


def record(
    images: np.ndarray,
    channels: Sequence[int],
    objective: np.ndarray,
    nonfinite: np.ndarray,
    input_range: tuple[float, float],
    *,
    alpha: np.ndarray | None = None,
    facets: np.ndarray | None = None,
    start_objective: np.ndarray | None = None,
    gradient: np.ndarray | None = None,
    data: readability.DataStats | None = None,
    **meta: Any,
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The record of one layer's feature visualizations at one step.

    Args:
      images: float `(K, H, W, C)` in `input_range`, image k for `channels[k]`.
      channels: the channel (or unit) of each image.
      objective: float `(K,)`, the objective each final image reaches.
      nonfinite: bool `(K,)`, a NaN/Inf appeared while optimizing image k.
      input_range: `(lo, hi)` of the model's inputs.
      alpha: float `(K, H, W)` transparency maps (each sums to 1), or None.
      facets: float `(K, F, H, W, C)`, F images per channel, or None.
      start_objective, gradient: float `(K,)` for the `dead` flag (see `flags`).
      data: the data's reference for the flags and `checks` (see `flags`).
      **meta: JSON-able facts copied into the step JSON (preset, settings,
        seed, steps_done, budget_exhausted, ...).

    Returns:
      `(info, grids)`: the step JSON (with `flags`, `data_reference` and
      `checks`: the naturalness check) and uint8 grids: blob 0 the pictures;
      then, if given, the alpha grid (same layout, one grey channel) and the
      facets grid (`facets_layout`: row k holds channel k's F facets).
    """
    cols = square_cols(len(images))
    grids, layout = assemble(to_uint8(images, input_range)[None], cols, PAD)
    data = reference(images, input_range, data)
    info = {
        "layout": layout,
        "channels": [int(c) for c in channels],
        "objective": [float(v) for v in np.asarray(objective).reshape(-1)],
        "nonfinite": [bool(v) for v in np.asarray(nonfinite).reshape(-1)],
        "input_range": [float(v) for v in input_range],
        "flags": flags(images, input_range, objective, start_objective, gradient, data),
        "data_reference": data.to_json(),
        "checks": naturalness(images, data),
        "images": {"pictures": 0},
        **meta,
    }
    out = [grids[0]]
    if alpha is not None:
        tiles, peak = alpha_tiles(alpha)
        out.append(assemble(tiles[None], cols, PAD)[0][0])
        info["images"]["alpha"] = len(out) - 1
        info["alpha"] = {"max": peak, "sums_to": 1.0}
    if facets is not None:
        k, f = facets.shape[:2]
        tiles = to_uint8(facets.reshape(k * f, *facets.shape[2:]), input_range)
        fgrid, flayout = assemble(tiles[None], f, PAD)
        out.append(fgrid[0])
        info["images"]["facets"] = len(out) - 1
        info["facets_layout"] = flayout
    return info, out
