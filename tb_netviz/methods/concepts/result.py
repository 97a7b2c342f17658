"""What a concept extraction gives: `Concepts`, one layer's bank of concepts."""

from __future__ import annotations

import dataclasses

import numpy as np

from tb_netviz.methods.common.receptive_field import Field

STABLE = 0.9  # the least cosine with the second sample's partner to be stable


@dataclasses.dataclass(frozen=True)
class Concepts:
    """One layer's concepts over M examples.

    Attributes:
      layer: the layer path.
      directions: W, float32 `(k, K)`, non-negative rows of unit norm,
        ordered by their total coefficient over the patches, largest first.
      explained: `1 - ||A - U W||^2 / ||A||^2` over the factorized patches.
      explained_examples: the same over every position of every example,
        with U the projection onto W.
      share: float32 `(k,)`, each concept's share of the patches' total
        coefficient (sums to 1).
      indices: int64 `(k, n)` exemplar indices, by the concept's largest
        coefficient over the example's positions, best first (ties: lower
        index first); n = min(exemplars, M).
      values: float32 `(k, n)`, those coefficients.
      positions: int64 `(k, n, S)`, where (S spatial axes; 0 for a vector).
      boxes: int64 `(k, n, 2A)`, the receptive field there in input pixels,
        `(y0, x0, y1, x1)` for images (stops exclusive), clipped.
      windows: like `boxes`, not clipped.
      field: the layer's `Field`.
      importance: float32 `(k, classes)`: class c's mean over its examples of
        `sum_p dlogit_c/du_i * u_i` (`scoring`); None without importance.
      class_counts: int64 `(classes,)`, the examples behind each column
        (0: a column of zeros); None without importance.
      targets_source: `"label"` or `"predicted"` (or None).
      stability: float32 `(k,)`, cosine with the partner concept of a second
        sample (another seed); None when not asked.
      heatmaps: float32 `(N, k, h, w)` coefficients at each position of the
        probes (`(N, k, H, W)` upsampled; `(N, k)` for a vector layer), or None.
      examples: M.
      patches: the number of patches factorized.
      iterations: the factorization's HALS iterations.
    """

    layer: str
    directions: np.ndarray
    explained: float
    explained_examples: float
    share: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    positions: np.ndarray
    boxes: np.ndarray
    windows: np.ndarray
    field: Field
    importance: np.ndarray | None
    class_counts: np.ndarray | None
    targets_source: str | None
    stability: np.ndarray | None
    heatmaps: np.ndarray | None
    examples: int
    patches: int
    iterations: int

    @property
    def unstable(self) -> np.ndarray | None:
        """bool `(k,)`: stability below `STABLE` (None when not measured)."""
        return None if self.stability is None else self.stability < STABLE
