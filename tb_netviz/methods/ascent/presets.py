"""Feature-visualization presets: the `"auto"` rule and each recipe's settings.

Each preset reproduces a recipe and names its source. Pixel amounts (pad,
jitter, blur width) are given for the recipe's own image size,
`recipe_size`, and are scaled to the size being optimized: a 32x32 model is
jittered by 2 px where Lucid's 128 px recipe says 8. Keyword overrides
replace single settings and are taken as they are (pixels of the optimized
image, not scaled).

`resolve` returns a frozen `Settings`: every name is declared once, there, so
a misspelt setting is an `AttributeError` where the settings are read (when a
`FeatureVisualizer` is built), never a `KeyError` inside a trace.

`"auto"` (the default everywhere) picks a recipe by the input size
(`choose`): "maco" for inputs of at least `SMALL_INPUT` pixels a side,
"bounded" below.

The recipes themselves, and what each setting means, are in `recipes.py`.
"""

from __future__ import annotations

import dataclasses
import math

from tb_netviz.methods.ascent.recipes import PRESETS

_SCALED_INTS = ("pad", "jitter", "jitter2")
_TUPLES = ("scales", "angles")
_CHOICES = dict(
    param=("pixel", "fourier", "maco"),
    optimizer=("adam", "normalized_sgd"),
    fill=("constant", "reflect", "wrap"),
)


# Below this many pixels a side, Lucid's transforms and Fourier images lose to
# plain pixel-space ascent: on the demo's 32x32 CNN, Lucid's images beat the
# training images for 12% of conv1's channels, Yosinski et al.'s for 88%;
# and "bounded" beats MACO at every depth of a 10-conv residual CNN on 32x32
# inputs (benchmarks/ascent_readability.py). MACO is the recipe for deep
# networks at ImageNet-like sizes, where pixel ascent turns into noise.
SMALL_INPUT = 64


@dataclasses.dataclass(frozen=True)
class Settings:
    """The effective settings of one recipe at one image size (see the module)."""

    preset: str
    steps: int
    param: str
    decorrelate: bool
    init_sd: float
    optimizer: str
    lr: float
    pad: int
    jitter: int
    scales: tuple[float, ...]
    angles: tuple[float, ...]
    jitter2: int
    fill: str
    l1: float
    l2: float
    tv: float
    decay: float
    blur_sigma: float
    blur_every: int
    redirect_relu: bool
    objective: str
    slice_channels: bool
    recipe_size: int
    jit_compile: bool
    crops: int
    crop_min: float
    noise: float
    facets: int
    diversity: float
    contrast: float
    ball: float
    relu_leak: float
    starts: int

    def as_json(self) -> dict:
        """The settings as a JSON-able dict (tuples become lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(self).items()
        }


def choose(preset: str, height: int, width: int) -> str:
    """The recipe a preset name stands for: `"auto"` by the rule below, else itself.

    The "auto" rule: "maco" from `SMALL_INPUT` px a side, "bounded" below.
    """
    if preset != "auto":
        return preset
    return "maco" if min(height, width) >= SMALL_INPUT else "bounded"


def explain(height: int, width: int, channels: int) -> str:
    """One line: what "auto" chose for this input size, and why."""
    return (
        f"NetViz: ascent preset 'auto' chose {choose('auto', height, width)!r} for "
        f"{height}x{width}x{channels} inputs (maco from {SMALL_INPUT} px a side, "
        "bounded below)"
    )


def explain_layers(visualizers: dict) -> str:
    """One line: what "auto" chose for each of `{layer: FeatureVisualizer}`."""
    first = next(iter(visualizers.values()))
    h, w = first.size
    chosen = sorted({v.preset for v in visualizers.values()})
    return (
        f"NetViz: ascent preset 'auto' chose {', '.join(chosen)} for {h}x{w}x"
        f"{first.in_channels} inputs (maco from {SMALL_INPUT} px a side, "
        "bounded below)"
    )


def resolve(preset: str, overrides: dict, height: int, width: int) -> Settings:
    """Returns the effective settings of `preset` at `height` x `width`.

    Raises:
      ValueError: an unknown preset, an unknown setting name or a bad value.
    """
    preset = choose(preset, height, width)
    if preset not in PRESETS:
        raise ValueError(
            f"unknown preset {preset!r}; choose one of "
            f"{', '.join(['auto', *sorted(PRESETS)])}"
        )
    base = PRESETS[preset]
    unknown = sorted(set(overrides) - set(base))
    if unknown:
        raise ValueError(
            f"unknown setting(s) {', '.join(unknown)}; settings are "
            f"{', '.join(sorted(base))} (plus steps, size, seed, input_range, "
            "objective, init_image as keyword arguments)"
        )
    factor = min(height, width) / base["recipe_size"]
    settings = dict(base)
    for key in _SCALED_INTS:
        settings[key] = int(round(base[key] * factor))
    settings["blur_sigma"] = base["blur_sigma"] * factor
    settings.update(overrides)
    for key in _TUPLES:
        settings[key] = tuple(float(v) for v in settings[key])
        if not settings[key]:
            raise ValueError(f"{key} must list at least one value")
    for key, choices in _CHOICES.items():
        if settings[key] not in choices:
            raise ValueError(f"{key} must be one of {choices}, got {settings[key]!r}")
    for key in ("crops", "facets", "starts"):
        if int(settings[key]) != settings[key] or settings[key] < 1:
            raise ValueError(f"{key} must be an integer >= 1, got {settings[key]!r}")
    if not 0.0 <= float(settings["ball"]) <= 100.0:
        raise ValueError(f"ball is a percentile in [0, 100], got {settings['ball']!r}")
    if not 0.0 < float(settings["crop_min"]) <= 1.0:
        raise ValueError(f"crop_min must be in (0, 1], got {settings['crop_min']!r}")
    for key in (*_SCALED_INTS, "blur_every", "steps", "crops", "facets", "starts"):
        value = settings[key]
        if int(value) != value or value < 0:
            raise ValueError(f"{key} must be a non-negative integer, got {value!r}")
        settings[key] = int(value)
    for key in (
        *("lr", "init_sd", "l1", "l2", "tv", "decay", "blur_sigma"),
        *("crop_min", "noise", "diversity", "contrast", "ball", "relu_leak"),
    ):
        value = float(settings[key])
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{key} must be finite and >= 0, got {value!r}")
        settings[key] = value
    for key in ("decorrelate", "redirect_relu", "slice_channels", "jit_compile"):
        settings[key] = bool(settings[key])
    return Settings(preset=preset, **settings)
