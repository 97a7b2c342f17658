"""Regenerates the README's presets pictures: each preset's conv2 grid on the demo.

    python docs/make_presets.py [--out docs]

Trains the demo CNN as `tb_netviz.demo.run_all` trains the 1e-3 run of
demo_logs/ (same generated data, seed, epochs and batch size), then optimizes
conv2's first 8 channels with every preset, taking the data's spectrum and
contrast from the same held-out examples the demo's callback gets, and writes
`presets_<preset>.png` (8 tiles, 4x enlarged, nearest neighbour) for each.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from tb_netviz import demo, plan
from tb_netviz.methods.ascent import FeatureVisualizer
from tb_netviz.pictures.layout import assemble, to_uint8
from tb_netviz.writer import encode_png

PRESETS = ("bounded", "yosinski2015", "lucid", "distill2017", "maco")
SCALE = 4


def trained_demo(seed: int = 0, epochs: int = 5, samples: int = 1200):
    """The demo CNN after the 1e-3 run's training, and the held-out sample."""
    x, y = demo.make_data(samples, seed)
    held_out = demo.make_data(1000, seed + 2)[0][: plan.EXAMPLES_FOR_ASCENT]
    model = demo.make_model(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    return model, held_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args()
    model, examples = trained_demo()
    for name in PRESETS:
        vis = FeatureVisualizer(model, "conv2", preset=name, examples=examples)
        result = vis(list(range(8)), seed=0)
        tiles = to_uint8(result.images, (0.0, 1.0))
        grid = assemble(tiles[None], 8, 2)[0][0]
        grid = np.kron(grid, np.ones((SCALE, SCALE, 1), np.uint8))
        path = Path(args.out) / f"presets_{name}.png"
        path.write_bytes(encode_png(grid))
        print("wrote", path, f"({result.steps_done} steps)")


if __name__ == "__main__":
    main()
