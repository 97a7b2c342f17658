"""`ActivationsLogger`: the chosen layers' outputs on the probe, as grids."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import keras
import numpy as np

from tb_netviz import config, metadata, writer
from tb_netviz.loggers.base import Logger, warn_nonfinite
from tb_netviz.loggers.spec import Context, Spec, spec
from tb_netviz.methods.activations import ActivationReader
from tb_netviz.pictures import activations as pictures


class ActivationsLogger(Logger):
    """Logs `activations/<layer>`: one quantized grid per probe input.

    One forward pass computes every layer; each record's `seconds` is the
    layer's share of it plus its own drawing and writing.
    """

    group = "activations"

    def __init__(
        self,
        model: keras.Model,
        probe,
        layers: Sequence[str],
        max_channels: int = 64,
        max_tile_size: int = 64,
        histograms: bool = True,
    ):
        """Args:
        model: a built Sequential or functional model (nested models allowed).
        probe: the probe batch `(N, *input_shape)`, 1 <= N <= 64.
        layers: layer paths, e.g. `["conv1", "backbone/block1_conv1"]`.
        max_channels: at most this many channels drawn per layer (the first).
        max_tile_size: each channel is drawn at most this many pixels a side.
        histograms: also write each layer's activations over the probe (all
          drawn channels and positions) as a TensorBoard histogram,
          `<layer>/activations/histogram`, beside Keras' weight histograms.

        Raises:
          ValueError: an unknown layer (close names listed), a probe that does
            not fit the model, a cap that is not a positive integer.
        """
        super().__init__(layers)
        self._probe = config.check_probe(model, probe)
        self._max_channels = config.check_freq("max_channels", max_channels, False)
        self._max_tile = config.check_freq("max_tile_size", max_tile_size, False)
        self._histograms = bool(histograms)
        self._reader = ActivationReader(model, self.layers, self._max_channels)

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        start = time.perf_counter()
        outputs = self.attempt(step, ", ".join(self.layers), self._reader, self._probe)
        if outputs is None:
            return False
        share = (time.perf_counter() - start) / len(self.layers)
        if self._histograms:
            self.each_layer(step, lambda layer: self._histogram(layer, outputs, step))
        return self.each_layer(
            step, lambda layer: self._one(layer, outputs[layer], step, share, extra)
        )

    def _histogram(self, layer: str, outputs, step: int) -> bool:
        values = outputs[layer]
        buckets = pictures.histogram_buckets(values[np.isfinite(values)])
        return writer.write_histogram(metadata.histogram_tag(layer), buckets, step)

    def _one(
        self, layer: str, acts: np.ndarray, step: int, share: float, extra
    ) -> bool:
        start = time.perf_counter()
        record = pictures.record(
            acts,
            self._max_channels,
            self._max_tile,
            channels_total=self._reader.channels_total[layer],
        )
        if record[0]["nonfinite"]:
            warn_nonfinite("activations", layer, step)
        seconds = share + time.perf_counter() - start
        return self.write("activations", layer, step, record, seconds, extra)


@spec
class Activations(Spec):
    """Activations of the shown layers on the probe (`ActivationsLogger`).

    On by default, every epoch; with the callback's `update_freq=N`, every N
    batches. `histograms` also writes each layer's activation histogram over
    the probe to TensorBoard's Histograms and Distributions tabs.
    """

    group: ClassVar[str] = "activations"
    default: ClassVar[bool] = True
    freq: int | None = 1
    layers: Sequence[str] | None = None
    max_channels: int = 64
    max_tile_size: int = 64
    histograms: bool = True

    def build(self, context: Context) -> ActivationsLogger:
        s = self.settings()
        s["layers"] = s["layers"] or context.layers
        return ActivationsLogger(context.model, context.probe, **s)
