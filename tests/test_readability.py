"""Readability of pictures against the data, on known answers (numpy only).

A uniform field is flat, iid pixel noise is noise against smooth data, a
frame is border, a smooth blob against smooth data is none of them; each
threshold sits where `readability.py` says; 1/f^2 images have the natural
spectrum slope and white noise a flat one.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tb_netviz.pictures import readability as rd
from tb_netviz.pictures import spectra

SIZE = 28
YY, XX = np.mgrid[:SIZE, :SIZE].astype(np.float64)


def blob(cy: float, cx: float, sigma: float) -> np.ndarray:
    return np.exp(-((YY - cy) ** 2 + (XX - cx) ** 2) / (2 * sigma**2))


def smooth_data(n: int = 64, seed: int = 0) -> np.ndarray:
    """Gaussian blobs at random places and sizes, `(n, 28, 28, 1)` in [0, 1]."""
    rng = np.random.default_rng(seed)
    return np.stack(
        [blob(*rng.uniform(9, 19, 2), rng.uniform(2.5, 5)) for _ in range(n)]
    )[..., None]


@pytest.fixture(scope="module")
def data() -> rd.DataStats:
    return rd.data_stats(smooth_data())


def pictures(*images: np.ndarray) -> np.ndarray:
    return np.stack(images)[..., None]


def framed(inside: float = 0.5, frame: float = 0.1, width: int = 2) -> np.ndarray:
    """A uniform square with a `width`-px frame of another grey (issue 18's
    blank conv1 pictures)."""
    image = np.full((SIZE, SIZE), frame)
    image[width:-width, width:-width] = inside
    return image


def test_the_four_known_answers(data):
    noise = np.random.default_rng(1).uniform(0, 1, (SIZE, SIZE))
    f = rd.readability_flags(
        pictures(np.full((SIZE, SIZE), 0.5), noise, framed(), blob(13, 15, 4)), data
    )
    assert f["flat"] == [True, False, False, False]
    # A sharp frame is fine detail on a few frequencies: fine, not noise.
    assert f["noise"] == [False, True, False, False]
    assert f["fine"] == [False, False, True, False]
    assert f["border"] == [False, False, True, False]
    assert f["contrast_ratio"][0] == 0.0
    assert f["hf_ratio"][0] is None and f["border_share"][0] is None  # undefined
    assert f["hf_ratio"][1] > 100 and f["border_share"][2] > 0.7
    assert f["contrast_ratio"][3] == pytest.approx(1.0, abs=0.3)
    assert f["hf_ratio"][3] < 2 and f["border_share"][3] < 0.1
    assert f["hf_flatness"][1] > 0.5 > rd.NOISE_FLATNESS > f["hf_flatness"][2]


def test_a_fine_grating_is_fine_not_noise(data):
    # The honest picture of a 3x3 first-layer edge detector is a grating near
    # Nyquist: all fine detail, but on a few frequencies, not spread as noise.
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    grating = 0.5 + 0.4 * np.sin(2 * np.pi * (xx + yy) / 3.5)
    noisy = grating + np.random.default_rng(2).normal(0, 0.3, (SIZE, SIZE))
    f = rd.readability_flags(pictures(grating, noisy), data)
    assert f["hf_ratio"][0] > rd.NOISE_HF  # as much fine detail as noise has
    assert f["noise"] == [False, True]
    assert f["fine"] == [True, False]  # flagged all the same, with its own reason


def test_high_frequency_share_of_white_noise_is_the_band_area():
    # iid pixels: a flat spectrum, so the share is the band's share of the
    # frequency square [-1/2, 1/2)^2 outside the disc of radius 1/4.
    noise = np.random.default_rng(2).normal(size=(16, 64, 64, 3))
    share = rd.hf_share(noise)
    assert share.mean() == pytest.approx(1 - np.pi / 16, abs=0.02)
    assert share.min() > 0.7
    assert rd.hf_share(smooth_data(4)).max() < 0.01


@pytest.mark.parametrize("factor, flat", [(0.99, True), (1.01, False)])
def test_flat_threshold(data, factor, flat):
    picture = pictures(blob(14, 14, 4))
    c = rd.contrast(picture)[0]
    at = dataclasses.replace(data, contrast=c / (rd.FLAT_CONTRAST * factor))
    f = rd.readability_flags(picture, at)
    assert f["flat"] == [flat]
    assert f["contrast_ratio"][0] == pytest.approx(rd.FLAT_CONTRAST * factor, rel=1e-3)


@pytest.mark.parametrize("factor, noise", [(0.99, False), (1.01, True)])
def test_noise_threshold(data, factor, noise):
    speckle = np.random.default_rng(3).normal(0, 0.02, (SIZE, SIZE))
    picture = pictures(blob(14, 14, 4) + speckle)
    share = rd.hf_share(picture)[0]
    at = dataclasses.replace(data, hf_share=share / (rd.NOISE_HF * factor))
    assert rd.readability_flags(picture, at)["noise"] == [noise]


def test_a_flat_picture_is_not_also_called_noise(data):
    faint = 0.5 + 1e-4 * np.random.default_rng(3).uniform(size=(SIZE, SIZE))
    f = rd.readability_flags(pictures(faint), data)
    assert f["flat"] == [True] and f["noise"] == [False] and f["hf_ratio"][0] > 3


def test_border_threshold_and_frame_width():
    # 28 px: a 2-px frame holds 1 - (24/28)^2 of the pixels; twice that binds.
    assert rd.border_threshold(28, 28) == pytest.approx(2 * (1 - (24 / 28) ** 2))
    assert rd.border_threshold(64, 64) == rd.BORDER_SHARE  # 4 px: 23% of the pixels
    assert rd.border_threshold(8, 8) == pytest.approx(2 * (1 - (6 / 8) ** 2))
    # iid noise is spread evenly: its frame share is the frame's pixel share.
    noise = np.random.default_rng(4).uniform(size=(64, 8, 8, 1))
    assert not any(rd.readability_flags(noise, rd.data_stats(noise))["border"])
    edge = rd.border_threshold(SIZE, SIZE)
    shares, flagged = [], []
    for gain in np.linspace(0.1, 1.0, 10):  # a centred blob, then a frame
        image = blob(14, 14, 3) + framed(0.0, gain)
        f = rd.readability_flags(pictures(image), rd.data_stats(smooth_data(8)))
        shares.append(f["border_share"][0])
        flagged.append(f["border"][0])
    assert flagged == [s > edge for s in shares]
    assert any(flagged) and not all(flagged)


def test_spectrum_slope_and_distance():
    natural = rd.natural_stats((64, 64, 1), 1.0)
    assert natural.slope == pytest.approx(-2.0, abs=0.3)  # 1/f^2 power
    noise = np.random.default_rng(5).normal(size=(8, 64, 64, 1))
    assert spectra.spectral_slope(noise).mean() == pytest.approx(0.0, abs=0.15)
    # The distance measures the spectrum's shape, not its contrast.
    far = rd.spectrum_distance(noise, natural)
    assert far == pytest.approx(rd.spectrum_distance(3 * noise + 1, natural))
    assert far.min() > 3 * natural.spectrum_spread
    assert np.isnan(rd.spectrum_distance(np.zeros((1, 64, 64, 1)), natural)[0])


def test_data_reference_and_errors(data):
    ref = data.to_json()
    assert ref["source"] == "examples" and ref["count"] == 64
    assert ref["thresholds"]["flat_contrast_ratio"] == rd.FLAT_CONTRAST
    assert ref["thresholds"]["noise_hf_ratio"] == rd.NOISE_HF
    assert 0 < ref["hf_share"] < 0.01 and 0.1 < ref["contrast"] < 0.3
    colour = rd.data_stats(np.random.default_rng(6).uniform(size=(3, 12, 10, 3)))
    assert colour.size == (12, 10) and colour.spectrum.shape == (5,)
    with pytest.raises(ValueError, match="data's size"):
        rd.readability_flags(np.zeros((1, 12, 12, 1)), data)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        rd.data_stats(np.zeros((4, 28, 28)))
