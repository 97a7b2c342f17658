"""Issue 18's acceptance on real data: a user's CNN on scikit-learn's digits.

`digits_cnn` (8x8 digits bilinearly upsampled to 28x28x1, tests/digits.py)
trains 3 epochs under `NetVizCallback` with feature visualizations of every
layer and exemplars of the held-out digits. Each logged picture is read back
as the panel reads it (the PNG grid through the plugin) and measured here,
independently of `readability.py`: no tile whose contrast is below 10% of the
data's or whose high-frequency power is above 3x the data's goes unflagged.
"""

from __future__ import annotations

import functools
import io

import numpy as np
import pytest
from digits import TRAIN, digits, digits_cnn
from PIL import Image
from plugin_client import PREFIX, make_client

from tb_netviz import NetVizCallback, loggers
from tb_netviz.loggers import Ascent, Exemplars

LAYERS = ["conv1", "pool1", "conv2", "pool2"]


def write_digits_logdir(root: str) -> None:
    """The run `<root>/netviz`: ascent (8 channels of LAYERS, at the first and
    the last epoch), exemplars of the held-out digits and the probe."""
    x, y = digits()
    model = digits_cnn(epochs=0)
    kept = ("ascent", "exemplars", "probe")  # the probe kind is the argument's name
    off = {group: None for group in loggers.SPECS if group not in kept}
    cb = NetVizCallback(
        root,
        probe=x[TRAIN : TRAIN + 8],
        layers=LAYERS,
        input_range=(0.0, 1.0),
        overhead_budget=None,
        ascent=Ascent(channels=8),
        exemplars=Exemplars(x[TRAIN:], top_k=4),
        **off,
    )
    model.fit(x[:TRAIN], y[:TRAIN], epochs=3, batch_size=16, callbacks=[cb], verbose=0)
    assert cb.failures == []


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    root = tmp_path_factory.mktemp("digits")
    write_digits_logdir(str(root))
    return make_client(str(root))[0]


def tiles(client, layer: str, step: dict) -> np.ndarray:
    """The step's pictures as the panel shows them: float `(K, H, W)` in [0, 1]."""
    query = {"run": "netviz", "tag": f"ascent/{layer}", "step": step["step"]}
    png = client.get(f"{PREFIX}/image", query_string={**query, "sample": 0}).data
    grid = np.asarray(Image.open(io.BytesIO(png)).convert("L"), np.float64) / 255
    lay = step["info"]["layout"]
    h, w, pad = lay["tile_height"], lay["tile_width"], lay["pad"]
    return np.stack(
        [
            grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w]
            for k in range(len(step["info"]["channels"]))
            for r, c in [divmod(k, lay["cols"])]
        ]
    )


def high_frequency_share(images: np.ndarray) -> np.ndarray:
    """Share of the Hann-windowed power above 1/4 cycle per pixel, `(K,)`."""
    h, w = images.shape[1:]
    d = images - images.mean(axis=(1, 2), keepdims=True)
    window = np.outer(np.hanning(h + 2)[1:-1], np.hanning(w + 2)[1:-1])
    power = np.abs(np.fft.fft2(d * window)) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    total = power.sum(axis=(1, 2))
    return power[:, np.hypot(fy, fx) > 0.25].sum(axis=1) / np.maximum(total, 1e-30)


def high_frequency_flatness(images: np.ndarray) -> np.ndarray:
    """Geometric over arithmetic mean of that power, `(K,)`: ~0.5 or more
    for pixel noise, near 0 for a grating's few frequencies."""
    h, w = images.shape[1:]
    d = images - images.mean(axis=(1, 2), keepdims=True)
    window = np.outer(np.hanning(h + 2)[1:-1], np.hanning(w + 2)[1:-1])
    power = np.abs(np.fft.fft2(d * window)) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    high = np.maximum(power[:, np.hypot(fy, fx) > 0.25], 1e-30)
    return np.exp(np.log(high).mean(axis=1)) / high.mean(axis=1)


@functools.cache
def data_figures() -> tuple[float, float]:
    """The reference the Ascent spec uses: the first 256 exemplar examples."""
    x = digits()[0][TRAIN : TRAIN + 256, ..., 0]
    return float(np.median(x.std(axis=(1, 2)))), float(
        np.median(high_frequency_share(x))
    )


def test_no_blank_or_noisy_picture_goes_unflagged(logged):
    contrast, share = data_figures()
    past = 0
    for layer in LAYERS:
        query = {"run": "netviz", "tag": f"ascent/{layer}"}
        steps = logged.get(f"{PREFIX}/steps", query_string=query).json["steps"]
        assert [s["step"] for s in steps] == [0, 2]
        for step in steps:
            info, pics = step["info"], tiles(logged, layer, step)
            assert info["data_reference"]["count"] == 256
            low = pics.std(axis=(1, 2)) < 0.1 * contrast
            noisy = high_frequency_share(pics) > 3 * share
            spread = high_frequency_flatness(pics) > 0.25
            flags = info["flags"]
            for k in np.flatnonzero(low | noisy):
                where = f"{layer} step {step['step']} channel {info['channels'][k]}"
                if low[k]:
                    assert flags["flat"][k] or flags["constant"][k], where
                if noisy[k] and spread[k]:
                    assert flags["noise"][k] or flags["flat"][k], where
                elif noisy[k]:  # on a few frequencies: a grating
                    assert flags["fine"][k] or flags["flat"][k], where
                past += 1
            # The naturalness check is in every record, exemplars or not.
            assert len(info["checks"]["spectrum_distance"]) == len(info["channels"])
    assert past > 0  # the pictures issue 18 met: blank conv1, noisy pool1
