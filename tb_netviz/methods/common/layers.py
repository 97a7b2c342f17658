"""Find layers by path in Keras models and build models that expose their outputs.

A layer path names a layer of the model, or a layer inside a nested model with
`/` between the names: `"backbone/block1_conv1"`. Sequential, functional and
nested models are supported; a subclassed model without a symbolic graph is
not (the error says how to wrap it).

Nothing here changes the caller's model: new `keras.Model` objects are built
on the model's existing symbolic tensors and share its weights.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence

import keras
import numpy as np

from tb_netviz.methods.common import graph

# The methods reach a layer's node and the outbound-node guard through this
# module, with the rest of the layer facts.
from tb_netviz.methods.common.graph import outbound_nodes_kept, single_node


def check_backend() -> None:
    """Raises `RuntimeError` unless Keras runs on the TensorFlow backend."""
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"tb_netviz needs the TensorFlow Keras backend, but KERAS_BACKEND is "
            f"{keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow before "
            "importing keras."
        )


def layer_paths(model: keras.Model) -> list[str]:
    """Lists every layer path of `model`, nested models' layers included.

    Returns:
      Paths in graph order, e.g. `["conv1", "backbone", "backbone/block1_conv1"]`.
      Input layers are left out.
    """
    paths = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        paths.append(layer.name)
        if isinstance(layer, keras.Model):
            paths.extend(f"{layer.name}/{p}" for p in layer_paths(layer))
    return paths


def check_channels(
    channels: Sequence[int], num_channels: int, layer: str, what: str = "channels"
) -> list[int]:
    """Returns `channels` as ints, or raises naming the layer's channel range.

    Args:
      channels: requested channel (or unit) indices, at least one.
      num_channels: the layer's channel count.
      layer: the layer path, for the message.
      what: the argument's name, for the message (e.g. `"channels"`).

    Raises:
      ValueError: no channel, or a channel outside `[0, num_channels)`.
    """
    chosen = [int(c) for c in channels]
    bad = [c for c in chosen if not 0 <= c < num_channels]
    if bad or not chosen:
        raise ValueError(
            f"{what} {bad or chosen} out of range: layer {layer!r} has "
            f"{num_channels} channels (0..{num_channels - 1}); pass at least one"
        )
    return chosen


def check_float_inputs(model: keras.Model, method: str) -> None:
    """Raises `ValueError` if an input of `model` is not floating point.

    Gradient methods differentiate with respect to the input; no gradient
    reaches integer inputs such as token ids.
    """
    for tensor in model.inputs:
        dtype = keras.backend.standardize_dtype(tensor.dtype)
        if not dtype.startswith(("float", "bfloat")):
            raise ValueError(
                f"{method} needs a gradient with respect to the model's input, but "
                f"input {tensor._keras_history[0].name!r} is {dtype} (e.g. token ids), "
                "which no gradient "
                "reaches. Log activations instead (activations_freq), or visualize a "
                "model that takes float inputs (e.g. from the embedding on)."
            )


def _unknown_layer_error(model: keras.Model, path: str) -> ValueError:
    names = layer_paths(model)
    close = difflib.get_close_matches(path, names, n=5, cutoff=0.4)
    hint = f" Closest: {', '.join(close)}." if close else ""
    shown = ", ".join(names[:60]) + (" ..." if len(names) > 60 else "")
    return ValueError(
        f"Model {model.name!r} has no layer {path!r}.{hint} Layer paths: {shown}"
    )


def check_graph(model: keras.Model) -> None:
    """Raises `ValueError` unless `model` has symbolic inputs and outputs."""
    try:
        inputs = model.inputs
        outputs = model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ValueError(
            f"Model {model.name!r} has no symbolic inputs: it was never built, or it "
            "is a subclassed model. Build it on a keras.Input first, e.g. "
            "`inp = keras.Input(shape); model = keras.Model(inp, net(inp))`, or give "
            "a Sequential model an `keras.Input(shape)` as its first layer."
        )
    graph.record_nodes(model)


def get_layer(model: keras.Model, path: str) -> keras.layers.Layer:
    """Returns the layer at `path`; an unknown one raises `ValueError` with names."""
    current = model
    for part in path.split("/"):
        if not isinstance(current, keras.Model):
            raise _unknown_layer_error(model, path)
        try:
            current = current.get_layer(part)
        except ValueError:
            raise _unknown_layer_error(model, path) from None
    return current


def _symbolic_output(model: keras.Model, path: str):
    """Returns the KerasTensor of `path`'s output in terms of `model.inputs`."""
    head, _, rest = path.partition("/")
    layer = get_layer(model, head)
    if not rest:
        return single_node(layer).output_tensors[0]
    if not isinstance(layer, keras.Model):
        raise _unknown_layer_error(model, path)
    check_graph(layer)
    inner = keras.Model(unwrap(layer.inputs), _symbolic_output(layer, rest))
    # Calling `inner` on the tensors that feed `layer` in the outer graph makes
    # a new node, which Keras lists as an outbound node of the layers that
    # produced them: callers build inside `outbound_nodes_kept`, which undoes it.
    return inner(unwrap(list(single_node(layer).input_tensors)))


def unwrap(tensors: list):
    """A single input is passed bare, as Keras expects for one-input models."""
    return tensors[0] if len(tensors) == 1 else tensors


def feature_model(model: keras.Model, paths: Sequence[str]) -> keras.Model:
    """Builds a model from `model`'s inputs to the outputs of the layers at `paths`.

    Args:
      model: a built Sequential or functional model (nested models allowed).
      paths: layer paths; see `layer_paths`.

    Returns:
      A `keras.Model` sharing `model`'s weights with one output per path, in the
      order given. Keras returns a bare tensor, not a list, when there is one
      path: call it through `call_features` to always get a list.

    Raises:
      ValueError: an unknown path (the message lists close layer paths), or a
        model without a symbolic graph.
    """
    check_backend()
    check_graph(model)
    for path in paths:
        get_layer(model, path)  # fail on the first unknown path, with names
    with outbound_nodes_kept(model):
        outputs = [_symbolic_output(model, path) for path in paths]
    return keras.Model(
        unwrap(model.inputs), outputs, name=f"{model.name}_netviz_features"
    )


def call_features(features: keras.Model, inputs, training: bool = False) -> list:
    """Calls a `feature_model` and returns its outputs as a list, one per path."""
    outputs = features(inputs, training=training)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


@dataclasses.dataclass(frozen=True)
class LayerFacts:
    """What NetViz needs to know about one layer of a model.

    Attributes:
      path: the layer path.
      layer: the Keras layer.
      output_shape: its output shape, batch axis included, e.g.
        `(None, 16, 16, 32)`; in terms of the outer model's inputs for a
        layer inside a nested model.
      activation: the name of the activation it applies last ("softmax" for
        a `Softmax` layer, "linear" when it has none).
    """

    path: str
    layer: keras.layers.Layer
    output_shape: tuple
    activation: str

    @property
    def num_channels(self) -> int | None:
        """The size of the last axis (channels or units), if known."""
        return self.output_shape[-1] if len(self.output_shape) >= 2 else None


def lookup(model: keras.Model, path: str) -> LayerFacts:
    """The facts of the layer at `path` (see `LayerFacts`).

    Raises:
      ValueError: an unknown path (close names listed), a layer used more than
        once, or a model without a symbolic graph.
    """
    check_backend()
    check_graph(model)
    layer = get_layer(model, path)
    if "/" in path:  # a nested layer: its shape as the outer model feeds it
        with outbound_nodes_kept(model):
            shape = tuple(_symbolic_output(model, path).shape)
    else:
        node = single_node(layer)
        if len(node.output_tensors) != 1:
            raise ValueError(
                f"Layer {path!r} has {len(node.output_tensors)} outputs; choose a "
                "layer with one output."
            )
        shape = tuple(node.output_tensors[0].shape)
    return LayerFacts(path, layer, shape, activation_name(layer))


def activation_name(layer: keras.layers.Layer) -> str:
    """The activation a layer applies last: "softmax" for `Softmax`, else the
    name of its `activation` ("linear" when it has none)."""
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    fn = getattr(layer, "activation", None)
    return getattr(fn, "__name__", "linear") if fn is not None else "linear"


def check_input_range(input_range) -> tuple[float, float]:
    """Returns `(lo, hi)` as floats, or raises unless finite with lo < hi."""
    try:
        lo, hi = (float(v) for v in input_range)
    except (TypeError, ValueError):
        raise ValueError(f"input_range must be (lo, hi), got {input_range!r}") from None
    if not (np.isfinite([lo, hi]).all() and lo < hi):
        raise ValueError(
            f"input_range must be finite with lo < hi, got {input_range!r}"
        )
    return lo, hi
