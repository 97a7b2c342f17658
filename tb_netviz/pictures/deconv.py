"""Deconvnet and guided-backprop reconstructions as one row per probe input.

Each row is the input itself, then one tile per reconstruction (numpy only;
the grid contract is in `layout.py`). Sequence inputs `(T, C)` are drawn as
T x C grey pictures (time down, channels across), like their activations;
vectors `(D,)` as 1 x D strips. Signed values are drawn around mid-grey:
pixel q stands for `(q - 128) / 127 * scale`, with one symmetric `scale` per
probe input (the 99.5th percentile of its |values|; larger ones clip), so the
tiles of one input compare directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_netviz.pictures.layout import assemble, to_uint8

PAD = 2
# A few large gradients would leave everything else mid-grey: the symmetric
# scale is this percentile of |value|, and the rarer larger values clip.
SCALE_PERCENTILE = 99.5


def record(
    method: str,
    inputs: np.ndarray,
    recons: np.ndarray,
    channels: np.ndarray,
    activation_max: np.ndarray,
    input_range: tuple[float, float],
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The record of one method's reconstructions of one layer at one step.

    Args:
      method: `"deconvnet"` or `"guided_backprop"`.
      inputs: float `(N, H, W, C)`, `(N, T, C)` or `(N, D)`, the probe inputs.
      recons: float `(N, K, *input_shape)`, raw reconstructions.
      channels: int `(N, K)`, the channel of each reconstruction.
      activation_max: float `(N, K)`, that channel's maximum on the input.
      input_range: the model's input range, to draw the inputs.

    Returns:
      `(info, rows)`: the step JSON and uint8 `(H, W*(K+1)+pad*K, C')` per input.
    """
    inputs, recons, drawn_as = _as_pictures(np.asarray(inputs), np.asarray(recons))
    r = np.nan_to_num(recons.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
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
    info = {
        "method": method,
        "drawn_as": drawn_as,
        "layout": layout,
        "channels": np.asarray(channels).tolist(),
        "activation_max": np.asarray(activation_max, float).tolist(),
        "scale": [float(s) for s in scales],
        "input_range": [float(v) for v in input_range],
        "nonfinite": bool(not np.isfinite(recons).all()),
    }
    return info, list(rows)


def _as_pictures(inputs: np.ndarray, recons: np.ndarray):
    """Inputs `(N, H, W, C)` and recons `(N, K, H, W, C)`, and what they were."""
    if inputs.ndim == 4:
        return inputs, recons, "image"
    if inputs.ndim == 3:  # (N, T, C): one grey T x C picture
        return inputs[..., None], recons[..., None], "sequence"
    if inputs.ndim == 2:  # (N, D): a 1 x D strip
        return inputs[:, None, :, None], recons[:, :, None, :, None], "vector"
    raise ValueError(
        f"cannot draw inputs of shape {inputs.shape}: expected (N, H, W, C), "
        "(N, T, C) or (N, D)"
    )
