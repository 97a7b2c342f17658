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

Usage:
    python benchmarks/ascent_readability.py [--steps N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

import common
import numpy as np
from ascent_models import acceptance, trained

from tb_netviz.methods.ascent import FeatureVisualizer

LAYERS = {
    "demo": ["conv1", "conv2"],
    "strokes": ["conv1", "conv2"],
    "resnet": ["conv0", "b1_conv1", "b2_conv2", "b3_proj", "b4_conv2"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="default: the recipe's")
    parser.add_argument(
        "--out", default=os.path.join(common.RESULTS, "ascent_readability.json")
    )
    args = parser.parse_args()
    rows = []
    for kind, layers in LAYERS.items():
        model, x = trained(kind)
        for layer in layers:
            start = time.perf_counter()
            vis = FeatureVisualizer(model, layer, examples=x[:64], verbose=False)
            result = vis(list(range(vis.n_channels)), steps=args.steps, seed=0)
            figures = acceptance(model, x, layer, result)
            rows.append(
                {
                    "model": kind,
                    "layer": layer,
                    "preset": result.settings["preset"],
                    "steps": result.steps_done,
                    **figures,
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
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
