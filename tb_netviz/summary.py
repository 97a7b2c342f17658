"""Write NetViz summaries with the default `tf.summary` writer (custom loops too).

Every function here writes one value per layer: a rank-1 string tensor whose
element 0 is the step's JSON (see `metadata.py`) and whose elements 1..n are
PNG images. Like `tf.summary.image`, they return False when no default writer
is set, and True otherwise.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tb_netviz import grid, metadata
from tb_netviz.methods.activations import ActivationReader

# One compiled reader per (model, layer tuple), so a custom loop that calls
# `activations` every step traces the forward pass once.
_READERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def write(
    kind: str, layer: str, step: int, info: dict[str, Any], pngs: Sequence[bytes]
) -> bool:
    """Writes one NetViz value: the step JSON followed by PNG images.

    Args:
      kind: one of `metadata.KINDS`.
      layer: the layer path.
      step: the training step or epoch.
      info: the step's JSON object; `version`, `kind` and `layer` are added.
      pngs: encoded PNG images, one per probe input (or one grid).

    Returns:
      False if no default summary writer is set, else True.
    """
    full = {"version": metadata.VERSION, "kind": kind, "layer": layer, **info}
    value = tf.constant([metadata.encode_step_info(full), *pngs], dtype=tf.string)
    return bool(
        tf.summary.write(
            metadata.make_tag(kind, layer),
            value,
            step=step,
            metadata=metadata.create_summary_metadata(kind, layer),
        )
    )


def encode_png(image: np.ndarray) -> bytes:
    """Encodes a uint8 image `(H, W)` or `(H, W, C)` with C in {1, 3, 4} as PNG."""
    if image.ndim == 2:
        image = image[..., None]
    return tf.io.encode_png(image).numpy()


def activation_arrays(
    layer: str,
    acts: np.ndarray,
    step: int,
    max_channels: int = 64,
    max_tile_size: int = 64,
    channels: Sequence[int] | None = None,
    channels_total: int | None = None,
) -> bool:
    """Writes precomputed activations of one layer as quantized grids.

    Args:
      layer: the layer path used in the tag `activations/<layer>`.
      acts: float array `(N, H, W, C)`, `(N, T, C)` or `(N, units)`.
      step: the step to record.
      max_channels, max_tile_size, channels, channels_total: see
        `grid.pack_activations`.

    Returns:
      False if no default writer is set, else True.
    """
    info, grids = grid.pack_activations(
        acts, max_channels, max_tile_size, channels, channels_total
    )
    return write("activations", layer, step, info, [encode_png(g) for g in grids])


def activations(
    model: keras.Model,
    inputs,
    layers: Sequence[str],
    step: int,
    max_channels: int = 64,
    max_tile_size: int = 64,
) -> bool:
    """Computes and writes the activations of `layers` on `inputs` at `step`.

    Args:
      model: a built Sequential or functional model (nested models allowed).
      inputs: probe batch `(N, *input_shape)`.
      layers: layer paths, e.g. `["conv1", "backbone/block1_conv1"]`.
      step: the step to record.
      max_channels: at most this many channels per layer are drawn.
      max_tile_size: each channel is drawn at most this many pixels a side.

    Returns:
      False if no default writer is set, else True.

    Raises:
      ValueError: an unknown layer (close names listed).
    """
    per_model = _READERS.setdefault(model, {})
    key = (tuple(layers), max_channels)
    if key not in per_model:
        per_model[key] = ActivationReader(model, layers, max_channels)
    reader = per_model[key]
    outputs = reader(inputs)
    written = True
    for layer in layers:
        written &= activation_arrays(
            layer,
            outputs[layer],
            step,
            max_channels,
            max_tile_size,
            channels_total=reader.channels_total[layer],
        )
    return written
