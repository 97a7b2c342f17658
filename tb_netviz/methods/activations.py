"""Layer activations on fixed probe inputs: one forward pass of a multi-output model."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from tb_netviz.methods.common import layers as layers_lib
from tb_netviz.methods.common.traced import traced

# Probe inputs go through in chunks whose layer outputs stay under this many
# float32 values (256 MiB), so a 512-channel 224x224 layer on 16 probes does
# not need its 1.6 GB output at once.
_CHUNK_VALUES = 64 * 2**20


class ActivationReader:
    """Computes the outputs of chosen layers; builds its model and traces once.

    Attributes:
      paths: the layer paths, in the order of the returned dict.
      channels_total: `{path: channel count of the layer's output}`.
    """

    def __init__(
        self,
        model: keras.Model,
        layer_paths: Sequence[str],
        max_channels: int | None = None,
    ):
        """Args:
        model: a built Sequential or functional model (nested models allowed).
        layer_paths: layer paths such as `"conv1"` or `"backbone/block1_conv1"`.
        max_channels: keep only the first this many channels of each output,
          inside the compiled function (None keeps all).

        Raises:
          ValueError: unknown path (close names listed) or a model with no graph.
        """
        self.paths = list(layer_paths)
        if not self.paths:
            raise ValueError("layer_paths is empty; name at least one layer")
        self._features = layers_lib.feature_model(model, self.paths)
        self._max_channels = max_channels
        self.channels_total = {
            path: int(t.shape[-1])
            for path, t in zip(self.paths, self._features.outputs)
        }
        values = sum(
            int(np.prod([d or 1 for d in t.shape[1:]])) for t in self._features.outputs
        )
        self._chunk = max(1, _CHUNK_VALUES // max(values, 1))
        self._forward = traced(self._call, reduce_retracing=True)

    def _call(self, inputs) -> list:
        outputs = layers_lib.call_features(self._features, inputs)
        if self._max_channels is None:
            return outputs
        return [t[..., : self._max_channels] for t in outputs]

    def __call__(self, inputs) -> dict[str, np.ndarray]:
        """Runs the probe inputs through the model in inference mode.

        Args:
          inputs: array (or list of arrays for multi-input models) of shape
            `(N, *input_shape)`.

        Returns:
          `{path: float32 array of shape (N, *layer_output_shape)}`, the last
          axis cut to `max_channels` if that was given.
        """
        parts = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        n = len(parts[0])
        chunks = []
        for start in range(0, max(n, 1), self._chunk):  # n == 0 still has shapes
            piece = [p[start : start + self._chunk] for p in parts]
            out = self._forward(piece if len(piece) > 1 else piece[0])
            chunks.append([np.asarray(t, dtype=np.float32) for t in out])
        return {
            path: np.concatenate([c[i] for c in chunks])
            for i, path in enumerate(self.paths)
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
