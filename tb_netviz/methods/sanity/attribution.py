"""Cascading weight randomization (Adebayo et al. 2018) of attribution maps.

The same check as `check.py`, for "where does the model look for this
class": on a copy of the model (the user's is never touched) the weights are
re-initialized block by block from the output layer down to the input
(`blocks.py`), and after each block the maps of the same probe inputs for
the same targets (the trained model's: a randomized model predicts other
classes) are computed again and compared with the trained model's:

- a map is the attribution's absolute value divided by its maximum;
- per input and target, the SSIM of that map with the trained one; the
  baseline is the SSIM between the trained maps of different inputs (same
  target slot) (Arun et al. 2021);
- the verdict, its caption and its bands come from `verdict.verdict`, as for
  the deconvolutions, over the inputs whose trained map is not blank: a
  blank map (constant: Grad-CAM's ReLU of a negative sum is 0 everywhere)
  stays blank with any weights, and its SSIM of 1 would say "barely
  changes" of a map that shows nothing (Binder et al. 2023's pitfall); the
  caption says how many were left out. Adebayo et al. found plain gradients and Grad-CAM
  depend on the weights, guided backprop not.

Cost: one copy, then (blocks + 1) calls of one `Attributor` on the copy,
traced once (new weights are assigned to the same variables).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from tb_netviz.methods.attributions import Attributor
from tb_netviz.methods.common import similarity
from tb_netviz.methods.sanity import baseline
from tb_netviz.methods.sanity import blocks as sanity_blocks
from tb_netviz.methods.sanity import verdict as verdict_lib
from tb_netviz.methods.sanity.check import copy_model

# The methods checked by default: one forward and one backward pass each, so
# the cascade costs (blocks + 1) of those.
DEFAULT_METHODS = ("gradcam", "saliency")


@dataclasses.dataclass(frozen=True)
class AttributionSanity:
    """The cascade of one model's attribution maps.

    Attributes:
      methods: the methods checked, in order.
      blocks: the cascade, output first (layer paths per block).
      ssim: `{method: float64 (B,)}`, mean SSIM with the trained maps after
        step b + 1, over the inputs the verdict counts (NaN if none).
      similarities: `{method: float64 (B, N, T)}`, per input and target.
      pairs: `{method: float64 (N, N, T)}`, the trained maps' SSIM between
        inputs i and j (diagonal NaN).
      verdicts: `{method: verdict.Verdict}`.
      blank: `{method: bool (N,)}`, the inputs left out of the verdict because
        every one of their trained maps is blank.
    """

    methods: tuple[str, ...]
    blocks: list[list[str]]
    ssim: dict[str, np.ndarray]
    similarities: dict[str, np.ndarray]
    pairs: dict[str, np.ndarray]
    verdicts: dict[str, verdict_lib.Verdict]
    blank: dict[str, np.ndarray]

    def to_json(self) -> dict[str, Any]:
        """`{"blocks": ..., "methods": {method: {"ssim": [...], "baseline":
        mean SSIM of different inputs (None below 2), "blank_inputs": left
        out, **verdict}}}` over the counted inputs, the verdict's keys as
        `verdict.Verdict.to_json` writes them."""
        kept = {m: self.counted(m) for m in self.methods}
        return {
            "blocks": [list(b) for b in self.blocks],
            "methods": {
                m: {
                    "ssim": [
                        float(v) if np.isfinite(v) else None for v in self.ssim[m]
                    ],
                    "baseline": baseline.off_diagonal_mean(self.pairs[m][np.ix_(k, k)]),
                    "blank_inputs": int(self.blank[m].sum()),
                    **self.verdicts[m].to_json(),
                }
                for m, k in kept.items()
            },
        }

    def counted(self, method: str) -> np.ndarray:
        """bool `(N,)`: the inputs the verdict of `method` counts."""
        return ~self.blank[method]


class AttributionCheck:
    """Cascading randomization of a model's attribution maps; keep one to
    reuse its copy and its traced functions (each call first gives the copy
    the model's current weights)."""

    def __init__(
        self,
        model: keras.Model,
        methods: str | Sequence[str] = DEFAULT_METHODS,
        layer: str | None = None,
        input_range: tuple[float, float] | None = None,
        options: Mapping[str, Any] | None = None,
    ):
        """Args:
        model: a built classifier (as `Attributor` takes it).
        methods: attribution methods to check.
        layer: the CAM layer (None: the last feature map).
        input_range: `(lo, hi)` of the inputs.
        options: the methods' options, as `Attributor` takes them.

        Raises:
          ValueError, TypeError: as `Attributor`, or a model that cannot be
            copied.
        """
        self._model = model
        self._copy = copy_model(model)
        self._attributor = Attributor(
            self._copy,
            methods,
            layer=layer,
            input_range=input_range,
            **dict(options or {}),
        )
        self.methods = tuple(self._attributor.methods)
        self._cascade = sanity_blocks.blocks(self._copy, self._attributor.output_layer)
        self.blocks = [[p for p, _ in block] for block in self._cascade]

    def _maps(self, x: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
        maps = self._attributor(x, targets).maps
        out = {}
        for m in self.methods:
            a = np.abs(np.nan_to_num(np.asarray(maps[m], np.float64)))
            top = a.max(axis=(2, 3), keepdims=True)
            out[m] = a / np.where(top > 0, top, 1.0)
        return out

    def __call__(self, inputs, targets, seed: int = 0) -> AttributionSanity:
        """Runs the cascade on the model's current weights.

        Args:
          inputs: float `(N, H, W, C)`, the probe (N >= 5 for a verdict).
          targets: int `(N, T)`, the classes explained (the trained model's).
          seed: seeds the new weights.
        """
        self._copy.set_weights(self._model.get_weights())
        x = np.asarray(inputs, np.float32)
        t = np.asarray(targets)
        trained = self._maps(x, t)
        per: dict[str, list] = {m: [] for m in self.methods}
        for step, block in enumerate(self._cascade):
            for j, (_, lay) in enumerate(block):
                sanity_blocks.reinitialize(lay, seed * 7919 + step * 97 + j)
            now = self._maps(x, t)
            for m in self.methods:
                per[m].append(similarity.ssim(trained[m], now[m]))
        shape = (len(self._cascade), *t.shape)
        sims = {m: np.asarray(v, np.float64).reshape(shape) for m, v in per.items()}
        pairs = {m: baseline.pair_ssim(trained[m]) for m in self.methods}
        blank = {m: blank_inputs(trained[m]) for m in self.methods}
        return AttributionSanity(
            methods=self.methods,
            blocks=self.blocks,
            ssim={m: _mean(v[:, ~blank[m]]) for m, v in sims.items()},
            similarities=sims,
            pairs=pairs,
            verdicts={
                m: counted_verdict(sims[m], pairs[m], ~blank[m]) for m in self.methods
            },
            blank=blank,
        )


def _mean(sims: np.ndarray) -> np.ndarray:
    """`(B, n, T)` -> `(B,)` means over inputs and targets, NaN where n = 0."""
    if not sims.shape[1]:
        return np.full(sims.shape[0], np.nan)
    return sims.mean(axis=(1, 2))


def blank_inputs(maps: np.ndarray, spread: float = 1e-3) -> np.ndarray:
    """bool `(N,)`: the inputs whose every map of `maps` `(N, T, H, W)`
    (normalized to [0, 1]) is constant within `spread`."""
    flat = maps.reshape(*maps.shape[:2], -1)
    return (np.ptp(flat, axis=-1) < spread).all(axis=1)


def counted_verdict(sims: np.ndarray, pairs: np.ndarray, keep: np.ndarray):
    """`verdict.verdict` over the inputs in `keep` `(N,)`; the caption names
    the blank ones left out."""
    found = verdict_lib.verdict(sims[:, keep], pairs[np.ix_(keep, keep)])
    left = int((~keep).sum())
    if not left:
        return found
    return dataclasses.replace(
        found,
        caption=f"{found.caption} ({left} of {len(keep)} inputs left out: "
        "their trained maps are blank)",
    )
