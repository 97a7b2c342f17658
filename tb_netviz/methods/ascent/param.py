"""Image parameterizations for feature visualization: pixels and Fourier space.

A parameterization maps a float32 parameter tensor to a batch of images of
shape `(K, H, W, C)` with values in [0, 1] ("unit range"); the caller maps the
unit range onto the model's `input_range`. Working in unit range keeps the
learning rates of the published recipes independent of (0, 255) vs (-1, 1).

Both classes also implement the per-step operations that act on parameters
rather than on the loss (Yosinski et al. 2015): projection, multiplicative
L2 decay and Gaussian blur.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tb_netviz.methods.ascent import transforms

# Square root of ImageNet's RGB colour covariance, from Lucid
# (lucid/optvis/param/color.py); columns normalized to a maximum norm of 1.
_COLOR_SQRT = np.asarray(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32
)
_COLOR = _COLOR_SQRT / np.max(np.linalg.norm(_COLOR_SQRT, axis=0))
_COLOR_INV = np.linalg.inv(_COLOR).astype(np.float32)


def _normal(shape, seeds: tf.Tensor) -> tf.Tensor:
    """One stateless normal draw of `shape` per row of `seeds` (K, 2) int64."""
    k = seeds.shape[0]
    return tf.stack(
        [tf.random.stateless_normal(shape, seed=seeds[i]) for i in range(k)]
    )


class Pixel:
    """The image itself, in unit range, projected back into [0, 1] after each step.

    Parameters: float32 `(K, H, W, C)`. This is the parameterization of
    Yosinski et al. 2015, DeepDream and tf-keras-vis.
    """

    name = "pixel"

    def __init__(self, height: int, width: int, channels: int, init_sd: float):
        self.shape = (height, width, channels)
        self.init_sd = init_sd

    def init(self, seeds: tf.Tensor, image: tf.Tensor | None) -> tf.Tensor:
        """Returns parameters: `image` (unit range) or mid-grey plus N(0, sd) noise."""
        if image is not None:
            return tf.identity(image)
        noise = _normal(self.shape, seeds)
        return tf.clip_by_value(0.5 + self.init_sd * noise, 0.0, 1.0)

    def image(self, params: tf.Tensor) -> tf.Tensor:
        return params

    def project(self, params: tf.Tensor) -> tf.Tensor:
        return tf.clip_by_value(params, 0.0, 1.0)

    def decay(self, params: tf.Tensor, rate: float) -> tf.Tensor:
        # Decay towards mid-grey, the unit-range stand-in for Yosinski's mean image.
        return 0.5 + (1.0 - rate) * (params - 0.5)

    def blur(self, params: tf.Tensor, sigma: float) -> tf.Tensor:
        return transforms.gaussian_blur(params, sigma)


class Fourier:
    """Lucid's Fourier-space image with decorrelated colour (Olah et al. 2017).

    Parameters: float32 `(K, 2, C, H, W // 2 + 1)`, the real and imaginary parts
    of each channel's spectrum, scaled by 1/frequency so that all frequencies
    learn at the same rate. The inverse FFT (divided by 4, as in Lucid) is mixed
    by the square root of ImageNet's colour covariance when C is 3 and squashed
    by a sigmoid into unit range.
    """

    name = "fourier"

    def __init__(
        self, height: int, width: int, channels: int, init_sd: float, decorrelate: bool
    ):
        self.shape = (height, width, channels)
        self.init_sd = init_sd
        # Colour decorrelation only means something for RGB inputs.
        self.decorrelate = bool(decorrelate) and channels == 3
        fy = np.fft.fftfreq(height)[:, None]
        fx = np.fft.rfftfreq(width)[None, :]
        self._freqs = np.sqrt(fx * fx + fy * fy).astype(np.float32)
        # Lucid's spectrum scaling (decay_power 1), times sqrt(H*W) so that
        # the transform is unitary and pixel learning rates carry over.
        scale = 1.0 / np.maximum(self._freqs, 1.0 / max(height, width))
        self._scale = (scale * math.sqrt(height * width)).astype(np.float32)

    def _spectrum_shape(self) -> tuple[int, ...]:
        h, w, c = self.shape
        return (2, c, h, w // 2 + 1)

    def init(self, seeds: tf.Tensor, image: tf.Tensor | None) -> tf.Tensor:
        """Returns parameters: Lucid's N(0, 0.01) spectrum, or the exact inverse of `image`."""
        if image is None:
            return self.init_sd * _normal(self._spectrum_shape(), seeds)
        h, w, _ = self.shape
        t = tf.clip_by_value(image, 1e-3, 1.0 - 1e-3)
        t = tf.math.log(t) - tf.math.log1p(-t)  # inverse sigmoid
        if self.decorrelate:
            t = tf.linalg.matvec(_COLOR_INV, t)
        t = tf.transpose(t * 4.0, (0, 3, 1, 2))
        spectrum = tf.signal.rfft2d(t, fft_length=[h, w]) / self._scale
        return tf.stack([tf.math.real(spectrum), tf.math.imag(spectrum)], axis=1)

    def image(self, params: tf.Tensor) -> tf.Tensor:
        h, w, _ = self.shape
        spectrum = tf.complex(params[:, 0], params[:, 1]) * self._scale
        t = tf.signal.irfft2d(spectrum, fft_length=[h, w]) / 4.0
        t = tf.transpose(t, (0, 2, 3, 1))
        if self.decorrelate:
            t = tf.linalg.matvec(_COLOR, t)  # each pixel's colour times _COLOR.T
        return tf.sigmoid(t)

    def project(self, params: tf.Tensor) -> tf.Tensor:
        return params  # the sigmoid keeps every image in range

    def decay(self, params: tf.Tensor, rate: float) -> tf.Tensor:
        # The map is linear up to the sigmoid: shrinking the spectrum shrinks
        # the pre-sigmoid image towards 0, i.e. the image towards mid-grey.
        return (1.0 - rate) * params

    def blur(self, params: tf.Tensor, sigma: float) -> tf.Tensor:
        # Blurring is a product in frequency space: the Gaussian's transfer
        # function exp(-2 pi^2 sigma^2 f^2), applied to the pre-sigmoid image.
        gain = np.exp(-2.0 * math.pi**2 * sigma**2 * self._freqs**2)
        return params * gain.astype(np.float32)


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
        return tf.clip_by_value(self.unclipped(params), 0.0, 1.0)

    def project(self, params: tf.Tensor) -> tf.Tensor:
        return params  # any phase is a valid phase

    def decay(self, params: tf.Tensor, rate: float) -> tf.Tensor:
        return params  # the magnitude is fixed: nothing to decay

    def blur(self, params: tf.Tensor, sigma: float) -> tf.Tensor:
        return params  # the magnitude is fixed: nothing to blur


def _uniform(shape, seeds: tf.Tensor) -> tf.Tensor:
    """One stateless uniform [0, 1) draw of `shape` per row of `seeds` (K, 2)."""
    k = seeds.shape[0]
    return tf.stack(
        [tf.random.stateless_uniform(shape, seed=seeds[i]) for i in range(k)]
    )


def make(
    name: str,
    height: int,
    width: int,
    channels: int,
    *,
    init_sd: float,
    decorrelate: bool,
    examples: np.ndarray | None = None,
    contrast: float = 1.0,
) -> Pixel | Fourier | Maco:
    """Returns the parameterization called `name` ("pixel", "fourier" or "maco").

    `examples` (unit range, `(N, H', W', C)`) give MACO its magnitude
    spectrum, multiplied by `contrast`.
    """
    if name == "pixel":
        return Pixel(height, width, channels, init_sd)
    if name == "fourier":
        return Fourier(height, width, channels, init_sd, decorrelate)
    if name == "maco":
        magnitude, mean = spectrum(examples, height, width, channels)
        return Maco(height, width, channels, contrast * magnitude, mean)
    raise ValueError(f"param must be 'pixel', 'fourier' or 'maco', got {name!r}")
