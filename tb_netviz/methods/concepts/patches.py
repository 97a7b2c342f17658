"""One streamed forward pass to a layer: its activations at (example, position)
pairs as patches, a seeded uniform sample of them, and the non-negativity check.

A patch is the layer's activation vector `(K,)` at one position of one
example (CRAFT factorizes activations of image crops; at a spatial layer each
position is the activation of its receptive field, so no crop is re-run).
The sample is a reservoir: every patch gets a uniform random key from a seeded
generator and the `budget` smallest keys are kept, so memory stays `budget x K`
whatever the number of examples, a dataset is read once, and the sample does
not depend on the batch size.

The factorization needs A >= 0. A layer with a negative activation is refused
rather than shifted: a shift moves the origin that non-negative parts add up
from, so every concept would carry the shift and its coefficient at a position
would no longer say how much of it is there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.common.traced import traced
from tb_netviz.methods.units import health

_NONNEGATIVE = ("relu", "relu6", "sigmoid", "softmax", "softplus", "hard_sigmoid")
# Layers whose output is >= 0 when every input is.
_KEEPS_SIGN = (
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.Flatten,
    keras.layers.Dropout,
    keras.layers.SpatialDropout2D,
    keras.layers.ZeroPadding2D,
    keras.layers.Cropping2D,
    keras.layers.Add,
    keras.layers.Concatenate,
    keras.layers.Maximum,
)


def nonnegative_layers(model: keras.Model) -> list[str]:
    """Paths of the layers whose output is >= 0 by construction (ReLU-like
    activations, and pooling, padding, adding... of such outputs), in graph
    order; nested models' layers included."""
    found: list[str] = []
    ids: set[int] = set()
    for path in layers_lib.layer_paths(model):
        layer = layers_lib.get_layer(model, path)
        if isinstance(layer, keras.Model):
            continue
        try:
            inputs = layers_lib.single_node(layer).input_tensors
        except ValueError:
            continue
        sources = [t._keras_history[0] for t in inputs]
        sources = [s.outputs[0]._keras_history[0] if _nested(s) else s for s in sources]
        relu = isinstance(layer, keras.layers.ReLU) and not layer.negative_slope
        if (
            relu
            or layers_lib.activation_name(layer) in _NONNEGATIVE
            or (isinstance(layer, _KEEPS_SIGN) and all(id(s) in ids for s in sources))
        ):
            found.append(path)
            ids.add(id(layer))
    return found


def _nested(layer) -> bool:
    return isinstance(layer, keras.Model) and len(layer.outputs) == 1


def check_layer(model: keras.Model, layer: str) -> layers_lib.LayerFacts:
    """The layer's facts; raises `ValueError` for an unknown layer (names
    listed) or one without channels last."""
    facts = layers_lib.lookup(model, layer)
    channels_first = getattr(facts.layer, "data_format", "") == "channels_first"
    if len(facts.output_shape) < 2 or channels_first or not facts.num_channels:
        raise ValueError(
            f"Concepts need a layer with channels last, (N, ..., K); {layer!r} has "
            f"output shape {facts.output_shape}"
            f"{' (channels_first)' if channels_first else ''}."
        )
    return facts


def negative_error(model: keras.Model, layer: str, low: float) -> ValueError:
    """The error for a layer with negative (or non-finite) activations."""
    shown = nonnegative_layers(model)
    listed = ", ".join(shown[-12:]) if shown else "none found: add a ReLU"
    what = "a non-finite activation" if not np.isfinite(low) else f"min {low:.4g}"
    return ValueError(
        f"Concepts factorize non-negative activations, but layer {layer!r} gives "
        f"{what} on the examples. Choose a layer after a ReLU-like activation "
        f"(non-negative layers: {listed})."
    )


@dataclasses.dataclass(frozen=True)
class Sample:
    """What the pass saw.

    Attributes:
      patches: per seed, float32 `(n, K)` sampled patches, n = min(budget,
        examples x positions), ordered by key.
      examples: the number of examples read.
      spatial: the layer's spatial shape, e.g. `(12, 12)`; `()` for a vector.
    """

    patches: list[np.ndarray]
    examples: int
    spatial: tuple[int, ...]


class PatchPass:
    """The layer's activations over examples, sampled; builds and traces once."""

    def __init__(
        self,
        model: keras.Model,
        layer: str,
        batch_size: int = health.BATCH_SIZE,
    ):
        """Args: `model` built (nested models allowed), `layer` a checked
        layer path (`check_layer`), `batch_size` inputs per forward pass."""
        self.layer = layer
        self._model = model
        self._features = layers_lib.feature_model(model, [layer])
        self._rank = len(model.inputs[0].shape)
        self.batch_size = batch_size
        self._step = traced(self._batch, reduce_retracing=True)

    def acts(self, batch) -> tf.Tensor:
        """The layer's output on `batch`, float32 `(B, *spatial, K)` (graph ops)."""
        return tf.cast(layers_lib.call_features(self._features, batch)[0], tf.float32)

    def _batch(self, batch):
        acts = self.acts(batch)
        return acts, tf.reduce_min(acts)

    def batches(self, examples):
        """Yields `(acts float32 (B, *spatial, K), min)` per batch of `examples`
        (an array `(M, ...)`, a list of arrays, or a `tf.data.Dataset`)."""
        for batch in health.iterate_batches(examples, self.batch_size, self._rank):
            acts, low = self._step(batch)
            yield acts.numpy(), float(low)

    def __call__(
        self, examples, budget: int, seeds: Sequence[np.random.SeedSequence]
    ) -> Sample:
        """Reads `examples` once, keeping `budget` patches per seed.

        Raises:
          ValueError: a negative or non-finite activation (see the module).
        """
        return self.sample(self.batches(examples), budget, seeds)

    def sample(
        self, batches, budget: int, seeds: Sequence[np.random.SeedSequence]
    ) -> Sample:
        """`__call__` on batches already run: `(acts (B, *spatial, K), min)`
        pairs as `batches` yields them (or another pass to the same layer)."""
        rngs = [np.random.default_rng(s) for s in seeds]
        keys = [np.zeros(0) for _ in seeds]
        kept = [None for _ in seeds]
        seen, spatial = 0, ()
        for acts, low in batches:
            if not low >= 0:  # NaN fails too
                raise negative_error(self._model, self.layer, low)
            spatial = acts.shape[1:-1]
            rows = acts.reshape(-1, acts.shape[-1])
            seen += len(acts)
            for s, rng in enumerate(rngs):
                new = rng.random(len(rows))
                full = len(keys[s]) >= budget
                take = new < keys[s].max() if full else np.ones(len(rows), bool)
                merged = np.concatenate([keys[s], new[take]])
                patches = (
                    rows[take]
                    if kept[s] is None
                    else np.concatenate([kept[s], rows[take]])
                )
                if len(merged) > budget:
                    best = np.argpartition(merged, budget - 1)[:budget]
                    merged, patches = merged[best], patches[best]
                keys[s], kept[s] = merged, patches
        out = []
        for s in range(len(rngs)):
            order = np.argsort(keys[s], kind="stable")
            width = int(self._features.outputs[0].shape[-1])
            empty = np.zeros((0, width), np.float32)
            out.append(empty if kept[s] is None else kept[s][order])
        return Sample(out, seen, tuple(int(d) for d in spatial))
