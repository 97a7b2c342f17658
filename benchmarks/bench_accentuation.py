"""Feature accentuation against its floor: the forward+backward of its steps.

An `Accentuator` call at its shipped defaults (`DEFAULT_STEPS` Adam steps,
each probe image's `top_k` strongest channels, all N x K (image, channel)
pairs in one batch of one compiled loop) against the least work its
optimization must do: the same number of steps, each one forward pass of the
N x K rows to the layer and one backward pass to the input, in one
`tf.while_loop` inside one `tf.function` (a plain gradient step on the
pixels). What the method adds on top: the Fourier parameterization and its
inverse, the random transform of the image and of its seed, the seed's
forward pass to the regularization layer, the distance term and Adam.

Models (`--models`): `small`, the demo CNN (32 x 32, `conv2`, 8 probe
images), and `vgg16` (`weights=None`, `--size` px a side, `block3_conv1`,
`--vgg-images`); median of `--repeats` rounds after a warm-up, ours and the
floor interleaved; wall and CPU seconds. Target: ours <= 1.2x the floor.

    python benchmarks/bench_accentuation.py [--models small,vgg16] [--size 96]
        [--vgg-images 2] [--repeats 5] [--out benchmarks/results/accentuation.json]
        [--smoke]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common

GOAL = 1.2


def build(name: str, size: int):
    """(model, layer, probe images in [0, 1])."""
    import keras

    if name == "small":
        from tb_netviz.demo import make_data, make_model

        return make_model(), "conv2", make_data(8, 1)[0]
    model = keras.applications.VGG16(weights=None, input_shape=(size, size, 3))
    return model, "block3_conv1", None


def floor_fn(model, layer: str, steps: int):
    """`f(x0 (B, H, W, C), picked (B,))`: `steps` forward+backward passes."""
    import tensorflow as tf

    from tb_netviz.methods.common.layers import call_features, feature_model

    features = feature_model(model, [layer])

    @tf.function
    def run(x0, picked):
        def step(t, x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                acts = call_features(features, x)[0]
                mine = tf.gather(acts, picked, axis=-1, batch_dims=1)
                loss = tf.reduce_sum(tf.reduce_mean(mine, axis=[1, 2]))
            return t + 1, x + 0.01 * tape.gradient(loss, x)

        return tf.while_loop(lambda t, _: t < steps, step, (tf.constant(0), x0))[1]

    return run


def measure(name: str, size: int, vgg_images: int, repeats: int) -> dict:
    import numpy as np
    import tensorflow as tf

    from tb_netviz.methods.accentuation.accentuator import (
        DEFAULT_STEPS,
        DEFAULT_TOP_K,
        Accentuator,
    )

    model, layer, probe = build(name, size)
    if probe is None:
        probe = np.random.default_rng(0).random((vgg_images, size, size, 3), np.float32)
    ours = Accentuator(model, layer)
    picked = ours._pick(probe, None, DEFAULT_TOP_K)
    rows = np.repeat(probe, picked.shape[1], axis=0)
    floor = floor_fn(model, layer, DEFAULT_STEPS)
    x0 = tf.constant(rows)
    channels = tf.constant(picked.reshape(-1), tf.int32)
    runs = {
        "ours": lambda: ours(probe, top_k=DEFAULT_TOP_K),
        "floor": lambda: floor(x0, channels).numpy(),
    }
    first = {k: common.timed(f)[:2] for k, f in runs.items()}  # traces
    found = {k: [] for k in runs}
    for _ in range(repeats):
        for k, f in runs.items():
            found[k].append(common.timed(f)[:2])
    med = {
        k: {
            "wall": common.median([w for w, _ in v]),
            "cpu": common.median([c for _, c in v]),
        }
        for k, v in found.items()
    }
    return {
        "model": name,
        "layer": layer,
        "input": list(probe.shape[1:]),
        "images": len(probe),
        "top_k": int(picked.shape[1]),
        "rows": len(rows),
        "steps": DEFAULT_STEPS,
        "first_call_s": {k: {"wall": w, "cpu": c} for k, (w, c) in first.items()},
        "seconds": med,
        "ratio": {
            t: med["ours"][t] / max(med["floor"][t], 1e-9) for t in ("wall", "cpu")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="small,vgg16")
    parser.add_argument("--size", type=int, default=96, help="VGG16 px a side")
    parser.add_argument("--vgg-images", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--out", default=os.path.join(common.RESULTS, "accentuation.json")
    )
    args = common.parse_args(parser, {"models": "small", "repeats": 1})
    rows = [
        measure(name, args.size, args.vgg_images, args.repeats)
        for name in args.models.split(",")
    ]
    print(
        common.table(
            ["model", "rows x steps", "floor s", "ours s", "ours/floor wall", "CPU"],
            [
                [
                    f"{r['model']} {r['layer']}",
                    f"{r['rows']} x {r['steps']}",
                    f"{r['seconds']['floor']['wall']:.3f}",
                    f"{r['seconds']['ours']['wall']:.3f}",
                    f"{r['ratio']['wall']:.2f}x",
                    f"{r['ratio']['cpu']:.2f}x",
                ]
                for r in rows
            ],
        )
    )
    common.write_json(
        args.out,
        {
            "benchmark": "accentuation",
            "smoke": args.smoke,
            "environment": common.environment(),
            "floor": "steps x (1 forward of the rows to the layer + 1 backward to "
            "the input), one tf.while_loop in one tf.function",
            "goal": f"ours <= {GOAL}x the floor",
            "results": rows,
            "meets_goal": all(r["ratio"]["cpu"] <= GOAL for r in rows),
        },
    )


if __name__ == "__main__":
    main()
