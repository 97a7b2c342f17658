"""pictures/attribution.py: the rows, the encoding the panel decodes, flags, ranking."""

import json

import numpy as np
import pytest

from tb_netviz import metadata
from tb_netviz.pictures import attribution

N, T, H, W = 2, 2, 6, 5


def _record(maps, **kw):
    inputs = np.linspace(0, 1, N * H * W * 3, dtype=np.float32).reshape(N, H, W, 3)
    args = {
        "targets": np.array([[1, 0], [2, 1]]),
        "probabilities": np.array([[0.7, 0.2], [0.5, 0.3]]),
        "faithfulness": {},
        "input_range": (0.0, 1.0),
        "signed": ("integrated_gradients",),
        "facts": {"cam_layer": "conv"},
    }
    args.update(kw)
    return inputs, attribution.record(inputs, maps, **args)


def _decode(info, row, m, t):
    """Map values of method index m, target t, decoded from a row as the panel does."""
    lay = info["layout"]
    k = 1 + m * T + t
    x = k * (lay["tile_width"] + lay["pad"])
    q = row[:, x : x + lay["tile_width"], 0].astype(np.float64)
    lo, hi = info["scales"][info["methods"][m]][0][t]
    if info["signed"][info["methods"][m]]:
        return (q - 128) / 127 * hi
    return lo + q / 255 * (hi - lo)


def test_row_is_input_then_each_method_and_target_and_decodes_to_the_map():
    rng = np.random.default_rng(0)
    cam = rng.random((N, T, H, W), dtype=np.float32) * 3 + 1
    ig = rng.normal(size=(N, T, H, W)).astype(np.float32)
    inputs, (info, rows) = _record({"gradcam": cam, "integrated_gradients": ig})
    assert len(rows) == N and rows[0].shape == (H, W * 5 + 2 * 4, 3)
    assert info["layout"]["cols"] == 1 + 2 * T
    assert info["methods"] == ["gradcam", "integrated_gradients"]
    assert info["signed"] == {"gradcam": False, "integrated_gradients": True}
    np.testing.assert_array_equal(rows[0][:, :W], np.rint(inputs[0] * 255))
    assert np.abs(_decode(info, rows[0], 0, 1) - cam[0, 1]).max() <= 3 / 255
    s = np.abs(ig[0, 1]).max()
    assert np.abs(_decode(info, rows[0], 1, 1) - ig[0, 1]).max() <= s / 127
    json.loads(metadata.encode_step_info(info))  # JSON-able as the writer writes it


def test_a_uniform_map_is_blank_and_negative_values_draw_signed():
    maps = {"gradcam": np.zeros((N, T, H, W)), "occlusion": -np.ones((N, T, H, W))}
    maps["occlusion"][0, 0, 0, 0] = 1.0
    _, (info, rows) = _record(maps)
    assert info["flags"]["gradcam"]["blank"] == [[True, True], [True, True]]
    assert info["flags"]["occlusion"]["blank"] == [[False, True], [True, True]]
    assert info["signed"]["occlusion"] is True
    assert rows[0][0, 3 * (W + 2), 0] == 255  # the +1 pixel at +scale


def test_incomplete_integrated_gradients_and_nonfinite_are_flagged():
    ig = np.ones((N, T, H, W))
    ig[1, 0, 2, 2] = np.nan
    _, (info, _) = _record(
        {"integrated_gradients": ig}, completeness=np.array([[0.01, 0.2], [0.0, 0.0]])
    )
    flags = info["flags"]["integrated_gradients"]
    assert flags["incomplete"] == [[False, True], [False, False]]
    assert flags["nonfinite"] == [[False, False], [True, False]]
    assert info["nonfinite"] is True


def test_ranking_by_mean_rank_deletion_lower_insertion_higher():
    means = {
        "deletion": {"a": 0.1, "b": 0.3, "c": 0.2},
        "insertion": {"a": 0.5, "b": 0.9, "c": 0.8},
    }
    # ranks: a 0+2, b 2+0, c 1+1 -> ties keep the given order
    assert attribution.ranking(means, ["a", "b", "c"]) == ["a", "b", "c"]
    means["mufidelity"] = {"a": 0.0, "b": 0.1, "c": 0.9}
    assert attribution.ranking(means, ["a", "b", "c"]) == [
        "c",
        "b",
        "a",
    ]  # totals a 4, b 3, c 2
    assert attribution.ranking({"deletion": {"b": 0.1}}, ["a", "b"]) == ["b", "a"]


def test_faithfulness_means_and_random_reference_are_kept():
    f = {
        "deletion": {
            "gradcam": np.array([[0.1, 0.3], [0.2, 0.2]]),
            "random": np.full((N, T), 0.5),
        }
    }
    _, (info, _) = _record({"gradcam": np.ones((N, T, H, W))}, faithfulness=f)
    assert info["faithfulness_mean"]["deletion"] == {"gradcam": 0.2, "random": 0.5}
    assert info["faithfulness"]["deletion"]["gradcam"] == [[0.1, 0.3], [0.2, 0.2]]
    assert info["ranking"] == ["gradcam"]  # the reference is no method


def test_maps_that_do_not_fit_the_inputs_are_refused():
    with pytest.raises(ValueError, match=r"\(N, T, H, W\)"):
        _record({"gradcam": np.ones((N, T, H, W + 1))})
