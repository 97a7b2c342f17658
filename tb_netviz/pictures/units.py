"""Unit health as step JSON (numpy only; no images).

One record per layer and step holds, per source of inputs (`"probe"`, the
callback's probe, and `"examples"`, the held-out examples, when both were
computed at that step), each channel's statistics and the dead and constant
channels.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def source(
    count: int,
    positions: int,
    maxima: np.ndarray,
    minima: np.ndarray,
    mean: np.ndarray,
    frac_positive: np.ndarray,
) -> dict[str, Any]:
    """One source's statistics as JSON.

    Args:
      count: inputs; positions: positions per input.
      maxima, minima, mean, frac_positive: `(C,)` per channel over every input
        and position.

    Returns:
      `{"count", "positions", "max", "min", "mean", "frac_positive", "dead",
      "constant", "dead_fraction"}`; `dead` and `constant` are sorted channel
      indices (dead: never > 0; constant: max == min).
    """
    maxima = np.asarray(maxima, np.float64)
    minima = np.asarray(minima, np.float64)
    dead = np.flatnonzero(~(maxima > 0))
    channels = max(len(maxima), 1)
    return {
        "count": int(count),
        "positions": int(positions),
        "max": maxima.tolist(),
        "min": minima.tolist(),
        "mean": np.asarray(mean, np.float64).tolist(),
        "frac_positive": np.asarray(frac_positive, np.float64).tolist(),
        "dead": dead.tolist(),
        "constant": np.flatnonzero(maxima == minima).tolist(),
        "dead_fraction": len(dead) / channels,
    }


def record(
    sources: dict[str, dict[str, Any]], channels_total: int
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The units record of one layer and step.

    Args:
      sources: `{"probe": source(...), "examples": source(...)}`, either or both.
      channels_total: the layer's channel count.

    Returns:
      `(info, [])`: `info["source"]` is the better source present
      (`"examples"` over `"probe"`), `info["sources"]` every one.
    """
    if not sources:
        raise ValueError("a units record needs at least one source")
    best = "examples" if "examples" in sources else next(iter(sources))
    return {
        "channels_total": int(channels_total),
        "source": best,
        "sources": sources,
    }, []
