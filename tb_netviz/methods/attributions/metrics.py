"""How faithful a map is to the model: Deletion, Insertion (Petsiuk et al. 2018)
and MuFidelity (Bhatt et al. 2020), per input and target.

What is removed is replaced by a baseline image, by default a blurred copy
(`"blur"`: a Gaussian of sigma `max(1, min(H, W) / 45)` pixels, Petsiuk's
sigma 5 at 224, normalized at the borders); `"mean"` (each input's channel
means), a number or an array `(H, W, C)` / `(N, H, W, C)` also work. The curve
and the drop are the model's output for the target (its probability).

- deletion: pixels in order of decreasing attribution (ties in a seeded random
  order) are replaced by the baseline, `steps` equal shares at a time (default
  16); the AUC of the probability over the deleted share in [0, 1], by the
  trapezoid. Lower is more faithful.
- insertion: from the baseline, the input's pixels are put back in the same
  order; the AUC as above. Higher is more faithful.
- mufidelity: over `samples` (128) random subsets of a `cells x cells` grid
  (8; each subset is `share` = 20 % of the cells, at least one), the Pearson
  correlation between the map's sum over the subset and the drop of the
  probability when the subset is set to the baseline. Higher is more
  faithful; 0 where either side does not vary.

Each metric runs its perturbed copies in traced passes of `batch_size` rows;
None (the default) sizes them from the input as the methods do
(`options.rows_per_pass`: as many rows as hold 2^20 input values, at least 32).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from tb_netviz.methods.attributions import options as options_lib
from tb_netviz.methods.attributions import removal
from tb_netviz.methods.attributions import targets as targets_lib
from tb_netviz.methods.attributions.attributor import Attributor
from tb_netviz.methods.attributions.forward import Forward
from tb_netviz.methods.common.traced import traced

METRICS = ("deletion", "insertion", "mufidelity")
DEFAULTS = {
    "steps": 16,
    "baseline": "blur",
    "cells": 8,
    "share": 0.2,
    "samples": 128,
    "seed": 0,
    "batch_size": None,
}


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(-1, keepdims=True)
    b = b - b.mean(-1, keepdims=True)
    norm = np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
    return np.where(norm > 0, (a * b).sum(-1) / np.where(norm > 0, norm, 1.0), 0.0)


class Faithfulness:
    """The faithfulness metrics for one model; keep one to reuse its traces.

    Attributes:
      metrics: the metrics computed, in order.
      settings: JSON-able: every option in effect (see the module).
    """

    def __init__(self, model_or_attributor, metrics=METRICS, **options):
        """Arguments as in `faithfulness`; the model is checked here.

        Raises:
          ValueError: an unknown metric, a bad option value, or a model
            `Attributor` would refuse.
          TypeError: an unknown option.
        """
        metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        bad = [m for m in metrics if m not in METRICS]
        if bad or not metrics:
            raise ValueError(
                f"Unknown faithfulness metric {bad or None!r}; choose from {METRICS}"
            )
        unknown = sorted(set(options) - set(DEFAULTS))
        if unknown:
            raise TypeError(
                f"Unknown faithfulness option(s) {unknown}; the options are {sorted(DEFAULTS)}"
            )
        self.metrics = tuple(dict.fromkeys(metrics))
        found = {**DEFAULTS, **options}
        for name in ("steps", "cells", "samples", "batch_size"):
            value = found[name]
            if name == "batch_size" and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0 < found["share"] < 1:
            raise ValueError(f"share must be in (0, 1), got {found['share']!r}")
        if isinstance(model_or_attributor, Attributor):
            self._forward = model_or_attributor.forward
        else:
            model = model_or_attributor
            self._forward = Forward(model, targets_lib.check_model(model))
        found["batch_size"] = options_lib.rows_per_pass(
            found["batch_size"], tuple(self._forward.model.inputs[0].shape[1:])
        )
        self._options = found
        curves = tuple(m for m in self.metrics if m != "mufidelity")
        self._curves = curves and traced(
            functools.partial(
                removal.curves,
                self._forward,
                steps=found["steps"],
                batch_size=found["batch_size"],
                which=curves,
            ),
            autograph=False,
        )
        self._mufidelity = "mufidelity" in self.metrics and traced(
            functools.partial(
                removal.mufidelity,
                self._forward,
                cells=found["cells"],
                share=found["share"],
                samples=found["samples"],
                batch_size=found["batch_size"],
            ),
            autograph=False,
        )
        baseline = found["baseline"]
        self.settings = {
            "metrics": list(self.metrics),
            **found,
            "baseline": baseline
            if isinstance(baseline, (str, int, float))
            else "array",
            "curve": "the model's output for the target (probability)",
        }

    def __call__(self, inputs, maps, targets) -> dict:
        """The metrics of `maps` for `inputs` `(N, H, W, C)` and `targets` int `(N, T)`.

        Args:
          maps: float `(N, T, H, W)`, or `{method: (N, T, H, W)}`: the methods
            are then measured together, in the same passes.

        Returns:
          `{metric: float32 (N, T)}`, or `{metric: {method: (N, T)}}` for a
          dict of maps.
        """
        if not isinstance(maps, Mapping):
            return self._measure(inputs, maps, np.asarray(targets))
        names = list(maps)
        targets = np.asarray(targets)
        stacked = np.concatenate([np.asarray(maps[m], np.float32) for m in names], 1)
        found = self._measure(inputs, stacked, np.tile(targets, (1, len(names))))
        t = targets.shape[1]
        return {
            metric: {m: v[:, i * t : (i + 1) * t] for i, m in enumerate(names)}
            for metric, v in found.items()
        }

    def _measure(self, inputs, maps, targets: np.ndarray) -> dict[str, np.ndarray]:
        x = np.asarray(inputs, np.float32)
        maps = np.nan_to_num(np.asarray(maps, np.float32))
        if x.ndim != 4 or maps.shape != (*targets.shape, *x.shape[1:3]):
            raise ValueError(
                f"maps must be (N, T, H, W) for inputs {x.shape} and targets "
                f"{targets.shape}, got {maps.shape}"
            )
        base = removal.baseline_image(self._options["baseline"], x).astype(np.float32)
        t = tf.constant(targets, tf.int32)
        found = {}
        if self._curves:
            rank = removal.ranks(maps, self._options["seed"])
            found.update(self._curves(x, base, rank, t))
        if self._mufidelity:
            seed = tf.constant(self._options["seed"], tf.int64)
            sums, drops = self._mufidelity(x, base, maps, t, seed)
            found["mufidelity"] = _pearson(
                np.float64(sums.numpy()), np.float64(drops.numpy())
            )
        return {m: np.asarray(found[m], np.float32) for m in self.metrics}

    def traces(self) -> dict[str, int]:
        """How many times each traced function has been traced."""
        found = {"curves": self._curves, "mufidelity": self._mufidelity}
        return {k: f.experimental_get_tracing_count() for k, f in found.items() if f}


# An Attributor's Faithfulness objects, by metrics and options, so that a
# logger calling `faithfulness(attributor, ...)` every step traces once.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def faithfulness(
    model_or_attributor, inputs, maps, targets, metrics=METRICS, **options
) -> dict:
    """Deletion, insertion and MuFidelity of maps (see the module).

    Args:
      model_or_attributor: the model, or the `Attributor` that made the maps
        (its checked forward pass is reused, and so are the traces of earlier
        calls with the same metrics and options).
      inputs: float `(N, H, W, C)`.
      maps: float `(N, T, H, W)`, one per input and target, or
        `{method: (N, T, H, W)}`, measured in the same passes.
      targets: int `(N, T)`, the classes the maps explain.
      metrics: names from `METRICS`.
      **options: `steps`, `baseline`, `cells`, `share`, `samples`, `seed`,
        `batch_size` (defaults in `DEFAULTS`).

    Returns:
      `{metric: float32 (N, T)}`, or `{metric: {method: (N, T)}}` for a dict.
    """
    if not isinstance(model_or_attributor, Attributor):
        return Faithfulness(model_or_attributor, metrics, **options)(
            inputs, maps, targets
        )
    try:
        names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        key = (names, tuple(sorted(options.items())))
        hash(key)
    except TypeError:  # an array baseline: not cached
        return Faithfulness(model_or_attributor, metrics, **options)(
            inputs, maps, targets
        )
    cache = _CACHE.setdefault(model_or_attributor, {})
    if key not in cache:
        cache[key] = Faithfulness(model_or_attributor, metrics, **options)
    return cache[key](inputs, maps, targets)
