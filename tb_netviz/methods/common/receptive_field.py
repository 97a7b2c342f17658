"""Receptive fields from the layer graph: which input pixels can reach a unit.

Walks the Keras graph from the model's inputs to a layer, composing per spatial
axis the map of an output position `p` to the input interval
`[offset + p * jump, offset + p * jump + size)` through convolutions and pooling
(kernel size, stride, dilation, `"valid"`/`"same"` padding), zero padding and
cropping, element-wise layers (activations, normalization, `Add`, ...) and
nested models. Where arithmetic cannot say (attention, global pooling,
flattening, dense, resizing, an unknown layer), the field is the whole input:
a box that is too large is still true, one that is too small would not be.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from tb_netviz.methods.common import layers as layers_lib

# Layers that keep every position where it is (channels may change).
_POINTWISE = (
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.PReLU,
    keras.layers.ELU,
    keras.layers.Softmax,
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.Dropout,
    keras.layers.SpatialDropout2D,
    keras.layers.GaussianNoise,
    keras.layers.Rescaling,
    keras.layers.Normalization,
    keras.layers.Identity,
    keras.layers.Add,
    keras.layers.Subtract,
    keras.layers.Multiply,
    keras.layers.Average,
    keras.layers.Maximum,
    keras.layers.Minimum,
    keras.layers.Concatenate,
)


@dataclasses.dataclass(frozen=True)
class Field:
    """The receptive field of one tensor's positions, per spatial axis.

    Attributes:
      jump: input pixels between neighbouring output positions, per axis.
      size: input pixels each position sees, per axis.
      offset: input pixel where position 0's field starts (may be < 0).
      input_shape: the model input's spatial shape, e.g. `(32, 32)`.
      exact: False when arithmetic could not say: every box is the whole input.
    """

    jump: tuple[int, ...]
    size: tuple[int, ...]
    offset: tuple[int, ...]
    input_shape: tuple[int, ...]
    exact: bool = True

    def boxes(self, positions: np.ndarray) -> np.ndarray:
        """Input boxes of output positions, clipped to the input.

        Args:
          positions: int array `(..., S)` of output positions (S spatial axes
            of the layer's output; S may be 0 for a dense output).

        Returns:
          int array `(..., 2 * A)` with A the input's spatial axes:
          `(start_0, ..., start_{A-1}, stop_0, ..., stop_{A-1})`, stops
          exclusive; e.g. `(y0, x0, y1, x1)` for images.
        """
        positions = np.asarray(positions, np.int64)
        lead = positions.shape[:-1]
        full = np.asarray(self.input_shape, np.int64)
        if not self.exact or positions.shape[-1] != len(self.input_shape):
            starts = np.zeros(lead + full.shape, np.int64)
            return np.concatenate([starts, np.broadcast_to(full, starts.shape)], -1)
        starts = np.asarray(self.offset) + positions * np.asarray(self.jump)
        stops = starts + np.asarray(self.size)
        return np.concatenate([np.clip(starts, 0, full), np.clip(stops, 0, full)], -1)

    def windows(self, positions: np.ndarray) -> np.ndarray:
        """Like `boxes` but not clipped: the whole field, partly outside the input."""
        positions = np.asarray(positions, np.int64)
        if not self.exact or positions.shape[-1] != len(self.input_shape):
            return self.boxes(positions)
        starts = np.asarray(self.offset) + positions * np.asarray(self.jump)
        return np.concatenate([starts, starts + np.asarray(self.size)], -1)


def _whole(shape: tuple[int, ...]) -> Field:
    ones = (1,) * len(shape)
    return Field(ones, tuple(shape), (0,) * len(shape), tuple(shape), exact=False)


def _tuple(value, rank: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value),) * rank


def _window(layer, field: Field, in_shape: tuple) -> Field:
    """A sliding window: convolution, pooling (kernel, stride, dilation, padding)."""
    rank = len(field.jump)
    kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    kernel = _tuple(kernel, rank)
    strides = _tuple(getattr(layer, "strides", None) or kernel, rank)
    dilation = _tuple(getattr(layer, "dilation_rate", 1), rank)
    padding = str(getattr(layer, "padding", "valid")).lower()
    if len(kernel) != rank or getattr(layer, "data_format", None) == "channels_first":
        return _whole(field.input_shape)
    jump, size, offset = [], [], []
    for axis in range(rank):
        k_eff = dilation[axis] * (kernel[axis] - 1) + 1
        st, n = strides[axis], in_shape[1 + axis]
        if padding == "same":
            if n is None:
                return _whole(field.input_shape)
            out = math.ceil(n / st)
            before = max((out - 1) * st + k_eff - n, 0) // 2  # TensorFlow's rule
        elif padding == "valid":
            before = 0
        else:  # "causal" and the like
            return _whole(field.input_shape)
        j = field.jump[axis]
        jump.append(j * st)
        size.append(field.size[axis] + (k_eff - 1) * j)
        offset.append(field.offset[axis] - before * j)
    return Field(tuple(jump), tuple(size), tuple(offset), field.input_shape)


def _shift(layer, field: Field) -> Field:
    """Zero padding (moves position 0 back) and cropping (moves it forward)."""
    rank = len(field.jump)
    amounts = layer.padding if hasattr(layer, "padding") else layer.cropping
    amounts = [a if isinstance(a, (tuple, list)) else (a, a) for a in amounts]
    if len(amounts) != rank or getattr(layer, "data_format", None) == "channels_first":
        return _whole(field.input_shape)
    sign = (
        -1
        if isinstance(layer, (keras.layers.ZeroPadding1D, keras.layers.ZeroPadding2D))
        else 1
    )
    offset = tuple(
        o + sign * a[0] * j for o, a, j in zip(field.offset, amounts, field.jump)
    )
    return dataclasses.replace(field, offset=offset)


def _merge(fields: list[Field]) -> Field:
    """Several inputs to a position-wise layer: the union of their fields."""
    first = fields[0]
    if any(not f.exact for f in fields) or len({f.jump for f in fields}) != 1:
        return _whole(first.input_shape)
    starts = [min(f.offset[a] for f in fields) for a in range(len(first.jump))]
    stops = [
        max(f.offset[a] + f.size[a] for f in fields) for a in range(len(first.jump))
    ]
    size = tuple(b - a for a, b in zip(starts, stops))
    return Field(first.jump, size, tuple(starts), first.input_shape)


class _Walker:
    """Computes fields of tensors of one (possibly nested) functional graph."""

    def __init__(self, inputs: dict[int, Field]):
        self._memo = dict(inputs)  # id(KerasTensor) -> Field

    def field(self, tensor) -> Field:
        key = id(tensor)
        if key not in self._memo:
            self._memo[key] = self._compute(tensor)
        return self._memo[key]

    def _compute(self, tensor) -> Field:
        op, node_index, _ = tensor._keras_history
        node = op._inbound_nodes[node_index]
        ins = [self.field(t) for t in node.input_tensors]
        if not ins:
            raise ValueError(f"tensor {tensor.name!r} is not reached from the inputs")
        whole = _whole(ins[0].input_shape)
        if any(not f.exact for f in ins):
            return whole
        if isinstance(op, keras.Model):
            layers_lib.check_graph(op)
            inner = _Walker(dict(zip(map(id, op.inputs), ins)))
            outputs = [t for t in op.outputs]
            return inner.field(outputs[0]) if len(outputs) == 1 else whole
        if isinstance(op, _POINTWISE):
            return _merge(ins)
        rank = len(ins[0].jump)
        in_shape = tuple(node.input_tensors[0].shape)
        if len(in_shape) != rank + 2:
            return whole
        if hasattr(op, "kernel_size") and not isinstance(op, _TRANSPOSED):
            return _window(op, ins[0], in_shape)
        if hasattr(op, "pool_size") and not isinstance(op, _GLOBAL):
            return _window(op, ins[0], in_shape)
        if isinstance(op, _SHIFT):
            return _shift(op, ins[0])
        return whole


_TRANSPOSED = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose)
_GLOBAL = (
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
)
_SHIFT = (
    keras.layers.ZeroPadding1D,
    keras.layers.ZeroPadding2D,
    keras.layers.Cropping1D,
    keras.layers.Cropping2D,
)


def receptive_field(model: keras.Model, path: str) -> Field:
    """The receptive field of the layer at `path` in the model's (first) input.

    Args:
      model: a built Sequential or functional model (nested models allowed).
      path: a layer path, e.g. `"backbone/block1_conv1"`.

    Returns:
      A `Field`; its `boxes(positions)` gives crop boxes in input pixels. For an
      input that is not an image or a sequence `(N, *spatial, C)`, or a layer
      beyond a global operation, every box is the whole input.

    Raises:
      ValueError: an unknown path, or a model without a symbolic graph.
    """
    layers_lib.check_graph(model)
    layers_lib.get_layer(model, path)
    shape = tuple(model.inputs[0].shape[1:-1])
    if not shape or any(d is None for d in shape):
        return _whole(tuple(d or 1 for d in shape))
    start = Field((1,) * len(shape), (1,) * len(shape), (0,) * len(shape), shape)
    walker = _Walker({id(t): start for t in model.inputs})
    if len(model.inputs) > 1:  # fields in the first input only
        walker = _Walker(
            {
                id(t): start if i == 0 else _whole(shape)
                for i, t in enumerate(model.inputs)
            }
        )
    head, _, rest = path.partition("/")
    graph, layer = model, layers_lib.get_layer(model, head)
    while rest:
        node = layers_lib.single_node(layer)
        ins = [walker.field(t) for t in node.input_tensors]
        if any(not f.exact for f in ins):
            return _whole(shape)
        walker = _Walker(dict(zip(map(id, layer.inputs), ins)))
        graph = layer
        head, _, rest = rest.partition("/")
        layer = layers_lib.get_layer(graph, head)
    return walker.field(layers_lib.single_node(layer).output_tensors[0])
