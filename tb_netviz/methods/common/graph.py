"""Nodes of a layer in its model's graph, and the guard that keeps them as they were.

Keras records every call of a layer as a node. NetViz reads a layer's output
through its node in the model's graph, and builds its own models on the
caller's symbolic tensors without leaving nodes behind.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

import keras

# The node through which a layer takes part in its model's graph, for layers
# with several nodes: a Sequential model loaded from a file calls each layer
# once per layer after it while it builds, and only one of those nodes is in
# the graph. Found by walking back from the model's outputs.
_GRAPH_NODE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHARED = object()  # a layer used twice in one graph: its output is ambiguous


def record_nodes(model: keras.Model) -> None:
    """Finds each layer's node in `model`'s graph (nested models too)."""
    seen: set[int] = set()
    stack = list(model.outputs)
    while stack:
        operation, index, _ = stack.pop()._keras_history
        node = operation._inbound_nodes[index]
        if id(node) in seen:
            continue
        seen.add(id(node))
        known = _GRAPH_NODE.get(operation)
        if known is not None and known is not node:
            _GRAPH_NODE[operation] = _SHARED
        elif known is None:
            _GRAPH_NODE[operation] = node
        stack.extend(t for t in node.input_tensors if hasattr(t, "_keras_history"))
    for layer in model.layers:
        if isinstance(layer, keras.Model) and layer.outputs:
            record_nodes(layer)


def single_node(layer: keras.layers.Layer):
    """The node of `layer` in its model's graph (see `check_graph`).

    Raises:
      ValueError: the layer is called more than once in the graph.
    """
    nodes = layer._inbound_nodes
    if len(nodes) == 1:
        return nodes[0]
    found = _GRAPH_NODE.get(layer)
    if found is None or found is _SHARED:
        raise ValueError(
            f"Layer {layer.name!r} is called {len(nodes)} times in the model, so its "
            "output is ambiguous; choose a layer that is used exactly once."
        )
    return found


def all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """`model` and every layer inside it, nested models' layers included."""
    found, stack = [], [model]
    while stack:
        layer = stack.pop()
        found.append(layer)
        if isinstance(layer, keras.Model):
            stack.extend(layer.layers)
    return found


@contextlib.contextmanager
def outbound_nodes_kept(model: keras.Model) -> Iterator[None]:
    """Restores every layer's `_outbound_nodes` list on exit.

    Building Keras graphs on the caller's symbolic tensors appends to the
    `_outbound_nodes` of the caller's layers; every graph NetViz builds is
    built inside this guard, so the caller's model is left exactly as it was.
    """
    saved = [(layer, list(layer._outbound_nodes)) for layer in all_layers(model)]
    try:
        yield
    finally:
        for layer, nodes in saved:
            layer._outbound_nodes[:] = nodes
