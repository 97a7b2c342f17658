"""MACO's parameterization (Fel et al., NeurIPS 2023): only the phase is optimized.

Each colour channel's image is its mean plus the inverse real FFT of a fixed
magnitude spectrum times `exp(i * phase)`; the magnitude is estimated from
example images (the probe, or held-out examples), so grayscale, medical or
satellite inputs get their own spectrum. Images are in unit range [0, 1].
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf


def spectrum(
    examples: np.ndarray | None, height: int, width: int, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """The fixed magnitude spectrum of MACO and the mean colour, from examples.

    Args:
      examples: float `(N, H', W', C)` in unit range (the probe inputs or a
        sample of the training data), resized here to `height` x `width` if
        needed; None: a 1/f spectrum (natural images' power law) with a pixel
        standard deviation of 0.2 around mid-grey.
      height, width, channels: the optimized image's size.

    Returns:
      `(magnitude, mean)`: float32 `(C, H, W // 2 + 1)`, the root mean square
      over examples of `|rfft2(x - mean colour of x)|` per colour channel (so
      that, by Parseval, an image with this spectrum has the examples' mean
      pixel variance; the zero frequency is 0: the mean colour is not
      optimized), and float32 `(C,)`, the mean colour of the examples.
    """
    if examples is None or len(examples) == 0:
        fy = np.fft.fftfreq(height)[:, None]
        fx = np.fft.rfftfreq(width)[None, :]
        f = np.sqrt(fx * fx + fy * fy)
        mag = np.where(f > 0, 1.0 / np.maximum(f, 1e-9), 0.0)
        mag = np.broadcast_to(mag, (channels, *mag.shape)).copy()
        mean = np.full(channels, 0.5)
        target_sd = 0.2
    else:
        x = np.asarray(examples, np.float32)
        if x.ndim != 4 or x.shape[-1] != channels:
            raise ValueError(
                f"examples must be (N, H, W, {channels}) images, got {x.shape}"
            )
        if x.shape[1:3] != (height, width):
            x = tf.image.resize(x, (height, width)).numpy()
        x = np.nan_to_num(x, nan=0.5)
        mean = x.mean(axis=(0, 1, 2))
        centred = x - x.mean(axis=(1, 2), keepdims=True)
        power = np.abs(np.fft.rfft2(centred.transpose(0, 3, 1, 2))) ** 2
        mag = np.sqrt(power.mean(axis=0))
        mag[:, 0, 0] = 0.0
        target_sd = None
    mag = np.asarray(mag, np.float64)
    if target_sd is not None:  # Parseval: pixel variance from the spectrum
        power = _rfft_power(mag, width) / (height * width) ** 2
        mag *= target_sd / np.sqrt(max(power / channels, 1e-12))
    return mag.astype(np.float32), np.asarray(mean, np.float32)


def _rfft_power(mag: np.ndarray, width: int) -> float:
    """Sum of |X|^2 over the full spectrum from an rfft2 magnitude (C, H, W//2+1)."""
    weight = np.full(mag.shape[-1], 2.0)  # each column stands for two
    weight[0] = 1.0
    if width % 2 == 0:
        weight[-1] = 1.0  # the Nyquist column stands for itself
    return float((mag**2 * weight).sum())


class Maco:
    """MACO (Fel et al., NeurIPS 2023): only the phase of the spectrum is optimized.

    Parameters: float32 `(K, C, H, W // 2 + 1)`, the phase of each colour
    channel's spectrum, in radians. The magnitude is fixed (`spectrum`, from
    the probe or example images), so every image has the spectrum, hence the
    pixel variance and texture scale, of the data; only where things are is
    optimized. Image = mean colour + irfft2(magnitude * exp(i * phase)),
    clipped to unit range (without the clip the amplitude spectrum is exactly
    `magnitude`; see `unclipped`).
    """

    name = "maco"

    def __init__(
        self,
        height: int,
        width: int,
        channels: int,
        magnitude: np.ndarray,
        mean: np.ndarray,
    ):
        self.shape = (height, width, channels)
        self.magnitude = np.asarray(magnitude, np.float32)
        self.mean = np.asarray(mean, np.float32)
        want = (channels, height, width // 2 + 1)
        if self.magnitude.shape != want:
            raise ValueError(f"magnitude must be {want}, got {self.magnitude.shape}")

    def init(self, seeds: tf.Tensor, image: tf.Tensor | None) -> tf.Tensor:
        """Returns uniform random phases, or the phase of `image` (unit range)."""
        h, w, c = self.shape
        if image is None:
            shape = (c, h, w // 2 + 1)
            return math.pi * (2.0 * _uniform(shape, seeds) - 1.0)
        t = tf.transpose(image - self.mean, (0, 3, 1, 2))
        return tf.math.angle(tf.signal.rfft2d(t, fft_length=[h, w]))

    def unclipped(self, params: tf.Tensor) -> tf.Tensor:
        """The image before the clip to unit range, float32 `(K, H, W, C)`."""
        h, w, _ = self.shape
        spectrum = tf.complex(
            self.magnitude * tf.cos(params), self.magnitude * tf.sin(params)
        )
        t = tf.signal.irfft2d(spectrum, fft_length=[h, w])
        return tf.transpose(t, (0, 2, 3, 1)) + self.mean

    def image(self, params: tf.Tensor) -> tf.Tensor:
        return _clip_unit(self.unclipped(params))

    def project(self, params: tf.Tensor) -> tf.Tensor:
        return params  # any phase is a valid phase

    def decay(self, params: tf.Tensor, rate: float) -> tf.Tensor:
        return params  # the magnitude is fixed: nothing to decay

    def blur(self, params: tf.Tensor, sigma: float) -> tf.Tensor:
        return params  # the magnitude is fixed: nothing to blur


@tf.custom_gradient
def _clip_unit(x: tf.Tensor):
    """`tf.clip_by_value(x, 0, 1)`, with its gradient as two fused ReluGrads.

    The gradient passes where 0 < x < 1 (clip_by_value's also passes at
    exactly 0 and 1, a set of measure zero). clip_by_value's own gradient
    selects with a broadcast scalar: on CPU ~0.2 ms a step for 16 images of
    32x32x3, as much as the FFT forward and backward (benchmarks/bench_maco.py).
    """

    def grad(dy):
        inside = tf.raw_ops.ReluGrad(gradients=dy, features=x)
        return tf.raw_ops.ReluGrad(gradients=inside, features=1.0 - x)

    return tf.clip_by_value(x, 0.0, 1.0), grad


def _uniform(shape, seeds: tf.Tensor) -> tf.Tensor:
    """One stateless uniform [0, 1) draw of `shape` per row of `seeds` (K, 2)."""
    k = seeds.shape[0]
    return tf.stack(
        [tf.random.stateless_uniform(shape, seed=seeds[i]) for i in range(k)]
    )
