"""MACO's cost per step against the forward+backward floor, and every preset's
cost per crop evaluation (issue 10).

The floor is one forward and backward pass of the same batch of crops
(K channels x `crops` views x `starts` images) through the same differentiated
model, in one `tf.function`, no parameterization, transforms or optimizer,
one pass after the other (`floor_run`).
Presets with different crop and start counts compare by their cost per crop
evaluation (one image through the model and back).

`--model vgg16` measures VGG16 (`weights=None`) at `--size` px instead of the
demo CNN (e.g. `--model vgg16 --layer block3_conv1 --presets maco --steps 8
--repeats 3`), where the network, not the small ops, is the cost.

Usage:
    python benchmarks/bench_maco.py [--model demo|vgg16] [--size 128] [--layer conv2]
        [--channels 16] [--steps 64] [--repeats 7]
        [--presets maco,bounded,yosinski2015,lucid,distill2017] [--out FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import keras
import numpy as np
import tensorflow as tf

from tb_netviz import demo
from tb_netviz.methods.ascent import FeatureVisualizer


def _best(fns: dict, repeats: int) -> dict:
    """Best seconds of each callable; rounds interleave them, so load that
    comes and goes (a shared machine) hits the step and its floor alike."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def floor_run(
    vis: FeatureVisualizer, k: int, views: int, steps: int, sequential: bool = True
):
    """A traced callable: `steps` forward+backward passes of k*views images of
    the model's size.

    `sequential`: one pass at a time, as in any gradient ascent, where a
    step's input needs the previous step's gradient. The passes here are
    independent (the same input), so otherwise the while loop overlaps up to
    10 of them; on the demo CNN's 1 ms passes that hides ~40% of the wall
    time on 2 cores, a floor no ascent can reach (issue 20).
    """
    h, w = vis.size
    x = tf.random.uniform((k * views, h, w, vis.in_channels))
    labels = tf.constant(np.arange(k), tf.int32)
    rows = tf.repeat(tf.range(k), views)

    def run():
        def body(i, acc):
            with tf.GradientTape() as tape:
                tape.watch(x)
                values, _ = vis._objective(x, labels, rows)
                total = tf.reduce_sum(values)
            return i + 1, acc + tf.reduce_sum(tape.gradient(total, x))

        return tf.while_loop(
            lambda i, _: i < steps,
            body,
            (0, 0.0),
            parallel_iterations=1 if sequential else 10,
        )[1]

    # Traced once per preset (each has its own objective) and called as a
    # concrete function: a `tf.function` per preset would share TF's retracing
    # detector (keyed on this code) and warn about retracing that is not.
    floor = tf.function(run).get_concrete_function()
    floor()
    return lambda: floor().numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", choices=("demo", "vgg16"))
    parser.add_argument("--size", type=int, default=128, help="vgg16 input size")
    parser.add_argument("--layer", default="conv2")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--presets", default="maco,bounded,yosinski2015,lucid,distill2017"
    )
    parser.add_argument("--out", default=None, help="also write the figures here")
    args = common.parse_args(parser, {"channels": 1, "steps": 1, "repeats": 1})
    if args.model == "vgg16":
        size = (args.size, args.size)
        model = keras.applications.VGG16(weights=None, input_shape=(*size, 3))
        x = 255.0 * tf.image.resize(demo.make_data(64, 0)[0], size).numpy()
        input_range = (0.0, 255.0)
    else:
        model, x, input_range = demo.make_model(0), demo.make_data(64, 0)[0], None
    chans = list(range(args.channels))
    print(
        f"{model.name}, layer {args.layer}, {args.channels} channels, {args.steps} steps"
    )
    print("preset        views  ms/step  floor ms/step  ratio  us/crop-eval")
    rows = {}
    for name in args.presets.split(","):
        vis = FeatureVisualizer(
            model,
            args.layer,
            preset=name,
            examples=x,
            input_range=input_range,
            verbose=False,
        )
        vis(chans, steps=2)  # trace
        views = vis.settings.crops * vis.settings.starts
        best = _best(
            {
                "step": lambda v=vis: v(chans, steps=args.steps),
                "floor": floor_run(vis, len(chans), views, args.steps),
            },
            args.repeats,
        )
        per_step, floor = best["step"] / args.steps, best["floor"] / args.steps
        per_crop = per_step / (len(chans) * views) * 1e6
        print(
            f"{name:13s} {views:5d}  {per_step * 1e3:7.2f}  {floor * 1e3:13.2f}"
            f"  {per_step / floor:5.2f}  {per_crop:12.1f}"
        )
        rows[name] = {
            "recipe": vis.preset,
            "views": views,
            "s_per_step": per_step,
            "floor_s_per_step": floor,
            "ratio": per_step / floor,
            "us_per_crop_eval": per_crop,
        }
    if args.out:
        common.write_json(
            args.out,
            {
                "benchmark": "maco",
                "smoke": args.smoke,
                "setting": {
                    "model": model.name,
                    "size": list(model.input_shape[1:3]),
                    "layer": args.layer,
                    "channels": args.channels,
                    "steps": args.steps,
                    "repeats": args.repeats,
                },
                "presets": rows,
                "environment": common.environment(),
            },
        )


if __name__ == "__main__":
    main()
