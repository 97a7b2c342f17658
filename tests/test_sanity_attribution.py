"""methods/sanity/attribution.py: the cascade of attribution maps leaves blank
trained maps out of its verdict and says so."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from models import small_cnn

from tb_netviz.methods.attributions import Attributor
from tb_netviz.methods.sanity import verdict as verdict_lib
from tb_netviz.methods.sanity.attribution import (
    AttributionCheck,
    blank_inputs,
    counted_verdict,
)


def test_blank_inputs_are_the_constant_maps():
    maps = np.random.default_rng(0).random((4, 2, 5, 5))
    maps[1] = 0.0  # every map of input 1 blank
    maps[2, 0] = 0.7  # one of input 2's maps constant, the other not
    np.testing.assert_array_equal(blank_inputs(maps), [False, True, False, False])


def test_blank_inputs_do_not_vote_for_barely_changes():
    # 6 inputs whose maps change with random weights (SSIM 0.1 vs a baseline
    # of 0.3) and 6 blank ones (SSIM 1, the pitfall): counted together the
    # median input is blank-like; left out, the verdict is "depends".
    n = 12
    sims = np.full((2, n, 1), 0.1)
    sims[:, 6:] = 1.0
    pairs = np.full((n, n, 1), 0.3)
    keep = np.arange(n) < 6
    together = verdict_lib.verdict(sims, pairs)
    apart = counted_verdict(sims, pairs, keep)
    assert together.verdict != verdict_lib.DEPENDS
    assert apart.verdict == verdict_lib.DEPENDS and apart.inputs == 6
    assert apart.caption.endswith(
        "(6 of 12 inputs left out: their trained maps are blank)"
    )


def test_gradcam_blank_for_a_class_with_negative_weights_is_left_out():
    model = small_cnn(1)
    kernel, bias = model.get_layer("logits").get_weights()
    kernel[:, 0] = -np.abs(kernel[:, 0])  # class 0: every GAP feature lowers it
    kernel[:, 1] = np.abs(kernel[:, 1]) + 0.1  # class 1: every feature raises it
    model.get_layer("logits").set_weights([kernel, bias])
    x = np.random.default_rng(2).random((10, 16, 16, 3)).astype(np.float32)
    targets = np.array([[0]] * 4 + [[1]] * 6)
    # Grad-CAM of class 0 is ReLU of a negative sum: 0 everywhere.
    maps = Attributor(model, ("gradcam",), input_range=(0, 1))(x, targets).maps[
        "gradcam"
    ]
    assert np.all(maps[:4] == 0) and np.all(maps[4:].max(axis=(1, 2, 3)) > 0)

    result = AttributionCheck(model, ("gradcam",), input_range=(0, 1))(x, targets)
    np.testing.assert_array_equal(result.blank["gradcam"], [True] * 4 + [False] * 6)
    entry = result.to_json()["methods"]["gradcam"]
    assert entry["blank_inputs"] == 4 and entry["inputs"] == 6
    assert entry["caption"].endswith(
        "(4 of 10 inputs left out: their trained maps are blank)"
    )
    counted = result.similarities["gradcam"][:, 4:]
    np.testing.assert_allclose(entry["ssim"], counted.mean(axis=(1, 2)), rtol=1e-6)
