"""Feature accentuations as one row per probe input (numpy only).

Row n is probe input n, then its accentuated image for each of its K
channels, all drawn in the input range like the input itself (not as signed
maps), pad 2 as the deconvolutions' rows; the grid contract is in
`layout.py`. Each tile also gets its channel, the channel's mean activation
on the input and on the accentuated image, the distance at the
regularization layer, and the flags of feature visualizations (`dead`: the
objective did not rise; `saturated`, `at_bounds`, `constant`; `flat`,
`noise`, `border` and their figures against the probe, `data_reference`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_netviz.pictures import readability
from tb_netviz.pictures.ascent import flags, reference
from tb_netviz.pictures.layout import assemble, short, to_uint8

PAD = 2


def record(
    inputs: np.ndarray,
    images: np.ndarray,
    channels: np.ndarray,
    objective_start: np.ndarray,
    objective_end: np.ndarray,
    distance: np.ndarray,
    input_range: tuple[float, float],
    settings: dict[str, Any],
    data: readability.DataStats | None = None,
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The record of one layer's accentuations at one step.

    Args:
      inputs: float `(N, H, W, C)`, the probe inputs.
      images: float `(N, K, H, W, C)`, the accentuated images, in
        `input_range`.
      channels: int `(N, K)`, the channel each image accentuates.
      objective_start, objective_end: float `(N, K)`, the channel's mean
        activation on the input and on the accentuated image.
      distance: float `(N, K)`, the relative distance at the regularization
        layer.
      input_range: `(lo, hi)` of the model's inputs.
      settings: JSON-able settings of the method (`reg_layer`, `reg_weight`,
        `steps`, `lr`), recorded as they are.
      data: the reference of the readability flags (`readability.data_stats`
        of the probe); None: 1/f noise.

    Returns:
      `(info, rows)`: the step JSON and one uint8 `(H, W*(K+1)+pad*K, C')`
      row per input.

    Raises:
      ValueError: inputs that are not images `(N, H, W, C)`, or images that
        are not `(N, K, H, W, C)` for them.
    """
    inputs, images = np.asarray(inputs), np.asarray(images)
    if inputs.ndim != 4 or images.shape[:1] + images.shape[2:] != inputs.shape:
        raise ValueError(
            f"accentuation draws images: inputs (N, H, W, C) {inputs.shape} and "
            f"accentuated images (N, K, H, W, C) {images.shape}"
        )
    n, k = images.shape[:2]
    tiles = np.concatenate([inputs[:, None], images], axis=1)
    rows, layout = assemble(to_uint8(tiles, input_range), k + 1, PAD)
    flat = images.reshape(n * k, *images.shape[2:])
    data = reference(flat, input_range, data)
    marks = flags(
        flat,
        input_range,
        np.asarray(objective_end).reshape(-1),
        np.asarray(objective_start).reshape(-1),
        None,
        data,
    )
    info = {
        "method": "accentuation",
        "drawn_as": "image",
        "layout": layout,
        "channels": np.asarray(channels).tolist(),
        "objective_start": short(objective_start),
        "objective_end": short(objective_end),
        "distance": short(distance),
        "flags": {key: _per_input(v, n, k) for key, v in marks.items()},
        "data_reference": data.to_json(),
        "settings": dict(settings),
        "input_range": [float(v) for v in input_range],
        "nonfinite": bool(not np.isfinite(images).all()),
    }
    return info, list(rows)


def _per_input(values: list, n: int, k: int) -> list[list]:
    """A flat list of N*K per-tile values as N lists of K."""
    return [values[i * k : (i + 1) * k] for i in range(n)]
