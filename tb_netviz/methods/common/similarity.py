"""How alike two maps are: SSIM, Spearman rank correlation, and saliency maps.

NumPy only (no TensorFlow), vectorized over leading axes, so the sanity
checks can compare many maps at once and the tests can check every number
against a direct computation.

- `ssim`: the structural similarity of Wang et al. 2004 with the usual
  constants (Gaussian window of 11 pixels, sigma 1.5, K1 = 0.01, K2 = 0.03,
  population statistics), as `tf.image.ssim` computes it; for maps smaller
  than 11 pixels a side the window is cut to the largest odd size that fits
  (with the same sigma), where `tf.image.ssim` would fail.
- `spearman`: Pearson correlation of the ranks, ties given their average
  rank (as `scipy.stats.spearmanr`).
- `saliency`: a reconstruction `(..., H, W, C)` as Adebayo et al. 2018
  compare them: the absolute value summed over colour channels, divided by
  its maximum, so it lies in [0, 1] (all zeros stay zeros).
"""

from __future__ import annotations

import numpy as np

WINDOW = 11
SIGMA = 1.5
K1, K2 = 0.01, 0.03


def saliency(recons: np.ndarray) -> np.ndarray:
    """`(..., H, W, C)` signed reconstructions -> `(..., H, W)` in [0, 1]."""
    m = np.abs(np.nan_to_num(np.asarray(recons, np.float64))).sum(axis=-1)
    top = m.max(axis=(-2, -1), keepdims=True)
    return m / np.where(top > 0, top, 1.0)


def gaussian_window(size: int, sigma: float = SIGMA) -> np.ndarray:
    """The normalized 1-D Gaussian taps, `(size,)` float64."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _window_size(h: int, w: int) -> int:
    size = min(WINDOW, h, w)
    return size if size % 2 else size - 1


def _filter(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Valid separable filtering of `(..., H, W)` with taps `g` on both axes."""
    k = len(g)
    rows = np.lib.stride_tricks.sliding_window_view(x, k, axis=-2) @ g
    return np.lib.stride_tricks.sliding_window_view(rows, k, axis=-1) @ g


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Mean SSIM of maps `a` and `b`, `(..., H, W)` -> `(...)` float64.

    Args:
      a, b: maps of the same shape, H and W >= 1.
      data_range: the span of the values (1 for `saliency` maps).

    Returns:
      The mean over window positions of the SSIM index, per leading index.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"ssim needs two maps of one shape, got {a.shape}, {b.shape}")
    g = gaussian_window(_window_size(*a.shape[-2:]))
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_a, mu_b = _filter(a, g), _filter(b, g)
    var_a = _filter(a * a, g) - mu_a**2
    var_b = _filter(b * b, g) - mu_b**2
    cov = _filter(a * b, g) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return index.mean(axis=(-2, -1))


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n along the last axis, ties given their average rank."""
    x = np.asarray(x, np.float64)
    order = np.argsort(x, axis=-1, kind="stable")
    s = np.take_along_axis(x, order, axis=-1)
    n = x.shape[-1]
    # Each run of equal sorted values gets the mean of its positions + 1.
    new = np.ones(s.shape, bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    run = np.cumsum(new, axis=-1) - 1  # run id of each sorted position
    rows = run.reshape(-1, n) + n * np.arange(run.size // n)[:, None]
    pos = np.broadcast_to(np.arange(1, n + 1, dtype=np.float64), rows.shape)
    # Sums and counts of positions per run (ids unique across rows): bincount.
    sums = np.bincount(rows.ravel(), weights=pos.ravel(), minlength=rows.size)
    counts = np.bincount(rows.ravel(), minlength=rows.size)
    avg = (sums / np.maximum(counts, 1))[rows]
    ranks = np.empty_like(avg)
    np.put_along_axis(ranks, order.reshape(-1, n), avg, axis=-1)
    return ranks.reshape(x.shape)


def centered_ranks(maps: np.ndarray) -> np.ndarray:
    """Average ranks of maps `(..., H, W)`, minus their mean: `(..., H*W)`.

    Compute them once for maps compared many times (`spearman_ranked`).
    """
    maps = np.asarray(maps, np.float64)
    if maps.ndim < 2:
        raise ValueError(f"spearman needs maps (..., H, W), got {maps.shape}")
    r = rankdata(maps.reshape(maps.shape[:-2] + (-1,)))
    return r - r.mean(axis=-1, keepdims=True)


def spearman_ranked(ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    """`spearman` of two maps given by their `centered_ranks`."""
    na = np.sqrt((ra * ra).sum(-1))
    nb = np.sqrt((rb * rb).sum(-1))
    both = (na > 0) & (nb > 0)
    r = (ra * rb).sum(-1) / np.where(both, na * nb, 1.0)
    return np.where(both, r, np.where((na == 0) & (nb == 0), 1.0, 0.0))


def spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of maps `(..., H, W)` -> `(...)` float64.

    A constant map has no ranking: its correlation is 0 with a map that is
    not constant, and 1 with another constant map.
    """
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"spearman needs two maps of one shape, got {np.shape(a)}, {np.shape(b)}"
        )
    return spearman_ranked(centered_ranks(a), centered_ranks(b))


def pairwise_mean_ssim(maps: np.ndarray) -> float | None:
    """Mean SSIM over all pairs of different maps `(N, ..., H, W)` along axis 0.

    Arun et al. 2021's baseline: how alike the maps of *different* inputs are
    under one model. None when N < 2.
    """
    maps = np.asarray(maps, np.float64)
    n = len(maps)
    if n < 2:
        return None
    i, j = np.triu_indices(n, 1)
    return float(ssim(maps[i], maps[j]).mean())
