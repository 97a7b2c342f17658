"""The blocks of a cascading weight randomization, and how to re-initialize one.

A reconstruction of layer L depends only on the layers that compute L, so
the cascade runs over those, from L (the top) down to the input; the layers
above L (the head) are left out: randomizing them changes nothing here.

A **block** is a group of layers that the cascade randomizes in one step:

- in a chain, every layer with weights is its own block;
- where the graph forks and joins again (a residual block, an Inception
  module), everything between the fork and the join, the join included, is
  one block: the weighted layers of both branches are randomized together.

Formally, the layers on the paths from the input to L are put in a
topological order; a layer is a *cut point* when every path from the input
to L goes through it (no edge of the graph jumps over it in that order).
A block ends at each cut point and holds the layers since the previous one;
blocks without weights are skipped. Nested models are looked into: their
layers are blocks like any other (paths `"backbone/conv1"`).

A layer's weights are re-initialized by the layer's own initializers (e.g.
`kernel_initializer` for `kernel`, with a fixed seed), as Adebayo et al.
2018 do; a variable without one (a custom layer) gets a random permutation
of its own values.
"""

from __future__ import annotations

import keras
import numpy as np

from tb_netviz.methods.common import layers as layers_lib


def _inputs(node) -> list:
    return [t for t in node.input_tensors if hasattr(t, "_keras_history")]


def leaf_graph(model: keras.Model, path: str):
    """The layers that compute `path`'s output, nested models looked into.

    Returns:
      `(order, edges)`: `order` the `(path, layer)` pairs in topological order,
      inputs first; `edges` `(i, j)` pairs of positions in `order`, -1 for
      the model input.
    """
    layers_lib.check_graph(model)
    head, *rest = path.split("/")
    scope = ({}, "")  # (inner input id -> (outer tensor, outer scope), prefix)
    current, layer = model, layers_lib.get_layer(model, head)
    # Walk down the nested models of `path` to the target's tensor.
    for part in rest:
        node = layers_lib.single_node(layer)
        bind = {
            id(x): (outer, scope)
            for x, outer in zip(keras.tree.flatten(layer.inputs), _inputs(node))
        }
        scope = (bind, f"{scope[1]}{layer.name}/")
        current, layer = layer, layer.get_layer(part)
    del current
    target = layers_lib.single_node(layer).output_tensors[0]
    order: list[tuple[str, keras.layers.Layer]] = []
    index: dict[int, int] = {}
    edges: set[tuple[int, int]] = set()

    def producer(tensor, scope) -> int:
        """Position in `order` of the leaf that makes `tensor` (-1: the input)."""
        while True:
            bind, prefix = scope
            if id(tensor) in bind:  # a nested model's input: go out
                tensor, scope = bind[id(tensor)]
                continue
            op, node_index, tensor_index = tensor._keras_history
            node = op._inbound_nodes[node_index]
            if isinstance(op, keras.layers.InputLayer):
                return -1
            if isinstance(op, keras.Model):  # go in
                inner = {
                    id(x): (outer, scope)
                    for x, outer in zip(keras.tree.flatten(op.inputs), _inputs(node))
                }
                tensor = keras.tree.flatten(op.outputs)[tensor_index]
                scope = (inner, f"{prefix}{op.name}/")
                continue
            if id(op) not in index:
                preds = [producer(x, scope) for x in _inputs(node)] or [-1]
                index[id(op)] = len(order)
                order.append((prefix + op.name, op))
                edges.update((p, index[id(op)]) for p in preds)
            return index[id(op)]

    producer(target, scope)
    return order, sorted(edges)


def blocks(model: keras.Model, path: str) -> list[list[tuple[str, keras.layers.Layer]]]:
    """The blocks of the cascade for layer `path`, top (the layer) first.

    Returns:
      A list of blocks, each a list of `(path, layer)` with weights, in the
      order the cascade randomizes them: the block that holds `path` (or the
      nearest one below it) first, the one nearest the input last.
    """
    order, edges = leaf_graph(model, path)
    # Position p (0-based) is jumped over by edge (a, b) when a < p < b.
    jumped = np.zeros(len(order) + 1, np.int64)
    for a, b in edges:
        if b - a > 1:
            jumped[a + 1] += 1
            jumped[b] -= 1
    covered = np.cumsum(jumped)[: len(order)]
    groups, current = [], []
    for position, item in enumerate(order):
        current.append(item)
        if covered[position] == 0:  # a cut point closes the block
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    weighted = [[(p, lay) for p, lay in g if lay.weights] for g in groups]
    return [g for g in reversed(weighted) if g]


# Variables whose initializer is named otherwise: a DepthwiseConv's `kernel`
# comes from its `depthwise_initializer`, a SeparableConv's `depthwise_kernel`
# and `pointwise_kernel` from `depthwise_` and `pointwise_initializer`.
_INITIALIZER_NAMES = {
    "kernel": ("kernel", "depthwise"),
    "depthwise_kernel": ("depthwise",),
    "pointwise_kernel": ("pointwise",),
}


def _initializer(layer: keras.layers.Layer, variable):
    """The initializer that made `variable` (from the innermost owning layer)."""
    name = variable.path.rsplit("/", 1)[-1]
    owners = [
        sub
        for sub in layer._flatten_layers(include_self=True, recursive=True)
        if any(w is variable for w in sub.weights)
    ]
    for sub in sorted(owners, key=lambda s: len(s.weights)):
        for attr in _INITIALIZER_NAMES.get(name, (name,)):
            init = getattr(sub, f"{attr}_initializer", None)
            if init is not None:
                return keras.initializers.get(init)
    return None


def reinitialize(layer: keras.layers.Layer, seed: int) -> None:
    """Gives every weight of `layer` fresh values from its initializer.

    Args:
      layer: a layer of a copy of the user's model (never the user's own).
      seed: makes the new values reproducible.
    """
    rng = np.random.default_rng(seed)
    for k, variable in enumerate(layer.weights):
        init = _initializer(layer, variable)
        shape, dtype = tuple(variable.shape), variable.dtype
        if init is not None:
            config = init.get_config()
            if "seed" in config:  # a fixed seed per variable, reproducible
                config["seed"] = int(seed) * 1000 + k
                init = type(init).from_config(config)
            value = np.asarray(init(shape, dtype=dtype))
        else:
            value = rng.permutation(np.asarray(variable).reshape(-1)).reshape(shape)
        variable.assign(value)
