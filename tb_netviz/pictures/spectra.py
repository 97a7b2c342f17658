"""The spectral figures of pictures (numpy only): contrast, the share and the
spread of fine detail, the radially averaged log spectrum and its slope.

Images are float `(K, H, W, C)`; every figure is per image, `(K,)` or
`(K, B)`. `readability` compares them with the data's.
"""

from __future__ import annotations

import functools

import numpy as np

HF_BAND = 0.25  # cycles per pixel (Nyquist: 0.5) where "high" starts
TINY = 1e-12  # guards of the ratios


def prepared(images: np.ndarray) -> np.ndarray:
    """float64 `(K, H, W, C)`, each channel's mean removed, NaN/Inf as 0."""
    x = np.nan_to_num(np.asarray(images, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if x.ndim != 4:
        raise ValueError(f"readability measures images (K, H, W, C), got {x.shape}")
    return x - x.mean(axis=(1, 2), keepdims=True)


def contrast(images: np.ndarray) -> np.ndarray:
    """float64 `(K,)`: each image's RMS deviation from its mean colour."""
    d = prepared(images)
    return np.sqrt((d**2).mean(axis=(1, 2, 3)))


@functools.lru_cache(maxsize=16)
def _geometry(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Hann window `(H, W)`, radial frequency `(H, W)` (cycles per pixel)
    and integer ring `(H, W)` (0 = DC) of an image size."""
    window = np.outer(np.hanning(h + 2)[1:-1], np.hanning(w + 2)[1:-1])
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    radius = np.hypot(fy, fx)
    ring = np.rint(radius * min(h, w)).astype(int)
    return window, radius, ring


def _power(images: np.ndarray) -> np.ndarray:
    """float64 `(K, H, W)`: the windowed power spectrum, summed over channels."""
    d = prepared(images)
    window = _geometry(*d.shape[1:3])[0]
    spectrum = np.fft.fft2(d * window[None, :, :, None], axes=(1, 2))
    return (np.abs(spectrum) ** 2).sum(axis=-1)


def hf_share(images: np.ndarray) -> np.ndarray:
    """float64 `(K,)`: the share of spectral energy above `HF_BAND` (NaN for a
    uniform image, which has none)."""
    p = _power(images)
    radius = _geometry(*p.shape[1:])[1]
    total = p.sum(axis=(1, 2))
    high = p[:, radius > HF_BAND].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > TINY, high / total, np.nan)


def hf_flatness(images: np.ndarray) -> np.ndarray:
    """float64 `(K,)`: the spectral flatness of the power above `HF_BAND`
    (geometric / arithmetic mean; NaN for a uniform image)."""
    p = _power(images)
    high = p[:, _geometry(*p.shape[1:])[1] > HF_BAND]
    mean = high.mean(axis=1)
    geometric = np.exp(np.log(np.maximum(high, TINY)).mean(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean > TINY, geometric / mean, np.nan)


def log_spectrum(images: np.ndarray) -> np.ndarray:
    """float64 `(K, B)`: the radially averaged log10 power per ring 1..B
    (B = min(H, W) // 2), centred over rings; rows of uniform images are NaN."""
    p = _power(images)
    ring = _geometry(*p.shape[1:])[2]
    b = min(p.shape[1:]) // 2
    rings = np.stack([p[:, ring == r].mean(axis=1) for r in range(1, b + 1)], axis=1)
    top = rings.max(axis=1, keepdims=True)
    # An empty ring (a pattern on one frequency) is floored, not -inf.
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(np.maximum(rings, 1e-12 * top))
    logs[top[:, 0] <= 0] = np.nan
    return logs - logs.mean(axis=1, keepdims=True)


def spectral_slope(images: np.ndarray) -> np.ndarray:
    """float64 `(K,)`: the least-squares slope of log10 power over log10 ring
    (about -2 for natural photographs; 0 for white noise)."""
    return slope_of(log_spectrum(images))


def slope_of(logs: np.ndarray) -> np.ndarray:
    """float64 `(K,)`: the slopes of centred log spectra `(K, B)`."""
    f = np.log10(np.arange(1, logs.shape[-1] + 1))
    f = f - f.mean()
    return logs @ f / max(float(f @ f), TINY)
