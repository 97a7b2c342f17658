"""`ModelLogger`: the model map, once per run (`model/graph`)."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import keras

from tb_netviz.loggers.base import Logger
from tb_netviz.loggers.spec import ONCE, Context, Spec, spec
from tb_netviz.methods.common.model_map import model_map
from tb_netviz.pictures import model as pictures

LAYER = "graph"  # one map per run, under one name so runs compare


class ModelLogger(Logger):
    """Logs the model's layers (class, output shape, parameters, inbound layers)
    for the panel's layer tree and map; the callback logs it at the first step
    it logs anything, the CLI with the rest."""

    group = "model"

    def __init__(self, model: keras.Model):
        """Args:
        model: a built Sequential or functional model.

        Raises:
          ValueError: a model without a symbolic graph.
        """
        super().__init__([LAYER])
        self._layers = model_map(model)
        self._name = model.name

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        return bool(self.attempt(step, LAYER, self._one, step, extra))

    def _one(self, step: int, extra) -> bool:
        start = time.perf_counter()
        record = pictures.record(self._layers, self._name)
        return self.write(
            "model", LAYER, step, record, time.perf_counter() - start, extra
        )


@spec
class Model(Spec):
    """The model map (`ModelLogger`), once, at the first step logged."""

    group: ClassVar[str] = "model"
    when: ClassVar[str] = ONCE
    default: ClassVar[bool] = True
    freq: int | None = None

    def build(self, context: Context) -> ModelLogger:
        return ModelLogger(context.model)
