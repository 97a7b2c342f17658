"""Which layers to show when the user names none: stem, middle, last feature map.

A user looking inside a network wants what the stem produces, a stage in the
middle, and the last feature map before the head; never raw conv outputs before
their batch norm, and never the classifier. For a network with spatial layers
(output rank >= 3) that is:

1. the stem: the first layer that applies a non-linearity (an activation
   layer, or a layer with a non-linear `activation`); the first convolution
   when there is none;
2. the last feature map: the layer feeding the first global pooling or
   flatten (or, without one, the last spatial layer that is not the output);
   in an all-convolutional classifier, where that layer is the class scores
   (`class_scores`), the feature map feeding the class convolution;
3. the middle: among the block outputs between them (a residual add, or the
   activation right after it; a concatenation; else a pooling layer), the one
   in the middle of the spatial layers.

A network without spatial layers (an MLP) gets its hidden dense layers.

Feature accentuation keeps an earlier layer's activations close to the
image's; by default that layer is the first non-linearity before the
accentuated layer (`regularization_layer`).
"""

from __future__ import annotations

import dataclasses

import keras

from tb_netviz.methods.common import class_scores
from tb_netviz.methods.common import layers as layers_lib

_MERGES = (keras.layers.Add, keras.layers.Concatenate)
_POOLS = (
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.MaxPooling3D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.AveragePooling3D,
)
_TO_VECTOR = (
    keras.layers.Flatten,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalMaxPooling3D,
)
_ACTIVATIONS = (
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.Softmax,
)


@dataclasses.dataclass(frozen=True)
class Choice:
    """A chosen layer path and why it was chosen (printed for the user)."""

    path: str
    reason: str


@dataclasses.dataclass(frozen=True)
class _Entry:
    path: str
    layer: keras.layers.Layer
    rank: int


def _entries(model: keras.Model) -> list[_Entry]:
    """Every non-model layer in graph order, nested ones included, with its rank."""
    found = []
    for path in layers_lib.layer_paths(model):
        layer = layers_lib.get_layer(model, path)
        if isinstance(layer, keras.Model):
            continue
        try:
            shape = layers_lib.single_node(layer).output_tensors[0].shape
        except (ValueError, IndexError):
            continue  # a shared layer or one without a single output: never a pick
        found.append(_Entry(path, layer, len(shape)))
    return found


def _nonlinear(layer: keras.layers.Layer) -> bool:
    if isinstance(layer, _ACTIVATIONS):
        return True
    return layers_lib.activation_name(layer) not in ("linear", "softmax")


def _is_conv(layer: keras.layers.Layer) -> bool:
    return "conv" in type(layer).__name__.lower()


def choose(model: keras.Model, head_layers: int = 2) -> list[Choice]:
    """The default layers of `model`, each with its reason (see the module).

    Args:
      model: a built Sequential or functional model (nested models allowed).
      head_layers: for a network without spatial layers, at most this many of
        its hidden dense layers.

    Raises:
      ValueError: nothing to show (no spatial layer and no hidden dense layer).
    """
    layers_lib.check_graph(model)
    entries = _entries(model)
    output = {t._keras_history[0] for t in model.outputs}
    spatial = [e for e in entries if e.rank >= 3 and e.layer not in output]
    if not spatial:
        hidden = [
            e.path
            for e in entries
            if isinstance(e.layer, keras.layers.Dense) and e.layer not in output
        ]
        if not hidden:
            raise ValueError(
                "layers=None found no spatial or hidden dense layer to show; pass "
                f"layers=[...] with some of: {', '.join(layers_lib.layer_paths(model))}"
            )
        return [Choice(p, "a hidden dense layer") for p in hidden[:head_layers]]
    index = {e.path: i for i, e in enumerate(entries)}
    by_layer = {id(e.layer): e for e in entries}
    # The head's global pooling (or flatten) is the one fed by the latest layer:
    # squeeze-and-excite blocks pool inside the network too.
    fed = [
        (_producer(e.layer, by_layer), e)
        for e in entries
        if isinstance(e.layer, _TO_VECTOR)
    ]
    fed = [(p, e) for p, e in fed if p is not None and p.rank >= 3]
    if fed:
        last, head = max(fed, key=lambda pair: index[pair[0].path])
        last_reason = f"the last feature map before {type(head.layer).__name__}"
    else:
        last, last_reason = spatial[-1], "the last spatial layer"
    scores = class_scores.class_convolution(model, last.path)
    before = _producer(scores.layer, by_layer) if scores else None
    if before is not None and before.rank >= 3:
        last = before
        last_reason = f"the last feature map before the class convolution {scores.path}"
    pool = [e for e in spatial if index[e.path] <= index[last.path]]
    stem = next((e for e in pool if _nonlinear(e.layer)), None)
    stem_reason = "the stem's first non-linearity"
    if stem is None:
        stem = next((e for e in pool if _is_conv(e.layer)), pool[0])
        stem_reason = "the first convolution (no non-linearity in the stem)"
    inner = [e for e in pool if index[stem.path] < index[e.path] < index[last.path]]
    middle = _middle(inner, pool)
    picks = [Choice(stem.path, stem_reason)]
    if middle is not None:
        picks.append(Choice(*middle))
    picks.append(Choice(last.path, last_reason))
    return list({c.path: c for c in picks}.values())


def regularization_layer(model: keras.Model, layer: str) -> str | None:
    """The first layer before `layer` (graph order, nested ones included) that
    applies a non-linearity to a spatial output, as the stem is chosen; None
    when no such layer comes before it."""
    for entry in _entries(model):
        if entry.path == layer:
            break
        if entry.rank >= 3 and _nonlinear(entry.layer):
            return entry.path
    return None


def _producer(layer: keras.layers.Layer, by_layer: dict) -> _Entry | None:
    """The entry whose output feeds `layer` (inside a nested model: its output layer)."""
    inputs = layers_lib.single_node(layer).input_tensors
    if len(inputs) != 1:
        return None
    source = inputs[0]._keras_history[0]
    while isinstance(source, keras.Model) and len(source.outputs) == 1:
        source = source.outputs[0]._keras_history[0]
    return by_layer.get(id(source))


def _middle(inner: list[_Entry], pool: list[_Entry]) -> tuple[str, str] | None:
    """`(path, reason)` of the block output nearest the middle of the spatial layers."""
    merges = [i for i, e in enumerate(inner) if isinstance(e.layer, _MERGES)]
    if merges:
        candidates = []
        for i in merges:  # a residual add's block output is the activation after it
            after = inner[i + 1] if i + 1 < len(inner) else None
            add = isinstance(inner[i].layer, keras.layers.Add)
            if add and after and _follows(after, inner[i]):
                candidates.append((after, "a residual block's output"))
            elif add:
                candidates.append((inner[i], "a residual add"))
            else:
                candidates.append((inner[i], "a concatenation"))
    else:
        pools = [
            (e, "a block's pooled output") for e in inner if isinstance(e.layer, _POOLS)
        ]
        candidates = pools or [
            (e, "a non-linearity") for e in inner if _nonlinear(e.layer)
        ]
    if not candidates:
        return None
    order = [e.path for e in pool]
    centre = len(pool) // 2
    entry, what = min(candidates, key=lambda c: abs(order.index(c[0].path) - centre))
    return entry.path, f"{what} in the middle of the network"


def _follows(entry: _Entry, merge: _Entry) -> bool:
    """Whether `entry` is an activation applied directly to `merge`'s output."""
    if not isinstance(entry.layer, _ACTIVATIONS):
        return False
    inputs = layers_lib.single_node(entry.layer).input_tensors
    return len(inputs) == 1 and inputs[0]._keras_history[0] is merge.layer
