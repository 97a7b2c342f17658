"""Issue 10's readability figures with the shipped default, at its full steps.

The acceptance test (`tests/test_ascent_accept.py`) cuts every recipe to 64
steps to stay fast; this script runs the default preset ("auto") with the
recipe's own number of steps on the same three models, trained on generated
data by `tests/ascent_models.py` (the demo CNN, a 28x28x1 strokes CNN, a
residual CNN with batch norm and 10 conv layers), and prints, per conv layer:
the share of live channels whose picture excites them more than every
training image ("beats data") and more than the other channels' pictures do
("beats others"), and how far the share of pixels at each bound of the input
range exceeds the training images' own share at that bound ("excess low",
"excess high", target <= 0.10 each).

`--preset all` runs every preset the same way (deepdream, which needs a
starting image, is left out) and ends with one summary line per preset.

Usage:
    python benchmarks/ascent_readability.py [--preset auto|all|NAME] [--steps N] [--out FILE]
        [--models demo,strokes,resnet] [--smoke]

The JSON holds the settings and `rows`, one per layer (a bare list of rows
before issue 20).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

import common
from ascent_models import acceptance, trained

from tb_netviz.loggers.ascent import EXAMPLES_FOR_ASCENT
from tb_netviz.methods.ascent import FeatureVisualizer, presets

CRITERIA = (
    ("beats data", lambda r: r["beats_data"] >= 0.9),
    ("beats others", lambda r: r["beats_others"] >= 0.9),
    ("excess low", lambda r: r["excess_low"] <= 0.10),
    ("excess high", lambda r: r["excess_high"] <= 0.10),
)

LAYERS = {
    "demo": ["conv1", "conv2"],
    "strokes": ["conv1", "conv2"],
    "resnet": ["conv0", "b1_conv1", "b2_conv2", "b3_proj", "b4_conv2"],
}


def measure(preset: str, steps: int | None, models: list[str]) -> list[dict]:
    """Runs `preset` on every layer of `LAYERS[m]` for m in `models`; prints and
    returns one row each."""
    rows = []
    for kind in models:
        layers = LAYERS[kind]
        model, x = trained(kind)
        for layer in layers:
            start = time.perf_counter()
            vis = FeatureVisualizer(
                model,
                layer,
                preset=preset,
                examples=x[:EXAMPLES_FOR_ASCENT],
                verbose=False,
            )
            result = vis(list(range(vis.n_channels)), steps=steps, seed=0)
            rows.append(
                {
                    "requested": preset,
                    "model": kind,
                    "layer": layer,
                    "preset": result.settings["preset"],
                    "steps": result.steps_done,
                    **acceptance(model, x, layer, result),
                    "seconds": time.perf_counter() - start,
                }
            )
            r = rows[-1]
            print(
                f"{kind:8s} {layer:9s} {r['preset']:13s} {r['steps']:4d} steps  "
                f"beats data {r['beats_data']:.2f}  beats others {r['beats_others']:.2f}  "
                f"excess low {r['excess_low']:+.2f}, high {r['excess_high']:+.2f}  "
                f"{r['seconds']:.1f} s",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--preset", default="auto", help="auto (default), all, or one")
    parser.add_argument(
        "--out", default=os.path.join(common.RESULTS, "ascent_readability.json")
    )
    parser.add_argument(
        "--models", default=",".join(LAYERS), help="of " + ", ".join(LAYERS)
    )
    args = common.parse_args(parser, {"steps": 2, "models": "demo"})
    models = args.models.split(",")
    names = [args.preset]
    if args.preset == "all":
        names = ["auto", *sorted(set(presets.PRESETS) - {"deepdream"})]
    rows = []
    for name in names:
        rows += measure(name, args.steps, models)
    if len(names) > 1:
        total = sum(len(LAYERS[m]) for m in models)
        print(f"\nlayers meeting each criterion (of {total}):")
        for name in names:
            mine = [r for r in rows if r["requested"] == name]
            met = "  ".join(
                f"{label} {sum(map(test, mine))}" for label, test in CRITERIA
            )
            print(f"{name:13s} {met}")
    common.write_json(
        args.out,
        {
            "benchmark": "ascent_readability",
            "smoke": args.smoke,
            "preset": args.preset,
            "steps": args.steps,
            "models": models,
            "rows": rows,
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    main()
