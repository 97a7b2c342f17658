"""Writes NetViz records with the default `tf.summary` writer.

Like `tf.summary.image(name, data, step)`, it writes what it is given and
computes nothing: the loggers hand it a record `(info, images)` made by
`pictures/` with its images encoded by `encode_png`. A record is two series (see `metadata.py`): the images, then the
step's JSON, so a step whose JSON can be read has its images written too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from tb_netviz import metadata


def encode_png(image: np.ndarray) -> bytes:
    """Encodes a uint8 image `(H, W)` or `(H, W, C)` with C in {1, 3, 4} as PNG."""
    if image.ndim == 2:
        image = image[..., None]
    return tf.io.encode_png(image).numpy()


def write_record(
    kind: str,
    layer: str,
    step: int,
    info: dict[str, Any],
    pngs: Sequence[bytes] = (),
) -> bool:
    """Writes one record: its PNG images (if any) and its step JSON.

    Args:
      kind: one of `metadata.KINDS`.
      layer: the layer path (for `probe`, the model input's name).
      step: the training step or epoch.
      info: the step's JSON-able dict; `version`, `kind`, `layer` and
        `samples` (the number of images) are added.
      pngs: encoded PNG images (see `encode_png`), e.g. one per probe input.

    Returns:
      False if no default summary writer is set, else True.
    """
    full = {
        "version": metadata.VERSION,
        "kind": kind,
        "layer": layer,
        "samples": len(pngs),
        **info,
    }
    if pngs:
        tf.summary.write(
            metadata.make_tag(kind, layer),
            tf.constant(list(pngs), dtype=tf.string),
            step=step,
            metadata=metadata.create_summary_metadata(kind, layer, "images"),
        )
    return bool(
        tf.summary.write(
            metadata.info_tag(kind, layer),
            tf.constant(metadata.encode_step_info(full), dtype=tf.string),
            step=step,
            metadata=metadata.create_summary_metadata(kind, layer, "info"),
        )
    )
