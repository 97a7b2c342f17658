"""Which layers are the model's outputs: class scores, not features.

In an all-convolutional classifier (conv -> ... -> 1x1 class convolution ->
global pooling -> softmax) the class convolution's channels *are* the model's
outputs: channel k is class k's score map, and a picture of it shows a class,
not a feature. A layer counts here when the model's output follows from it
through single-input layers that mix no channels (no weights: pooling,
flatten, activations, softmax, dropout; or a per-channel normalization), and
it has as many channels (units) as that output. The walk back from an output
stops at the first layer that mixes channels (the class convolution, a dense
classifier's logits), which counts too.
"""

from __future__ import annotations

import dataclasses

import keras

from tb_netviz.methods.common import layers as layers_lib

# Layers with weights that still treat each channel on its own.
_PER_CHANNEL = (keras.layers.BatchNormalization,)


@dataclasses.dataclass(frozen=True)
class Link:
    """One layer on the way back from a model output.

    Attributes:
      path: the layer's path (`layers.layer_paths`).
      layer: the layer.
      shape: its output shape, batch axis included (None for unknown sizes).
      mixes: whether it mixes channels (the first such layer ends the walk).
    """

    path: str
    layer: keras.layers.Layer
    shape: tuple
    mixes: bool


def _paths(model: keras.Model) -> dict[int, str]:
    """`{id(layer): path}` of every layer, nested ones included."""
    return {
        id(layers_lib.get_layer(model, p)): p for p in layers_lib.layer_paths(model)
    }


def _unnest(layer: keras.layers.Layer) -> keras.layers.Layer:
    """A nested one-output model's output layer (repeatedly), else `layer`."""
    while isinstance(layer, keras.Model) and len(layer.outputs) == 1:
        layer = layer.outputs[0]._keras_history[0]
    return layer


def chains(model: keras.Model) -> list[list[Link]]:
    """Per model output, the layers from it back to the first that mixes
    channels (included), through single-input layers only; `[]` for a model
    without a symbolic graph (its own checks say so elsewhere)."""
    try:
        layers_lib.check_graph(model)
    except ValueError:
        return []
    paths = _paths(model)
    found = []
    for tensor in model.outputs:
        chain: list[Link] = []
        layer = _unnest(tensor._keras_history[0])
        while id(layer) in paths:
            try:
                node = layers_lib.single_node(layer)
            except ValueError:
                break  # a shared layer: its output is not one tensor
            mixes = bool(layer.weights) and not isinstance(layer, _PER_CHANNEL)
            shape = tuple(node.output_tensors[0].shape)
            chain.append(Link(paths[id(layer)], layer, shape, mixes))
            if mixes or len(node.input_tensors) != 1:
                break
            layer = _unnest(node.input_tensors[0]._keras_history[0])
        found.append(chain)
    return found


def notes(model: keras.Model) -> dict[str, str]:
    """`{path: note}` of the layers that are the model's outputs, e.g.
    `{"classes": "7 channels = the model's outputs"}` (a vector layer's
    note says "units")."""
    found = {}
    for chain in chains(model):
        if not chain:
            continue
        units = chain[0].shape[-1]
        for link in chain:
            if units is not None and link.shape[-1] == units:
                what = "channels" if len(link.shape) >= 3 else "units"
                found.setdefault(link.path, f"{units} {what} = the model's outputs")
    return found


def class_convolution(model: keras.Model, path: str) -> Link | None:
    """The class convolution whose scores the layer at `path` carries to an
    output (the convolution itself, or a layer after it), else None."""
    for chain in chains(model):
        if not chain or not any(link.path == path for link in chain):
            continue
        end, units = chain[-1], chain[0].shape[-1]
        if end.mixes and len(end.shape) >= 3 and end.shape[-1] == units:
            return end
    return None
