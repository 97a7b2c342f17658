"""`ActivationsLogger`: the chosen layers' outputs on the probe, as grids."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from tb_netviz import config
from tb_netviz.loggers.base import Logger, warn_nonfinite
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
    ):
        """Args:
        model: a built Sequential or functional model (nested models allowed).
        probe: the probe batch `(N, *input_shape)`, 1 <= N <= 64.
        layers: layer paths, e.g. `["conv1", "backbone/block1_conv1"]`.
        max_channels: at most this many channels drawn per layer (the first).
        max_tile_size: each channel is drawn at most this many pixels a side.

        Raises:
          ValueError: an unknown layer (close names listed), a probe that does
            not fit the model, a cap that is not a positive integer.
        """
        super().__init__(layers)
        self._probe = config.check_probe(model, probe)
        self._max_channels = config.check_freq("max_channels", max_channels, False)
        self._max_tile = config.check_freq("max_tile_size", max_tile_size, False)
        self._reader = ActivationReader(model, self.layers, self._max_channels)

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        start = time.perf_counter()
        outputs = self.attempt(step, ", ".join(self.layers), self._reader, self._probe)
        if outputs is None:
            return False
        share = (time.perf_counter() - start) / len(self.layers)
        return self.each_layer(
            step, lambda layer: self._one(layer, outputs[layer], step, share, extra)
        )

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
