"""One job per kind: set up (and check) before training, then compute and write.

A job's constructor does everything that can fail because of the user's
configuration (unknown layers, channels out of range), so the callback raises
those before the first batch. `run` is called inside the writer's context and
passes each layer's work through `guard`, which turns a run-time failure into a
warning so training goes on.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence

import keras
import numpy as np

from tb_netviz import summary
from tb_netviz.methods.activations import ActivationReader
from tb_netviz.methods.ascent import FeatureVisualizer
from tb_netviz.methods.deconv import Deconvolver

Guard = Callable[..., object]  # guard(step, kind, layer, fn, *args) -> fn's result


def warn_nonfinite(kind: str, layer: str, step: int) -> None:
    warnings.warn(
        f"NetViz: non-finite values (NaN/Inf) in {kind} of layer {layer!r} at step "
        f"{step}; the picture is written and flagged, training goes on.",
        RuntimeWarning,
        stacklevel=3,
    )


class ActivationsJob:
    """Activations of `layers` on the probe, capped to `max_channels`."""

    def __init__(self, model, probe, layers, max_channels: int, max_tile_size: int):
        self.layers, self._probe = list(layers), probe
        self._caps = (max_channels, max_tile_size)
        self._reader = ActivationReader(model, self.layers, max_channels)

    def run(self, step: int, guard: Guard) -> None:
        outputs = guard(
            step, "activations", ", ".join(self.layers), self._reader, self._probe
        )
        if outputs is None:
            return
        for layer in self.layers:
            acts = outputs[layer]
            total = self._reader.channels_total[layer]
            guard(step, "activations", layer, summary.activation_arrays, layer, acts,
                  step, *self._caps, None, total)  # fmt: skip
            if not np.isfinite(acts).all():
                warn_nonfinite("activations", layer, step)


# Below this many pixels a side, Lucid's transforms and Fourier images lose to
# plain pixel-space ascent: on the demo's 32x32 CNN, Lucid's images beat the
# training images for 12% of conv1's channels, Yosinski et al.'s for 88%.
SMALL_INPUT = 64


class AscentJob:
    """Feature visualizations of chosen channels, the same seed at every step.

    `preset="auto"` is "lucid" for inputs of at least `SMALL_INPUT` pixels a
    side and "yosinski2015" below.

    `channels` is a list of channel indices, or an int N for the first N channels
    of each layer: the same channels in every run and at every step, so runs and
    filmstrips compare channel by channel.
    """

    def __init__(self, model: keras.Model, layers: Sequence[str], channels,
                 steps, preset: str, budget_s: float, input_range):  # fmt: skip
        self.layers, self._steps = list(layers), steps
        if preset == "auto":  # measured by benchmarks/ascent_acceptance.py
            size = min(d or 0 for d in model.inputs[0].shape[1:3])
            preset = "lucid" if size >= SMALL_INPUT else "yosinski2015"
        self.preset, self._budget_s = preset, budget_s
        self._visualizers = {
            layer: FeatureVisualizer(
                model, layer, preset=preset, input_range=input_range
            )
            for layer in self.layers
        }
        self._channels: dict[str, list[int]] = {}
        for layer, vis in self._visualizers.items():
            if isinstance(channels, int):
                self._channels[layer] = list(range(min(channels, vis.n_channels)))
                continue
            bad = [c for c in channels if not 0 <= c < vis.n_channels]
            if bad:
                raise ValueError(
                    f"ascent_channels {bad} out of range: layer {layer!r} has "
                    f"{vis.n_channels} channels (0..{vis.n_channels - 1})"
                )
            self._channels[layer] = [int(c) for c in channels]

    def _one(self, layer: str, step: int, deadline: float) -> None:
        vis = self._visualizers[layer]
        budget = max(deadline - time.perf_counter(), 0.0)
        result = vis(self._channels[layer], steps=self._steps, seed=0, budget_s=budget)
        summary.feature_visualization_result(
            layer, result, step, vis.input_range, self.preset, 0
        )
        if result.stopped_early:
            warnings.warn(
                f"NetViz: ascent_budget_s ran out at layer {layer!r}, step {step}: "
                f"wrote images after {result.steps_done} of {vis.settings['steps']} "
                "steps (raise ascent_budget_s or lower ascent_steps).",
                RuntimeWarning,
                stacklevel=2,
            )
        if np.any(result.nonfinite):
            warn_nonfinite("ascent", layer, step)

    def run(self, step: int, guard: Guard) -> None:
        deadline = time.perf_counter() + self._budget_s  # one budget for all layers
        for layer in self.layers:
            guard(step, "ascent", layer, self._one, layer, step, deadline)


class DeconvJob:
    """Deconvnet and/or guided-backprop reconstructions of the probe inputs."""

    def __init__(self, model: keras.Model, probe, layers: Sequence[str], channels,
                 top_k: int, methods, input_range):  # fmt: skip
        self.layers, self._probe, self._range = list(layers), probe, input_range
        self._channels, self._top_k = channels, top_k
        self._deconvolvers = {
            layer: Deconvolver(model, layer, methods=methods) for layer in self.layers
        }
        for layer, d in self._deconvolvers.items():
            bad = [c for c in channels or () if not 0 <= c < d.num_channels]
            if bad:
                raise ValueError(
                    f"deconv_channels {bad} out of range: layer {layer!r} has "
                    f"{d.num_channels} channels (0..{d.num_channels - 1})"
                )

    def _one(self, layer: str, step: int) -> None:
        result = self._deconvolvers[layer](self._probe, self._channels, self._top_k)
        summary.deconvolution_result(layer, self._probe, result, step, self._range)
        if not all(np.isfinite(v).all() for v in result.images.values()):
            warn_nonfinite("deconvolution", layer, step)

    def run(self, step: int, guard: Guard) -> None:
        for layer in self.layers:
            guard(step, "deconvolution", layer, self._one, layer, step)
