"""SSIM, Spearman and saliency maps against direct NumPy computations and TF."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf

from tb_netviz.methods.common import similarity


def direct_ssim(a, b, size=11, sigma=1.5, data_range=1.0):
    """SSIM written out window by window (Wang et al. 2004), float64."""
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(a.shape[0] - size + 1):
        for j in range(a.shape[1] - size + 1):
            pa, pb = a[i : i + size, j : j + size], b[i : i + size, j : j + size]
            ma, mb = (w * pa).sum(), (w * pb).sum()
            va = (w * (pa - ma) ** 2).sum()
            vb = (w * (pb - mb) ** 2).sum()
            cov = (w * (pa - ma) * (pb - mb)).sum()
            values.append(
                (2 * ma * mb + c1)
                * (2 * cov + c2)
                / ((ma**2 + mb**2 + c1) * (va + vb + c2))
            )
    return np.mean(values)


def direct_spearman(a, b):
    """Pearson correlation of average ranks, ranks counted pair by pair."""

    def ranks(v):
        v = v.ravel()
        less = (v[None, :] < v[:, None]).sum(1)
        equal = (v[None, :] == v[:, None]).sum(1)
        return less + (equal + 1) / 2

    return np.corrcoef(ranks(a), ranks(b))[0, 1]


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (4, 16, 19))
    b = np.clip(a + rng.normal(0, 0.3, a.shape), 0, 1)
    b[3] = rng.uniform(0, 1, (16, 19))  # unrelated
    return a, b


def test_ssim_equals_the_window_by_window_formula(pairs):
    a, b = pairs
    got = similarity.ssim(a, b)
    want = [direct_ssim(x, y) for x, y in zip(a, b)]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert got[3] < 0.3 < got[0] < 1


def test_ssim_equals_tf_image_ssim(pairs):
    a, b = pairs
    tf_ssim = tf.image.ssim(
        tf.constant(a[..., None]), tf.constant(b[..., None]), max_val=1.0
    ).numpy()
    np.testing.assert_allclose(similarity.ssim(a, b), tf_ssim, rtol=1e-5)


def test_ssim_of_small_maps_uses_the_largest_odd_window(pairs):
    a, b = pairs[0][:, :6, :8], pairs[1][:, :6, :8]
    want = [direct_ssim(x, y, size=5) for x, y in zip(a, b)]
    np.testing.assert_allclose(similarity.ssim(a, b), want, rtol=1e-10)
    np.testing.assert_allclose(similarity.ssim(a, a), 1.0)


def test_spearman_equals_the_rank_formula_with_ties():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 4, (3, 5, 6)).astype(float)  # many ties
    b = a + rng.integers(0, 3, a.shape)
    got = similarity.spearman(a, b)
    want = [direct_spearman(x, y) for x, y in zip(a, b)]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(
        similarity.rankdata(np.array([3, 1, 3, 2.0])), [3.5, 1, 3.5, 2]
    )
    # Monotone maps correlate fully whatever the values.
    np.testing.assert_allclose(similarity.spearman(a[:1], np.exp(a[:1])), 1.0)


def test_constant_maps_have_a_defined_correlation():
    zeros, ramp = np.zeros((4, 4)), np.arange(16.0).reshape(4, 4)
    assert similarity.spearman(zeros, ramp) == 0.0
    assert similarity.spearman(zeros, zeros) == 1.0


def test_saliency_is_absolute_summed_and_scaled():
    r = np.zeros((2, 3, 3, 2))
    r[0, 0, 0] = [-2.0, 1.0]
    r[0, 1, 1] = [0.5, 0.5]
    m = similarity.saliency(r)
    np.testing.assert_allclose(m[0], [[1, 0, 0], [0, 1 / 3, 0], [0, 0, 0]])
    np.testing.assert_array_equal(m[1], 0)  # all zeros stay zeros


def test_baseline_is_the_mean_over_pairs_of_different_maps(pairs):
    maps = pairs[0][:3]
    want = np.mean(
        [direct_ssim(maps[i], maps[j]) for i in range(3) for j in range(i + 1, 3)]
    )
    assert similarity.pairwise_mean_ssim(maps) == pytest.approx(want, rel=1e-10)
    assert similarity.pairwise_mean_ssim(maps[:1]) is None
