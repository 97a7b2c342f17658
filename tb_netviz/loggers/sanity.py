"""`SanityLogger`: does each deconvolution depend on the learned weights?"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import keras
import tensorflow as tf

from tb_netviz import config
from tb_netviz.loggers.base import Logger
from tb_netviz.loggers.spec import Context, Spec, spec
from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.deconv.deconvolver import METHODS, Deconvolver
from tb_netviz.methods.sanity import check as method
from tb_netviz.pictures import sanity as pictures

SCALAR_PREFIX = "netviz/sanity"


class SanityLogger(Logger):
    """Logs `sanity/<layer>`: a cascading weight randomization per layer.

    Each record holds, per method, the SSIM and Spearman curves against the
    trained model's maps, the baseline and the verdict (step JSON), one strip
    of maps per method (images), and the TensorBoard scalar
    `netviz/sanity/<method>/<layer>`: the SSIM with every block randomized
    (compare it with the baseline in the step JSON).
    """

    group = "sanity"

    def __init__(
        self,
        model: keras.Model,
        probe,
        layers: Sequence[str],
        methods: str | Sequence[str] = METHODS,
        channels: Sequence[int] | None = None,
        top_k: int = 1,
        seed: int = 0,
    ):
        """Args:
        model: a built single-input model; it is copied at each check, never
          changed.
        probe: the probe batch `(N, *input_shape)`, N >= 2 for a baseline.
        layers: layer paths with spatial output.
        methods: any of "deconvnet", "guided_backprop", "gradient" (default
          all three: the plain gradient is the contrast).
        channels: the channels to reconstruct, or None for the `top_k`
          strongest over the probe (chosen again at each check).
        top_k: channels when `channels` is None.
        seed: seeds the new weights (the same at every check).

        Raises:
          ValueError: unknown layer or method, channels out of range, a layer
            without spatial output, a probe that does not fit.
        """
        super().__init__(layers)
        self._model = model
        self._probe = config.check_probe(model, probe)
        self._top_k = config.check_freq("top_k", top_k, False)
        self._methods = method.check_methods(methods)
        self._channels = None if channels is None else list(channels)
        self._seed = int(seed)
        for layer in self.layers:  # the same checks as the deconvolution's
            d = Deconvolver(model, layer, methods=self._methods)
            if channels is not None:
                layers_lib.check_channels(channels, d.num_channels, layer)
        self.results: dict[str, method.SanityResult] = {}
        # Made at the first check: one copy of the model for all layers, and a
        # traced check per layer, reused at every later check.
        self._checks: dict[str, method.RandomizationCheck] = {}

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        return self.each_layer(step, lambda layer: self._one(layer, step, extra))

    def _one(self, layer: str, step: int, extra) -> bool:
        start = time.perf_counter()
        if layer not in self._checks:
            shared = next(iter(self._checks.values()), None)
            self._checks[layer] = method.RandomizationCheck(
                self._model,
                layer,
                self._methods,
                copy=None if shared is None else shared.copy,
            )
        result = self._checks[layer](
            self._probe, self._channels, self._top_k, self._seed
        )
        self.results[layer] = result
        record = pictures.record(
            result.blocks,
            result.channels,
            len(self._probe),
            result.ssim,
            result.spearman,
            result.baseline,
            result.maps,
            seed=self._seed,
            copy_seconds=result.seconds["copy"],
            verdicts=result.verdicts,
        )
        for m, curve in result.ssim.items():
            if len(curve):  # next to the loss curves (TensorBoard's Scalars)
                tf.summary.scalar(f"{SCALAR_PREFIX}/{m}/{layer}", curve[-1], step=step)
        seconds = time.perf_counter() - start
        return self.write("sanity", layer, step, record, seconds, extra)


@spec
class Sanity(Spec):
    """The cascading weight-randomization check of the reconstructions
    (`SanityLogger`); heavy, on by default at the first and the last epoch
    (before and after training)."""

    group: ClassVar[str] = "sanity"
    default: ClassVar[bool] = True
    freq: int | None = None
    layers: Sequence[str] | None = None
    methods: str | Sequence[str] = METHODS
    channels: Sequence[int] | None = None
    top_k: int = 1

    def build(self, context: Context) -> SanityLogger:
        s = self.settings()
        s["layers"] = s["layers"] or context.layers
        return SanityLogger(context.model, context.probe, **s)
