"""Feature visualizations as one grid per step (numpy only).

K images in the model's input range become one RGB (or grayscale) grid, tile k
for `channels[k]`, pad 2 (the grid contract is in `layout.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tb_netviz.pictures.layout import assemble, square_cols, to_uint8

PAD = 2


def record(
    images: np.ndarray,
    channels: Sequence[int],
    objective: np.ndarray,
    nonfinite: np.ndarray,
    input_range: tuple[float, float],
    **meta: Any,
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The record of one layer's feature visualizations at one step.

    Args:
      images: float `(K, H, W, C)` in `input_range`, image k for `channels[k]`.
      channels: the channel (or unit) of each image.
      objective: float `(K,)`, the objective each final image reaches.
      nonfinite: bool `(K,)`, a NaN/Inf appeared while optimizing image k.
      input_range: `(lo, hi)` of the model's inputs.
      **meta: JSON-able facts copied into the step JSON (preset, settings,
        seed, steps_done, budget_exhausted, ...).

    Returns:
      `(info, [grid])`: the step JSON and one uint8 `(height, width, C')` grid.
    """
    grids, layout = assemble(
        to_uint8(images, input_range)[None], square_cols(len(images)), PAD
    )
    info = {
        "layout": layout,
        "channels": [int(c) for c in channels],
        "objective": [float(v) for v in np.asarray(objective).reshape(-1)],
        "nonfinite": [bool(v) for v in np.asarray(nonfinite).reshape(-1)],
        "input_range": [float(v) for v in input_range],
        **meta,
    }
    return info, [grids[0]]
