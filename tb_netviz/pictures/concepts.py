"""A layer's concepts as pictures: crops per concept, heatmaps per probe input,
a feature visualization per concept (numpy only).

Up to three images per record (the grid contract is in `layout.py`; their
indices are `info["images"]`):

* sample 0, the crops grid: row c is concept c (the record's order, largest
  share first; its id is `ids[c]`), tile `(c, j)` the receptive field around
  its j-th best example's peak: the unclipped window (black outside the
  input), resized by nearest sampling to one size, at most `max_crop_size` a
  side (as the exemplars kind draws them).
* sample 1, the heatmaps grid: row n is probe input n, tile 0 the input
  (resized to the heatmaps' size), tile `1 + c` concept c's coefficients over
  it in grey: pixel q stands for `lo + q / 255 * (hi - lo)`, `[lo, hi]` the
  tile's own min and max (`heatmaps.scales[n][c]`); coefficients are
  non-negative, so there is no signed encoding.
* the feature visualizations: one row, tile c the picture of concept c's
  direction (`methods.concepts.ConceptVisualizer`) in the input range, with
  the ascent kind's flags (`pictures.ascent.flags`: dead, saturated,
  constant, flat, noise, fine, border) in `info["fv"]["flags"]`.

Every number in the JSON is finite: NaN and Inf are written as null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tb_netviz.pictures import ascent as ascent_pictures
from tb_netviz.pictures.exemplars import crop, resize
from tb_netviz.pictures.layout import QMAX, assemble, short, to_uint8

PAD = 1


def record(
    directions: np.ndarray,
    share: np.ndarray,
    indices: np.ndarray,
    values: np.ndarray,
    boxes: np.ndarray,
    windows: np.ndarray,
    ids: np.ndarray,
    cosines: np.ndarray,
    new: np.ndarray,
    gone: np.ndarray,
    inputs: Mapping[int, np.ndarray],
    probe: np.ndarray | None,
    heatmaps: np.ndarray | None,
    input_range: tuple[float, float],
    facts: Mapping[str, Any],
    importance: np.ndarray | None = None,
    stability: np.ndarray | None = None,
    unstable: np.ndarray | None = None,
    max_crop_size: int = 64,
    fv: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Draws one layer's concepts at one step.

    Args:
      directions: float `(k, K)`, the bank W (only its shape is written).
      share: float `(k,)`, each concept's share of the coefficients.
      indices, values: `(k, n)` exemplar indices and their coefficients.
      boxes, windows: `(k, n, 4)` receptive fields `(y0, x0, y1, x1)`, clipped
        to the input and not.
      ids: int `(k,)`, each concept's id, stable across steps.
      cosines: float `(k,)`, the cosine with the previous step's partner.
      new: bool `(k,)`, concepts without a partner in the previous step.
      gone: int, the ids of the previous step's concepts without a partner.
      inputs: `{example index: input (H, W, c)}` for every index in `indices`.
      probe: float `(N, H, W, c)` probe inputs, or None.
      heatmaps: float `(N, k, h, w)` coefficients over the probe, or None.
      input_range: `(lo, hi)` of the model's inputs.
      facts: JSON-able facts added as they are (`explained`, `settings`, ...).
      importance: float `(k, classes)` importance per class, or None.
      stability: float `(k,)` cosine with a second sample's partner, or None.
      unstable: bool `(k,)`, the concepts whose stability is too low, or None.
      max_crop_size: crops are resized to at most this many pixels a side.
      fv: the concepts' feature visualizations, or None: `images` float
        `(k, H, W, c)`, `objective`, `start_objective`, `gradient` `(k,)`,
        `data` (`readability.DataStats` or None) and `facts` (JSON-able, as
        they are: preset, steps, budget).

    Returns:
      `(info, images)`: the step JSON and `[crops grid, heatmaps grid, fv row]`
      (uint8 `(H, W, c)`); a grid that cannot be drawn (inputs that are not
      images, a vector layer, no fv) is left out and its `images` entry is
      null.
    """
    k, n = indices.shape
    info: dict[str, Any] = {
        "method": "concepts",
        "k": int(k),
        "directions_shape": [int(v) for v in np.shape(directions)],
        "share": finite(share),
        "ids": [int(v) for v in ids],
        "new": [int(i) for i, is_new in zip(ids, new) if is_new],
        "gone": [int(v) for v in gone],
        "cosines": finite(cosines),
        "importance": None if importance is None else finite(importance),
        "stability": None if stability is None else finite(stability),
        "unstable": None if unstable is None else np.asarray(unstable).tolist(),
        "exemplars": {
            "indices": np.asarray(indices).tolist(),
            "values": finite(values),
            "boxes": np.asarray(boxes).tolist(),
        },
        "input_range": [float(v) for v in input_range],
        **facts,
    }
    images: list[np.ndarray] = []
    crops = _crops(indices, windows, inputs, input_range, max_crop_size)
    info["crops"] = None if crops is None else {"layout": crops[1]}
    if crops is not None:
        images.append(crops[0])
    maps = _heatmaps(probe, heatmaps, input_range)
    info["heatmaps"] = None if maps is None else maps[1]
    if maps is not None:
        images.append(maps[0])
    info["images"] = {
        "crops": None if crops is None else 0,
        "heatmaps": None if maps is None else len(images) - 1,
        "fv": None,
    }
    drawn = _fv(fv, input_range)
    info["fv"] = None if drawn is None else drawn[1]
    if drawn is not None:
        images.append(drawn[0])
        info["images"]["fv"] = len(images) - 1
    info["nonfinite"] = bool(
        not np.isfinite(np.asarray(values, np.float64)).all()
        or (heatmaps is not None and not np.isfinite(heatmaps).all())
        or (fv is not None and not np.isfinite(fv["objective"]).all())
    )
    return info, images


def _fv(fv, input_range):
    """`(row uint8 (H, W, c), {"layout", "objective", "flags",
    "data_reference", **facts})` of
    the concepts' feature visualizations, or None (none, or not images)."""
    if fv is None or np.ndim(fv["images"]) != 4:
        return None
    pictures = np.nan_to_num(np.asarray(fv["images"], np.float32), nan=input_range[0])
    data = ascent_pictures.reference(pictures, input_range, fv["data"])
    marks = ascent_pictures.flags(
        pictures,
        input_range,
        fv["objective"],
        fv["start_objective"],
        fv["gradient"],
        data,
    )
    grid, layout = assemble(to_uint8(pictures, input_range)[None], len(pictures), PAD)
    return grid[0], {
        "layout": layout,
        "objective": finite(fv["objective"]),
        "flags": marks,
        "data_reference": data.to_json(),
        **fv["facts"],
    }


def _crops(indices, windows, inputs, input_range, max_crop_size):
    """`(grid uint8 (H, W, c), layout)` of the exemplar crops, or None."""
    k, n = indices.shape
    wanted = sorted({int(i) for i in np.asarray(indices).reshape(-1)})
    if not wanted or np.ndim(inputs.get(wanted[0])) != 3 or windows.shape[-1] != 4:
        return None
    pictures = {i: to_uint8(inputs[i], input_range) for i in wanted}
    span = windows[..., 2:] - windows[..., :2]
    size = tuple(int(min(max(span[..., a].max(), 1), max_crop_size)) for a in (0, 1))
    tiles = np.stack(
        [
            resize(crop(pictures[int(indices[c, j])], windows[c, j]), size)
            for c in range(k)
            for j in range(n)
        ]
    )  # (k * n, h, w, c)
    grid, layout = assemble(tiles[None], n, PAD)
    return grid[0], layout


def _heatmaps(probe, heatmaps, input_range):
    """`(grid uint8, {"layout", "scales" (N, k, 2), "blank" (N, k)})` of the
    probe's heatmaps, or None (no probe, or not spatial 2-D maps)."""
    if probe is None or heatmaps is None or np.ndim(heatmaps) != 4:
        return None
    if np.ndim(probe) != 4 or len(probe) != len(heatmaps):
        return None
    maps = np.nan_to_num(np.asarray(heatmaps, np.float32), posinf=0.0, neginf=0.0)
    num, k, h, w = maps.shape
    drawn = to_uint8(probe, input_range)
    drawn = np.stack([resize(image, (h, w)) for image in drawn])  # (N, h, w, c)
    lo, hi = maps.min(axis=(2, 3)), maps.max(axis=(2, 3))
    blank = hi - lo <= 1e-12 * np.maximum(1.0, np.abs(hi))
    span = np.where(blank, 1.0, hi - lo)[..., None, None]
    grey = np.clip(np.rint((maps - lo[..., None, None]) / span * QMAX), 0, QMAX)
    grey = np.repeat(grey.astype(np.uint8)[..., None], drawn.shape[-1], axis=-1)
    tiles = np.concatenate([drawn[:, None], grey], axis=1)  # (N, 1 + k, h, w, c)
    grid, layout = assemble(tiles.reshape(1, num * (1 + k), h, w, -1), 1 + k, PAD)
    scales = np.stack([lo, hi], axis=-1)
    return grid[0], {
        "layout": layout,
        "scales": finite(scales),
        "blank": blank.tolist(),
    }


def finite(values) -> list | float | None:
    """`values` as nested lists rounded by `short`, NaN and Inf as None."""
    x = np.asarray(values, np.float64)
    return _nulls(short(np.where(np.isfinite(x), x, np.nan)))


def _nulls(nested):
    if isinstance(nested, list):
        return [_nulls(v) for v in nested]
    return None if nested != nested else nested  # NaN is not equal to itself
