"""Robustness transforms and image regularizers for feature visualization.

Lucid's transforms (pad, jitter, random scale, random rotate, jitter) change
the image size step by step; models with a fixed input size then need Lucid's
`crop_or_pad_to` at the end. Here the whole chain, centre crop included, is
composed into one affine map per image and applied by a single bilinear
sampler, so the model sees its own input size at native scale, each image
gets its own random draw, and everything compiles under XLA.

All images here are float32 `(K, H, W, C)` in unit range [0, 1].
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

FILLS = ("constant", "reflect", "wrap")
N_RANDOM = 6  # uniform draws per image and step, see `affine`


@dataclasses.dataclass(frozen=True)
class TransformConfig:
    """One Lucid-style chain, in pixels of the optimized image.

    Attributes:
      pad: pixels added on each side before jittering (filled per `fill`).
      jitter: first random crop; the image moves by up to this many pixels.
      scales: zoom factors, one picked uniformly per step and image.
      angles: rotations in degrees, one picked uniformly per step and image.
      jitter2: second random crop, after scale and rotation.
      fill: "constant" (mid-grey, Lucid's pad value 0.5), "reflect" or "wrap"
        (DeepDream's np.roll) for pixels that come from outside the image.
    """

    pad: int = 0
    jitter: int = 0
    scales: tuple[float, ...] = (1.0,)
    angles: tuple[float, ...] = (0.0,)
    jitter2: int = 0
    fill: str = "constant"

    @property
    def identity(self) -> bool:
        return (
            self.pad == self.jitter == self.jitter2 == 0
            and set(self.scales) == {1.0}
            and set(self.angles) == {0.0}
        )


def _offset(u: tf.Tensor, d: int) -> tf.Tensor:
    """A uniform integer in [0, d] from u in [0, 1), as Lucid's random crop."""
    return tf.minimum(tf.floor(u * (d + 1)), float(d))


def _choice(u: tf.Tensor, values: tuple[float, ...]) -> tf.Tensor:
    idx = tf.minimum(tf.cast(u * len(values), tf.int32), len(values) - 1)
    return tf.gather(tf.constant(values, tf.float32), idx)


def affine(u: tf.Tensor, cfg: TransformConfig, height: int, width: int):
    """Maps output pixel coordinates to source coordinates, per image.

    Args:
      u: float32 `(K, N_RANDOM)` uniform draws in [0, 1).
      cfg: the transform chain.
      height, width: image size (the output has the same size).

    Returns:
      `(A, b)`: float32 `(K, 2, 2)` and `(K, 2)` with source = A @ q + b for an
      output point q = (y, x) in continuous pixel coordinates.
    """
    size = tf.constant([height, width], tf.float32)
    o1 = tf.stack([_offset(u[:, 0], cfg.jitter), _offset(u[:, 1], cfg.jitter)], 1)
    s = _choice(u[:, 2], cfg.scales)[:, None]
    theta = _choice(u[:, 3], cfg.angles) * (math.pi / 180.0)
    o2 = tf.stack([_offset(u[:, 4], cfg.jitter2), _offset(u[:, 5], cfg.jitter2)], 1)
    # Sizes along the chain: padded-and-cropped, then scaled, then cropped again.
    scaled = (size + 2 * cfg.pad - cfg.jitter) * s
    centre = scaled / 2.0
    # crop_or_pad_to, centred on whole pixels as tf.image.resize_with_crop_or_pad.
    margin = tf.floor((scaled - cfg.jitter2 - size) / 2.0)
    cos, sin = tf.cos(theta), tf.sin(theta)
    rot = tf.reshape(tf.stack([cos, -sin, sin, cos], 1), (-1, 2, 2))
    a = rot / s[:, :, None]
    b = (centre + tf.linalg.matvec(rot, margin + o2 - centre)) / s + o1 - cfg.pad
    return a, b


def _neighbour(i: tf.Tensor, n: int, fill: str):
    """Maps integer coordinates into [0, n); returns (index, in_bounds or None)."""
    if fill == "wrap":
        return tf.math.floormod(i, n), None
    if fill == "reflect" and n > 1:
        period = 2 * (n - 1)
        r = tf.math.floormod(i, period)
        return tf.where(r > n - 1, period - r, r), None
    valid = (i >= 0) & (i <= n - 1) if fill == "constant" else None
    return tf.clip_by_value(i, 0, n - 1), valid


def sample(images: tf.Tensor, a: tf.Tensor, b: tf.Tensor, fill: str) -> tf.Tensor:
    """Bilinearly samples `images` (K, H, W, C) at A @ q + b for every output pixel q."""
    k, h, w, c = images.shape
    qy = (tf.range(h, dtype=tf.float32) + 0.5)[None, :, None]
    qx = (tf.range(w, dtype=tf.float32) + 0.5)[None, None, :]
    a = a[:, :, :, None, None]
    # Source positions in index coordinates (pixel centres at integers).
    sy = a[:, 0, 0] * qy + a[:, 0, 1] * qx + b[:, 0, None, None] - 0.5
    sx = a[:, 1, 0] * qy + a[:, 1, 1] * qx + b[:, 1, None, None] - 0.5
    y0, x0 = tf.floor(sy), tf.floor(sx)
    wy, wx = (sy - y0)[..., None], (sx - x0)[..., None]
    y0, x0 = tf.cast(y0, tf.int32), tf.cast(x0, tf.int32)
    flat = tf.reshape(images, (k * h * w, c))
    base = (tf.range(k) * (h * w))[:, None, None]
    out = 0.0
    for dy, wgt_y in ((0, 1.0 - wy), (1, wy)):
        iy, vy = _neighbour(y0 + dy, h, fill)
        for dx, wgt_x in ((0, 1.0 - wx), (1, wx)):
            ix, vx = _neighbour(x0 + dx, w, fill)
            value = tf.gather(flat, base + iy * w + ix)
            if vy is not None:
                value = tf.where((vy & vx)[..., None], value, 0.5)
            out += wgt_y * wgt_x * value
    return out


def _crop_weights(frac: tf.Tensor, offset: tf.Tensor, n: int) -> tf.Tensor:
    """Bilinear weights of crops along one axis of n pixels, float32 `(..., n, n)`.

    Row q samples the source at s = frac (q + 1/2) + offset - 1/2 (pixel centres
    at integers): the window [offset, offset + frac n) resized to n pixels, as
    `sample` with A = frac I. The weight of pixel j is the hat max(0, 1 - |s - j|);
    before the first or after the last centre the image reflects without
    repeating its edge (`sample`'s "reflect"), which adds the mirrored
    neighbour's share. Valid for s in [-1, n], which holds for any window
    inside the image.
    """
    j = tf.range(n, dtype=tf.float32)
    s = (frac[..., None] * (j + 0.5) + offset[..., None] - 0.5)[..., None]
    edge = np.zeros((2, n), np.float32)
    edge[0, min(1, n - 1)] = edge[1, max(n - 2, 0)] = 1.0
    weights = tf.nn.relu(1.0 - tf.abs(s - j))
    return weights + tf.nn.relu(-s) * edge[0] + tf.nn.relu(s - (n - 1)) * edge[1]


def crop_resize(images: tf.Tensor, frac: tf.Tensor, offset: tf.Tensor) -> tf.Tensor:
    """Crops square-ish windows and resizes them bilinearly to the full size.

    Equal to `sample(repeated images, frac I, offset, "reflect")`, but as two
    products with per-crop interpolation matrices (the resize is separable):
    no gather and no scatter in the gradient, and all V crops of an image are
    made from it in one product, without copying it V times. The dense
    matrices cost H + W multiply-adds per output value (the gather sampler's
    gradient, a scatter, was ~8x slower on 32x32 crops).

    Args:
      images: float32 `(B, H, W, C)`.
      frac: float32 `(B, V)`, each crop's side as a fraction of the image's.
      offset: float32 `(B, V, 2)`, each crop's top-left corner (y, x) in pixels.

    Returns:
      float32 `(B * V, H, W, C)`: crop v of image b at row `b * V + v`.
    """
    b, h, w, c = images.shape
    v = frac.shape[1]
    wy = _crop_weights(frac, offset[..., 0], h)  # (B, V, H, H)
    wx = _crop_weights(frac, offset[..., 1], w)  # (B, V, W, W)
    # Along x, all crops of an image at once: (B, V W, W) @ (B, W, H C).
    cols = tf.reshape(tf.transpose(images, (0, 2, 1, 3)), (b, w, h * c))
    t = tf.matmul(tf.reshape(wx, (b, v * w, w)), cols)
    t = tf.transpose(tf.reshape(t, (b * v, w, h, c)), (0, 2, 1, 3))
    # Along y, per crop: (B V, H, H) @ (B V, H, W C).
    out = tf.matmul(tf.reshape(wy, (b * v, h, h)), tf.reshape(t, (b * v, h, w * c)))
    return tf.reshape(out, (b * v, h, w, c))


def translate(images: tf.Tensor, shift: tf.Tensor, fill: str) -> tf.Tensor:
    """Moves each image by whole pixels: out[k, y, x] = in[k, y + dy, x + dx].

    A fast path of `sample` for translation-only chains (no scale, no
    rotation): two gathers of rows and columns instead of four of pixels.
    `shift` is float32 `(K, 2)` holding whole numbers (dy, dx).
    """
    _, h, w, _ = images.shape
    shift = tf.cast(shift, tf.int32)
    iy, vy = _neighbour(tf.range(h)[None, :] + shift[:, :1], h, fill)
    ix, vx = _neighbour(tf.range(w)[None, :] + shift[:, 1:], w, fill)
    out = tf.gather(images, iy, axis=1, batch_dims=1)
    out = tf.gather(out, ix, axis=2, batch_dims=1)
    if vy is not None:
        out = tf.where((vy[:, :, None] & vx[:, None, :])[..., None], out, 0.5)
    return out


def random_transform(images: tf.Tensor, u: tf.Tensor, cfg: TransformConfig):
    """Applies `cfg` with per-image draws `u` (K, N_RANDOM); same shape out."""
    if cfg.identity:
        return images
    _, h, w, _ = images.shape
    a, b = affine(u, cfg, h, w)
    if set(cfg.scales) == {1.0} and set(cfg.angles) == {0.0}:
        return translate(images, b, cfg.fill)  # a is the identity
    return sample(images, a, b, cfg.fill)


def penalties(images: tf.Tensor, l1: float, l2: float, tv: float) -> tf.Tensor:
    """Weighted image penalties per image, float32 `(K,)`; means, so size-free.

    l1 and l2 measure the distance from mid-grey (Lucid's `L1(constant=0.5)`),
    tv the mean absolute difference of neighbouring pixels.
    """
    total = tf.zeros(tf.shape(images)[:1])
    centred = images - 0.5
    if l1:
        total += l1 * tf.reduce_mean(tf.abs(centred), axis=(1, 2, 3))
    if l2:
        total += l2 * tf.reduce_mean(tf.square(centred), axis=(1, 2, 3))
    if tv:
        dy = tf.abs(images[:, 1:] - images[:, :-1])
        dx = tf.abs(images[:, :, 1:] - images[:, :, :-1])
        total += tv * (
            tf.reduce_mean(dy, axis=(1, 2, 3)) + tf.reduce_mean(dx, axis=(1, 2, 3))
        )
    return total


# Below this width a Gaussian's weight one pixel away, exp(-1 / (2 sigma^2)),
# is under float32's 2^-24: the blur changes no pixel by more than rounding.
# Yosinski et al.'s sigma 1.0 at 227 px is 0.14 at 32 px.
MIN_BLUR_SIGMA = 1.0 / math.sqrt(2.0 * 24 * math.log(2.0))


def blurs(sigma: float) -> bool:
    """Whether a Gaussian blur of `sigma` pixels changes an image (see above)."""
    return sigma >= MIN_BLUR_SIGMA


def gaussian_blur(images: tf.Tensor, sigma: float) -> tf.Tensor:
    """Blurs each channel with a Gaussian of `sigma` pixels; borders reflect."""
    _, h, w, c = images.shape
    radius = min(max(1, math.ceil(3.0 * sigma)), h - 1, w - 1)
    if not blurs(sigma) or radius < 1:
        return images
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    g /= g.sum()
    kernel = np.tile(np.outer(g, g)[:, :, None, None], (1, 1, c, 1))
    padded = tf.pad(
        images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "REFLECT"
    )
    return tf.nn.depthwise_conv2d(
        padded, kernel.astype(np.float32), [1, 1, 1, 1], "VALID"
    )
