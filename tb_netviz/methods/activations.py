"""Layer activations on fixed probe inputs: one forward pass of a multi-output model."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods import layers as layers_lib


class ActivationReader:
    """Computes the outputs of chosen layers; builds its model and traces once.

    Attributes:
      paths: the layer paths, in the order of the returned dict.
    """

    def __init__(self, model: keras.Model, layer_paths: Sequence[str]):
        """Args:
        model: a built Sequential or functional model (nested models allowed).
        layer_paths: layer paths such as `"conv1"` or `"backbone/block1_conv1"`.

        Raises:
          ValueError: unknown path (close names listed) or a model with no graph.
        """
        self.paths = list(layer_paths)
        if not self.paths:
            raise ValueError("layer_paths is empty; name at least one layer")
        self._features = layers_lib.feature_model(model, self.paths)
        self._forward = tf.function(self._call, reduce_retracing=True)

    def _call(self, inputs) -> list:
        return layers_lib.call_features(self._features, inputs)

    def __call__(self, inputs) -> dict[str, np.ndarray]:
        """Runs the probe inputs through the model in inference mode.

        Args:
          inputs: array (or list of arrays for multi-input models) of shape
            `(N, *input_shape)`.

        Returns:
          `{path: float32 array of shape (N, *layer_output_shape)}`.
        """
        outputs = self._forward(inputs)
        return {
            path: np.asarray(out, dtype=np.float32)
            for path, out in zip(self.paths, outputs)
        }


def layer_activations(
    model: keras.Model, inputs, layer_names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Returns the outputs of the named layers for `inputs`, in inference mode.

    Args:
      model: a built Sequential or functional Keras model; nested models work and
        their layers are named by path, e.g. `"backbone/block1_conv1"`.
      inputs: array of shape `(N, *input_shape)` (a list of arrays for a model
        with several inputs).
      layer_names: layer paths.

    Returns:
      `{name: float32 array of shape (N, *output_shape)}`, e.g. `(N, H, W, C)` for
      a conv layer and `(N, units)` for a dense layer. The model is not changed.

    Raises:
      ValueError: an unknown layer (the message lists the closest names).
    """
    return ActivationReader(model, layer_names)(inputs)
