"""The record of a cascading weight randomization: curves, verdicts, one strip per method.

NumPy only. The step JSON holds everything the panel draws (the curves and
the verdict per method); the verdict, its caption and the bands are computed
once, in `methods/sanity/verdict.py`, and copied here unchanged, so they
cannot disagree. The images are one grey strip per method: the map
of probe input 0 under the trained model, then after each step of the
cascade (tile b = blocks 1..b randomized), each tile scaled to its own
maximum (pixel q stands for q / 255 of that tile's largest |value|).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tb_netviz.pictures.layout import QMAX, assemble

PAD = 2
CHECK = "cascading_randomization"
# The words of records without `verdicts` (the old rule); with them, the
# words are `methods/sanity/verdict.py`'s.
DEPENDS = "depends on the learned weights"
SAME = "looks the same with random weights"
UNDETERMINED = "undetermined (needs 2 or more probe inputs)"
# The keys a verdict adds to a method's entry (`Verdict.to_json()`).
VERDICT_KEYS = (
    "depends_on_weights",
    "verdict",
    "caption",
    "inputs",
    "inputs_needed",
    "difference",
    "interval",
    "margin",
    "level",
    "band",
    "baseline_band",
    "first_below",
)


def verdict(ssim: Sequence[float], baseline: float | None) -> tuple[bool | None, str]:
    """Records without `verdicts` only (mean curves): `(depends_on_weights,
    verdict)`, the fully randomized mean SSIM below the mean baseline?
    Superseded by `methods.sanity.verdict`, which weighs the distributions."""
    if baseline is None or not len(ssim) or not np.isfinite(ssim[-1]):
        return None, UNDETERMINED
    depends = bool(ssim[-1] < baseline)
    return depends, DEPENDS if depends else SAME


def first_below(ssim: Sequence[float], baseline: float | None) -> int | None:
    """The first step (1-based) whose SSIM is below the baseline, or None."""
    if baseline is None:
        return None
    below = np.flatnonzero(np.asarray(ssim, np.float64) < baseline)
    return int(below[0]) + 1 if below.size else None


def record(
    blocks: Sequence[Sequence[str]],
    channels: Sequence[int],
    inputs: int,
    ssim: dict[str, Sequence[float]],
    spearman: dict[str, Sequence[float]],
    baseline: dict[str, float | None],
    maps: dict[str, np.ndarray],
    seed: int = 0,
    copy_seconds: float = 0.0,
    verdicts: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The record of one layer's check at one step.

    Args:
      blocks: the cascade, top first: `blocks[b]` is randomized at step b + 1.
      channels: the channels reconstructed.
      inputs: the number of probe inputs.
      ssim, spearman: `{method: (B,)}` mean similarity after each step.
      baseline: `{method: float or None}`.
      maps: `{method: (B + 1, K, H, W)}` maps of probe input 0 in [0, 1].
      seed: the seed of the new weights.
      copy_seconds: what copying the model cost (part of the record's seconds).
      verdicts: `{method: Verdict}` (`SanityResult.verdicts`: objects with
        `to_json()`, or their dicts): each method's entry then takes its
        `VERDICT_KEYS` from it (`depends_on_weights`, `verdict`, `caption`,
        `inputs`, `inputs_needed`, `band`, `baseline_band`, `first_below`, ...).
        None: the old comparison of the mean curve with the mean baseline.

    Returns:
      `(info, strips)`: the step JSON, and one uint8 `(H, (B+1)*(W+pad)-pad, 1)`
      strip per method, in the order of `info["methods"]`.
    """
    per_method = {}
    strips = []
    layout = None
    for method, curve in ssim.items():
        base = baseline.get(method)
        depends, words = verdict(curve, base)
        per_method[method] = {
            "ssim": [float(v) for v in curve],
            "spearman": [float(v) for v in spearman[method]],
            "baseline": None if base is None else float(base),
            "first_below": first_below(curve, base),
            "depends_on_weights": depends,
            "verdict": words,
        }
        given = (verdicts or {}).get(method)
        if given is not None:
            given = given.to_json() if hasattr(given, "to_json") else dict(given)
            per_method[method].update({k: given[k] for k in VERDICT_KEYS})
        m = np.nan_to_num(np.asarray(maps[method], np.float64))[:, 0]  # (B+1, H, W)
        top = np.abs(m).max(axis=(1, 2), keepdims=True)
        q = np.rint(np.abs(m) / np.where(top > 0, top, 1.0) * QMAX)
        tiles = q.astype(np.uint8)[None, :, :, :, None]
        grid, layout = assemble(tiles, tiles.shape[1], PAD)
        strips.append(grid[0])
    info = {
        "check": CHECK,
        "blocks": [list(b) for b in blocks],
        "channels": [int(c) for c in channels],
        "inputs": int(inputs),
        "methods": per_method,
        "tiles": ["trained"] + [f"step {b + 1}" for b in range(len(blocks))],
        "layout": layout,
        "seed": int(seed),
        "copy_seconds": round(float(copy_seconds), 4),
    }
    return info, strips


def fv_checks_info(
    objective,
    exemplar_objective,
    seed_ssim,
    processing,
    exemplar_processing,
    path_layers: Sequence[str],
) -> dict[str, Any]:
    """The `checks` object of an ascent step JSON (from `methods.sanity_fv`).

    Every list holds one number per channel of the record's `channels`
    (null where undefined: no exemplar, no second seed); `beats_exemplar`
    is true when the visualization excites the channel more than its best
    real exemplar.
    """

    def floats(values):
        if values is None:
            return None
        return [float(v) if np.isfinite(v) else None for v in np.asarray(values)]

    ratio = [
        None if not (np.isfinite(o) and np.isfinite(e) and e > 0) else float(o / e)
        for o, e in zip(np.asarray(objective), np.asarray(exemplar_objective))
    ]
    return {
        "objective": floats(objective),
        "exemplar_objective": floats(exemplar_objective),
        "objective_ratio": ratio,
        "beats_exemplar": [None if r is None else bool(r >= 1) for r in ratio],
        "seed_ssim": floats(seed_ssim),
        "processing_similarity": floats(processing),
        "exemplar_processing_similarity": floats(exemplar_processing),
        "path_layers": list(path_layers),
    }
