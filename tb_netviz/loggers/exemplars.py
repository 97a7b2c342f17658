"""`ExemplarsLogger`: each channel's top-k real examples, with receptive-field crops."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from tb_netviz import config
from tb_netviz.loggers.base import Logger
from tb_netviz.loggers.spec import Context, Spec, spec
from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.units import exemplars as method
from tb_netviz.methods.units import health as units
from tb_netviz.pictures import exemplars as pictures


def check_examples(model: keras.Model, examples):
    """Returns `examples` if they fit the model's (first) input, else raises.

    Args:
      model: a built model.
      examples: an array `(N, *input_shape)` with N >= 1, or a `tf.data.Dataset`
        of inputs, `(x, y)` pairs, or batches of either. Never copied whole.

    Raises:
      ValueError: a shape or dtype that does not fit, or no examples.
    """
    if not getattr(model, "inputs", None):
        raise ValueError(f"Model {model.name!r} has no symbolic inputs")
    if len(model.inputs) != 1:
        raise ValueError("examples need a model with one input")
    expected = tuple(model.inputs[0].shape)
    if isinstance(examples, tf.data.Dataset):
        spec = examples.element_spec
        spec = spec[0] if isinstance(spec, (tuple, list)) else spec
        shape = tuple(spec.shape)
        tail = shape[1:] if len(shape) == len(expected) else shape
        what = f"a dataset of elements {shape}"
    else:
        if (
            not hasattr(examples, "shape")
            or np.dtype(examples.dtype).kind not in "biuf"
        ):
            raise ValueError("examples must be a numeric array or a tf.data.Dataset")
        if len(examples) < 1:
            raise ValueError("examples is empty; pass at least one input")
        shape = tuple(examples.shape)
        tail, what = shape[1:], f"shape {shape}"
    fits = len(tail) == len(expected) - 1 and all(
        e is None or a is None or e == a for e, a in zip(expected[1:], tail)
    )
    if not fits:
        raise ValueError(
            f"examples have {what} but model {model.name!r} expects inputs of "
            f"shape {expected}"
        )
    return examples


# Exemplars per channel kept between steps for the feature-visualization checks.
KEPT = 3


class ExemplarsLogger(Logger):
    """Logs `exemplars/<layer>`: per channel the top-k examples and their crops.

    One streamed pass over the examples ranks every layer's channels and
    accumulates their statistics; `health` keeps those statistics (and
    `health_step` their step) for the `UnitsLogger`.
    """

    group = "exemplars"

    def __init__(
        self,
        model: keras.Model,
        data,
        layers: Sequence[str],
        top_k: int = 9,
        max_channels: int = 64,
        input_range: tuple[float, float] = (0.0, 1.0),
        max_crop_size: int = 64,
        batch_size: int = units.BATCH_SIZE,
    ):
        """Args:
        model: a built Sequential or functional model with one input.
        data: held-out examples, an array `(N, *input_shape)` or a
          `tf.data.Dataset` (inputs,
          `(x, y)` pairs, or batches); iterated in batches at each step.
        layers: layer paths.
        top_k: examples per channel.
        max_channels: the first this many channels of each layer are ranked.
        input_range: `(lo, hi)` of the inputs, to draw the crops.
        max_crop_size: crops are drawn at most this many pixels a side.
        batch_size: inputs per forward pass.

        Raises:
          ValueError: examples that do not fit, an unknown layer, a cap that
            is not a positive integer.
        """
        super().__init__(layers)
        self.data = check_examples(model, data)
        config.check_freq("top_k", top_k, False)
        config.check_freq("max_channels", max_channels, False)
        self._range = config.check_input_range(input_range)
        self._max_crop = config.check_freq("max_crop_size", max_crop_size, False)
        totals = {p: int(layers_lib.lookup(model, p).num_channels) for p in self.layers}
        channels = {p: list(range(min(n, max_channels))) for p, n in totals.items()}
        self.channels_total = totals
        self._rank = len(model.inputs[0].shape)
        self._pass = method.ExamplesPass(
            model, self.layers, top_k, channels, batch_size
        )
        self.health: dict[str, units.UnitStats] = {}
        self.health_step: int | None = None
        # The last step's best few exemplars per layer and channel, for the
        # feature-visualization checks (`exemplars_of`).
        self._kept: dict[str, dict[int, list[np.ndarray]]] = {}

    def exemplars_of(self, layer: str, channels, top: int = KEPT) -> list | None:
        """The last logged step's best `top` exemplars of each channel.

        Returns:
          Per channel of `channels` an array `(n <= top, *input_shape)` (empty
          where the channel was not ranked), or None before the first step or
          for a layer this logger does not rank.
        """
        kept = self._kept.get(layer)
        if kept is None:
            return None
        shape = next((v[0].shape for v in kept.values() if v), None)
        if shape is None:
            return None
        return [
            np.asarray(kept.get(int(c), [])[:top]).reshape(-1, *shape) for c in channels
        ]

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        start = time.perf_counter()
        names = ", ".join(self.layers)
        found = self.attempt(step, names, self._pass, self.data)
        if found is None:
            return False
        self.health = {p: r.stats for p, r in found.items()}
        self.health_step = step
        wanted = np.concatenate([r.indices.reshape(-1) for r in found.values()])
        inputs = self.attempt(step, names, method.gather, self.data, wanted, self._rank)
        if inputs is None:
            return False
        self._kept = {
            layer: {
                int(c): [inputs[int(i)] for i in row[:KEPT] if int(i) in inputs]
                for c, row in zip(found[layer].channels, found[layer].indices)
            }
            for layer in self.layers
        }
        share = (time.perf_counter() - start) / len(self.layers)
        return self.each_layer(
            step,
            lambda layer: self._one(layer, found[layer], inputs, step, share, extra),
        )

    def _one(self, layer: str, found, inputs, step: int, share: float, extra) -> bool:
        start = time.perf_counter()
        field = found.field
        record = pictures.record(
            found.channels,
            found.indices,
            found.activations,
            found.positions,
            found.boxes,
            found.windows,
            inputs,
            self._range,
            channels_total=self.channels_total[layer],
            examples=found.stats.count,
            field={
                "jump": list(field.jump),
                "size": list(field.size),
                "offset": list(field.offset),
                "exact": field.exact,
            },
            max_crop_size=self._max_crop,
        )
        seconds = share + time.perf_counter() - start
        return self.write("exemplars", layer, step, record, seconds, extra)


@spec
class Exemplars(Spec):
    """Each channel's top-k real examples over held-out `data` (an array or a
    `tf.data.Dataset`, streamed), with receptive-field crops
    (`ExemplarsLogger`); heavy, at the first and the last epoch by default.
    Off unless given: `exemplars=Exemplars(x_val)`."""

    group: ClassVar[str] = "exemplars"
    data: Any = None
    freq: int | None = None
    layers: Sequence[str] | None = None
    top_k: int = 9
    max_channels: int = 64

    def build(self, context: Context) -> ExemplarsLogger:
        s = self.settings()
        s["layers"] = s["layers"] or context.layers
        return ExemplarsLogger(context.model, input_range=context.input_range, **s)
