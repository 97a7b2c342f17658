"""Compute only the channels being visualized of a layer's output.

A channel objective reads one channel per image, yet running the layer
computes all of them: for VGG16's block3_conv1 that is 256 channels where 16
are read, about a sixth of a step's work. For a `Conv2D` (or `Dense`) whose
activation acts per element, the visualizer can instead run the model up to
the layer's input and apply the layer's own kernel, sliced to the requested
channels, itself. The kernel variables are read at every call, so this
follows training like the layer does, and the values equal the layer's.
"""

from __future__ import annotations

import keras
import tensorflow as tf

# Activations that act on each element alone, so slicing channels commutes.
_ELEMENTWISE = frozenset(
    [
        "linear",
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "selu",
        "gelu",
        "silu",
        "swish",
        "sigmoid",
        "tanh",
        "softplus",
        "softsign",
        "exponential",
    ]
)


def supports(layer: keras.layers.Layer) -> bool:
    """Whether `layer` can be computed channel by channel here."""
    name = getattr(getattr(layer, "activation", None), "__name__", None)
    if name not in _ELEMENTWISE or getattr(layer, "quantization_mode", None):
        return False
    if type(layer) is keras.layers.Dense:
        return True
    return (
        type(layer) is keras.layers.Conv2D
        and layer.groups == 1
        and layer.data_format == "channels_last"
    )


def sliced_preactivation(
    layer: keras.layers.Layer, inputs: tf.Tensor, channels: tf.Tensor
) -> tf.Tensor:
    """The layer's pre-activation for `channels` only.

    Args:
      layer: a layer for which `supports(layer)` holds.
      inputs: the layer's input, `(K, H, W, C_in)` or `(K, C_in)`.
      channels: int32 `(K,)`, the channel of each image.

    Returns:
      `(K, H', W', K)` or `(K, K)`: output channel j is the layer's channel
      `channels[j]`, for every image; image k needs only channel k.
    """
    kernel = tf.cast(tf.gather(layer.kernel, channels, axis=-1), inputs.dtype)
    if isinstance(layer, keras.layers.Dense):
        out = tf.matmul(inputs, kernel)
    else:
        out = tf.nn.conv2d(
            inputs,
            kernel,
            strides=list(layer.strides),
            padding=layer.padding.upper(),
            dilations=list(layer.dilation_rate),
        )
    if layer.use_bias:
        out += tf.cast(tf.gather(layer.bias, channels), inputs.dtype)
    return out
