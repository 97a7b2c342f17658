"""MACO's cost per step against the forward+backward floor, and every preset's
cost per crop evaluation (issue 10).

The floor is one forward and backward pass of the same batch of crops
(K channels x `crops` views) through the same differentiated model, in one
`tf.function`, no parameterization, transforms or optimizer. Presets with
different crop counts compare by their cost per crop evaluation.

Usage:
    python benchmarks/bench_maco.py [--layer conv2] [--channels 16] [--steps 64]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from tb_netviz import demo
from tb_netviz.methods.ascent import FeatureVisualizer


def _best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def floor_per_step(vis: FeatureVisualizer, k: int, views: int, steps: int) -> float:
    """Seconds of one forward+backward of k*views images of the model's size."""
    h, w = vis.size
    x = tf.random.uniform((k * views, h, w, vis.in_channels))
    labels = tf.constant(np.arange(k), tf.int32)
    rows = tf.repeat(tf.range(k), views)

    @tf.function
    def run():
        def body(i, acc):
            with tf.GradientTape() as tape:
                tape.watch(x)
                values, _ = vis._objective(x, labels, rows)
                total = tf.reduce_sum(values)
            return i + 1, acc + tf.reduce_sum(tape.gradient(total, x))

        return tf.while_loop(lambda i, _: i < steps, body, (0, 0.0))[1]

    run()
    return _best(lambda: run().numpy()) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", default="conv2")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--steps", type=int, default=64)
    args = parser.parse_args()
    model = demo.make_model(0)
    x = demo.make_data(64, 0)[0]
    chans = list(range(args.channels))
    print(f"demo CNN, layer {args.layer}, {args.channels} channels, {args.steps} steps")
    print("preset        crops  ms/step  floor ms/step  ratio  us/crop-eval")
    for name in ["maco", "yosinski2015", "lucid", "distill2017"]:
        vis = FeatureVisualizer(
            model, args.layer, preset=name, examples=x, verbose=False
        )
        vis(chans, steps=2)  # trace
        per_step = _best(lambda v=vis: v(chans, steps=args.steps)) / args.steps
        views = vis.settings.crops
        floor = floor_per_step(vis, len(chans), views, args.steps)
        per_crop = per_step / (len(chans) * views) * 1e6
        print(
            f"{name:13s} {views:5d}  {per_step * 1e3:7.2f}  {floor * 1e3:13.2f}"
            f"  {per_step / floor:5.2f}  {per_crop:12.1f}"
        )


if __name__ == "__main__":
    main()
