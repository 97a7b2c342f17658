"""Deconvnet (Zeiler & Fergus 2014) and guided backprop (Springenberg et al. 2014).

Both project one channel of a layer back to input space. The backward signal:

- starts as the layer's output on that input with every channel except the
  chosen one set to zero (with `strongest_only`, also every position but that
  channel's maximum): the feature map itself, not ones;
- goes back through max-pooling to the position that won the forward pass (the
  switches: TF's max-pool gradient);
- through every ReLU passes back `max(R, 0)` for `"deconvnet"`,
  `R · [x > 0] · [R > 0]` for `"guided_backprop"`, and `R · [x > 0]` (the
  ReLU's own derivative: the plain gradient, a contrast) for `"gradient"`,
  `x` the ReLU's forward input (for a ReLU with `threshold` t / `max_value` m
  the gate is `t < x < m`: where the ReLU's own derivative is 1);
- through convolutions and dense layers passes back through the transposed
  weights, and through every other layer by its ordinary gradient; batch norm
  and dropout run in inference mode.

How: the model's ReLUs are swapped only while a call runs (`relu_override`);
one `tf.function` runs the forward pass once on the N inputs, then for each
method K backward passes over the N inputs (one per channel slot), all reusing
that forward pass. Not XLA-compiled: on CPU it measured slower, and XLA breaks
max-pool ties differently from TF's kernels.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.common.traced import traced
from tb_netviz.methods.deconv import relu_override

METHODS = relu_override.METHODS  # every method a Deconvolver computes
# The published methods, what the logger and the callback draw by default;
# "gradient" (the plain gradient with the same seed) is the contrast.
DEFAULT_METHODS = ("deconvnet", "guided_backprop")
DEFAULT_TOP_K = 8


@dataclasses.dataclass(frozen=True)
class DeconvResult:
    """Reconstructions of K channels for N inputs, and which channels they are.

    Attributes:
      images: `{method: float32 array (N, K, *input_shape)}`, e.g.
        `(N, K, H, W, C)` for images; raw, unnormalized, signed.
      channels: int64 array `(N, K)`: the channel of tile k for input n.
      activation_max: float32 array `(N, K)`: that channel's maximum over
        positions in the layer's output for input n.
    """

    images: dict[str, np.ndarray]
    channels: np.ndarray
    activation_max: np.ndarray


def check_methods(methods) -> tuple[str, ...]:
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"method must be one of {METHODS}, got {methods or None!r}")
    return tuple(dict.fromkeys(methods))  # drop repeats, keep order


class Deconvolver:
    """Deconvnet / guided backprop for one layer; keep one to reuse its trace.

    Attributes:
      layer: the layer path.
      methods: the methods computed, in order.
      num_channels: the layer's channel count (last axis of its output).
    """

    def __init__(
        self,
        model: keras.Model,
        layer: str,
        *,
        methods: str | Sequence[str] = METHODS,
        strongest_only: bool = False,
    ):
        """Arguments and errors as in `deconvolution_result`."""
        self.methods = check_methods(methods)
        self.layer = layer
        self._model = model
        self._strongest_only = bool(strongest_only)
        self._features = layers_lib.feature_model(model, [layer])
        layers_lib.check_float_inputs(model, "deconvolution")
        if len(self._features.inputs) != 1:
            raise ValueError(
                f"deconvolution needs a model with one input; {model.name!r} has "
                f"{len(self._features.inputs)}."
            )
        shape = self._features.outputs[0].shape
        if len(shape) < 3:
            raise ValueError(
                f"Layer {layer!r} has output shape {tuple(shape)}: no spatial "
                "structure to project back. Choose a convolutional or pooling layer "
                "(output (N, H, W, C))."
            )
        if (
            getattr(layers_lib.get_layer(model, layer), "data_format", "")
            == "channels_first"
        ):
            raise ValueError(f"Layer {layer!r} is channels_first; use channels_last.")
        self.num_channels = int(shape[-1])
        self._rule = relu_override.BackwardRule()
        self._compute = traced(self._trace, reduce_retracing=True)

    def _trace(self, x, channels, top_k):
        """Traced body: x (N, *in), channels (K,) int32 or None -> dict of tensors."""
        self._rule.relu_calls = 0
        with tf.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
            tape.watch(x)
            y = self._features(x, training=False)
            y = y[0] if isinstance(y, (list, tuple)) else y  # (N, *S, C)
        if self._rule.relu_calls == 0:
            warnings.warn(
                f"No ReLU between the input and layer {self.layer!r}: deconvnet and "
                "guided backprop both equal the plain gradient here.",
                stacklevel=2,
            )
        spatial = list(range(1, y.shape.rank - 1))
        maxima = tf.reduce_max(y, axis=spatial)  # (N, C)
        if channels is None:
            act_max, picked = tf.math.top_k(maxima, k=top_k)  # (N, K), sorted
        else:
            picked = tf.tile(channels[None], [tf.shape(y)[0], 1])
            act_max = tf.gather(maxima, picked, batch_dims=1)
        # maps[n, ..., k] = y[n, ..., picked[n, k]]: each chosen channel's map.
        maps = tf.gather(y, picked, axis=-1, batch_dims=1)  # (N, *S, K)
        if self._strongest_only:
            flat = tf.reshape(maps, [tf.shape(maps)[0], -1, tf.shape(maps)[-1]])
            top = tf.one_hot(tf.argmax(flat, axis=1), tf.shape(flat)[1], axis=1)
            maps *= tf.reshape(tf.cast(top, maps.dtype), tf.shape(maps))
        # Seeds (K, N, *S, C): the map put back in its own channel, zeros elsewhere.
        perm = [y.shape.rank - 1, 0, *spatial]
        one_hot = tf.one_hot(tf.transpose(picked), self.num_channels, dtype=y.dtype)
        for _ in spatial:
            one_hot = tf.expand_dims(one_hot, 2)  # (K, N, 1, ..., 1, C)
        seeds = tf.transpose(maps, perm)[..., None] * one_hot

        images = {}
        for method in self.methods:
            self._rule.method = method  # read while this backward graph is built
            # One backward pass per channel slot k, each over all N inputs. On
            # CPU this beat tf.vectorized_map over k (which tiles the max-pool
            # inputs K times) by ~1.6x; every pass reuses the one forward pass.
            grads = [tape.gradient(y, x, s) for s in tf.unstack(seeds, top_k)]
            back = tf.stack(grads)  # (K, N, *in)
            images[method] = tf.transpose(back, [1, 0, *range(2, back.shape.rank)])
        return images, tf.cast(picked, tf.int64), act_max

    def __call__(
        self, inputs, channels: Sequence[int] | None = None, top_k: int = DEFAULT_TOP_K
    ) -> DeconvResult:
        """Returns a `DeconvResult`; arguments as in `deconvolution_result`."""
        x = tf.convert_to_tensor(inputs, dtype=self._features.inputs[0].dtype)
        if channels is not None:
            channels = np.asarray(channels, dtype=np.int64).reshape(-1)
            layers_lib.check_channels(channels, self.num_channels, self.layer)
            channels = tf.constant(channels, tf.int32)
            top_k = len(channels)
        elif int(top_k) < 1:
            raise ValueError(f"top_k must be positive, got {top_k}.")
        top_k = min(int(top_k), self.num_channels)
        with relu_override.swap_relus(self._model, self._rule):
            images, picked, act_max = self._compute(x, channels, top_k)
        return DeconvResult(
            images={m: np.asarray(v, dtype=np.float32) for m, v in images.items()},
            channels=np.asarray(picked),
            activation_max=np.asarray(act_max, dtype=np.float32),
        )


def deconvolution_result(
    model: keras.Model,
    layer: str,
    inputs,
    channels: Sequence[int] | None = None,
    *,
    methods: str | Sequence[str] = METHODS,
    strongest_only: bool = False,
    top_k: int = DEFAULT_TOP_K,
) -> DeconvResult:
    """Deconvnet and/or guided-backprop reconstructions, with channels and maxima.

    See the module docstring for the exact definition. Both methods share one
    forward pass. The model is left exactly as it was, also on error.

    Args:
      model: a built single-input Sequential or functional model (nested ok).
      layer: layer path, e.g. `"block3_conv1"` or `"backbone/conv2"`; its output
        must be `(N, *spatial, C)`, channels last.
      inputs: float array `(N, *input_shape)`, e.g. `(N, H, W, C)`.
      channels: channel indices, the same for every input (K = their count);
        or None for, per input, the `top_k` channels with the largest maximum
        activation, strongest first (ties: lower index first).
      methods: `"deconvnet"`, `"guided_backprop"`, `"gradient"` or a sequence
        of them (default all three); all share one forward pass, so asking for
        several costs less than separate calls.
      strongest_only: keep only each channel's maximum position in the seed.
      top_k: K when `channels` is None; capped at the layer's channel count.

    Returns:
      `DeconvResult`: `images[method]` float32 `(N, K, *input_shape)`,
      `channels` int64 `(N, K)`, `activation_max` float32 `(N, K)`.

    Raises:
      ValueError: unknown layer or method, channel out of range, a layer with no
        spatial structure, a model with several inputs.

    Warns:
      UserWarning: no ReLU between the input and the layer (the result is then
        the plain gradient).
    """
    deconvolver = Deconvolver(
        model, layer, methods=methods, strongest_only=strongest_only
    )
    return deconvolver(inputs, channels, top_k)


def deconvolution(
    model: keras.Model,
    layer: str,
    inputs,
    channels: Sequence[int] | None = None,
    *,
    method: str = "deconvnet",
    strongest_only: bool = False,
    top_k: int = DEFAULT_TOP_K,
) -> np.ndarray:
    """Returns one method's reconstructions, float32 `(N, K, *input_shape)`.

    `(N, K, H, W, C)` for N images and K channels: raw, unnormalized, signed.
    Arguments, definition and errors as in `deconvolution_result`; `method` is
    `"deconvnet"`, `"guided_backprop"` or `"gradient"`.
    """
    if not isinstance(method, str):
        raise ValueError(f"method must be one name, got {method!r}")
    deconvolver = Deconvolver(
        model, layer, methods=method, strongest_only=strongest_only
    )
    return deconvolver(inputs, channels, top_k).images[method]
