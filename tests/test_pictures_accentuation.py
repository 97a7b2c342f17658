"""Accentuation rows: the input, then one accentuated image per channel, in the
input range, with each tile's channel, objectives, distance and flags."""

from __future__ import annotations

import numpy as np
import pytest

from tb_netviz.pictures import accentuation

SETTINGS = {"reg_layer": "conv1", "reg_weight": 16.0, "steps": 64, "lr": 0.05}


def test_rows_follow_the_layout_contract_and_draw_in_the_input_range():
    rng = np.random.default_rng(0)
    inputs = rng.uniform(-1, 1, (2, 5, 6, 3)).astype(np.float32)
    images = rng.uniform(-1, 1, (2, 3, 5, 6, 3)).astype(np.float32)
    images[1, 2] = 1.0  # a white picture: saturated, constant
    start = np.array([[1.0, 0.5, 0.2], [0.3, 0.2, 0.1]])
    end = np.array([[1.5, 0.5, 0.4], [0.6, 0.25, 0.9]])  # (0, 1) did not rise
    info, rows = accentuation.record(
        inputs, images, np.array([[4, 1, 7], [2, 0, 3]]), start, end,
        np.full((2, 3), 0.25), (-1.0, 1.0), SETTINGS,
    )  # fmt: skip
    layout = info["layout"]
    assert layout == {"rows": 1, "cols": 4, "tile_height": 5, "tile_width": 6, "pad": 2}
    assert len(rows) == 2 and rows[0].shape == (5, 4 * 6 + 3 * 2, 3)
    for n in range(2):
        for k in range(4):
            x = k * (6 + 2)
            tile = rows[n][:, x : x + 6].astype(float)
            want = inputs[n] if k == 0 else images[n, k - 1]
            np.testing.assert_allclose(tile, np.rint((want + 1) / 2 * 255), atol=0)
        assert (rows[n][:, 6:8] == 0).all()  # pad
    assert info["channels"] == [[4, 1, 7], [2, 0, 3]]
    assert info["objective_start"] == start.tolist()
    assert info["objective_end"] == end.tolist()
    assert info["distance"] == [[0.25] * 3] * 2
    assert info["flags"]["dead"] == [[False, True, False], [False, False, False]]
    assert info["flags"]["saturated"] == [[False] * 3, [False, False, True]]
    assert info["flags"]["constant"][1][2] is True
    assert info["settings"] == SETTINGS and info["input_range"] == [-1.0, 1.0]
    assert info["method"] == "accentuation" and info["drawn_as"] == "image"
    assert info["nonfinite"] is False


def test_grayscale_and_non_images():
    inputs = np.zeros((1, 4, 4, 1), np.float32)
    info, rows = accentuation.record(
        inputs, np.ones((1, 2, 4, 4, 1)), [[0, 1]], [[0, 0]], [[1, 1]],
        [[0.1, 0.2]], (0.0, 1.0), SETTINGS,
    )  # fmt: skip
    assert rows[0].shape == (4, 3 * 4 + 2 * 2, 1)
    assert rows[0][0, 0, 0] == 0 and rows[0][0, 6, 0] == 255
    with pytest.raises(ValueError, match=r"accentuation draws images"):
        accentuation.record(
            np.zeros((1, 8, 3)), np.zeros((1, 2, 8, 3)), [[0, 1]], [[0, 0]],
            [[1, 1]], [[0, 0]], (0.0, 1.0), SETTINGS,
        )  # fmt: skip
