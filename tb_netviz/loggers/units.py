"""`UnitsLogger`: every channel's health (max, mean, share > 0, dead, constant)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import keras
import tensorflow as tf

from tb_netviz import config
from tb_netviz.loggers.base import Logger
from tb_netviz.loggers.exemplars import ExemplarsLogger
from tb_netviz.loggers.spec import Context, Spec, spec
from tb_netviz.methods.units import health as method
from tb_netviz.pictures import units as pictures

SCALAR_PREFIX = "netviz/dead_fraction"
EXAMPLES_SCALAR_PREFIX = "netviz/dead_fraction_examples"


def _source(stats: method.UnitStats) -> dict[str, Any]:
    return pictures.source(
        stats.count,
        stats.positions,
        stats.max,
        stats.min,
        stats.mean,
        stats.frac_positive,
    )


class UnitsLogger(Logger):
    """Logs `units/<layer>` (step JSON only) and the dead share as scalars.

    At each step the probe's statistics, and the examples' when the
    `ExemplarsLogger` given computed them at this same step. Scalars (plain
    TensorBoard scalars in the same run, so the Scalars dashboard shows them
    beside the loss curves of `<log_dir>/train`):
    `netviz/dead_fraction/<layer>` over the probe at every step, and
    `netviz/dead_fraction_examples/<layer>` over the examples at their steps.
    """

    group = "units"

    def __init__(
        self,
        model: keras.Model,
        probe,
        layers: Sequence[str],
        exemplars: ExemplarsLogger | None = None,
    ):
        """Args:
        model: a built Sequential or functional model (nested models allowed).
        probe: the probe batch `(N, *input_shape)`, 1 <= N <= 64.
        layers: layer paths.
        exemplars: the logger whose example statistics join the records at
          the steps it logged (its layers should include `layers`).

        Raises:
          ValueError: an unknown layer, a probe that does not fit the model.
        """
        super().__init__(layers)
        self._probe = config.check_probe(model, probe)
        self._health = method.UnitHealth(model, self.layers)
        self._exemplars = exemplars

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        start = time.perf_counter()
        probe = self.attempt(step, ", ".join(self.layers), self._health, self._probe)
        if probe is None:
            return False
        share = (time.perf_counter() - start) / len(self.layers)
        examples = {}
        if self._exemplars is not None and self._exemplars.health_step == step:
            examples = self._exemplars.health
        return self.each_layer(
            step,
            lambda layer: self._one(
                layer, probe[layer], examples.get(layer), step, share, extra
            ),
        )

    def _one(self, layer, probe, examples, step: int, share: float, extra) -> bool:
        start = time.perf_counter()
        sources = {"probe": _source(probe)}
        if examples is not None:
            sources["examples"] = _source(examples)
        record = pictures.record(sources, self._health.channels_total[layer])
        # Plain scalars next to the loss curves (TensorBoard's Scalars plugin).
        tf.summary.scalar(
            f"{SCALAR_PREFIX}/{layer}", sources["probe"]["dead_fraction"], step=step
        )
        if examples is not None:
            tf.summary.scalar(
                f"{EXAMPLES_SCALAR_PREFIX}/{layer}",
                sources["examples"]["dead_fraction"],
                step=step,
            )
        seconds = share + time.perf_counter() - start
        return self.write("units", layer, step, record, seconds, extra)


@spec
class Units(Spec):
    """Every channel's health over the probe, and over the exemplars' data at
    the steps they ran (`UnitsLogger`); light, on by default every epoch."""

    group: ClassVar[str] = "units"
    needs: ClassVar[tuple[str, ...]] = ("exemplars",)
    default: ClassVar[bool] = True
    freq: int | None = 1
    layers: Sequence[str] | None = None

    def build(self, context: Context) -> UnitsLogger:
        exemplars = context.built.get("exemplars")
        layers = list(self.layers or context.layers)
        if exemplars is not None:  # every ranked layer gets its health too
            layers = list(dict.fromkeys(layers + exemplars.layers))
        return UnitsLogger(context.model, context.probe, layers, exemplars=exemplars)
