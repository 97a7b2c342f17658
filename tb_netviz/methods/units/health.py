"""Unit health: per channel max, min, mean and share of positions > 0, streamed.

The statistics are reduced inside the compiled function batch by batch, so a
pass over tens of thousands of inputs keeps only a few numbers per channel.
A channel is *dead* when no input and position made it > 0, *constant* when
every input and position gave it the same value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.common.traced import traced

# Inputs per forward pass: the layer outputs of one batch are what the pass
# holds at once (tens of MB for a 32x32 CNN at 64), so it stays small.
BATCH_SIZE = 64


@dataclasses.dataclass(frozen=True)
class UnitStats:
    """One layer's channel statistics over some inputs and every position.

    Attributes:
      count: the number of inputs.
      positions: positions per input (1 for a dense output).
      max, min, mean, frac_positive: float64 `(C,)`; `frac_positive` is the
        share of (input, position) pairs where the channel is > 0.
      dead: bool `(C,)`, never > 0.
      constant: bool `(C,)`, max == min.
    """

    count: int
    positions: int
    max: np.ndarray
    min: np.ndarray
    mean: np.ndarray
    frac_positive: np.ndarray

    @property
    def dead(self) -> np.ndarray:
        return ~(self.max > 0)

    @property
    def constant(self) -> np.ndarray:
        return self.max == self.min


def flat(acts: tf.Tensor) -> tf.Tensor:
    """`(B, *spatial, C)` -> `(B, P, C)`; a dense `(B, C)` gets P = 1."""
    shape = tf.shape(acts)
    return tf.reshape(acts, [shape[0], -1, shape[-1]])


def init_state(channels: int) -> tuple:
    """The empty accumulator `(max, min, sum, positives, count)` of `channels`."""
    c = channels
    return (
        tf.fill([c], -np.inf),
        tf.fill([c], np.inf),
        tf.zeros([c], tf.float64),
        tf.zeros([c], tf.float64),
        tf.zeros([], tf.float64),
    )


def batch_stats(acts: tf.Tensor, per_input_max: tf.Tensor) -> tuple:
    """One batch's `(max, min, sum, positives)` per channel, float32 `(C,)` each
    (in the compiled function).

    Args:
      acts: float32 `(B, P, C)`.
      per_input_max: `(B, C)`, the max over positions (already computed for
        ranking, so it is not reduced twice).
    """
    # No masking of non-finite values: that would cost two more tensors of the
    # layer's size per batch; a NaN/Inf shows as a null mean in the JSON.
    return (
        tf.reduce_max(per_input_max, axis=0),
        tf.reduce_min(acts, axis=(0, 1)),
        tf.reduce_sum(acts, axis=(0, 1)),
        # A float sum of a float mask: count_nonzero is several times slower.
        tf.reduce_sum(tf.cast(acts > 0, tf.float32), (0, 1)),
    )


def accumulate(state: tuple, acts: tf.Tensor, per_input_max: tf.Tensor) -> tuple:
    """Adds one batch (`batch_stats`) to `state`, from `init_state` or a
    previous call (in the compiled function)."""
    hi, lo, total, positive, count = state
    b_hi, b_lo, b_total, b_positive = batch_stats(acts, per_input_max)
    return (
        tf.maximum(hi, b_hi),
        tf.minimum(lo, b_lo),
        total + tf.cast(b_total, tf.float64),
        positive + tf.cast(b_positive, tf.float64),
        count + tf.cast(tf.shape(acts)[0] * tf.shape(acts)[1], tf.float64),
    )


def finish(state: tuple, positions: int) -> UnitStats:
    """The `UnitStats` of an accumulator over `positions` positions per input."""
    hi, lo, total, positive, count = (np.asarray(t, np.float64) for t in state)
    values = max(float(count), 1.0)
    return UnitStats(
        count=int(round(float(count) / max(positions, 1))),
        positions=int(positions),
        max=hi,
        min=lo,
        mean=total / values,
        frac_positive=positive / values,
    )


def iterate_batches(
    examples, batch_size: int, input_rank: int
) -> Iterator[np.ndarray | list]:
    """Yields batches of inputs without holding a dataset whole in memory.

    Args:
      examples: an array `(N, *input_shape)`, a list of arrays (several model
        inputs), or a `tf.data.Dataset` of inputs, `(x, y)` pairs, or batches
        of either.
      batch_size: the batch size for arrays and unbatched datasets.
      input_rank: the rank of one input batch (e.g. 4 for images), to tell a
        batched dataset from an unbatched one.
    """
    if isinstance(examples, tf.data.Dataset):
        spec = examples.element_spec
        first = spec[0] if isinstance(spec, (tuple, list)) else spec
        if isinstance(spec, (tuple, list)):
            examples = examples.map(lambda *parts: parts[0])
        if len(first.shape) < input_rank:
            examples = examples.batch(batch_size)
        for batch in examples:
            yield batch.numpy() if hasattr(batch, "numpy") else batch
        return
    parts = examples if isinstance(examples, (list, tuple)) else [examples]
    n = len(parts[0])
    for start in range(0, n, batch_size):
        piece = [np.asarray(p[start : start + batch_size]) for p in parts]
        yield piece if len(piece) > 1 else piece[0]


class UnitHealth:
    """Per-channel statistics of layers over inputs; builds and traces once.

    Attributes:
      paths: the layer paths.
      channels_total: `{path: channel count}`.
    """

    def __init__(
        self,
        model: keras.Model,
        layer_paths: Sequence[str],
        batch_size: int = BATCH_SIZE,
    ):
        """Args:
        model: a built Sequential or functional model (nested models allowed).
        layer_paths: layer paths, e.g. `["conv1", "backbone/block1_conv1"]`.
        batch_size: inputs per forward pass.

        Raises:
          ValueError: an unknown layer (close names listed).
        """
        self.paths = list(layer_paths)
        self._features = layers_lib.feature_model(model, self.paths)
        outs = self._features.outputs
        self.channels_total = {p: int(t.shape[-1]) for p, t in zip(self.paths, outs)}
        self._positions = [int(np.prod([d or 1 for d in t.shape[1:-1]])) for t in outs]
        self._rank = len(model.inputs[0].shape)
        self._batch_size = batch_size
        self._step = traced(self._batch, reduce_retracing=True)

    def _batch(self, batch, states):
        acts = layers_lib.call_features(self._features, batch)
        new = []
        for a, state in zip(acts, states):
            x = flat(tf.cast(a, tf.float32))
            new.append(accumulate(state, x, tf.reduce_max(x, axis=1)))
        return new

    def __call__(self, examples) -> dict[str, UnitStats]:
        """Streams `examples` (see `iterate_batches`) through the model once.

        Returns:
          `{path: UnitStats}`.
        """
        states = [init_state(self.channels_total[p]) for p in self.paths]
        for batch in iterate_batches(examples, self._batch_size, self._rank):
            states = self._step(batch, states)
        return {
            path: finish(state, p)
            for path, state, p in zip(self.paths, states, self._positions)
        }


def unit_health(
    model: keras.Model,
    layer_paths: Sequence[str],
    examples,
    batch_size: int = BATCH_SIZE,
) -> dict[str, UnitStats]:
    """Per-channel statistics of layers over inputs, in one streamed pass.

    Args:
      model: a built Sequential or functional model (nested models allowed).
      layer_paths: layer paths, e.g. `["conv1", "backbone/block1_conv1"]`.
      examples: see `iterate_batches`.
      batch_size: inputs per forward pass.

    Returns:
      `{path: UnitStats}` (max, min, mean, frac_positive, dead, constant per
      channel). The model is not changed.
    """
    return UnitHealth(model, layer_paths, batch_size)(examples)
