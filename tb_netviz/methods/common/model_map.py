"""The model map: every layer with its class, shape, parameters and inputs.

The panel draws it as a searchable tree and a block graph (Netron-like) to pick
layers; it is computed from the model's graph alone, nothing runs.
"""

from __future__ import annotations

from typing import Any

import keras

from tb_netviz.methods.common import class_scores
from tb_netviz.methods.common import layers as layers_lib


def _shape(layer: keras.layers.Layer) -> list | None:
    """The layer's output shape (batch axis as None), or None when ambiguous."""
    try:
        node = layers_lib.single_node(layer)
    except ValueError:
        return None
    tensors = node.output_tensors
    if len(tensors) != 1:
        return None
    return [None if d is None else int(d) for d in tensors[0].shape]


def _inbound(layer: keras.layers.Layer, prefix: str) -> list[str]:
    """Paths of the layers whose outputs feed `layer` in its own model."""
    try:
        node = layers_lib.single_node(layer)
    except ValueError:
        return []
    names = [f"{prefix}{t._keras_history[0].name}" for t in node.input_tensors]
    return list(dict.fromkeys(names))


def model_map(model: keras.Model) -> list[dict[str, Any]]:
    """Every layer of `model` in graph order, nested models' layers included.

    Args:
      model: a built Sequential or functional model.

    Returns:
      One dict per layer, input layers included: `path` (as `layer_paths`
      names it), `class`, `output_shape` (batch axis null; null when the
      layer is used more than once), `params` (weights it owns, nested ones
      included), `parent` (the path of the nested model it sits in, or
      null), `depth` (0 at the top) and `inbound` (paths of the layers that
      feed it, inside the same model), `outputs` (for a layer that is the
      model's outputs, e.g. an all-convolutional net's class convolution:
      "7 channels = the model's outputs", see `class_scores`; else null).
    """
    layers_lib.check_graph(model)
    found: list[dict[str, Any]] = []
    _walk(model, "", None, 0, found)
    notes = class_scores.notes(model)
    for entry in found:
        entry["outputs"] = notes.get(entry["path"])
    return found


def _walk(model: keras.Model, prefix: str, parent, depth: int, found: list) -> None:
    # A Sequential model does not list its input layer: put it first.
    inputs = [t._keras_history[0] for t in model.inputs]
    for layer in [i for i in inputs if i not in model.layers] + list(model.layers):
        path = f"{prefix}{layer.name}"
        found.append(
            {
                "path": path,
                "class": type(layer).__name__,
                "output_shape": _shape(layer),
                "params": int(layer.count_params()) if layer.built else 0,
                "parent": parent,
                "depth": depth,
                "inbound": _inbound(layer, prefix),
            }
        )
        if isinstance(layer, keras.Model):
            _walk(layer, f"{path}/", path, depth + 1, found)
