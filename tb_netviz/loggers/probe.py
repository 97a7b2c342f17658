"""`ProbeLogger`: the probe inputs themselves, once per run."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import keras

from tb_netviz import config
from tb_netviz.loggers.base import Logger
from tb_netviz.loggers.spec import ONCE, Context, Spec, spec
from tb_netviz.pictures import probe as pictures


def input_names(model: keras.Model) -> list[str]:
    """`["input"]` for a one-input model, else `["input_0", "input_1", ...]`.

    Positional, not the input layers' own names: Keras numbers those per
    process (`input_layer_3`), and runs must compare by name.
    """
    count = len(model.inputs)
    return ["input"] if count == 1 else [f"input_{i}" for i in range(count)]


class ProbeLogger(Logger):
    """Logs `probe/input` (`probe/input_<i>` for several model inputs): one
    picture per probe input.

    The panel shows the probe beside the activations; the callback logs it at
    the first step it logs anything.
    """

    group = "probe"

    def __init__(
        self, model: keras.Model, probe, input_range: tuple[float, float] | None = None
    ):
        """Args:
        model: a built model.
        probe: the probe batch (a list of arrays for several inputs).
        input_range: `(lo, hi)` to draw image inputs; None infers it.

        Raises:
          ValueError: a probe that does not fit the model.
        """
        checked = config.check_probe(model, probe)
        self._parts = checked if isinstance(checked, list) else [checked]
        super().__init__(input_names(model))
        self._range = config.choose_input_range(self._parts, input_range, None)

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        parts = dict(zip(self.layers, self._parts))
        return self.each_layer(
            step, lambda name: self._one(name, parts[name], step, extra)
        )

    def _one(self, name: str, part, step: int, extra) -> bool:
        start = time.perf_counter()
        record = pictures.record(part, self._range)
        seconds = time.perf_counter() - start
        return self.write("probe", name, step, record, seconds, extra)


@spec
class Probe(Spec):
    """The probe inputs (`ProbeLogger`), once, at the first step logged."""

    group: ClassVar[str] = "probe"
    when: ClassVar[str] = ONCE
    default: ClassVar[bool] = True
    freq: int | None = None

    def build(self, context: Context) -> ProbeLogger:
        return ProbeLogger(context.model, context.probe, context.input_range)
