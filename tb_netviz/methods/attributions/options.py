"""The method names, each method's options with their defaults, and their checks.

Defaults (see each method's module for the definitions):

- smoothgrad, vargrad: `samples=16` noisy copies, `noise=0.15` of the input
  range (Smilkov et al. suggest 10-20 %).
- integrated_gradients: `steps=64` path points, both ends included, for the
  trapezoid rule (`steps` gradient evaluations, at least 2; ReLU networks
  make the path's gradient jump, so the error falls as 1/steps: 64 keeps
  completeness within 1 % on small CNNs where 32 reaches ~1 %);
  `baseline="black"`
  (the input range's lower bound everywhere), or `"zeros"`, a number, or an
  array `(H, W, C)` / `(N, H, W, C)`.
- scorecam: `top_channels=None` (every channel), or k.
- occlusion: `patch=None`, `stride=None` (derived from the input size);
  `fill="grey"` (the middle of the input range), or a number.
- rise: `masks=1000`, `cells=7` (the paper's 7x7 grid for ImageNet),
  `keep=0.5`.
- every multi-pass method: `batch_size=None`: rows a pass sized from the
  input (`rows_per_pass`: as many rows as hold `PASS_VALUES` input values,
  at least 32; 341 rows of 32x32x3, 32 of 224x224x3), or a number; `seed=0`.
"""

from __future__ import annotations

import numbers

import numpy as np

METHODS = (
    "gradcam",
    "gradcam++",
    "layercam",
    "scorecam",
    "saliency",
    "gradient_x_input",
    "smoothgrad",
    "vargrad",
    "integrated_gradients",
    "occlusion",
    "rise",
)
CAMS = ("gradcam", "gradcam++", "layercam", "scorecam")  # need a spatial layer
# Maps that can be negative. Occlusion's drop is negative where hiding a patch
# raises the probability.
SIGNED = ("gradient_x_input", "integrated_gradients", "occlusion")
HEAVY = ("scorecam", "occlusion", "rise")  # many forward passes
DEFAULT_METHODS = ("gradcam", "saliency", "integrated_gradients")

DEFAULTS = {
    "samples": 16,
    "noise": 0.15,
    "steps": 64,
    "baseline": "black",
    "top_channels": None,
    "patch": None,
    "stride": None,
    "fill": "grey",
    "masks": 1000,
    "cells": 7,
    "keep": 0.5,
    "batch_size": None,
    "seed": 0,
}
PASS_VALUES = 2**20  # input values in one pass of a multi-pass method
MIN_ROWS = 32
# The options each method reads (the static ones are passed to its function).
USES = {
    "gradcam": (),
    "gradcam++": (),
    "layercam": (),
    "scorecam": ("top_channels", "batch_size"),
    "saliency": (),
    "gradient_x_input": (),
    "smoothgrad": ("samples", "noise", "batch_size", "seed"),
    "vargrad": ("samples", "noise", "batch_size", "seed"),
    "integrated_gradients": ("steps", "baseline", "batch_size"),
    "occlusion": ("patch", "stride", "fill", "batch_size"),
    "rise": ("masks", "cells", "keep", "batch_size", "seed"),
}
_POSITIVE_INTS = ("samples", "steps", "masks", "cells")
_OPTIONAL_INTS = ("top_channels", "patch", "stride", "batch_size")


def rows_per_pass(batch_size: int | None, input_shape) -> int:
    """The rows of one pass: `batch_size`, or (None) as many rows of
    `input_shape` `(H, W, C)` as hold `PASS_VALUES` values, at least `MIN_ROWS`
    (`MIN_ROWS` when a size is unknown). A small model's copies then run in
    one pass, as its floor does; a large image's stay within memory."""
    if batch_size is not None:
        return batch_size
    if any(d is None for d in input_shape):
        return MIN_ROWS
    return max(MIN_ROWS, PASS_VALUES // max(1, int(np.prod(input_shape))))


def check_methods(methods) -> tuple[str, ...]:
    """`methods` (a name or names) as a tuple without repeats, or `ValueError`."""
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(
            f"Unknown attribution method {bad or None!r}; choose from {METHODS}"
        )
    return tuple(dict.fromkeys(methods))


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_options(options: dict) -> dict:
    """Every option, the defaults filled in, checked.

    Raises:
      TypeError: an unknown option (named, with the known ones).
      ValueError: a value out of its domain.
    """
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise TypeError(
            f"Unknown attribution option(s) {unknown}; the options are "
            f"{sorted(DEFAULTS)} (and input_range, layer)"
        )
    found = {**DEFAULTS, **options}
    for name in _POSITIVE_INTS:
        if not _is_int(found[name]) or found[name] < 1:
            raise ValueError(f"{name} must be a positive int, got {found[name]!r}")
    if found["steps"] < 2:
        raise ValueError(
            f"steps must be at least 2 (the path's two ends), got {found['steps']!r}"
        )
    for name in _OPTIONAL_INTS:
        if found[name] is not None and (not _is_int(found[name]) or found[name] < 1):
            raise ValueError(
                f"{name} must be a positive int or None, got {found[name]!r}"
            )
    if not _is_int(found["seed"]):
        raise ValueError(f"seed must be an int, got {found['seed']!r}")
    if not (isinstance(found["noise"], numbers.Real) and found["noise"] >= 0):
        raise ValueError(f"noise must be a number >= 0, got {found['noise']!r}")
    if not (isinstance(found["keep"], numbers.Real) and 0 < found["keep"] <= 1):
        raise ValueError(f"keep must be in (0, 1], got {found['keep']!r}")
    baseline = found["baseline"]
    if isinstance(baseline, str) and baseline not in ("black", "zeros"):
        raise ValueError(
            f"baseline must be 'black', 'zeros', a number or an array, got {baseline!r}"
        )
    fill = found["fill"]
    if not (fill == "grey" or isinstance(fill, numbers.Real)):
        raise ValueError(f"fill must be 'grey' or a number, got {fill!r}")
    return found


def settings(methods: tuple[str, ...], options: dict) -> dict:
    """The options the chosen methods read, JSON-able (an array baseline is
    recorded as `"array"`)."""
    used = sorted({name for m in methods for name in USES[m]})
    found = {name: options[name] for name in used}
    if "baseline" in found and not isinstance(found["baseline"], (str, numbers.Real)):
        found["baseline"] = "array"
    return found
