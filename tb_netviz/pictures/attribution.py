"""Attribution maps as one row per probe input (numpy only).

Row n is probe input n (drawn in the input range), then one grey tile per
method (in the record's `methods` order) and target: tile `1 + m*T + t` is
method m's map for target t. The grid contract is in `layout.py`.

A map is drawn with its own scale, stored beside it so the panel can put
maps on a shared scale or overlay them on the input:

* an unsigned map (every method but those in `signed`): pixel q stands for
  `lo + q / 255 * (hi - lo)`, `[lo, hi]` the map's own min and max;
* a signed map (gradient × input, integrated gradients, or any map with
  negative values): pixel q stands for `(q - 128) / 127 * s`, `s` the map's
  largest |value| (0 is mid-grey), stored as `[-s, s]`.

Flags per map: `blank` (the map is one value everywhere: nothing to show,
e.g. Grad-CAM's ReLU removed every positive contribution), `nonfinite`, and
for integrated gradients `incomplete` (its sum misses `f(x) - f(baseline)` by
more than `COMPLETENESS_TOLERANCE`). Methods are ranked by their mean rank
over the faithfulness metrics (deletion ascending, the others descending).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tb_netviz.pictures.layout import assemble, short, to_uint8

PAD = 2
# Integrated gradients' sum should equal f(x) - f(baseline) (completeness);
# a relative miss above this is flagged: more steps are needed.
COMPLETENESS_TOLERANCE = 0.05
# Faithfulness metrics where lower is better; the others: higher is better.
LOWER_IS_BETTER = ("deletion",)


def record(
    inputs: np.ndarray,
    maps: Mapping[str, np.ndarray],
    targets: np.ndarray,
    probabilities: np.ndarray,
    faithfulness: Mapping[str, Mapping[str, np.ndarray]],
    input_range: tuple[float, float],
    signed: Sequence[str],
    facts: Mapping[str, Any],
    completeness: np.ndarray | None = None,
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The record of a model's attributions on the probe at one step.

    Args:
      inputs: float `(N, H, W, C)`, the probe inputs.
      maps: `{method: float (N, T, H, W)}`, in the order they are drawn.
      targets: int `(N, T)`, the class each map explains.
      probabilities: float `(N, T)`, the model's output for each target.
      faithfulness: `{metric: {method: float (N, T)}}`; a method may be
        missing (not measured), extra entries (a `"random"` reference map)
        are kept.
      input_range: `(lo, hi)` of the model's inputs.
      signed: the methods whose maps are signed by definition.
      facts: JSON-able facts added as they are (`cam_layer`, `settings`,
        `class_names`, `target_source`, `predicted`, `labels`, ...).
      completeness: float `(N, T)`, integrated gradients' relative
        completeness error, or None.

    Returns:
      `(info, rows)`: the step JSON and one uint8
      `(H, W*(1+M*T)+pad*M*T, C')` row per input.

    Raises:
      ValueError: inputs that are not images, or maps that do not match them.
    """
    inputs = np.asarray(inputs)
    targets = np.asarray(targets)
    if inputs.ndim != 4:
        raise ValueError(
            f"attribution draws image inputs (N, H, W, C), got {inputs.shape}"
        )
    n, h, w, _ = inputs.shape
    methods = list(maps)
    drawn = to_uint8(inputs, input_range)
    tiles, scales, flags, is_signed = [drawn[:, None]], {}, {}, {}
    for method in methods:
        m = np.asarray(maps[method], np.float32)
        if m.shape != (n, targets.shape[1], h, w):
            raise ValueError(
                f"{method} maps must be (N, T, H, W) = {(n, targets.shape[1], h, w)}, "
                f"got {m.shape}"
            )
        grey, scale, blank, is_signed[method] = _encode(m, method in signed)
        tiles.append(np.repeat(grey[..., None], drawn.shape[-1], axis=-1))
        scales[method] = short(scale)
        flags[method] = {
            "blank": blank.tolist(),
            "nonfinite": (~np.isfinite(m).all(axis=(2, 3))).tolist(),
        }
    if completeness is not None and "integrated_gradients" in flags:
        flags["integrated_gradients"]["incomplete"] = (
            np.asarray(completeness) > COMPLETENESS_TOLERANCE
        ).tolist()
    rows, layout = assemble(
        np.concatenate(tiles, axis=1), 1 + len(methods) * targets.shape[1], PAD
    )
    means = {
        metric: {meth: float(np.nanmean(v)) for meth, v in by_method.items()}
        for metric, by_method in faithfulness.items()
    }
    info = {
        "method": "attribution",
        "drawn_as": "heatmap",
        "layout": layout,
        "methods": methods,
        "targets": targets.tolist(),
        "probabilities": short(probabilities),
        "scales": scales,
        "signed": is_signed,
        "flags": flags,
        "faithfulness": {
            metric: {meth: short(v) for meth, v in by_method.items()}
            for metric, by_method in faithfulness.items()
        },
        "faithfulness_mean": {
            k: {m: short(v) for m, v in d.items()} for k, d in means.items()
        },
        "ranking": ranking(means, methods),
        "completeness": None if completeness is None else short(completeness),
        "input_range": [float(v) for v in input_range],
        "nonfinite": bool(any(any(_flat(f["nonfinite"])) for f in flags.values())),
        **facts,
    }
    return info, list(rows)


def ranking(
    means: Mapping[str, Mapping[str, float]], methods: Sequence[str]
) -> list[str]:
    """`methods` best first by their mean rank over the metrics in `means`
    (rank 0 = the best value of that metric; a method a metric misses gets
    that metric's worst rank); ties keep `methods`' order."""
    if not means:
        return list(methods)
    total = dict.fromkeys(methods, 0.0)
    for metric, by_method in means.items():
        sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
        scored = sorted(
            (sign * v, i)
            for i, m in enumerate(methods)
            if (v := by_method.get(m)) is not None and np.isfinite(v)
        )
        rank = {methods[i]: r for r, (_, i) in enumerate(scored)}
        for m in methods:
            total[m] += rank.get(m, len(methods))
    return sorted(methods, key=lambda m: (total[m], methods.index(m)))


def _encode(
    m: np.ndarray, signed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Grey uint8 `(N, T, H, W)`, the scale `(N, T, 2)` (`[lo, hi]` each),
    the blank flags `(N, T)` of float maps `(N, T, H, W)`, and whether they
    are drawn signed (`signed`, or any negative value)."""
    x = np.nan_to_num(m, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = x.min(axis=(2, 3)), x.max(axis=(2, 3))
    blank = hi - lo <= 1e-12 * np.maximum(1.0, np.abs(hi))
    signed = bool(signed or (lo < 0).any())
    if signed:
        s = np.maximum(np.abs(lo), np.abs(hi))
        safe = np.where(s > 0, s, 1.0)[..., None, None]
        grey = np.clip(np.rint(128 + x / safe * 127), 0, 255)
        scale = np.stack([-s, s], axis=-1)
    else:
        span = np.where(blank, 1.0, hi - lo)[..., None, None]
        grey = np.clip(np.rint((x - lo[..., None, None]) / span * 255), 0, 255)
        scale = np.stack([lo, hi], axis=-1)
    return grey.astype(np.uint8), scale, blank, signed


def _flat(nested) -> list:
    """The leaves of a nested list."""
    if isinstance(nested, list):
        return [leaf for item in nested for leaf in _flat(item)]
    return [nested]
