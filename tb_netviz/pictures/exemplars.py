"""Exemplars as pictures: per channel a row of its top-k input crops (numpy only).

Two images per record:

* sample 0, the crops grid: tile `(c, j)` (row c, column j) is the receptive
  field of channel `channels[c]` around its j-th best example's peak: the
  unclipped window (parts outside the input drawn black), resized by nearest
  sampling to one size, at most `max_crop_size` a side.
* sample 1, the inputs grid: tile t is the whole example `inputs[t]`, taken
  every `downsample`-th pixel, so the panel can show a crop in its input.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tb_netviz.pictures.layout import assemble, square_cols, to_uint8


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest sampling of `(h, w, c)` to `size`, pixel centres aligned."""
    h, w = image.shape[:2]
    rows = np.minimum(((np.arange(size[0]) + 0.5) * h / size[0]).astype(int), h - 1)
    cols = np.minimum(((np.arange(size[1]) + 0.5) * w / size[1]).astype(int), w - 1)
    return image[rows][:, cols]


def crop(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """The window `(y0, x0, y1, x1)` of a uint8 `(H, W, c)` image, black outside."""
    y0, x0, y1, x1 = (int(v) for v in window)
    h, w = image.shape[:2]
    out = np.zeros((y1 - y0, x1 - x0, image.shape[2]), np.uint8)
    sy0, sx0, sy1, sx1 = max(y0, 0), max(x0, 0), min(y1, h), min(x1, w)
    if sy1 > sy0 and sx1 > sx0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return out


def record(
    channels: np.ndarray,
    indices: np.ndarray,
    activations: np.ndarray,
    positions: np.ndarray,
    boxes: np.ndarray,
    windows: np.ndarray,
    inputs: dict[int, np.ndarray],
    input_range: tuple[float, float],
    channels_total: int,
    examples: int,
    field: dict[str, Any],
    max_crop_size: int = 64,
    max_input_size: int = 32,
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Draws one layer's exemplars.

    Args:
      channels: `(C,)` channel indices.
      indices, activations: `(C, k)` example indices and the channel's maxima.
      positions: `(C, k, S)` output positions of those maxima.
      boxes, windows: `(C, k, 4)` receptive fields in input pixels, clipped
        to the input and not.
      inputs: `{example index: input array (H, W, c)}` for every index; any
        other input shape gets no pictures (the JSON is still complete).
      input_range: `(lo, hi)` of the model's inputs, to draw them.
      channels_total: the layer's channel count.
      examples: how many examples were ranked.
      field: the receptive field's `jump`, `size`, `offset`, `exact`.
      max_crop_size: crops are resized to at most this many pixels a side.
      max_input_size: whole inputs are drawn at most this many pixels a side.

    Returns:
      `(info, images)`: the step JSON and `[crops grid, inputs grid]`
      (uint8 `(H, W, c)`), or no images when the inputs are not pictures.
    """
    c, k = indices.shape
    info: dict[str, Any] = {
        "channels": [int(v) for v in channels],
        "channels_total": int(channels_total),
        "channels_omitted": int(channels_total) - c,
        "k": int(k),
        "examples": int(examples),
        "indices": indices.tolist(),
        "activations": activations.astype(float).tolist(),
        "positions": positions.tolist(),
        "boxes": boxes.tolist(),
        "field": field,
        "input_range": [float(v) for v in input_range],
    }
    distinct = sorted({int(i) for i in indices.reshape(-1)})
    sample = inputs[distinct[0]] if distinct else None
    if sample is None or np.ndim(sample) != 3 or boxes.shape[-1] != 4:
        return info, []
    pictures = {i: to_uint8(inputs[i], input_range) for i in distinct}
    height, width = next(iter(pictures.values())).shape[:2]
    span = windows[..., 2:] - windows[..., :2]
    size = tuple(int(min(max(span[..., a].max(), 1), max_crop_size)) for a in (0, 1))
    tiles = np.stack(
        [
            np.stack(
                [
                    resize(crop(pictures[int(i)], windows[ch, j]), size)
                    for j, i in enumerate(indices[ch])
                ]
            )
            for ch in range(c)
        ]
    )  # (C, k, h, w, c)
    crops, crops_layout = assemble(tiles.reshape(1, c * k, *tiles.shape[2:]), k, 1)
    factor = math.ceil(max(height, width) / max_input_size)
    whole = np.stack([pictures[i][::factor, ::factor] for i in distinct])
    grid, inputs_layout = assemble(whole[None], square_cols(len(distinct)), 1)
    info["crops"] = {"sample": 0, "layout": crops_layout}
    info["inputs"] = {
        "sample": 1,
        "indices": distinct,
        "layout": inputs_layout,
        "downsample": factor,
        "input_shape": [int(height), int(width)],
    }
    return info, [crops[0], grid[0]]
