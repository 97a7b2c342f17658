"""The sanity check's baseline (Arun et al. 2021): how alike the trained maps
of two different probe inputs are."""

from __future__ import annotations

import numpy as np

from tb_netviz.methods.common import similarity


def pair_ssim(maps: np.ndarray) -> np.ndarray:
    """SSIM of the maps of inputs i != j, same channel: `(N, K, H, W)` ->
    float64 `(N, N, K)`, symmetric, NaN on the diagonal."""
    n = len(maps)
    out = np.full((n, n) + maps.shape[1:-2], np.nan)
    i, j = np.triu_indices(n, 1)
    if len(i):
        values = similarity.ssim(maps[i], maps[j])
        out[i, j] = values
        out[j, i] = values
    return out


def off_diagonal_mean(pairs: np.ndarray) -> float | None:
    """The mean over i != j of `pairs` `(N, N, ...)`, or None below 2 inputs."""
    n = len(pairs)
    if n < 2:
        return None
    return float(pairs[~np.eye(n, dtype=bool)].mean())
