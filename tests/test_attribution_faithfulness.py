"""Deletion, insertion and MuFidelity on known answers: a model whose score is
the sum of a fixed pixel region, where the map that is that region is the
best possible and a random map is worse."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from attribution_models import CamNet, region_mask, region_model

from tb_netviz.methods import Attributor, Faithfulness, faithfulness
from tb_netviz.methods.attributions import metrics as metrics_lib
from tb_netviz.methods.attributions import removal

STEPS = 16  # 4 of the 64 pixels a step


@pytest.fixture(scope="module")
def region():
    """The model, inputs (1 in the region, random elsewhere), region and random maps."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (2, 8, 8, 1)).astype(np.float32)
    x[:, region_mask() > 0] = 1.0
    maps = np.stack([np.stack([region_mask(), rng.uniform(0, 1, (8, 8))])] * 2)
    return region_model(), x, maps.astype(np.float32)  # maps (2, 2, 8, 8)


@pytest.fixture(scope="module")
def zero_baseline(region):
    model, x, maps = region
    return Faithfulness(model, steps=STEPS, baseline=0.0, batch_size=16)


def _auc(curve):
    return (curve[1:] + curve[:-1]).sum() / 2 / (len(curve) - 1)


def _curves(x, rank):
    """The deletion and insertion curves of `region_model` with baseline 0."""
    cuts = np.rint(np.arange(STEPS + 1) * 64 / STEPS)
    inside = x[..., 0] * region_mask()
    deleted = [(inside * (rank >= c)).sum() for c in cuts]
    inserted = [(inside * (rank < c)).sum() for c in cuts]
    return np.array(deleted), np.array(inserted)


def test_deletion_and_insertion_are_the_auc_of_the_curves(region, zero_baseline):
    _, x, maps = region
    targets = np.zeros((2, 2), int)
    found = zero_baseline(x, maps, targets)
    rank = removal.ranks(maps, seed=0)
    for n in range(2):
        for t in range(2):
            deleted, inserted = _curves(x[n], rank[n, t])
            np.testing.assert_allclose(found["deletion"][n, t], _auc(deleted), 1e-5)
            np.testing.assert_allclose(found["insertion"][n, t], _auc(inserted), 1e-5)
    # The region map is the best possible: the score falls (rises) by 4 a step.
    best = np.maximum(16 - 4 * np.arange(STEPS + 1), 0).astype(float)
    np.testing.assert_allclose(found["deletion"][:, 0], _auc(best), 1e-5)
    np.testing.assert_allclose(found["insertion"][:, 0], _auc(16 - best), 1e-5)
    assert np.all(found["deletion"][:, 1] > found["deletion"][:, 0] + 2)
    assert np.all(found["insertion"][:, 1] < found["insertion"][:, 0] - 2)


def test_mufidelity_is_one_for_the_region_and_low_for_a_random_map(
    region, zero_baseline
):
    _, x, maps = region
    found = zero_baseline(x, maps, np.zeros((2, 2), int))["mufidelity"]
    np.testing.assert_allclose(found[:, 0], 1.0, atol=1e-6)
    assert np.all(np.abs(found[:, 1]) < 0.5), found


def test_the_defaults_rank_the_region_above_a_random_map(region):
    model, x, maps = region
    f = Faithfulness(model)
    found = f(x, maps, np.zeros((2, 2), int))
    assert np.all(found["deletion"][:, 0] < found["deletion"][:, 1])
    assert np.all(found["insertion"][:, 0] > found["insertion"][:, 1])
    assert np.all(found["mufidelity"][:, 0] > found["mufidelity"][:, 1] + 0.5)
    assert f.settings["baseline"] == "blur" and f.settings["steps"] == 16
    # Rows a pass sized from the input, as the methods' (2^20 values a pass).
    h, w, c = x.shape[1:]
    assert f.settings["batch_size"] == max(32, 2**20 // (h * w * c))
    f(x * 0.5, maps, np.zeros((2, 2), int))
    assert f.traces() == {"curves": 1, "mufidelity": 1}
    # Other pass sizes give the same figures.
    small = Faithfulness(model, batch_size=7)(x, maps, np.zeros((2, 2), int))
    for metric, values in small.items():
        np.testing.assert_allclose(values, found[metric], atol=1e-5, err_msg=metric)


def test_blur_is_a_border_normalized_gaussian():
    x = np.random.default_rng(1).uniform(0, 1, (1, 9, 7, 2)).astype(np.float32)
    got = removal.blur(x, 1.5)
    i, j = np.arange(9)[:, None], np.arange(7)[None]
    k = np.exp(-((i - 4) ** 2 + (j - 2) ** 2) / (2 * 1.5**2))  # centred on (4, 2)
    weights = (
        np.exp(-((np.arange(9) - 4) ** 2) / 4.5).sum()
        * np.exp(-((np.arange(7) - 2) ** 2) / 4.5).sum()
    )
    want = (k[..., None] * x[0]).sum(axis=(0, 1)) / weights
    np.testing.assert_allclose(got[0, 4, 2], want, 1e-5)
    flat = np.full((1, 9, 7, 1), 0.3, np.float32)
    np.testing.assert_allclose(removal.blur(flat, 2.0), flat, 1e-6)


def test_ties_are_broken_at_random_by_the_seed():
    flat = np.zeros((1, 1, 4, 4), np.float32)
    a, b = removal.ranks(flat, 0), removal.ranks(flat, 1)
    assert sorted(a.ravel()) == list(range(16)) and not np.array_equal(a, b)
    np.testing.assert_array_equal(a, removal.ranks(flat, 0))
    ordered = removal.ranks(np.arange(16.0).reshape(1, 1, 4, 4), 0)
    assert ordered.ravel().tolist() == list(range(15, -1, -1))


def test_batched_maps_and_targets_equal_one_at_a_time():
    net = CamNet()
    model = net.model()
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (2, 8, 8, 2)).astype(np.float32)
    attributor = Attributor(model, "saliency")
    targets = np.array([[0, 2], [1, 0]])
    maps = attributor(x, targets).maps["saliency"]
    options = {"samples": 32, "batch_size": 7}
    together = faithfulness(attributor, x, maps, targets, **options)
    alone = Faithfulness(model, **options)
    for n in range(2):
        for t in range(2):
            one = alone(
                x[n : n + 1], maps[n : n + 1, t : t + 1], targets[n : n + 1, t : t + 1]
            )
            for metric, value in one.items():
                np.testing.assert_allclose(
                    together[metric][n, t], value[0, 0], 1e-5, 1e-6, err_msg=metric
                )
    assert set(together) == {"deletion", "insertion", "mufidelity"}
    only = faithfulness(model, x, maps, targets, metrics="insertion")
    np.testing.assert_allclose(only["insertion"], together["insertion"], 1e-5)


def test_a_dict_of_maps_is_measured_together_and_traced_once(region):
    model, x, maps = region
    attributor = Attributor(model, "saliency")
    targets = np.zeros((2, 1), int)
    named = {"region": maps[:, :1], "random": maps[:, 1:]}
    options = {"baseline": 0.0, "steps": STEPS, "samples": 64}
    found = faithfulness(
        attributor, x, named, targets, metrics=["deletion", "mufidelity"], **options
    )
    assert set(found) == {"deletion", "mufidelity"}
    alone = Faithfulness(model, ("deletion", "mufidelity"), **options)
    for name, m in named.items():
        one = alone(x, m, targets)
        np.testing.assert_allclose(found["mufidelity"][name], one["mufidelity"], 1e-5)
    # The region map ties nowhere that matters: its deletion is the best.
    np.testing.assert_allclose(
        found["deletion"]["region"],
        alone(x, named["region"], targets)["deletion"],
        1e-5,
    )
    again = faithfulness(
        attributor,
        x * 0.5,
        named,
        targets,
        metrics=["deletion", "mufidelity"],
        **options,
    )
    assert again["deletion"]["region"].shape == (2, 1)
    (cached,) = metrics_lib._CACHE[attributor].values()
    assert cached.traces() == {"curves": 1, "mufidelity": 1}
