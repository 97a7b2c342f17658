"""Flags for pictures that show nothing, the record's extra grids, the auto rule."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tb_netviz.methods import feature_visualization_result
from tb_netviz.methods.ascent import presets
from tb_netviz.pictures import ascent as pictures


def test_flags_mark_dead_saturated_and_constant_pictures():
    rng = np.random.default_rng(0)
    images = rng.uniform(0.2, 0.8, (4, 8, 8, 3)).astype(np.float32)
    images[1] = 1.0  # all white
    images[2] = 0.4  # one flat grey
    images[3, :6] = 0.0  # 75% black
    flags = pictures.flags(
        images,
        (0.0, 1.0),
        objective=np.array([2.0, 3.0, 1.0, 5.0]),
        start_objective=np.array([1.0, 1.0, 1.0, 1.0]),
        gradient=np.array([1.0, 1.0, 1.0, 0.0]),
    )
    assert {k: flags[k] for k in ("dead", "saturated", "at_bounds", "constant")} == {
        "dead": [False, False, True, True],
        "saturated": [False, True, False, True],
        "at_bounds": [0.0, 1.0, 0.0, 0.75],
        "constant": [False, True, True, False],
    }
    # Against the 1/f reference when no data is given: the uniform ones are flat.
    assert flags["flat"] == [False, True, True, False]
    assert flags["contrast_ratio"][1:3] == [0.0, 0.0]


def test_record_holds_alpha_and_facets_grids_and_says_which_is_which():
    images = np.full((5, 6, 7, 1), 0.5, np.float32)
    alpha = np.full((5, 6, 7), 1 / 42, np.float32)
    facets = np.zeros((5, 3, 6, 7, 1), np.float32)
    info, grids = pictures.record(
        images,
        range(5),
        np.zeros(5),
        np.zeros(5, bool),
        (0.0, 1.0),
        alpha=alpha,
        facets=facets,
        preset="maco",
    )
    assert info["images"] == {"pictures": 0, "alpha": 1, "facets": 2}
    assert grids[1].shape == grids[0].shape[:2] + (1,) and grids[1].max() == 255
    assert info["alpha"] == {"max": pytest.approx([1 / 42] * 5), "sums_to": 1.0}
    assert info["facets_layout"] == {
        "rows": 5,
        "cols": 3,
        "tile_height": 6,
        "tile_width": 7,
        "pad": 2,
    }
    assert grids[2].shape == (5 * 8 - 2, 3 * 9 - 2, 1)
    assert set(info["flags"]) == {
        "dead",
        "saturated",
        "at_bounds",
        "constant",
        *("flat", "noise", "fine", "border", "contrast_ratio", "hf_ratio"),
        "hf_flatness",
        "border_share",
    }
    assert info["data_reference"]["source"] == "1/f noise (no data given)"
    assert info["checks"] == {
        "spectrum_distance": [None] * 5,
        "spectral_slope": [None] * 5,
    }


def test_a_channel_that_cannot_fire_is_flagged_dead():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((16, 16, 1)), keras.layers.Conv2D(3, 3, name="conv")]
    )
    kernel, bias = model.get_layer("conv").get_weights()
    kernel[..., 2] = 0.0  # channel 2 is a constant: no gradient at all
    model.get_layer("conv").set_weights([kernel, bias])
    r = feature_visualization_result(model, "conv", [0, 2], steps=8)
    flags = pictures.flags(r.images, (0, 1), r.objective, r.start_objective, r.gradient)
    assert flags["dead"] == [False, True] and r.gradient[1] == 0


@pytest.mark.parametrize(
    "size, chosen",
    [(16, "bounded"), (28, "bounded"), (63, "bounded"), (64, "maco"), (224, "maco")],
)
def test_auto_rule_by_input_size(size, chosen):
    assert presets.choose("auto", size, size) == chosen
    assert presets.choose("lucid", size, size) == "lucid"
    assert repr(chosen) in presets.explain(size, size, 3)


def test_auto_prints_its_choice_once(capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((16, 16, 1)), keras.layers.Conv2D(2, 3, name="c")]
    )
    for _ in range(2):
        feature_visualization_result(model, "c", [0], steps=1)
    out = capsys.readouterr().out
    assert out.count("ascent preset 'auto' chose 'yosinski2015'") <= 1
