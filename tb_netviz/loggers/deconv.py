"""`DeconvLogger`: deconvnet and guided-backprop reconstructions of the probe,
and feature accentuations of the same probe inputs and channels."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from tb_netviz import config
from tb_netviz.loggers.base import Logger, warn_nonfinite
from tb_netviz.methods.accentuation.accentuator import Accentuator
from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.deconv.deconvolver import DEFAULT_METHODS, Deconvolver
from tb_netviz.pictures import accentuation
from tb_netviz.pictures import deconv as pictures

ACCENTUATION = "accentuation"


class DeconvLogger(Logger):
    """Logs `deconvnet/<layer>`, `guided_backprop/<layer>`, `gradient/<layer>`
    and/or `accentuation/<layer>`.

    The reconstructions share one forward pass; each record's `seconds` is
    its share of the computation plus its own drawing and writing. The
    accentuations (`methods.feature_accentuation` with its defaults) change
    the same probe inputs to raise the same channels.
    """

    group = "deconv"

    def __init__(
        self,
        model: keras.Model,
        probe,
        layers: Sequence[str],
        channels: Sequence[int] | None = None,
        top_k: int = 4,
        methods: str | Sequence[str] = DEFAULT_METHODS,
        input_range: tuple[float, float] | None = None,
    ):
        """Args:
        model: a built single-input model.
        probe: the probe batch `(N, H, W, C)`.
        layers: layer paths with spatial output.
        channels: channel indices for every probe input, or None for each
          input's `top_k` most active channels.
        top_k: channels per probe input when `channels` is None.
        methods: "deconvnet", "guided_backprop", "gradient" (the plain
          gradient, same seed), "accentuation" or several; default the
          first two.
        input_range: `(lo, hi)` to draw the inputs; None infers it from the
          probe.

        Raises:
          ValueError: unknown layer or method, channels out of range, a layer
            without spatial output, a probe that does not fit (accentuation:
            a model without one image input, a probe outside `input_range`).
        """
        super().__init__(layers)
        self._probe = config.check_probe(model, probe)
        self._top_k = config.check_freq("deconv_top_k", top_k, False)
        self._channels = channels
        self._range = config.check_input_range(
            config.infer_input_range(self._probe)
            if input_range is None
            else input_range
        )
        methods = (methods,) if isinstance(methods, str) else tuple(methods)
        rebuilt = tuple(m for m in methods if m != ACCENTUATION)
        self._deconvolvers = {
            layer: Deconvolver(model, layer, methods=rebuilt)
            for layer in (self.layers if rebuilt or not methods else [])
        }
        self._accentuators = {
            layer: Accentuator(model, layer, input_range=self._range)
            for layer in (self.layers if ACCENTUATION in methods else [])
        }
        for accentuator in self._accentuators.values():
            accentuator.check_images(self._probe)
        for layer, d in [*self._deconvolvers.items(), *self._accentuators.items()]:
            if channels is not None:
                layers_lib.check_channels(
                    channels, d.num_channels, layer, "deconv_channels"
                )

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        return self.each_layer(step, lambda layer: self._one(layer, step, extra))

    def _one(self, layer: str, step: int, extra) -> bool:
        written = True
        if layer in self._deconvolvers:
            written &= self._reconstruct(layer, step, extra)
        if layer in self._accentuators:
            written &= self._accentuate(layer, step, extra)
        return written

    def _reconstruct(self, layer: str, step: int, extra) -> bool:
        start = time.perf_counter()
        result = self._deconvolvers[layer](self._probe, self._channels, self._top_k)
        share = (time.perf_counter() - start) / len(result.images)
        written = True
        for method, recons in result.images.items():
            begin = time.perf_counter()
            record = pictures.record(
                method,
                self._probe,
                recons,
                result.channels,
                result.activation_max,
                self._range,
            )
            if not np.isfinite(recons).all():
                warn_nonfinite(method, layer, step)
            seconds = share + time.perf_counter() - begin
            written &= self.write(method, layer, step, record, seconds, extra)
        return written

    def _accentuate(self, layer: str, step: int, extra) -> bool:
        start = time.perf_counter()
        accentuator = self._accentuators[layer]
        r = accentuator(self._probe, self._channels, self._top_k)
        record = accentuation.record(
            self._probe,
            r.images,
            r.channels,
            r.objective_start,
            r.objective_end,
            r.distance,
            self._range,
            accentuator.settings,
        )
        if not np.isfinite(r.images).all():
            warn_nonfinite(ACCENTUATION, layer, step)
        seconds = time.perf_counter() - start
        return self.write(ACCENTUATION, layer, step, record, seconds, extra)
