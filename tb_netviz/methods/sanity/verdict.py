"""The verdict of a cascading randomization, its caption and its bands, in one place.

NumPy only. Everything the panel says about a method comes from `verdict`,
so the badge, the caption and the band drawn on the curve cannot disagree.

The data, per method and layer (`check.py`):

- `s[b, i, k]`: SSIM of the trained model's map of probe input i, channel k,
  with the map of the same input and channel once blocks 1..b+1 of the
  cascade are randomized (Adebayo et al. 2018);
- `p[i, j, k]`: SSIM of the trained model's maps of two *different* inputs
  i != j, same channel: how alike two maps are that should differ (the
  baseline of Arun et al. 2021).

The rule, at the fully randomized end of the cascade (b = B - 1):

- per input, `d_i = mean_k s[i, k] - mean_k mean_{j != i} p[i, j, k]`: how much
  closer the randomized map stays to the trained one than the maps of the
  other inputs are (the mean of d_i is exactly mean(s) - mean(p));
- the estimate is the Hodges-Lehmann location of the d_i (the median of
  their Walsh averages), with the exact 90% interval of the Wilcoxon
  signed-rank test (Hollander & Wolfe; 5% each side, no random numbers);
- `depends on the learned weights` when the interval's upper end is below
  the margin `MARGIN` (randomized maps are no more like the trained ones
  than maps of different inputs, within the margin); `barely changes with
  random weights` when its lower end is above the margin; otherwise `can't
  tell with N inputs`, with the number of inputs that would tell: the
  interval's half-width towards the margin shrinks as sqrt(N / N'), so
  N' = N (half-width / |estimate - margin|)^2, and at least the smallest N
  whose exact interval is finite (5 at 90%). Below 5 inputs the exact
  interval is unbounded: no verdict, by design.

Caveats: the d_i share pairs, so they are not quite independent (the
interval is an approximation); SSIM of max-normalized absolute maps rewards
shared blank background and penalizes noise, so a low SSIM alone is not a
change of explanation (Binder et al. 2023, "Shortcomings of top-down
randomization-based sanity checks"): that is why the rule compares with the
similarity of different inputs rather than with zero.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

MARGIN = 0.05  # SSIM units
LEVEL = 0.90
PERCENTILES = (10.0, 50.0, 90.0)
DEPENDS = "depends on the learned weights"
SAME = "barely changes with random weights"
Z = 1.6448536269514722  # normal 95% quantile, for inputs_needed below 5 inputs


def cant_tell(n: int) -> str:
    return f"can't tell with {n} input{'' if n == 1 else 's'}"


def signed_rank_null(n: int) -> np.ndarray:
    """P(T+ = t), t = 0..n(n+1)/2, under the null of the signed-rank test."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for r in range(1, n + 1):  # subsets of {1..r}: with or without r
        counts[r:] = counts[r:] + counts[:-r].copy()
    return counts / 2.0**n


def min_inputs(level: float = LEVEL) -> int:
    """The fewest inputs whose exact interval at `level` is finite."""
    n = 1
    while 0.5**n > (1 - level) / 2:
        n += 1
    return n


def rank_interval(d, level: float = LEVEL) -> tuple[float, float, float]:
    """Hodges-Lehmann estimate and exact Wilcoxon interval of `d` `(N,)`.

    Returns:
      `(estimate, lo, hi)`; lo = -inf and hi = inf when N is too small for
      an interval at `level`, all NaN when N = 0.
    """
    d = np.asarray(d, np.float64)
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2)
    estimate = float(np.median(walsh))
    cdf = np.cumsum(signed_rank_null(n))
    c = int(np.count_nonzero(cdf <= (1 - level) / 2 + 1e-12))
    if c == 0:
        return estimate, -math.inf, math.inf
    return estimate, float(walsh[c - 1]), float(walsh[len(walsh) - c])


def _band(values: np.ndarray) -> list[float | None]:
    v = values[np.isfinite(values)]
    if not v.size:
        return [None] * len(PERCENTILES)
    return [float(q) for q in np.percentile(v, PERCENTILES)]


def per_input_difference(s: np.ndarray, p: np.ndarray) -> np.ndarray:
    """`d_i` from `s` `(N, K)` and `p` `(N, N, K)` (diagonal ignored): `(N,)`.

    Inputs with a non-finite value are left out; empty when N < 2.
    """
    n = len(s)
    if n < 2:
        return np.zeros((0,))
    off = ~np.eye(n, dtype=bool)[:, :, None]
    others = np.where(off, p, 0.0).sum(axis=1) / (n - 1)  # (N, K)
    d = s.mean(axis=-1) - others.mean(axis=-1)
    return d[np.isfinite(d)]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What the panel says about one method at one layer.

    Attributes:
      depends: True (depends on the learned weights), False (barely changes),
        None (can't tell).
      verdict: the words of the badge.
      caption: one sentence naming what the curve shows and the verdict.
      inputs: N, the probe inputs that count.
      inputs_needed: can't tell: about how many inputs would tell (None when
        no estimate is possible); None otherwise.
      estimate, interval: the Hodges-Lehmann difference `s - baseline` at the
        randomized end and its exact `LEVEL` interval (lo, hi).
      margin: the margin of the rule.
      band: `{"lo", "median", "hi"}`, each `(B,)`: the 10th, 50th and 90th
        percentile of s over inputs and channels after each step.
      baseline_band: likewise for the baseline pairs (the trained model's,
        so the same at every step).
      first_below: the first step (1..B) at which the rule says `depends`.
    """

    depends: bool | None
    verdict: str
    caption: str
    inputs: int
    inputs_needed: int | None
    estimate: float
    interval: tuple[float, float]
    margin: float
    band: dict[str, list[float | None]]
    baseline_band: dict[str, list[float | None]]
    first_below: int | None

    def to_json(self) -> dict[str, Any]:
        """The step JSON's keys (finite numbers or null)."""

        def num(v):
            return float(v) if v is not None and np.isfinite(v) else None

        return {
            "depends_on_weights": self.depends,
            "verdict": self.verdict,
            "caption": self.caption,
            "inputs": self.inputs,
            "inputs_needed": self.inputs_needed,
            "difference": num(self.estimate),
            "interval": [num(v) for v in self.interval],
            "margin": self.margin,
            "level": LEVEL,
            "band": {k: list(v) for k, v in self.band.items()},
            "baseline_band": {k: list(v) for k, v in self.baseline_band.items()},
            "first_below": self.first_below,
        }


def _fmt(band: list[float | None]) -> str:
    lo, mid, hi = ("n/a" if v is None else f"{v:.2f}" for v in band)
    return f"{mid} [{lo}, {hi}]"


def verdict(
    similarity: np.ndarray,
    pairs: np.ndarray,
    margin: float = MARGIN,
    level: float = LEVEL,
) -> Verdict:
    """The verdict of one method at one layer (see the module docstring).

    Args:
      similarity: float `(B, N, K)`: trained vs randomized SSIM after each
        step, per probe input and channel.
      pairs: float `(N, N, K)`: trained maps of inputs i and j, same channel
        (symmetric; the diagonal is ignored).
      margin: the margin of the rule, in SSIM units.
      level: the confidence of the interval.

    Returns:
      A `Verdict`.
    """
    s = np.asarray(similarity, np.float64)
    p = np.asarray(pairs, np.float64)
    if s.ndim != 3 or p.shape != (s.shape[1], s.shape[1], s.shape[2]):
        raise ValueError(
            f"need s (B, N, K) and pairs (N, N, K), got {s.shape}, {p.shape}"
        )
    steps, n = s.shape[0], s.shape[1]
    off = ~np.eye(n, dtype=bool)
    base = p[off] if n > 1 else np.zeros((0,))
    base_q = _band(np.asarray(base).ravel())
    qs = [_band(s[b].ravel()) for b in range(steps)]
    band = {k: [q[i] for q in qs] for i, k in enumerate(("lo", "median", "hi"))}
    baseline_band = {
        k: [base_q[i]] * steps for i, k in enumerate(("lo", "median", "hi"))
    }
    tests = [rank_interval(per_input_difference(s[b], p), level) for b in range(steps)]
    first = next((b + 1 for b, t in enumerate(tests) if t[2] < margin), None)
    d = per_input_difference(s[-1], p) if steps and n > 1 else np.zeros((0,))
    estimate, lo, hi = tests[-1] if steps else (math.nan,) * 3
    needed = None
    if len(d) and hi < margin:
        depends, words = True, DEPENDS
    elif len(d) and lo > margin:
        depends, words = False, SAME
    else:
        depends, words = None, cant_tell(len(d))
        needed = _inputs_needed(d, estimate, lo, hi, margin, level)
    if steps and n > 1:
        shown = f"SSIM with random weights {_fmt(qs[-1])} vs different inputs {_fmt(base_q)}"
    elif steps:
        shown = f"SSIM with random weights {_fmt(qs[-1])}, no baseline with 1 input"
    else:
        shown = "no weights to randomize below this layer"
    more = f" (about {needed} would tell)" if needed is not None else ""
    return Verdict(
        depends=depends,
        verdict=words,
        caption=f"{shown}: {words}{more}",
        inputs=int(n),
        inputs_needed=needed,
        estimate=float(estimate),
        interval=(float(lo), float(hi)),
        margin=float(margin),
        band=band,
        baseline_band=baseline_band,
        first_below=first,
    )


def _inputs_needed(d, estimate, lo, hi, margin, level) -> int | None:
    n = len(d)
    gap = abs(estimate - margin)
    if n < 2 or not np.isfinite(gap) or gap == 0:
        return None
    if np.isfinite(lo) and np.isfinite(hi):
        half = hi - estimate if estimate < margin else estimate - lo
    else:  # too few inputs for the exact interval: a normal approximation
        half = Z * float(np.std(d, ddof=1)) / math.sqrt(n)
    want = math.ceil(n * (half / gap) ** 2) if half > 0 else 0
    return int(max(want, n + 1, min_inputs(level)))
