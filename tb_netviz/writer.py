"""Writes NetViz records with the default `tf.summary` writer.

Like `tf.summary.image(name, data, step)`, it writes what it is given and
computes nothing: the loggers hand it a record `(info, images)` made by
`pictures/` with its images encoded by `encode_png`. A record is two series (see `metadata.py`): the images, then the
step's JSON, so a step whose JSON can be read has its images written too.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tensorboard.plugins.histogram import metadata as histogram_metadata

from tb_netviz import metadata

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # grey, grey + alpha, RGB, RGBA
# zlib level 1: 1.7x faster than tf.io.encode_png (level 6) at the same size
# on NetViz's grids (benchmarks/bench_activations.py).
_PNG_LEVEL = 1


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(image: np.ndarray) -> bytes:
    """Encodes a uint8 image `(H, W)` or `(H, W, C)`, C in {1, 2, 3, 4}, as an
    8-bit PNG (filter type 0 on every row, deflated with zlib)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    channels = 1 if image.ndim == 2 else image.shape[2]
    raw = np.zeros((height, 1 + width * channels), np.uint8)  # byte 0: filter 0
    raw[:, 1:] = image.reshape(height, width * channels)
    header = struct.pack(
        ">IIBBBBB", width, height, 8, _PNG_COLOR_TYPE[channels], 0, 0, 0
    )
    return b"".join(
        [
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), _PNG_LEVEL)),
            _png_chunk(b"IEND", b""),
        ]
    )


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
    full = metadata.make_step_info(kind, layer, len(pngs), info)
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
            # The step JSON is made as the promise says: a reader lists the
            # steps without decoding every step's JSON.
            metadata=metadata.create_summary_metadata(
                kind, layer, "info", step_json=metadata.STEP_JSON_COMPACT
            ),
        )
    )


def write_histogram(tag: str, buckets: np.ndarray, step: int) -> bool:
    """Writes `buckets` (float64 `(k, 3)`, `pictures.activations.
    histogram_buckets`) as a TensorBoard histogram summary under `tag`, as
    `tf.summary.histogram` writes one (its Histograms and Distributions
    dashboards read it). Returns False if no default writer is set."""
    return bool(
        tf.summary.write(
            tag,
            tf.constant(buckets, tf.float64),
            step=step,
            metadata=histogram_metadata.create_summary_metadata(
                display_name=None, description=None
            ),
        )
    )
