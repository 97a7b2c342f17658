"""`ConceptVisualizer`: the feature visualization of each concept direction.

A concept is a direction W_i in the layer's channel space; its coefficient at
a position with activations a (K,) is what the factorization gives it. The
non-negative projection (`projection.project`) has no useful gradient where
it clamps, so the objective is its unconstrained form, the least-squares
coefficient `u_i = a . P_i` with `P = pinv(W)` `(K, k)` (the same coefficient
where the projection clamps nothing), averaged over the positions: the
picture raises concept i and not its neighbours in the bank, as Xplique's
MaCo with a direction objective and Olah et al.'s (2018) neuron groups do.
Every concept is optimized in one batch with the default preset
(`methods.ascent`, "auto" by the input size), traced once: the directions are
a variable assigned at each call.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.ascent import FeatureVisualizer, objectives
from tb_netviz.methods.ascent.result import AscentResult


def coefficient_vectors(directions: np.ndarray) -> np.ndarray:
    """float32 `(k, K)`: row i gives concept i's least-squares coefficient,
    `u = a @ rows.T` for activations `a (P, K)` (rows = `pinv(W).T`)."""
    w = np.asarray(directions, np.float64)
    return np.linalg.pinv(w).T.astype(np.float32)


class ConceptVisualizer:
    """Pictures of a layer's concepts; keep one to reuse its trace.

    Attributes:
      k: the concepts pictured per call.
      preset: the recipe "auto" chose.
      input_range: `(lo, hi)` of the pictures.
    """

    def __init__(
        self,
        model: keras.Model,
        layer: str,
        k: int,
        channels: int,
        examples: np.ndarray | None = None,
        input_range: tuple[float, float] | None = None,
        preset: str = "auto",
    ):
        """Args:
        model, layer: the model and the concepts' layer (channels last).
        k: concepts per bank; channels: K, the layer's channels.
        examples: real inputs for the recipe's data statistics, or None.
        input_range, preset: as `methods.ascent.FeatureVisualizer`.
        """
        self.k = int(k)
        self._vectors = tf.Variable(tf.zeros([self.k, int(channels)]), trainable=False)
        self._vis = FeatureVisualizer(
            model,
            layer,
            preset=preset,
            input_range=input_range,
            objective=objectives.direction(self._vectors),
            examples=examples,
            verbose=False,
        )
        self.preset = self._vis.preset
        self.input_range = self._vis.input_range

    def __call__(
        self,
        directions: np.ndarray,
        steps: int | None = None,
        seed: int = 0,
        budget_s: float | None = None,
    ) -> AscentResult:
        """Pictures concept i of `directions` `(k, K)` as image i; see
        `FeatureVisualizer.__call__` for `steps`, `seed`, `budget_s`."""
        w = np.asarray(directions)
        if w.shape != tuple(self._vectors.shape):
            raise ValueError(
                f"directions must be {tuple(self._vectors.shape)}, got {w.shape}"
            )
        self._vectors.assign(coefficient_vectors(w))
        return self._vis(range(self.k), steps=steps, seed=seed, budget_s=budget_s)
