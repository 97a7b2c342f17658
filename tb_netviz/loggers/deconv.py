"""`DeconvLogger`: deconvnet, guided-backprop and gradient reconstructions of
the probe's strongest channels."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import keras
import numpy as np

from tb_netviz import config
from tb_netviz.loggers.base import Logger, warn_nonfinite
from tb_netviz.loggers.spec import Context, Spec, spec
from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.deconv.deconvolver import DEFAULT_METHODS, Deconvolver
from tb_netviz.pictures import deconv as pictures


class DeconvLogger(Logger):
    """Logs `deconvnet/<layer>`, `guided_backprop/<layer>` and/or
    `gradient/<layer>`.

    The reconstructions share one forward pass; each record's `seconds` is
    its share of the computation plus its own drawing and writing.
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
          gradient of the same channels), or several; default the first two.
        input_range: `(lo, hi)` to draw the inputs; None infers it from the
          probe.

        Raises:
          ValueError: unknown layer or method, channels out of range, a layer
            without spatial output, a probe that does not fit.
        """
        super().__init__(layers)
        self._probe = config.check_probe(model, probe)
        self._top_k = config.check_freq("top_k", top_k, False)
        self._channels = channels
        self._range = config.choose_input_range(self._probe, input_range, None)
        self._deconvolvers = {
            layer: Deconvolver(model, layer, methods=methods) for layer in self.layers
        }
        for layer, d in self._deconvolvers.items():
            if channels is not None:
                layers_lib.check_channels(channels, d.num_channels, layer, "channels")

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        return self.each_layer(step, lambda layer: self._one(layer, step, extra))

    def _one(self, layer: str, step: int, extra) -> bool:
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


@spec
class Deconv(Spec):
    """Deconvnet and guided-backprop reconstructions (and with `methods`, the
    plain gradient) of each probe input's strongest channels
    (`DeconvLogger`); heavy, on by default at the first and the last epoch."""

    group: ClassVar[str] = "deconv"
    default: ClassVar[bool] = True
    freq: int | None = None
    layers: Sequence[str] | None = None
    channels: Sequence[int] | None = None
    top_k: int = 4
    methods: str | Sequence[str] = DEFAULT_METHODS

    def build(self, context: Context) -> DeconvLogger:
        s = self.settings()
        s["layers"] = s["layers"] or context.layers
        return DeconvLogger(
            context.model, context.probe, input_range=context.input_range, **s
        )
