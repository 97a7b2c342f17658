"""Image parameterizations for feature visualization: pixels, Fourier space, MACO.

A parameterization maps a float32 parameter tensor to a batch of images of
shape `(K, H, W, C)` with values in [0, 1] ("unit range"); the caller maps the
unit range onto the model's `input_range`. Working in unit range keeps the
learning rates of the published recipes independent of (0, 255) vs (-1, 1).

`maco.py` has MACO's phase-only parameterization. All classes implement the per-step operations that act on parameters
rather than on the loss (Yosinski et al. 2015): projection, multiplicative
L2 decay and Gaussian blur.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tb_netviz.methods.ascent import transforms
from tb_netviz.methods.ascent.maco import Maco, spectrum

# Square root of ImageNet's RGB colour covariance, from Lucid
# (lucid/optvis/param/color.py); columns normalized to a maximum norm of 1.
_COLOR_SQRT = np.asarray(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32
)
_COLOR = _COLOR_SQRT / np.max(np.linalg.norm(_COLOR_SQRT, axis=0))
_COLOR_INV = np.linalg.inv(_COLOR).astype(np.float32)
# Without examples the ball's radius is a natural image's pixel standard
# deviation around mid-grey (the same as MACO's 1/f spectrum without examples).
DEFAULT_RADIUS = 0.2


def _mix(images: tf.Tensor, matrix: np.ndarray) -> tf.Tensor:
    """Each pixel's colour times `matrix` `(C, C)`: `(..., C)` -> `(..., C)`,
    `out[..., i] = sum_j matrix[i, j] images[..., j]`. One product of all
    pixels with `matrix.T` (`tf.linalg.matvec` broadcasts a 3x3 product per
    pixel, and its gradient made it 3x the inverse FFT it follows)."""
    return tf.tensordot(images, tf.constant(matrix.T), 1)


def _normal(shape, seeds: tf.Tensor) -> tf.Tensor:
    """One stateless normal draw of `shape` per row of `seeds` (K, 2) int64."""
    k = seeds.shape[0]
    return tf.stack(
        [tf.random.stateless_normal(shape, seed=seeds[i]) for i in range(k)]
    )


class Pixel:
    """The image itself, in unit range, projected back into [0, 1] after each step.

    Parameters: float32 `(K, H, W, C)`. This is the parameterization of
    Yosinski et al. 2015, DeepDream and tf-keras-vis. With a `radius`, each
    image is also kept within a ball around the data's mean colour: its root
    mean square deviation from `mean` is at most `radius` (see `data_ball`),
    so a picture has no more contrast than the data have.
    """

    name = "pixel"

    def __init__(
        self,
        height: int,
        width: int,
        channels: int,
        init_sd: float,
        mean: np.ndarray | None = None,
        radius: float | None = None,
    ):
        self.shape = (height, width, channels)
        self.init_sd = init_sd
        centre = np.full(channels, 0.5) if mean is None else np.asarray(mean)
        self.mean = centre.astype(np.float32)
        self.radius = radius

    def init(self, seeds: tf.Tensor, image: tf.Tensor | None) -> tf.Tensor:
        """Returns parameters: `image` (unit range) or the mean colour plus N(0, sd) noise."""
        if image is not None:
            return tf.identity(image)
        noise = _normal(self.shape, seeds)
        return self.project(self.mean + self.init_sd * noise)

    def image(self, params: tf.Tensor) -> tf.Tensor:
        return params

    def project(self, params: tf.Tensor) -> tf.Tensor:
        params = tf.clip_by_value(params, 0.0, 1.0)
        if self.radius is None:
            return params
        # Into the box, then shrunk towards the mean colour into the ball: the
        # box is convex and holds the mean, so the result is in both, and a
        # pixel pushed past a bound comes back inside instead of piling up there.
        d = params - self.mean
        rms = tf.sqrt(tf.reduce_mean(tf.square(d), axis=(1, 2, 3), keepdims=True))
        return self.mean + d * tf.minimum(1.0, self.radius / (rms + 1e-12))

    def decay(self, params: tf.Tensor, rate: float) -> tf.Tensor:
        # Decay towards the mean colour (Yosinski et al. decay towards the mean image).
        return (1.0 - rate) * params + rate * self.mean

    def blur(self, params: tf.Tensor, sigma: float) -> tf.Tensor:
        return transforms.gaussian_blur(params, sigma)


def data_ball(
    examples: np.ndarray | None, channels: int, percentile: float
) -> tuple[np.ndarray, float]:
    """The mean colour and contrast radius of the data, for `Pixel`'s ball.

    Args:
      examples: float `(N, H, W, C)` in unit range (the probe inputs or a
        sample of the training data); None: mid-grey and a radius of
        `DEFAULT_RADIUS` (a natural image's pixel standard deviation).
      channels: C, the images' colour channels.
      percentile: which percentile of the examples' contrasts is the radius.

    Returns:
      `(mean, radius)`: float32 `(C,)`, the examples' mean colour, and the
      `percentile`-th percentile over examples of each one's root mean square
      deviation from that colour.
    """
    if examples is None or len(examples) == 0:
        return np.full(channels, 0.5, np.float32), DEFAULT_RADIUS
    x = np.nan_to_num(np.asarray(examples, np.float64), nan=0.5)
    if x.ndim != 4 or x.shape[-1] != channels:
        raise ValueError(
            f"examples must be (N, H, W, {channels}) images, got {x.shape}"
        )
    mean = x.mean(axis=(0, 1, 2))
    rms = np.sqrt(((x - mean) ** 2).mean(axis=(1, 2, 3)))
    return mean.astype(np.float32), float(np.percentile(rms, percentile))


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
            t = _mix(t, _COLOR_INV)
        t = tf.transpose(t * 4.0, (0, 3, 1, 2))
        spectrum = tf.signal.rfft2d(t, fft_length=[h, w]) / self._scale
        return tf.stack([tf.math.real(spectrum), tf.math.imag(spectrum)], axis=1)

    def image(self, params: tf.Tensor) -> tf.Tensor:
        h, w, _ = self.shape
        # unstack, not two slices: a slice's gradient (StridedSliceGrad) writes
        # a zero tensor of the whole parameters and was 0.4 ms a step each.
        real, imag = tf.unstack(params, num=2, axis=1)
        spectrum = tf.complex(real, imag) * self._scale
        t = tf.signal.irfft2d(spectrum, fft_length=[h, w]) / 4.0
        t = tf.transpose(t, (0, 2, 3, 1))
        if self.decorrelate:
            t = _mix(t, _COLOR)
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
    ball: float = 0.0,
) -> Pixel | Fourier | Maco:
    """Returns the parameterization called `name` ("pixel", "fourier" or "maco").

    `examples` (unit range, `(N, H', W', C)`) give MACO its magnitude
    spectrum, multiplied by `contrast`, and, when `ball` > 0, the pixel
    parameterization its ball: the `ball`-th percentile of their contrasts.
    """
    if name == "pixel":
        if ball > 0:
            mean, radius = data_ball(examples, channels, ball)
            return Pixel(height, width, channels, init_sd, mean, radius)
        return Pixel(height, width, channels, init_sd)
    if name == "fourier":
        return Fourier(height, width, channels, init_sd, decorrelate)
    if name == "maco":
        magnitude, mean = spectrum(examples, height, width, channels)
        return Maco(height, width, channels, contrast * magnitude, mean)
    raise ValueError(f"param must be 'pixel', 'fourier' or 'maco', got {name!r}")
