"""The real inputs that drive each channel most: a streamed top-k over examples.

One batched forward pass over the examples computes, for every chosen layer
and channel, each input's maximum over positions; a running top-k kept inside
the compiled function merges each batch into the best k so far, so memory is
bounded by k x channels whatever the number of examples. The same pass
accumulates the unit statistics of `units.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.common.receptive_field import Field, receptive_field
from tb_netviz.methods.common.traced import traced
from tb_netviz.methods.units import health as units


@dataclasses.dataclass(frozen=True)
class Exemplars:
    """One layer's top-k examples per chosen channel.

    Attributes:
      channels: the chosen channel indices `(C,)`.
      indices: int64 `(C, k)` example indices, best first (ties: lower index).
      activations: float32 `(C, k)`, the channel's maximum over positions.
      positions: int64 `(C, k, S)`, where that maximum is (S spatial axes of
        the layer's output, 0 for a dense layer); the first such position.
      boxes: int64 `(C, k, 2A)`, the receptive field there in input pixels,
        `(y0, x0, y1, x1)` for images (stops exclusive), clipped to the input.
      windows: like `boxes`, not clipped (what a crop of fixed size shows).
      field: the layer's `Field`.
      stats: the layer's `units.UnitStats` over the examples (every channel).
    """

    channels: np.ndarray
    indices: np.ndarray
    activations: np.ndarray
    positions: np.ndarray
    boxes: np.ndarray
    windows: np.ndarray
    field: Field
    stats: units.UnitStats


class ExamplesPass:
    """Streams examples through a model once; builds and traces once.

    Attributes:
      paths: the layer paths.
      channels: `{path: chosen channel indices}`.
      fields: `{path: receptive field}`.
    """

    def __init__(
        self,
        model: keras.Model,
        layer_paths: Sequence[str],
        k: int = 9,
        channels: dict[str, Sequence[int]] | Sequence[int] | None = None,
        batch_size: int = units.BATCH_SIZE,
    ):
        """Args:
        model: a built Sequential or functional model (nested models allowed).
        layer_paths: layer paths.
        k: examples kept per channel (>= 1).
        channels: channel indices for every layer, `{path: indices}`, or None
          for every channel.
        batch_size: inputs per forward pass.

        Raises:
          ValueError: unknown layer, channel out of range, k < 1.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}")
        self.paths = list(layer_paths)
        self.k = k
        self.batch_size = batch_size
        self._features = layers_lib.feature_model(model, self.paths)
        outs = self._features.outputs
        self._spatial = [tuple(int(d or 1) for d in t.shape[1:-1]) for t in outs]
        self.channels = {}
        for path, t in zip(self.paths, outs):
            chosen = channels.get(path) if isinstance(channels, dict) else channels
            total = int(t.shape[-1])
            self.channels[path] = (
                list(range(total))
                if chosen is None
                else layers_lib.check_channels(chosen, total, path)
            )
        self.fields = {path: receptive_field(model, path) for path in self.paths}
        self._every = {
            p
            for p, t in zip(self.paths, outs)
            if self.channels[p] == list(range(int(t.shape[-1])))
        }
        self._rank = len(model.inputs[0].shape)
        self._positions = [int(np.prod(sp)) if sp else 1 for sp in self._spatial]
        # One state for every layer, whatever their number (a call's cost grows
        # with the tensors it takes and returns): the ranked rows of all layers
        # stacked, S = their chosen channels, and every channel's statistics,
        # T = all channels; `_rows` the positions of each ranked row's layer.
        self._ranked = [len(self.channels[p]) for p in self.paths]
        self._totals = [int(t.shape[-1]) for t in outs]
        self._rows = tf.constant(
            np.repeat(self._positions, self._ranked).astype(np.int64)
        )
        self._step = traced(self._batch, reduce_retracing=True)

    def _batch(self, batch, offset, state):
        """Merges one batch into `state` = `(values (S, k), keys (S, k),
        extremes (2, T), sums (2, T))`: the best k so far of each ranked row
        (key = example index x positions + the position of its maximum), each
        channel's `(max, min)` and float64 `(sum, positives)`."""
        values, keys, extremes, sums = state
        outs = layers_lib.call_features(self._features, batch)
        ranked, where, stats = [], [], ([], [], [], [])  # stats: max, min, sum, pos
        for path, acts in zip(self.paths, outs):
            x = units.flat(tf.cast(acts, tf.float32))  # (B, P, C)
            per_input = tf.reduce_max(x, axis=1)  # (B, C)
            at = tf.argmax(x, axis=1)  # (B, C): the first position of the maximum
            mine = per_input
            if path not in self._every:  # no gather when every channel is ranked
                mine = tf.gather(per_input, self.channels[path], axis=1)
                at = tf.gather(at, self.channels[path], axis=1)
            ranked.append(tf.transpose(mine))
            where.append(tf.transpose(at))
            for kept, value in zip(stats, units.batch_stats(x, per_input)):
                kept.append(value)
        ranked = tf.concat(ranked, axis=0)  # (S, B)
        ranked = tf.where(tf.math.is_nan(ranked), -np.inf, ranked)
        # The batch's own best k first (stable: ties keep the lower index).
        # Padded to k columns of -inf so that a batch smaller than k works;
        # the padding ranks after every real input (top_k is stable).
        ranked = tf.pad(ranked, [[0, 0], [0, self.k]], constant_values=-np.inf)
        batch_best = tf.math.top_k(ranked, k=self.k, sorted=True)
        rows = tf.minimum(batch_best.indices, tf.shape(outs[0])[0] - 1)
        at = tf.gather(tf.concat(where, axis=0), rows, batch_dims=1)  # (S, k)
        idx = tf.cast(batch_best.indices, tf.int64) + offset
        # Kept entries first: equal values keep the lower index (top_k is
        # stable, and kept entries come from earlier batches).
        vals = tf.concat([values, batch_best.values], axis=1)
        both = tf.concat([keys, idx * self._rows[:, None] + at], axis=1)
        best = tf.math.top_k(vals, k=self.k, sorted=True)
        hi, lo, total, positive = (tf.concat(t, axis=0) for t in stats)
        return (
            best.values,
            tf.gather(both, best.indices, batch_dims=1),
            tf.stack([tf.maximum(extremes[0], hi), tf.minimum(extremes[1], lo)]),
            sums + tf.cast(tf.stack([total, positive]), tf.float64),
        )

    def __call__(self, examples) -> dict[str, Exemplars]:
        """Runs the examples through the model in inference mode.

        Args:
          examples: an array `(N, *input_shape)`, a list of arrays, or a
            `tf.data.Dataset` (see `units.iterate_batches`); iterated once.

        Returns:
          `{path: Exemplars}` with k = min(k, N) examples per channel.
        """
        s, t = sum(self._ranked), sum(self._totals)
        state = (
            tf.fill([s, self.k], -np.inf),
            tf.fill([s, self.k], np.int64(-1)),
            tf.constant([[-np.inf] * t, [np.inf] * t], tf.float32),
            tf.zeros([2, t], tf.float64),
        )
        seen = 0
        for batch in units.iterate_batches(examples, self.batch_size, self._rank):
            offset = tf.constant(seen, tf.int64)
            state = self._step(batch, offset, state)
            seen += len(batch[0] if isinstance(batch, list) else batch)
        keep = min(self.k, seen)
        values, keys, extremes, sums = (np.asarray(a) for a in state)
        found, r0, c0 = {}, 0, 0
        for path, spatial, p, r, c in zip(
            self.paths, self._spatial, self._positions, self._ranked, self._totals
        ):
            key = keys[r0 : r0 + r, :keep]
            flat_pos = np.where(key >= 0, key % p, 0)
            positions = (
                np.stack(np.unravel_index(flat_pos, spatial), -1)
                if spatial
                else np.zeros(flat_pos.shape + (0,), np.int64)
            )
            health = (*extremes[:, c0 : c0 + c], *sums[:, c0 : c0 + c], seen * p)
            field = self.fields[path]
            found[path] = Exemplars(
                channels=np.asarray(self.channels[path], np.int64),
                indices=np.where(key >= 0, key // p, -1),
                activations=values[r0 : r0 + r, :keep].astype(np.float32),
                positions=positions.astype(np.int64),
                boxes=field.boxes(positions),
                windows=field.windows(positions),
                field=field,
                stats=units.finish(health, p),
            )
            r0, c0 = r0 + r, c0 + c
        return found


def gather(
    examples, indices, input_rank: int, batch_size: int = units.BATCH_SIZE
) -> dict[int, np.ndarray]:
    """The examples at `indices` (first model input), read in one more pass.

    Args:
      examples: as for `ExamplesPass`; a dataset is iterated again.
      indices: example indices.
      input_rank: the rank of a batch of the model's first input.
      batch_size: inputs per batch for an unbatched dataset.

    Returns:
      `{index: input array}`.
    """
    wanted = sorted({int(i) for i in np.asarray(indices).reshape(-1) if i >= 0})
    if not isinstance(examples, tf.data.Dataset):
        first = examples[0] if isinstance(examples, (list, tuple)) else examples
        return {i: np.asarray(first[i]) for i in wanted}
    found, seen, todo = {}, 0, set(wanted)
    for batch in units.iterate_batches(examples, batch_size, input_rank):
        part = batch[0] if isinstance(batch, list) else batch
        for j in range(len(part)):
            if seen + j in todo:
                found[seen + j] = np.asarray(part[j])
        seen += len(part)
        if len(found) == len(todo):
            break
    return found


def top_examples(
    model: keras.Model,
    layer: str,
    examples,
    channels: Sequence[int] | None = None,
    k: int = 9,
    batch_size: int = units.BATCH_SIZE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The top-k examples of each channel of a layer, and where they peak.

    Args:
      model: a built Sequential or functional model (nested models allowed).
      layer: a layer path, e.g. `"backbone/block1_conv1"`.
      examples: an array `(N, *input_shape)`, or a `tf.data.Dataset` iterated
        in batches (never held whole in memory).
      channels: channel indices; None for all.
      k: examples per channel.
      batch_size: inputs per forward pass.

    Returns:
      `(indices, activations, positions, boxes)`: int64 `(C, k)` example
      indices ranked by the channel's maximum over positions (ties: lower
      index first), float32 `(C, k)` those maxima, int64 `(C, k, S)` the
      output position of each maximum, int64 `(C, k, 4)` the receptive-field
      box there in input pixels `(y0, x0, y1, x1)` (stops exclusive; the whole
      input where the graph has a global operation). The model is not changed.
    """
    found = ExamplesPass(model, [layer], k, channels, batch_size)(examples)[layer]
    return found.indices, found.activations, found.positions, found.boxes
