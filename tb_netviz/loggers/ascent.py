"""`AscentLogger`: feature visualizations of chosen channels, one grid per layer."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import keras
import numpy as np

from tb_netviz import config
from tb_netviz.loggers.base import Logger, warn_nonfinite
from tb_netviz.loggers.spec import Context, Spec, spec
from tb_netviz.methods.ascent import FeatureVisualizer, presets
from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.sanity import features as sanity_fv
from tb_netviz.pictures import ascent as pictures
from tb_netviz.pictures import readability
from tb_netviz.pictures import sanity as sanity_pictures


class AscentLogger(Logger):
    """Logs `ascent/<layer>`, the same channels and seed at every step.

    With the same seed at every step, changes across steps come from the
    weights, not the noise; with the same channels in every run, runs compare
    channel by channel.
    """

    group = "ascent"
    shrinks = "steps"

    def __init__(
        self,
        model: keras.Model,
        layers: Sequence[str],
        channels: int | Sequence[int] = 8,
        steps: int | None = None,
        preset: str = "auto",
        budget_s: float | None = 60.0,
        input_range: tuple[float, float] = (0.0, 1.0),
        seed: int = 0,
        examples: np.ndarray | None = None,
        facets: int = 1,
        seeds: int = 1,
        exemplars=None,
        **overrides: Any,
    ):
        """Args:
        model: a built model with one image input `(batch, H, W, C)`.
        layers: layer paths to visualize.
        channels: channel indices, or N for the first N channels of each layer.
        steps: optimization steps; default the preset's.
        preset: "auto" (the default), or a recipe of `methods.ascent.presets`.
        budget_s: seconds for all layers at one step; past it the images
          reached so far are written, flagged `budget_exhausted`, with a
          warning. None: no limit.
        input_range: `(lo, hi)` of the model's inputs.
        seed: seeds the optimization (the same at every step).
        examples: images `(N, H, W, C)` in `input_range` (the probe, or a
          sample of held-out data): MACO takes its magnitude spectrum from
          them, "bounded" its mean colour and contrast bound (None: a 1/f
          spectrum; mid-grey and a contrast of 0.2). They are also the
          reference of the readability flags (`flat`, `noise`, `border`) and
          of the spectrum check (None: 1/f noise).
        facets: images per channel (> 1: made different from each other by a
          Gram-matrix penalty, Olah et al. 2017, logged as a facets grid).
        seeds: 2 also optimizes with the next seed, for the seed-stability
          check (the SSIM between the two seeds' images, `checks.seed_ssim`).
        exemplars: an `ExemplarsLogger` whose latest exemplars each channel's
          picture is checked against (`checks` in the step JSON; see
          `methods.sanity_fv`); None: no exemplar checks.
        **overrides: single settings of the preset (`jitter=4`, `scales=[1.0,
          1.1]`, ...).

        Raises:
          ValueError: unknown layer, preset or setting, channels out of range.
        """
        super().__init__(layers)
        if isinstance(channels, int):
            config.check_freq("channels", channels, False)
        self._steps, self._seed = steps, int(seed)
        self._seeds = config.check_freq("seeds", seeds, False)
        self._exemplars, self._model = exemplars, model
        self._budget_s = config.check_budget("budget_s", budget_s, True)
        input_range = config.check_input_range(input_range)
        if facets != 1:
            config.check_freq("facets", facets, False)
            overrides = {"facets": facets, "diversity": 1.0, **overrides}
        self._visualizers = {
            layer: FeatureVisualizer(
                model,
                layer,
                preset=preset,
                input_range=input_range,
                examples=examples,
                verbose=False,
                **overrides,
            )
            for layer in self.layers
        }
        self._channels = {
            layer: list(range(min(channels, vis.n_channels)))
            if isinstance(channels, int)
            else layers_lib.check_channels(channels, vis.n_channels, layer, "channels")
            for layer, vis in self._visualizers.items()
        }
        # The data's contrast and spectrum, once: every step's pictures are
        # measured against the same reference.
        self._data = None if examples is None else readability.data_stats(examples)
        chosen = {vis.preset for vis in self._visualizers.values()}
        self.preset = chosen.pop() if len(chosen) == 1 else preset
        if preset == "auto":
            print(presets.explain_layers(self._visualizers))

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        # One budget for all layers at this step.
        deadline = time.perf_counter() + (self._budget_s or float("inf"))
        return self.each_layer(
            step, lambda layer: self._one(layer, step, deadline, extra)
        )

    def _one(self, layer: str, step: int, deadline: float, extra) -> bool:
        start = time.perf_counter()
        vis = self._visualizers[layer]
        budget = None if self._budget_s is None else max(deadline - start, 0.0)
        steps = self.shrunk(self._steps or vis.settings.steps, extra)
        result = vis(
            self._channels[layer], steps=steps, seed=self._seed, budget_s=budget
        )
        record = pictures.record(
            result.images,
            result.channels,
            result.objective,
            result.nonfinite,
            vis.input_range,
            alpha=result.alpha,
            facets=result.facets,
            start_objective=result.start_objective,
            gradient=result.gradient,
            data=self._data,
            preset=vis.preset,
            settings=result.settings,
            seed=self._seed,
            steps_done=int(result.steps_done),
            budget_exhausted=bool(result.stopped_early),
        )
        if result.stopped_early:
            warnings.warn(
                f"NetViz: the ascent budget_s ran out at layer {layer!r}, step {step}: "
                f"wrote images after {result.steps_done} of "
                f"{result.settings['steps']} steps (raise Ascent(budget_s=...) or lower "
                "Ascent(steps=...)).",
                RuntimeWarning,
                stacklevel=2,
            )
        if np.any(result.nonfinite):
            warn_nonfinite("ascent", layer, step)
        checks = self._checks(layer, result, vis, deadline)
        if checks is not None:
            record[0]["checks"].update(checks)
        seconds = time.perf_counter() - start
        return self.write("ascent", layer, step, record, seconds, extra)

    def _checks(self, layer: str, result, vis, deadline: float) -> dict | None:
        """The checks against exemplars and seeds (see
        `pictures.sanity.fv_checks_info`), added to the record's naturalness
        check; None when there is neither a second seed nor exemplars."""
        exemplars = (
            None
            if self._exemplars is None
            else self._exemplars.exemplars_of(layer, result.channels)
        )
        second = None
        if self._seeds > 1:
            left = time.perf_counter()
            budget = None if self._budget_s is None else max(deadline - left, 0.0)
            second = vis(
                result.channels, steps=self._steps, seed=self._seed + 1, budget_s=budget
            ).images
        if exemplars is None and second is None:
            return None
        found = sanity_fv.feature_checks(
            self._model,
            layer,
            result.channels,
            result.images,
            exemplars,
            second,
            vis.input_range,
        )
        return sanity_pictures.fv_checks_info(
            found.objective,
            found.exemplar_objective,
            found.seed_ssim,
            found.processing,
            found.exemplar_processing,
            found.path_layers,
        )


# How many held-out examples give feature visualization the data's spectrum
# and contrast (the 95th percentile of 256 contrasts is a stable estimate).
EXAMPLES_FOR_ASCENT = 256


@spec
class Ascent(Spec):
    """Feature visualizations of the first `channels` of each layer
    (`AscentLogger`); heavy, on by default at the first and the last epoch.

    With an `Exemplars` spec on, each picture is checked against the
    channel's best real examples, and an array of examples (its first 256)
    gives the data's spectrum and contrast (else the probe does).
    """

    group: ClassVar[str] = "ascent"
    needs: ClassVar[tuple[str, ...]] = ("exemplars",)
    default: ClassVar[bool] = True
    freq: int | None = None
    layers: Sequence[str] | None = None
    channels: int | Sequence[int] = 8
    steps: int | None = None
    preset: str = "auto"
    budget_s: float | None = 60.0
    facets: int = 1
    seeds: int = 1

    def build(self, context: Context) -> AscentLogger:
        s = self.settings()
        s["layers"] = s["layers"] or context.layers
        exemplars = context.built.get("exemplars")
        data = None if exemplars is None else exemplars.data
        sample = data[:EXAMPLES_FOR_ASCENT] if isinstance(data, np.ndarray) else None
        return AscentLogger(
            context.model,
            examples=context.probe if sample is None else sample,
            exemplars=exemplars,
            input_range=context.input_range,
            **s,
        )
