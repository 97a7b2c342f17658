"""Is a picture readable? Its contrast, fine detail and frame against the data's (numpy only).

Images are float `(K, H, W, C)` in the model's input range. The data's
reference (`DataStats`) is computed once from examples of the same size (the
exemplars' examples or the probe); every picture is measured against it:

- contrast: the RMS deviation from the image's mean colour; `flat` below
  `FLAT_CONTRAST` of the data's median contrast.
- high-frequency share: the share of the spectral energy (mean removed,
  Hann-windowed so the image's edges do not count as detail) above `HF_BAND`
  cycles per pixel, the upper half of the band up to Nyquist; `noise` above
  `NOISE_HF` times the data's median share (iid pixel noise puts ~80% there,
  upsampled digits 0.2%, 28-px 1/f noise ~26%) and spread over that band as
  noise is: its spectral flatness (geometric over arithmetic mean of the
  power above `HF_BAND`; ~0.5 for iid noise, near 0 for a grating's few
  peaks) above `NOISE_FLATNESS`; the same excess of fine detail on a few
  frequencies is `fine` (a grating: the honest picture of a 3x3 first-layer
  edge detector, or an aliasing artifact; flagged, not called noise).
- border share: the share of the deviation energy in a frame `FRAME` of the
  side wide on each edge (at least 1 px); `border` above `BORDER_SHARE` and
  above `BORDER_LIFT` times the frame's share of the pixels (the second bound
  binds on small images, where a 1-px frame holds up to half the pixels).
- spectrum distance, the naturalness check: the RMS difference, in decades,
  of the image's radially averaged log10 power spectrum and the data's mean
  one, both centred (the shape counts, not the contrast). Natural images have
  power spectra close to 1/f^2 (van der Schaaf & van Hateren 1996: exponent
  1.88 ± 0.43); `spectral_slope` is the fitted log-log slope.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from tb_netviz.pictures.spectra import (
    HF_BAND,
    TINY,
    contrast,
    hf_flatness,
    hf_share,
    log_spectrum,
    prepared,
    slope_of,
)

FLAT_CONTRAST = 0.10  # flat: contrast below this share of the data's
NOISE_HF = 3.0  # noise: high-frequency share above this multiple of the data's
NOISE_FLATNESS = 0.25  # ... spread as noise is: spectral flatness above this
BORDER_SHARE = 0.5  # border: deviation energy share in the frame above this ...
BORDER_LIFT = 2.0  # ... and above this multiple of the frame's pixel share
FRAME = 1.0 / 16  # the frame's width on each edge, a share of the side
SPREAD_PERCENTILE = 90  # of the data's own spectrum distances, reported
# The contrast of the 1/f reference, as a share of the input range (about a
# natural photograph's standard deviation; the "bounded" preset's default).
NATURAL_CONTRAST = 0.2
# Images per FFT batch when measuring the data.
CHUNK = 32


@dataclasses.dataclass(frozen=True)
class DataStats:
    """The data's reference for pictures of size `(H, W)`.

    Attributes:
      source: "examples", "probe", or "1/f noise" when no data was given.
      count: how many images it was computed from.
      size: `(H, W)`.
      contrast: the median over images of the standard deviation over pixels.
      hf_share: the median over images of the high-frequency share.
      spectrum: float64 `(B,)`, the mean over images of the centred radially
        averaged log10 power spectrum, radii 1..B (B = min(H, W) // 2).
      spectrum_spread: the `SPREAD_PERCENTILE`th percentile of the images'
        own distances to `spectrum`.
      slope: the fitted log-log slope of the data's power spectrum.
    """

    source: str
    count: int
    size: tuple[int, int]
    contrast: float
    hf_share: float
    spectrum: np.ndarray
    spectrum_spread: float
    slope: float

    def to_json(self) -> dict[str, Any]:
        """The step JSON's `data_reference`: the figures and the thresholds."""
        return {
            "source": self.source,
            "count": self.count,
            "contrast": _short(self.contrast),
            "hf_share": _short(self.hf_share),
            "spectrum_spread": _short(self.spectrum_spread),
            "spectral_slope": _short(self.slope),
            "thresholds": {
                "flat_contrast_ratio": FLAT_CONTRAST,
                "noise_hf_ratio": NOISE_HF,
                "noise_flatness": NOISE_FLATNESS,
                "border_share": _short(border_threshold(*self.size)),
                "frame": FRAME,
                "hf_band": HF_BAND,
            },
        }


def _short(v: float) -> float | None:
    """4 significant digits for the JSON, None for NaN/Inf."""
    return float(f"{v:.4g}") if np.isfinite(v) else None


def _frame(h: int, w: int) -> int:
    """The frame's width in pixels on each edge of an `(h, w)` image."""
    return max(1, round(min(h, w) * FRAME))


def border_threshold(h: int, w: int) -> float:
    """The border share above which an `(h, w)` image is flagged `border`."""
    b = _frame(h, w)
    area = 1.0 - max(h - 2 * b, 0) * max(w - 2 * b, 0) / (h * w)
    return max(BORDER_SHARE, BORDER_LIFT * area)


def border_share(images: np.ndarray) -> np.ndarray:
    """float64 `(K,)`: the share of the deviation energy in the frame (NaN for
    a uniform image)."""
    e = (prepared(images) ** 2).sum(axis=-1)
    h, w = e.shape[1:]
    b = _frame(h, w)
    inner = e[:, b : h - b, b : w - b].sum(axis=(1, 2))
    total = e.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > TINY, 1.0 - inner / total, np.nan)


def spectrum_distance(images: np.ndarray, data: DataStats) -> np.ndarray:
    """float64 `(K,)`: RMS difference, in decades, of each image's centred log
    spectrum and the data's (NaN for a uniform image)."""
    return np.sqrt(((log_spectrum(images) - data.spectrum) ** 2).mean(axis=1))


def data_stats(examples: np.ndarray, source: str = "examples") -> DataStats:
    """The reference of `examples`, float `(N, H, W, C)` in the input range
    (measured `CHUNK` images at a time, so 256 large images stay cheap).

    Raises:
      ValueError: examples that are not `(N, H, W, C)` with N >= 1.
    """
    x = np.asarray(examples)
    if x.ndim != 4 or not len(x):
        raise ValueError(
            f"the data's reference needs images (N, H, W, C), got {x.shape}"
        )

    def each(fn):
        return np.concatenate([fn(x[i : i + CHUNK]) for i in range(0, len(x), CHUNK)])

    logs = each(log_spectrum)
    kept = logs[np.isfinite(logs).all(axis=1)]
    mean = kept.mean(axis=0) if len(kept) else np.full(logs.shape[1], np.nan)
    own = np.sqrt(((kept - mean) ** 2).mean(axis=1))
    return DataStats(
        source=source,
        count=len(x),
        size=(int(x.shape[1]), int(x.shape[2])),
        contrast=_percentile(each(contrast)),
        hf_share=_percentile(each(hf_share)),
        spectrum=mean,
        spectrum_spread=_percentile(own, SPREAD_PERCENTILE),
        slope=float(slope_of(mean)),
    )


def _percentile(v: np.ndarray, q: float = 50) -> float:
    """The `q`th percentile of the finite values (NaN without any)."""
    v = v[np.isfinite(v)]
    return float(np.percentile(v, q)) if v.size else float("nan")


@functools.lru_cache(maxsize=8)
def natural_stats(shape: tuple[int, int, int], span: float) -> DataStats:
    """The reference when no data is given: 32 random-phase images `shape`
    `(H, W, C)` with a 1/f^2 power spectrum (natural images' statistics) and a
    standard deviation of `NATURAL_CONTRAST` of the input range's `span`."""
    h, w, c = shape
    rng = np.random.default_rng(0)
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    amplitude = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(h, w))
    phase = np.exp(2j * np.pi * rng.uniform(size=(32, h, w, c)))
    x = np.fft.ifft2(amplitude[None, :, :, None] * phase, axes=(1, 2)).real
    x *= NATURAL_CONTRAST * span / x.std(axis=(1, 2, 3), keepdims=True)
    return data_stats(x, source="1/f noise (no data given)")


def readability_flags(images: np.ndarray, data: DataStats) -> dict[str, list]:
    """The flags and their figures, parallel lists of length K.

    Returns:
      `{"flat": [bool], "noise": [bool], "fine": [bool], "border": [bool], "contrast_ratio":
      [float], "hf_ratio": [float | None], "hf_flatness": [float | None],
      "border_share": [float | None]}`: contrast_ratio = contrast / the
      data's; hf_ratio = high-frequency share / the data's; flat =
      contrast_ratio < `FLAT_CONTRAST`; noise = hf_ratio > `NOISE_HF` and
      hf_flatness > `NOISE_FLATNESS` on a picture that is not flat (the fine
      detail of a flat picture is invisible); fine = the same excess with
      hf_flatness <= `NOISE_FLATNESS`; border = border_share >
      `border_threshold(H, W)`.
      None where undefined (a uniform picture).

    Raises:
      ValueError: images that are not `(K, H, W, C)` of the data's size.
    """
    x = np.asarray(images)
    if x.ndim != 4 or tuple(x.shape[1:3]) != tuple(data.size):
        raise ValueError(
            f"readability: images {x.shape} are not (K, H, W, C) of the data's "
            f"size {tuple(data.size)}"
        )
    ratio = contrast(x) / max(data.contrast, TINY)
    hf = hf_share(x) / np.maximum(data.hf_share, TINY)  # NaN when the data has none
    spread = hf_flatness(x)
    frame = border_share(x)
    edge = border_threshold(*x.shape[1:3])
    flat = ratio < FLAT_CONTRAST
    detailed = (hf > NOISE_HF) & ~flat
    noise = detailed & (spread > NOISE_FLATNESS)
    return {
        "flat": [bool(v) for v in flat],
        "noise": [bool(v) for v in noise],
        "fine": [bool(v) for v in detailed & ~noise],
        "border": [bool(v > edge) for v in frame],
        "contrast_ratio": [_short(v) for v in ratio],
        "hf_ratio": [_short(v) for v in hf],
        "hf_flatness": [_short(v) for v in spread],
        "border_share": [_short(v) for v in frame],
    }
