"""`AscentResult`: what one feature-visualization run produced."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class AscentResult:
    """What one feature visualization run produced.

    Attributes:
      images: float32 `(K, H, W, C)` in `input_range`, image k for `channels[k]`.
      objective: float32 `(K,)`, the objective of each final image as the model
        sees it (no transforms, no penalties).
      nonfinite: bool `(K,)`: a gradient or the objective was NaN/Inf; such an
        image holds its last finite state.
      channels: the channel (or, for channel-free objectives, image) indices.
      steps_done: steps run; fewer than `settings["steps"]` if the budget ran out.
      stopped_early: whether `budget_s` stopped the run.
      settings: the effective settings, JSON-able (see `presets.py`).
      alpha: float32 `(K, H, W)`, the transparency map: the magnitude of the
        objective's gradient on each pixel of image k (summed over colour
        channels), accumulated over all steps (Fel et al. 2023), non-negative
        and normalized to sum to 1 per image (uniform if the gradient was
        always zero). Computed for every preset; MACO's pictures are meant
        to be read with it.
      start_objective: float32 `(K,)`, the objective of the starting images.
      gradient: float32 `(K,)`, the accumulated gradient magnitude before
        normalization; 0 means the image never received a gradient.
      facets: float32 `(K, F, H, W, C)`, F images per channel made different
        from each other (`facets=F` > 1), `images` being facet 0; else None.
    """

    images: np.ndarray
    objective: np.ndarray
    nonfinite: np.ndarray
    channels: list[int]
    steps_done: int
    stopped_early: bool
    settings: dict
    alpha: np.ndarray | None = None
    start_objective: np.ndarray | None = None
    gradient: np.ndarray | None = None
    facets: np.ndarray | None = None


def best_starts(
    objective: np.ndarray, nonfinite: np.ndarray, k: int, starts: int, facets: int
) -> np.ndarray:
    """Indices of the images to keep: for each of `k` channels, the facets of
    its start with the highest mean objective (finite runs first).

    Args:
      objective, nonfinite: float32 and bool `(k * starts * facets,)`, the
        images of channel i's start j at `(i * starts + j) * facets + ...`.

    Returns:
      int `(k * facets,)`: channel by channel, the chosen start's facets.
    """
    score = np.where(nonfinite, -np.inf, np.nan_to_num(objective, nan=-np.inf))
    best = score.reshape(k, starts, facets).mean(axis=2).argmax(axis=1)
    first = (np.arange(k) * starts + best) * facets
    return (first[:, None] + np.arange(facets)[None]).reshape(-1)


def transparency(acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MACO's transparency map from the accumulated input-gradient magnitude.

    Args:
      acc: float64 `(K, H, W)`, non-negative.

    Returns:
      `(alpha, gradient)`: float64 `(K, H, W)`, each image's map summing to 1
      (uniform where the gradient was always zero), and `(K,)`, its total.
    """
    gradient = acc.sum(axis=(1, 2))
    uniform = np.full(acc.shape[1:], 1.0 / acc[0].size)
    alpha = np.where(
        (gradient > 0)[:, None, None],
        acc / np.maximum(gradient, 1e-300)[:, None, None],
        uniform,
    )
    return alpha, gradient
