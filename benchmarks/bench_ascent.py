"""Feature visualization speed with the shipped defaults, against the floor and tf-keras-vis.

Setting (issues 3 and 8): `keras.applications.VGG16(include_top=False,
weights=None)` at 128x128, layer `block3_conv1`, `--k` 16 channels in one batch.

- headline: `FeatureVisualizer(model, layer, input_range=(0, 255))` with no
  other argument: the default preset "auto" (the recipe it picks and its
  number of steps are printed and recorded). The first call (1 step) traces;
  then `--default-steps` steps are timed and scaled to the recipe's steps.
- like-for-like with tf-keras-vis: pixel parameterization with jitter only
  (a random roll by up to 4 px, tf-keras-vis's `Jitter(jitter=4)`), Adam,
  `--steps` steps, tb_netviz against tf-keras-vis `ActivationMaximization`
  (one call with a batch of 16, and 16 calls of 1), the peer in its own venv
  and process (`peers.py`, `ascent_peer_tf_keras_vis.py`).
- floor: the fastest forward+backward pass of a 16-image batch to
  `block3_conv1` (gradient of the summed output w.r.t. the input; graph mode,
  the best of `--floor-repeats`, measured before and after the others).

Usage:
    python benchmarks/bench_ascent.py [--default-steps 32] [--steps 50]
        [--peer-venv PATH | --no-peers] [--out benchmarks/results/ascent.json]
        [--smoke]

Other processes share the CPUs: compare ratios, and CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import peers

LAYER = "block3_conv1"
RANGE = (0.0, 255.0)
PEER = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "ascent_peer_tf_keras_vis.py"
)


def build_model(size: int):
    import keras

    keras.utils.set_random_seed(0)
    return keras.applications.VGG16(
        include_top=False, weights=None, input_shape=(size, size, 3)
    )


def floor_step(model, k: int, size: int, repeats: int) -> tuple[float, float]:
    """Fastest (wall s, CPU s) forward+backward of a (k, size, size, 3) batch."""
    import tensorflow as tf

    from tb_netviz.methods.common import layers

    features = layers.feature_model(model, [LAYER])
    x = tf.random.stateless_uniform([k, size, size, 3], [0, 0], *RANGE)

    @tf.function
    def fwd_bwd(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = features(x, training=False)
            out = out[0] if isinstance(out, (list, tuple)) else out
            total = tf.reduce_sum(out)
        return tape.gradient(total, x)

    fwd_bwd(x).numpy()
    times = [common.timed(lambda: fwd_bwd(x).numpy())[:2] for _ in range(repeats)]
    return min(w for w, _ in times), min(c for _, c in times)


def ours(model, k: int, steps: int, **overrides) -> dict:
    from tb_netviz.methods.ascent import FeatureVisualizer

    first, _, vis = common.timed(
        lambda: FeatureVisualizer(model, LAYER, input_range=RANGE, **overrides)
    )
    w, _, _ = common.timed(lambda: vis(list(range(k)), steps=1))
    wall, cpu, result = common.timed(lambda: vis(list(range(k)), steps=steps))
    settings = vis.settings.as_json()
    return {
        "preset": vis.preset,
        "recipe_steps": settings["steps"],
        "settings": settings,
        "measured_steps": steps,
        "s_per_step": wall / steps,
        "cpu_s_per_step": cpu / steps,
        "setup_and_trace_s": first + w,
        "objective_mean": float(result.objective.mean()),
    }


# A crop offset in 0..8 with wrap-around fill is a roll by -4..4 px, as
# tf-keras-vis's `Jitter(jitter=4)`; no other transform or regularizer.
PIXEL_JITTER = dict(
    preset="lucid",
    param="pixel",
    pad=0,
    jitter=8,
    jitter2=0,
    scales=[1.0],
    angles=[0.0],
    fill="wrap",
)


def run_peer(args) -> dict:
    python = peers.python(args.peer_venv, "tf-keras-vis")
    cmd = [python, PEER, str(args.size), str(args.steps), str(args.k)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--default-steps", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--preset", default="auto", help="the headline's preset")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--k", type=int, default=16, help="channels (batch)")
    parser.add_argument("--floor-repeats", type=int, default=5)
    peers.add_flag(parser)
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "ascent.json"))
    smoke = {"default_steps": 1, "steps": 1, "size": 64, "k": 1, "floor_repeats": 1}
    args = common.parse_args(parser, smoke)
    model = build_model(args.size)
    floor_a = floor_step(model, args.k, args.size, args.floor_repeats)
    default = ours(model, args.k, args.default_steps, preset=args.preset)
    pixel = ours(model, args.k, args.steps, **PIXEL_JITTER)
    floor_b = floor_step(model, args.k, args.size, args.floor_repeats)
    floor_s, floor_cpu = min(floor_a[0], floor_b[0]), min(floor_a[1], floor_b[1])
    rows = [
        ("floor (forward+backward, graph)", floor_s, floor_cpu),
        (
            f"tb_netviz default ({default['preset']}, {args.default_steps} of "
            f"{default['recipe_steps']} steps)",
            default["s_per_step"],
            default["cpu_s_per_step"],
        ),
        (
            f"tb_netviz pixels+jitter ({args.steps} steps)",
            pixel["s_per_step"],
            pixel["cpu_s_per_step"],
        ),
    ]
    peer_result = None
    if not args.no_peer:
        p = peer_result = run_peer(args)
        rows += [
            (
                f"tf-keras-vis, 1 call of {args.k}",
                p["batched_s_per_step"],
                p["batched_cpu_s_per_step"],
            ),
            (
                f"tf-keras-vis, {args.k} calls of 1",
                p["sequential_s_per_step"],
                p["sequential_cpu_s_per_step"],
            ),
        ]
    print(f"\nVGG16 {args.size}x{args.size}, {LAYER}, {args.k} channels in one batch")
    table, ratios = [], {}
    for name, w, c in rows:
        ratios[name] = {
            "wall": w / floor_s,
            "cpu": c / floor_cpu,
            "wall_vs_pixels": w / pixel["s_per_step"],
        }
        table.append(
            [
                name,
                f"{w:.3f}",
                f"{w / floor_s:.2f}",
                f"{c:.3f}",
                f"{c / floor_cpu:.2f}",
                f"{w / pixel['s_per_step']:.2f}",
            ]
        )
    headers = ["method", "s/step", "x floor", "CPU s/step", "x floor (CPU)"]
    print(common.table([*headers, "x pixels+jitter"], table))
    total = (
        default["s_per_step"] * default["recipe_steps"] + default["setup_and_trace_s"]
    )
    print(
        f"default recipe: {default['recipe_steps']} steps x "
        f"{default['s_per_step']:.3f} s + {default['setup_and_trace_s']:.1f} s setup "
        f"and trace = {total:.0f} s for {args.k} channels of one layer"
    )
    common.write_json(
        args.out,
        {
            "benchmark": "ascent",
            "smoke": args.smoke,
            "setting": {
                "model": "VGG16(include_top=False, weights=None)",
                "size": args.size,
                "layer": LAYER,
                "channels": args.k,
                "input_range": RANGE,
                "peers": peers.versions(args.peer_venv, args.no_peer),
            },
            "floor_s_per_step": {"wall": floor_s, "cpu": floor_cpu},
            "default_recipe": {**default, "projected_total_s": total},
            "pixels_jitter": pixel,
            "tf_keras_vis": peer_result,
            "ratios": ratios,
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    main()
