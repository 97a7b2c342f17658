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
  the deconvolutions. Adebayo et al. found plain gradients and Grad-CAM
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
        step b + 1.
      similarities: `{method: float64 (B, N, T)}`, per input and target.
      pairs: `{method: float64 (N, N, T)}`, the trained maps' SSIM between
        inputs i and j (diagonal NaN).
      verdicts: `{method: verdict.Verdict}`.
    """

    methods: tuple[str, ...]
    blocks: list[list[str]]
    ssim: dict[str, np.ndarray]
    similarities: dict[str, np.ndarray]
    pairs: dict[str, np.ndarray]
    verdicts: dict[str, verdict_lib.Verdict]

    def to_json(self) -> dict[str, Any]:
        """`{"blocks": ..., "methods": {method: {"ssim": [...], "baseline":
        mean SSIM of different inputs (None below 2), **verdict}}}`, the
        verdict's keys as `verdict.Verdict.to_json` writes them."""
        return {
            "blocks": [list(b) for b in self.blocks],
            "methods": {
                m: {
                    "ssim": [float(v) for v in self.ssim[m]],
                    "baseline": baseline.off_diagonal_mean(self.pairs[m]),
                    **self.verdicts[m].to_json(),
                }
                for m in self.methods
            },
        }


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
        return AttributionSanity(
            methods=self.methods,
            blocks=self.blocks,
            ssim={m: v.mean(axis=(1, 2)) for m, v in sims.items()},
            similarities=sims,
            pairs=pairs,
            verdicts={m: verdict_lib.verdict(sims[m], pairs[m]) for m in self.methods},
        )
