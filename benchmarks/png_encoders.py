"""PNG encoders compared by `bench_activations.py` (a proposal, not shipped code).

`tf_io` is what `tb_netviz.writer.encode_png` did before; `zlib_png` with level 1 and filter none is what it does now. `zlib_none` and
`zlib_up` are a numpy + zlib encoder (~20 lines): rows prefixed with PNG
filter type 0 (none) or 2 (up, each row minus the one above, vectorized),
deflated at a given zlib level, in IHDR/IDAT/IEND chunks. All are lossless
8-bit PNGs that any decoder (the browser's `createImageBitmap`) reads.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # gray, gray+alpha, RGB, RGBA


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def zlib_png(image: np.ndarray, level: int = 1, up: bool = False) -> bytes:
    """Encodes uint8 `(H, W)` or `(H, W, C)` as PNG with numpy and zlib."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape[:2]
    c = 1 if image.ndim == 2 else image.shape[2]
    rows = image.reshape(h, w * c)
    raw = np.empty((h, 1 + w * c), np.uint8)
    if up:  # filter 2: each byte minus the byte above (mod 256); row 0 unchanged
        raw[:, 0] = 2
        raw[0, 1:] = rows[0]
        np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])
    else:
        raw[:, 0] = 0
        raw[:, 1:] = rows
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOR_TYPE[c], 0, 0, 0)
    idat = zlib.compress(raw.tobytes(), level)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def tf_io(image: np.ndarray) -> bytes:
    import tensorflow as tf

    return tf.io.encode_png(image if image.ndim == 3 else image[..., None]).numpy()


def pillow(image: np.ndarray, level: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG", compress_level=level, optimize=False)
    return out.getvalue()


BASELINE = "tf.io.encode_png (before)"  # what the others are compared with
ENCODERS = {
    BASELINE: tf_io,
    "Pillow, compress_level=6": lambda im: pillow(im, 6),
    "Pillow, compress_level=1": lambda im: pillow(im, 1),
    "numpy+zlib level 1, filter none": lambda im: zlib_png(im, 1),
    "numpy+zlib level 1, filter up": lambda im: zlib_png(im, 1, up=True),
    "numpy+zlib level 6, filter up": lambda im: zlib_png(im, 6, up=True),
}


def decode(png: bytes) -> np.ndarray:
    import tensorflow as tf

    return tf.io.decode_png(png).numpy()
