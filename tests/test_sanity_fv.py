"""Feature-visualization checks: objective vs exemplars, seed SSIM, processing path."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from models import assert_model_unchanged, data, small_cnn, snapshot

from tb_netviz.methods import layer_activations
from tb_netviz.methods.common import similarity
from tb_netviz.methods.sanity import features as sanity_fv
from tb_netviz.pictures import sanity as pictures


def test_the_checks_measure_fv_and_exemplars_alike():
    model, (x, _) = small_cnn(), data(12)
    before = snapshot(model)
    fv, other = x[:2], x[2:4]  # stand-ins: any images work
    ex = [x[4:8], x[8:9]]
    checks = sanity_fv.feature_checks(model, "conv2", [1, 5], fv, ex, other)
    assert_model_unchanged(model, before)
    acts = np.asarray(layer_activations(model, x, ["conv2"])["conv2"], np.float64)
    means = acts.mean(axis=(1, 2))  # (N, C)
    np.testing.assert_allclose(checks.objective, [means[0, 1], means[1, 5]], rtol=1e-5)
    np.testing.assert_allclose(
        checks.exemplar_objective, [means[4:8, 1].max(), means[8, 5]], rtol=1e-5
    )
    np.testing.assert_allclose(
        checks.objective_ratio, checks.objective / checks.exemplar_objective
    )
    grey = x[:4].mean(-1)
    want = similarity.ssim(grey[:2], grey[2:])
    np.testing.assert_allclose(checks.seed_ssim, want, rtol=1e-5, atol=1e-7)
    assert checks.path_layers == ["conv1", "conv2"]
    assert checks.path.shape == (2, 2) and np.all(np.abs(checks.path) <= 1)
    assert np.isnan(checks.exemplar_processing[1])  # one exemplar: no reference
    # An image is processed exactly like itself.
    same = sanity_fv.feature_checks(model, "conv2", [1], x[:1], [x[:1]])
    np.testing.assert_allclose(same.processing, 1.0)
    info = pictures.fv_checks_info(
        checks.objective,
        checks.exemplar_objective,
        None,
        checks.processing,
        checks.exemplar_processing,
        checks.path_layers,
    )
    assert (
        info["seed_ssim"] is None and info["exemplar_processing_similarity"][1] is None
    )
    assert info["beats_exemplar"] == [bool(r >= 1) for r in checks.objective_ratio]
