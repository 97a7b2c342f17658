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

from tb_netviz import grid, metadata, pictures
from tb_netviz.methods.activations import ActivationReader
from tb_netviz.methods.ascent import AscentResult, FeatureVisualizer
from tb_netviz.methods.deconv import DEFAULT_TOP_K, METHODS, Deconvolver, DeconvResult

# One compiled helper per (model, settings), so a custom loop that writes every
# step builds and traces once; dropped with the model.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(model: keras.Model, key: tuple, build):
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        per_model[key] = build()
    return per_model[key]


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
    key = ("activations", tuple(layers), max_channels)
    reader = _cached(model, key, lambda: ActivationReader(model, layers, max_channels))
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


def feature_visualization_result(
    layer: str,
    result: AscentResult,
    step: int,
    input_range: tuple[float, float],
    preset: str,
    seed: int,
) -> bool:
    """Writes a computed feature visualization as one grid at tag `ascent/<layer>`.

    Args:
      layer: the layer path.
      result: from `methods.FeatureVisualizer` / `feature_visualization_result`.
      step: the step to record.
      input_range: the `(lo, hi)` the images are in.
      preset, seed: recorded in the step JSON.

    Returns:
      False if no default writer is set, else True.
    """
    image, layout = pictures.ascent_grid(result.images, input_range)
    info = {
        "layout": layout,
        "channels": [int(c) for c in result.channels],
        "objective": [float(v) for v in result.objective],
        "nonfinite": [bool(v) for v in result.nonfinite],
        "preset": preset,
        "settings": result.settings,
        "seed": int(seed),
        "input_range": [float(v) for v in input_range],
        "steps_done": int(result.steps_done),
        "budget_exhausted": bool(result.stopped_early),
        "samples": 1,
    }
    return write("ascent", layer, step, info, [encode_png(image)])


def feature_visualization(
    model: keras.Model,
    layer: str,
    channels: Sequence[int],
    step: int,
    *,
    steps: int | None = None,
    preset: str = "lucid",
    seed: int = 0,
    input_range: tuple[float, float] = (0.0, 1.0),
    budget_s: float | None = None,
    **overrides,
) -> bool:
    """Optimizes and writes images for `channels` of `layer` (custom loops).

    Args:
      model, layer, channels, steps, preset, seed, input_range, **overrides: as
        `methods.feature_visualization`.
      step: the step to record.
      budget_s: stop after this many seconds and write what there is.

    Returns:
      False if no default writer is set, else True.
    """
    key = (
        "ascent",
        layer,
        preset,
        tuple(input_range),
        tuple(sorted(overrides.items())),
    )
    visualizer = _cached(
        model,
        key,
        lambda: FeatureVisualizer(
            model, layer, preset=preset, input_range=input_range, **overrides
        ),
    )
    result = visualizer(channels, steps=steps, seed=seed, budget_s=budget_s)
    return feature_visualization_result(
        layer, result, step, visualizer.input_range, preset, seed
    )


def deconvolution_result(
    layer: str,
    inputs: np.ndarray,
    result: DeconvResult,
    step: int,
    input_range: tuple[float, float],
) -> bool:
    """Writes computed reconstructions at `<method>/<layer>`, one PNG per input.

    Args:
      layer: the layer path.
      inputs: the probe inputs `(N, H, W, C)` drawn in tile 0 of each row.
      result: from `methods.Deconvolver` / `deconvolution_result`.
      step: the step to record.
      input_range: the `(lo, hi)` of the inputs.

    Returns:
      False if no default writer is set, else True.
    """
    written = True
    for method, recons in result.images.items():
        rows, layout, scales = pictures.deconv_rows(inputs, recons, input_range)
        info = {
            "method": method,
            "layout": layout,
            "channels": np.asarray(result.channels).tolist(),
            "activation_max": np.asarray(result.activation_max, float).tolist(),
            "scale": scales,
            "input_range": [float(v) for v in input_range],
            "samples": len(rows),
            "nonfinite": bool(not np.isfinite(recons).all()),
        }
        written &= write(method, layer, step, info, [encode_png(r) for r in rows])
    return written


def deconvolution(
    model: keras.Model,
    layer: str,
    inputs: np.ndarray,
    step: int,
    channels: Sequence[int] | None = None,
    *,
    top_k: int = DEFAULT_TOP_K,
    methods: str | Sequence[str] = METHODS,
    input_range: tuple[float, float] | None = None,
) -> bool:
    """Computes and writes deconvnet / guided-backprop reconstructions (custom loops).

    Args:
      model, layer, inputs, channels, top_k, methods: as
        `methods.deconvolution_result`.
      step: the step to record.
      input_range: the inputs' `(lo, hi)`; inferred from `inputs` if None.

    Returns:
      False if no default writer is set, else True.
    """
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    deconvolver = _cached(
        model,
        ("deconv", layer, methods),
        lambda: Deconvolver(model, layer, methods=methods),
    )
    result = deconvolver(inputs, channels, top_k)
    input_range = input_range or pictures.infer_input_range(inputs)
    return deconvolution_result(layer, np.asarray(inputs), result, step, input_range)
