"""`AccentuationLogger`: each probe input changed to raise each of its
strongest channels while an earlier layer stays close (Hamblin et al. 2024)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import keras
import numpy as np

from tb_netviz import config
from tb_netviz.loggers.base import Logger, warn_nonfinite
from tb_netviz.loggers.spec import Context, Spec, spec
from tb_netviz.methods.accentuation import Accentuator
from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.pictures import accentuation as pictures
from tb_netviz.pictures import readability


class AccentuationLogger(Logger):
    """Logs `accentuation/<layer>`: per probe input the input, then one
    accentuated image per channel (`methods.feature_accentuation` with its
    defaults), drawn in the input range."""

    group = "accentuation"
    shrinks = "steps"

    def __init__(
        self,
        model: keras.Model,
        probe,
        layers: Sequence[str],
        channels: Sequence[int] | None = None,
        top_k: int = 4,
        input_range: tuple[float, float] | None = None,
    ):
        """Args:
        model: a built model with one image input.
        probe: the probe batch `(N, H, W, C)`, inside `input_range`.
        layers: layer paths with spatial output.
        channels: channel indices for every probe input, or None for each
          input's `top_k` most active channels.
        top_k: channels per probe input when `channels` is None.
        input_range: `(lo, hi)` of the inputs; None infers it from the probe.

        Raises:
          ValueError: unknown layer, channels out of range, a model without
            one image input, a probe outside `input_range`.
        """
        super().__init__(layers)
        self._probe = config.check_probe(model, probe)
        self._top_k = config.check_freq("top_k", top_k, False)
        self._channels = channels
        self._range = config.choose_input_range(self._probe, input_range, None)
        self._accentuators = {
            layer: Accentuator(model, layer, input_range=self._range)
            for layer in self.layers
        }
        for layer, accentuator in self._accentuators.items():
            accentuator.check_images(self._probe)
            if channels is not None:
                layers_lib.check_channels(
                    channels, accentuator.num_channels, layer, "channels"
                )
        # The probe's contrast and spectrum, once: the readability flags' reference.
        self._data = readability.data_stats(self._probe, source="probe")

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        return self.each_layer(step, lambda layer: self._one(layer, step, extra))

    def _one(self, layer: str, step: int, extra) -> bool:
        start = time.perf_counter()
        accentuator = self._accentuators[layer]
        steps = self.shrunk(accentuator.settings["steps"], extra)
        r = accentuator(self._probe, self._channels, self._top_k, steps=steps)
        record = pictures.record(
            self._probe,
            r.images,
            r.channels,
            r.objective_start,
            r.objective_end,
            r.distance,
            self._range,
            accentuator.settings,
            self._data,
        )
        if not np.isfinite(r.images).all():
            warn_nonfinite(self.group, layer, step)
        seconds = time.perf_counter() - start
        return self.write(self.group, layer, step, record, seconds, extra)


@spec
class Accentuation(Spec):
    """Feature accentuations of the probe (`AccentuationLogger`); heavy, off
    unless given: `accentuation=Accentuation()` (the first and the last
    epoch), or `Accentuation(freq=N)`."""

    group: ClassVar[str] = "accentuation"
    freq: int | None = None
    layers: Sequence[str] | None = None
    channels: Sequence[int] | None = None
    top_k: int = 4

    def build(self, context: Context) -> AccentuationLogger:
        s = self.settings()
        s["layers"] = s["layers"] or context.layers
        return AccentuationLogger(
            context.model, context.probe, input_range=context.input_range, **s
        )
