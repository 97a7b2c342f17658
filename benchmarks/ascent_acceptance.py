"""Issue 3 acceptance on the demo's trained CNN, for each preset.

For every live channel of conv1 and conv2 (some training image activates it),
the optimized image should activate its own channel more than any training or
probe image does, and more than the other channels' images do, in >= 90% of
channels. Prints the two fractions per layer and preset and writes JSON.
`--steps` defaults to each preset's own number of steps.

Usage:
    python benchmarks/ascent_acceptance.py [--steps N] [--samples 1200] [--epochs 5]
        [--presets auto lucid yosinski2015] [--smoke]
        [--out benchmarks/results/ascent_acceptance.json]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import keras
import numpy as np

from tb_netviz import demo
from tb_netviz.methods import feature_visualization_result, layer_activations


def fractions(model, images, layer: str, preset: str, steps: int | None) -> dict:
    data = layer_activations(model, images, [layer])[layer].mean(axis=(1, 2))
    live = [int(c) for c in np.flatnonzero(data.max(axis=0) > 0)]
    result = feature_visualization_result(
        model, layer, live, preset=preset, steps=steps
    )
    acts = layer_activations(model, result.images, [layer])[layer].mean(axis=(1, 2))
    acts = acts[:, live]
    own = np.diag(acts)
    others = np.where(np.eye(len(live), dtype=bool), -np.inf, acts)
    return {
        "preset": result.settings["preset"],
        "steps": int(result.steps_done),
        "channels": int(data.shape[1]),
        "live": len(live),
        "beats_data": float((own > data[:, live].max(axis=0)).mean()),
        "beats_other_channels": float((own > others.max(axis=0)).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument(
        "--presets", nargs="+", default=["auto", "lucid", "yosinski2015"]
    )
    parser.add_argument("--samples", type=int, default=1200, help="training inputs")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs")
    parser.add_argument(
        "--out", default=os.path.join(common.RESULTS, "ascent_acceptance.json")
    )
    smoke = {"steps": 2, "presets": ["auto"], "samples": 64, "epochs": 1}
    args = common.parse_args(parser, smoke)
    x, y = demo.make_data(args.samples, 0)
    probe = demo.make_data(8, 1)[0]
    model = demo.make_model(0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=32, epochs=args.epochs, verbose=0)
    images = np.concatenate([x, probe])
    rows = {
        f"{preset}/{layer}": fractions(model, images, layer, preset, args.steps)
        for preset in args.presets
        for layer in ("conv1", "conv2")
    }
    table = [
        [
            name,
            r["preset"],
            r["steps"],
            f"{r['live']}/{r['channels']}",
            f"{r['beats_data']:.0%}",
            f"{r['beats_other_channels']:.0%}",
        ]
        for name, r in rows.items()
    ]
    headers = ["preset/layer", "recipe", "steps", "live/all", "beats data"]
    print(common.table([*headers, "beats other channels"], table))
    common.write_json(
        args.out,
        {
            "benchmark": "ascent_acceptance",
            "smoke": args.smoke,
            "steps": args.steps,
            "samples": args.samples,
            "epochs": args.epochs,
            "results": rows,
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    main()
