"""What attribution explains: one class output of a model with one image input,
and which of its units (the targets).

Checked before anything runs, each error saying what works instead:

- one input, float, images `(batch, H, W, C)`: integer inputs (token ids) get
  no gradient and cannot be masked;
- one output `(batch, classes)`: several outputs, an output per position
  (rank > 2: an embedding sequence, a segmentation map), an embedding
  (`UnitNormalization`), or a many-output regressor (compiled with a
  regression loss, or a `tanh`/`relu`... activation over several units) have
  no class to explain. A single unit (sigmoid or regression) is target 0.
  A linear many-unit output is taken as logits.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from tb_netviz.methods.common import layers as layers_lib

CLASS_ACTIVATIONS = ("softmax", "sigmoid")  # undone to read the logits
_SCORE_ACTIVATIONS = ("linear", "log_softmax") + CLASS_ACTIVATIONS
_EMBEDDING_LAYERS = ("UnitNormalization", "Embedding")
_REGRESSION_LOSSES = (
    "mse",
    "mae",
    "mape",
    "msle",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "huber_loss",
    "log_cosh",
    "logcosh",
    "cosine_similarity",
)
_INSTEAD = (
    "Attribution needs class scores; for what this model computes, log its "
    "activations (activations_freq) or the ascent of a layer's channels instead"
)


@dataclasses.dataclass(frozen=True)
class OutputFacts:
    """The output attribution explains.

    Attributes:
      path: layer path of the layer that produces the model's output (inside a
        nested model: `"head/probs"`).
      layer: that layer.
      num_classes: its units.
      activation: the activation it applies last (`layers.activation_name`).
      score: what the gradient methods differentiate, in words.
    """

    path: str
    layer: keras.layers.Layer
    num_classes: int
    activation: str
    score: str


def check_image_input(model: keras.Model) -> None:
    """Raises `ValueError` unless `model` has one float input `(batch, H, W, C)`."""
    if len(model.inputs) != 1:
        raise ValueError(
            f"attribution explains a model with one image input; {model.name!r} has "
            f"{len(model.inputs)}. Wrap it so that one image input remains."
        )
    tensor = model.inputs[0]
    dtype = keras.backend.standardize_dtype(tensor.dtype)
    if not dtype.startswith(("float", "bfloat")):
        raise ValueError(
            f"attribution needs image inputs (batch, H, W, C) of floats, but input "
            f"{tensor.name!r} is {dtype} (e.g. token ids): no gradient reaches it and "
            "no mask can blend it. Log activations instead (activations_freq), or "
            "explain a model that takes float inputs (e.g. from the embedding on)."
        )
    if len(tensor.shape) != 4:
        raise ValueError(
            f"attribution needs image inputs (batch, H, W, C); input {tensor.name!r} "
            f"has shape {tuple(tensor.shape)}. Log activations instead."
        )


def _output_layer(model: keras.Model) -> tuple[str, keras.layers.Layer]:
    """`(path, layer)` of the layer producing the model's output, through nested models."""
    names, tensor = [], model.outputs[0]
    while True:
        layer = tensor._keras_history[0]
        names.append(layer.name)
        if not (isinstance(layer, keras.Model) and len(layer.outputs) == 1):
            return "/".join(names), layer
        tensor = layer.outputs[0]


def _loss_name(model: keras.Model) -> str:
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss.lower()
    fn = getattr(loss, "fn", loss)  # a LossFunctionWrapper wraps the function
    return str(getattr(fn, "__name__", getattr(loss, "name", ""))).lower()


def check_model(model: keras.Model) -> OutputFacts:
    """Checks the backend, the graph, the input and the output of `model`
    (see the module) and returns the output's facts."""
    layers_lib.check_backend()
    layers_lib.check_graph(model)
    check_image_input(model)
    return check_output(model)


def check_output(model: keras.Model) -> OutputFacts:
    """The checked output of `model` (see the module)."""
    if len(model.outputs) != 1:
        raise ValueError(
            f"attribution explains one class output (batch, classes); {model.name!r} "
            f"has {len(model.outputs)} outputs. Explain one of them: "
            "keras.Model(model.inputs, model.outputs[i])."
        )
    shape = tuple(model.outputs[0].shape)
    path, layer = _output_layer(model)
    kind = type(layer).__name__
    if len(shape) != 2 or shape[-1] is None:
        raise ValueError(
            f"The output of {model.name!r} has shape {shape} ({kind} {path!r}): not a "
            f"class output (batch, classes) but one per position or an embedding. "
            f"{_INSTEAD}."
        )
    units, activation = int(shape[-1]), layers_lib.activation_name(layer)
    if kind in _EMBEDDING_LAYERS:
        raise ValueError(
            f"The output of {model.name!r} is an embedding ({kind} {path!r}, "
            f"{units} dimensions), not class scores. {_INSTEAD}."
        )
    regression = _loss_name(model) in _REGRESSION_LOSSES
    if units > 1 and (regression or activation not in _SCORE_ACTIVATIONS):
        why = f"loss {_loss_name(model)!r}" if regression else f"{activation!r}"
        raise ValueError(
            f"The output of {model.name!r} ({path!r}, {units} units, {why}) is a "
            "many-output regressor: no class to explain. Explain one of its outputs, "
            "keras.Model(model.inputs, keras.layers.Lambda(lambda y: y[:, i:i+1])"
            f"(model.output)), or: {_INSTEAD}."
        )
    if activation in CLASS_ACTIVATIONS:
        score = f"logit: the input of the {activation} of {path!r}"
    else:
        score = f"the output of {path!r} ({activation})"
    return OutputFacts(path, layer, units, activation, score)


def resolve(
    num_classes: int, n: int, targets=None, labels=None, top_k: int = 1, predict=None
) -> tuple[np.ndarray, str]:
    """The targets of `n` inputs, int64 `(n, T)`, and where they come from.

    Args:
      num_classes: the output's units.
      n: the number of inputs.
      targets: None; an int or a list of ints (the same for every input);
        or an `(n, T)` array.
      labels: with `targets` None: `(n,)` ints or `(n, classes)` one-hot.
      top_k: with `targets` and `labels` None: the `top_k` most probable
        classes (capped at `num_classes`).
      predict: `() -> (n, classes)` probabilities, called only for `top_k`.

    Returns:
      `(targets, source)`, source `"given"`, `"label"`, `"predicted"`, or
      `"single_unit"` for a one-unit output (always target 0).

    Raises:
      ValueError: a class out of range, labels or targets of the wrong shape.
    """
    if targets is not None:
        found = np.asarray(targets)
        if found.ndim <= 1:
            found = np.broadcast_to(found.reshape(1, -1), (n, found.size))
        source = "given"
    elif num_classes == 1:
        return np.zeros((n, 1), np.int64), "single_unit"
    elif labels is not None:
        found = np.asarray(labels)
        if found.ndim == 2 and found.shape[1] == num_classes and num_classes > 1:
            found = found.argmax(axis=1)
        found, source = found.reshape(-1, 1), "label"
    else:
        if int(top_k) < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        k = min(int(top_k), num_classes)
        # Stable, so ties go to the lower class index.
        found = np.argsort(-np.asarray(predict()), axis=1, kind="stable")[:, :k]
        source = "predicted"
    if found.ndim != 2 or found.shape[0] != n or found.shape[1] < 1:
        raise ValueError(
            f"targets must be one per input ({n} rows), got shape {np.shape(found)}"
        )
    if not np.issubdtype(found.dtype, np.integer):
        raise ValueError(f"targets must be class indices (ints), got {found.dtype}")
    bad = found[(found < 0) | (found >= num_classes)]
    if bad.size:
        raise ValueError(
            f"targets {sorted(set(bad.tolist()))} out of range: the output has "
            f"{num_classes} classes (0..{num_classes - 1})"
        )
    return found.astype(np.int64), source
