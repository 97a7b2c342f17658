"""The probe inputs themselves, one picture per input (numpy only).

* Images `(N, H, W, C)` are drawn in the model's input range (1, 3 or 4
  colour channels kept, others averaged to grey).
* Sequences `(N, T, C)` are a time x channel heat strip, `T x C` pixels,
  scaled to the probe's own `[min, max]`.
* Vectors `(N, D)` are a `1 x D` strip, scaled the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_netviz.pictures.layout import QMAX, to_uint8


def record(
    inputs: np.ndarray, input_range: tuple[float, float]
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The record of one model input's probe batch.

    Args:
      inputs: numeric `(N, H, W, C)`, `(N, T, C)` or `(N, D)`.
      input_range: `(lo, hi)` used to draw images.

    Returns:
      `(info, pictures)`: the step JSON (`shape`, `drawn_as`, `input_range`,
      `value_range`) and one uint8 picture per input.
    """
    x = np.asarray(inputs, np.float32)
    finite = x[np.isfinite(x)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if x.ndim == 4:
        pictures, drawn_as, shown = to_uint8(x, input_range), "image", input_range
    elif x.ndim in (2, 3):
        strip = x[:, None, :] if x.ndim == 2 else x
        span = hi - lo if hi > lo else 1.0
        q = np.rint((np.nan_to_num(strip, nan=lo) - lo) / span * QMAX)
        pictures = np.clip(q, 0, QMAX).astype(np.uint8)
        drawn_as, shown = "sequence", (lo, hi)
    else:
        raise ValueError(
            f"cannot draw probe inputs of shape {x.shape}: expected (N, H, W, C), "
            "(N, T, C) or (N, D)"
        )
    info = {
        "shape": list(x.shape),
        "drawn_as": drawn_as,
        "input_range": [float(v) for v in shown],
        "value_range": [lo, hi],
    }
    return info, list(pictures)
