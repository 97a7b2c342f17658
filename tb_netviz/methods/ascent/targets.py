"""The model that feature visualization differentiates: input -> a layer's output.

For a logit objective the target is the layer's pre-activation instead: the
input of a `Softmax`/`Activation` layer, or, for a layer with an `activation`
argument (e.g. `Dense(10, activation="softmax")`), a linear twin of the layer
that holds copies of its weights (`refresh` copies them again before each
run, so a long-lived visualizer follows training).

Every graph is built inside `graph.outbound_nodes_kept`, so the caller's
model is left exactly as it was and nothing leaks across calls.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tb_netviz.methods.ascent import channel_slice
from tb_netviz.methods.common import layers as layers_lib


def input_shape(model: keras.Model, size) -> tuple[int | None, int | None, int]:
    """Returns (H, W, C) of the model's one image input, H and W set by `size`.

    Raises:
      ValueError: not one input of rank 4, or a `size` the model does not take.
    """
    layers_lib.check_backend()
    layers_lib.check_graph(model)
    layers_lib.check_float_inputs(model, "feature visualization")
    if len(model.inputs) != 1 or len(model.inputs[0].shape) != 4:
        shapes = [tuple(t.shape) for t in model.inputs]
        raise ValueError(
            "feature visualization optimizes one image input of shape (batch, H, "
            f"W, C); model {model.name!r} has inputs of shapes {shapes}"
        )
    _, h, w, c = model.inputs[0].shape
    if size is not None:
        sh, sw = (size, size) if isinstance(size, int) else tuple(size)
        if (h is not None and h != sh) or (w is not None and w != sw):
            raise ValueError(f"size {size} does not fit the model's input ({h}, {w})")
        h, w = int(sh), int(sw)
    return h, w, c


def output_shape(model: keras.Model, path: str) -> tuple:
    """Returns the layer's output shape; raises ValueError without a channel axis."""
    shape = layers_lib.lookup(model, path).output_shape
    if len(shape) < 2 or shape[-1] is None:
        raise ValueError(
            f"layer {path!r} outputs shape {shape}: it has no channel or unit axis "
            "to visualize. Choose a layer whose output is (batch, H, W, channels), "
            "(batch, steps, channels) or (batch, units)."
        )
    return shape


def default_objective(model: keras.Model, path: str) -> str:
    """ "channel" for conv layers; "logit" for softmax layers, else "unit", for Dense."""
    if len(output_shape(model, path)) > 2:
        return "channel"
    softmax = layers_lib.lookup(model, path).activation == "softmax"
    return "logit" if softmax else "unit"


# Layers that apply their `activation` last, so a linear twin gives the
# pre-activation (an LSTM's `activation` acts inside the recurrence instead).
_TWINNABLE = (
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
)
_ACTIVATION_LAYERS = (keras.layers.Softmax, keras.layers.Activation, keras.layers.ReLU)


def has_preactivation(model: keras.Model, path: str) -> bool:
    """Whether the pre-activation of the layer at `path` can be computed."""
    layer = layers_lib.get_layer(model, path)
    return isinstance(layer, _TWINNABLE + _ACTIVATION_LAYERS)


def ends_in_relu(model: keras.Model, path: str) -> bool:
    """Whether the layer applies a plain ReLU last (and its input is reachable)."""
    layer = layers_lib.get_layer(model, path)
    if isinstance(layer, keras.layers.ReLU):
        cfg = layer.get_config()
        plain = (cfg.get("max_value"), cfg.get("negative_slope"), cfg.get("threshold"))
        return plain in ((None, 0.0, 0.0), (None, 0, 0))
    facts = layers_lib.lookup(model, path)
    return has_preactivation(model, path) and facts.activation == "relu"


class _Twins:
    """Linear twins of layers, with their weights copied from the originals."""

    def __init__(self):
        self.pairs: list[tuple[keras.layers.Layer, keras.layers.Layer]] = []

    def preactivation(self, layer: keras.layers.Layer, inputs):
        if isinstance(layer, _ACTIVATION_LAYERS):
            return inputs  # the pre-activation is this layer's input
        if not isinstance(layer, _TWINNABLE):
            raise ValueError(
                f"the pre-activation of layer {layer.name!r} ({type(layer).__name__})"
                " cannot be computed; use an objective on its output ('unit' or "
                "'channel')"
            )
        if layers_lib.activation_name(layer) == "linear":
            return None  # the output is its own pre-activation
        config = dict(layer.get_config(), activation="linear")
        config["name"] = f"{layer.name}_netviz_preactivation"
        twin = type(layer).from_config(config)
        out = twin(inputs)
        self.pairs.append((twin, layer))
        return out

    def refresh(self) -> None:
        for twin, layer in self.pairs:
            for t, w in zip(twin.weights, layer.weights):
                t.assign(w)


def _symbolic_preactivation(model: keras.Model, path: str, twins: _Twins):
    head, _, rest = path.partition("/")
    layer = layers_lib.get_layer(model, head)
    node = layers_lib.single_node(layer)
    if not rest:
        out = twins.preactivation(layer, layers_lib.unwrap(list(node.input_tensors)))
        return node.output_tensors[0] if out is None else out
    inner = keras.Model(
        layers_lib.unwrap(layer.inputs), _symbolic_preactivation(layer, rest, twins)
    )
    return inner(layers_lib.unwrap(list(node.input_tensors)))


def redirected_relu(z: tf.Tensor, leak: float = 0.0) -> tf.Tensor:
    """`relu(z)` with a gradient that lets a dead channel come alive.

    leak 0: Lucid's redirected ReLU: for an image where the ReLU's gradient
    would be zero everywhere, the part that raises negative inputs passes.
    leak > 0: at every negative input, `leak` times the part that raises it
    always passes, so positions where the channel is off keep being pulled
    on, not only while it is dead everywhere (without it, ascent of a channel
    mean stalls once a few positions are on). The value is exactly `relu(z)`.
    """

    @tf.custom_gradient
    def relu(z):
        def grad(dy):
            # Ascent: dy < 0 at a negative input would push it further down.
            raising = tf.where((z < 0) & (dy < 0), 0.0, dy)
            relu_grad = tf.where(z < 0, 0.0, dy)
            if leak > 0:
                return tf.where(z < 0, leak * raising, dy)
            axes = list(range(1, z.shape.rank))
            alive = tf.reduce_any(tf.not_equal(relu_grad, 0.0), axis=axes)
            alive = tf.reshape(alive, [-1] + [1] * len(axes))
            return tf.where(alive, relu_grad, raising)

        return tf.nn.relu(z), grad

    return relu(z)


class _LayerInput(_Twins):
    """Stands in for `_Twins`: the symbolic result is the layer's own input."""

    def preactivation(self, layer, inputs):
        return inputs


class Target:
    """Computes one layer's activations (or pre-activation) from model inputs.

    Modes: "output" (the layer's output), "preactivation" (its input to the
    activation, e.g. logits before softmax), "redirected_relu" (the output of
    a ReLU layer, with `redirected_relu`'s gradient, leaking `leak`). With
    `sliced`, the model runs up to the layer's input and only the requested
    channels of the layer are computed (see `channel_slice.py`).
    """

    def __init__(
        self,
        model: keras.Model,
        path: str,
        mode: str = "output",
        sliced: bool = False,
        leak: float = 0.0,
    ):
        layers_lib.check_backend()
        layers_lib.check_graph(model)
        self.layer = layers_lib.get_layer(model, path)  # unknown: lists names
        self.mode, self.sliced, self.leak = mode, sliced, float(leak)
        twins = _LayerInput() if sliced else _Twins()
        with layers_lib.outbound_nodes_kept(model):
            if mode == "output" and not sliced:
                self.model = layers_lib.feature_model(model, [path])
            else:
                out = _symbolic_preactivation(model, path, twins)
                self.model = keras.Model(
                    layers_lib.unwrap(model.inputs),
                    [out],
                    name=f"{model.name}_netviz_target",
                )
        self._twins = twins
        self.refresh()

    def __call__(self, x: tf.Tensor, labels: tf.Tensor, rows: tf.Tensor | None = None):
        """Returns float32 activations `(N, ..., channels)` for inputs `x` and the
        channel index in them of each input.

        Args:
          x: the model inputs `(N, H, W, C)`.
          labels: int32 `(K,)`, the channels of the batch's images.
          rows: int32 `(N,)`, input n shows image `rows[n]` (several views
            of one image); None: N == K and input k is image k.

        Returns:
          `(activations, index)`: the channel of input n in the activations
          is `index[n]`: `labels[rows[n]]`, or `rows[n]` if sliced (then
          only the K channels in `labels` are computed, in that order).
        """
        out = self.model(x, training=False)
        out = out[0] if isinstance(out, (list, tuple)) else out
        if rows is None:
            rows = tf.range(tf.shape(labels)[0])
        if not self.sliced:
            labels = tf.gather(labels, rows)
        else:
            out = channel_slice.sliced_preactivation(self.layer, out, labels)
            labels = rows
            if self.mode == "output":
                out = self.layer.activation(out)
        out = tf.cast(out, tf.float32)
        if self.mode == "redirected_relu":
            out = redirected_relu(out, self.leak)
        return out, labels

    def refresh(self) -> None:
        """Copies the caller's current weights into the linear twins, if any."""
        self._twins.refresh()
