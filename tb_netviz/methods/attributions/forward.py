"""One forward pass of the user's model that also hands back the class scores
and one layer's output, read from inside the pass.

Reading them from inside the pass (rather than from a second model built on
the layer, as `layers.feature_model` does) is what makes Grad-CAM work on a
nested backbone: the layer's output read here is the very tensor the rest of
the network consumes, so the gradient of the score reaches it. While the pass
is traced, two attributes are swapped in the layers' instance dicts and put
back in `finally` (as `deconv.relu_override` does), so the model is left as it
was:

- the CAM layer's `call`, wrapped to record what it returns;
- the output's softmax/sigmoid (its `activation`, or a `Softmax` layer's
  `call`), wrapped to record its input, the logits: the forward value is the
  original function's, bit for bit.

A model whose output applies neither is explained by its output itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import keras
import tensorflow as tf

from tb_netviz.methods.attributions import targets as targets_lib
from tb_netviz.methods.common import layers as layers_lib


@dataclasses.dataclass(frozen=True)
class Pass:
    """What one forward pass of R rows gives.

    Attributes:
      probabilities: float32 `(R, classes)`: the model's softmax or sigmoid
        output; the softmax of a linear many-unit output (logits) and the
        exp of a log-softmax; the raw value of a single linear unit.
      scores: float32 `(R, classes)`, what gradients differentiate: the
        logits where the output is a softmax or sigmoid, else the output.
      features: the CAM layer's output `(R, h, w, K)` float32, or None.
    """

    probabilities: tf.Tensor
    scores: tf.Tensor
    features: tf.Tensor | None


def _recorder(fn, seen: dict, key: str, record_input: bool):
    def recorded(*args, **kwargs):
        y = fn(*args, **kwargs)
        seen[key] = (
            (args[0] if args else next(iter(kwargs.values()))) if record_input else y
        )
        return y

    return recorded


class Forward:
    """The user's model, run on rows, with its scores and the CAM layer read out.

    Attributes:
      model: the user's model.
      output: the checked `OutputFacts`.
      layer: the CAM layer path, or None.
    """

    def __init__(
        self,
        model: keras.Model,
        output: targets_lib.OutputFacts,
        layer: str | None = None,
    ):
        """Args: `model` as `targets.check_model` accepts it, `output` what
        that returns, `layer` a layer path whose output to record, or None."""
        self.output = output
        self.layer = layer
        self.model = model
        self._layers = model._flatten_layers()
        self._layer = None if layer is None else layers_lib.get_layer(model, layer)

    @contextlib.contextmanager
    def _recording(self, seen: dict) -> Iterator[None]:
        saved = []
        # Keras marks a layer `_called` on its first call; a model that was
        # only built must stay so.
        called = [(layer, layer.__dict__.get("_called")) for layer in self._layers]

        def swap(layer, name, key, record_input):
            saved.append(
                (layer, name, name in layer.__dict__, layer.__dict__.get(name))
            )
            original = getattr(layer, name)
            layer.__dict__[name] = _recorder(original, seen, key, record_input)

        try:
            out = self.output.layer
            if self.output.activation in targets_lib.CLASS_ACTIVATIONS:
                if isinstance(out, keras.layers.Softmax):
                    swap(out, "call", "scores", True)
                else:
                    swap(out, "activation", "scores", True)
            if self._layer is not None:
                swap(self._layer, "call", "features", False)
            yield
        finally:
            for layer, value in called:
                layer.__dict__["_called"] = value
            for layer, name, had, value in reversed(saved):
                if had:
                    layer.__dict__[name] = value
                else:
                    del layer.__dict__[name]

    def __call__(self, x: tf.Tensor) -> Pass:
        """Runs the model on `x` `(R, H, W, C)` in inference mode -> `Pass`."""
        seen: dict = {}
        with self._recording(seen):
            probabilities = self.model(x, training=False)
        if self._layer is not None and "features" not in seen:
            raise RuntimeError(
                f"Layer {self.layer!r} did not run in the model's forward pass "
                "(is it on the path from the input to the output?)."
            )
        scores = seen.get("scores", probabilities)
        features = seen.get("features")
        probabilities = tf.cast(probabilities, tf.float32)
        if self.output.num_classes > 1 and self.output.activation == "linear":
            probabilities = tf.nn.softmax(probabilities)  # logits
        elif self.output.activation == "log_softmax":
            probabilities = tf.exp(probabilities)
        return Pass(
            probabilities,
            tf.cast(scores, tf.float32),
            None if features is None else tf.cast(features, tf.float32),
        )

    def probabilities(self, x: tf.Tensor) -> tf.Tensor:
        """The model's output on `x`, float32 `(R, classes)` (traced by callers)."""
        return self(x).probabilities
