"""Give every ReLU of a Keras model a deconvnet or guided-backprop gradient, then undo it.

Keras 3 writes a ReLU in several ways, and they do not all lower to one TF op
(`threshold` gives `x * (x > t)`, `max_value` a clip, 6 a `Relu6`), so an op-level
gradient override would miss some. We swap at the layer level instead:

- a layer attribute `activation` that is a ReLU function (`"relu"`, `"relu6"`,
  `keras.activations.relu`, `keras.ops.relu`, `tf.nn.relu`, ...) or a
  `keras.layers.ReLU` instance — Dense, Conv*, `Activation`, RNN cells, ...;
- the `call` of every `keras.layers.ReLU` layer with `negative_slope == 0`.

Sublayers are found recursively, so ReLUs inside nested models are caught. The
forward value is computed by the original function, so it is bit-identical; only
the gradient changes. Every attribute is put back in `finally`, so the model is
exactly as it was afterwards, even when the traced computation raises.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator

import keras
import tensorflow as tf

# "gradient" is the plain gradient (the ReLU's own derivative), for contrast:
# the same backward seed, no override of what a ReLU passes back.
METHODS = ("deconvnet", "guided_backprop", "gradient")

# Activation callables that are a plain ReLU, with their (max_value, threshold).
_RELU_FUNCTIONS: dict[Callable, tuple[float | None, float]] = {
    keras.activations.relu: (None, 0.0),
    keras.activations.relu6: (6.0, 0.0),
    keras.ops.relu: (None, 0.0),
    keras.ops.relu6: (6.0, 0.0),
    tf.nn.relu: (None, 0.0),
    tf.nn.relu6: (6.0, 0.0),
}


@dataclasses.dataclass
class BackwardRule:
    """Which rule the swapped ReLUs apply; read while the backward pass is traced.

    Attributes:
      method: `"deconvnet"`, `"guided_backprop"` or `"gradient"`. It is read
        when the gradient graph is built, so one traced forward can feed one
        backward per method.
      relu_calls: how many swapped ReLUs ran in forward passes traced so far.
    """

    method: str = "deconvnet"
    relu_calls: int = 0


def relu_spec(fn) -> tuple[float | None, float] | None:
    """Returns `(max_value, threshold)` if `fn` is a ReLU activation, else None.

    A `keras.layers.ReLU` with a non-zero `negative_slope` is a leaky ReLU, not a
    ReLU, and keeps its ordinary gradient (None).
    """
    if isinstance(fn, keras.layers.ReLU):
        if fn.negative_slope != 0:
            return None
        max_value = None if fn.max_value is None else float(fn.max_value)
        return max_value, float(fn.threshold)
    try:
        return _RELU_FUNCTIONS.get(fn)
    except TypeError:  # unhashable callable: not one of ours
        return None


def _swapped_relu(
    forward: Callable, spec: tuple[float | None, float], rule: BackwardRule
) -> Callable:
    """Wraps `forward` (a ReLU) so its gradient follows `rule.method`."""
    max_value, threshold = spec

    @tf.custom_gradient
    def relu(x):
        y = forward(x)

        def grad(dy):
            if rule.method == "deconvnet":
                # Zeiler & Fergus: rectify the signal, ignore the forward input.
                return tf.nn.relu(dy)
            # Springenberg: the ReLU's own derivative (1 where the unit is in its
            # linear part: threshold < x < max_value), and only positive signal.
            gate = tf.greater(x, tf.cast(threshold, x.dtype))
            if max_value is not None:
                gate = tf.logical_and(gate, tf.less(x, tf.cast(max_value, x.dtype)))
            if rule.method == "gradient":  # the ReLU's own derivative, nothing more
                return dy * tf.cast(gate, dy.dtype)
            return tf.nn.relu(dy) * tf.cast(gate, dy.dtype)

        return y, grad

    def swapped(x, *args, **kwargs):
        rule.relu_calls += 1
        if args or kwargs:  # extra arguments: not our business, plain gradient
            return forward(x, *args, **kwargs)
        return relu(x)

    return swapped


@contextlib.contextmanager
def swap_relus(model: keras.Model, rule: BackwardRule) -> Iterator[int]:
    """Within the block, every ReLU of `model` back-propagates by `rule`.

    Attributes are set in the layers' instance dicts, bypassing Keras tracking,
    and restored to exactly what was there (or removed) on exit, also on error.
    Not thread-safe: do not run the model from another thread inside the block.

    Args:
      model: any Keras model; nested models and sublayers are included.
      rule: decides the backward rule when the gradient is traced.

    Yields:
      The number of ReLUs swapped.
    """
    saved: list[tuple[keras.layers.Layer, str, bool, object]] = []

    def swap(layer, name, value):
        had = name in layer.__dict__
        saved.append((layer, name, had, layer.__dict__.get(name)))
        layer.__dict__[name] = value

    try:
        for layer in model._flatten_layers(include_self=True, recursive=True):
            fn = layer.__dict__.get("activation")
            # A ReLU layer given as `activation=` is also a tracked sublayer, so
            # its `call` is swapped below; wrapping it here too would be redundant.
            spec = None if isinstance(fn, keras.layers.Layer) else relu_spec(fn)
            if spec is not None:
                swap(layer, "activation", _swapped_relu(fn, spec, rule))
            spec = relu_spec(layer)
            if spec is not None:
                swap(layer, "call", _swapped_relu(layer.call, spec, rule))
        yield len(saved)
    finally:
        for layer, name, had, value in reversed(saved):
            if had:
                layer.__dict__[name] = value
            else:
                del layer.__dict__[name]
