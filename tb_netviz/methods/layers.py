"""Find layers by path in Keras models and build models that expose their outputs.

A layer path names a layer of the model, or a layer inside a nested model with
`/` between the names: `"backbone/block1_conv1"`. Sequential, functional and
nested models are supported; a subclassed model without a symbolic graph is
not (the error says how to wrap it).

Nothing here changes the caller's model: new `keras.Model` objects are built
on the model's existing symbolic tensors and share its weights.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import keras


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
    # a new node; Keras also lists it as an outbound node of the layers that
    # produced those tensors, which we undo so the user's layers are untouched.
    feed = single_node(layer).input_tensors
    output = inner(unwrap(list(feed)))
    node = inner._inbound_nodes[-1]
    for parent in {id(op): op for op in (t._keras_history[0] for t in feed)}.values():
        parent._outbound_nodes[:] = [n for n in parent._outbound_nodes if n is not node]
    return output


def unwrap(tensors: list):
    """A single input is passed bare, as Keras expects for one-input models."""
    return tensors[0] if len(tensors) == 1 else tensors


def single_node(layer: keras.layers.Layer):
    nodes = layer._inbound_nodes
    if len(nodes) != 1:
        raise ValueError(
            f"Layer {layer.name!r} is called {len(nodes)} times in the model, so its "
            "output is ambiguous; choose a layer that is used exactly once."
        )
    return nodes[0]


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
    outputs = [_symbolic_output(model, path) for path in paths]
    return keras.Model(
        unwrap(model.inputs), outputs, name=f"{model.name}_netviz_features"
    )


def call_features(features: keras.Model, inputs, training: bool = False) -> list:
    """Calls a `feature_model` and returns its outputs as a list, one per path."""
    outputs = features(inputs, training=training)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def output_rank(model: keras.Model, path: str) -> int:
    """Returns the rank of the layer's output, batch axis included (e.g. 4 for conv)."""
    check_graph(model)
    return len(_symbolic_output(model, path).shape)
