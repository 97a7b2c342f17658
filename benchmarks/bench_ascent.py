"""Feature visualization with the shipped default against its floor, on VGG16 at 224² and the demo CNN.

The floor (issue 20) is defined at the default recipe's shipped steps and the
image's resolution: one image per channel and one forward+backward pass per
step, i.e. `steps` passes of a batch of K images (one per channel) through
the same differentiated target (the visualizer's own objective: the same
sliced channels and redirected ReLU), in one `tf.while_loop`, without
parameterization, transforms or optimizer, one pass after the other (an
ascent's step needs the previous step's gradient; `bench_maco.floor_run`).
The same passes allowed to overlap are recorded too ("floor_overlapped_s_per_step",
what this floor was before issue 20). The default's work per step is
what the recipe makes it (MACO: `crops` views per image; "bounded": `starts`
images per channel), so the ratio is what the recipe costs over the floor.

Settings, K = `--k` channels (16) in one batch:
- vgg16: `keras.applications.VGG16(include_top=False, weights=None)` at
  `--size` (224) px, `block3_conv1`, input range 0..255, no examples (MACO's
  1/f spectrum); "auto" picks "maco".
- demo: the demo CNN (`tb_netviz.demo.make_model(0)`, untrained), `conv2`,
  32x32, 256 demo images as examples; "auto" picks "bounded".

Timing: a default step is (a call of n steps - a call of 0 steps) / n, n =
`--default-steps` (VGG16) or `--demo-steps`; the 0-step call is the fixed
part of a call (initial images, start and final objective). The floor runs
the same n passes. Rounds interleave the three, so load that comes and goes
(shared cores) hits them alike; best of `--repeats`, wall and process CPU
separately. Seconds per layer are extrapolated, not timed: K channels at the
recipe's full steps = steps x s/step + fixed part (setup and trace apart).

Like for like with tf-keras-vis (VGG16 only): pixels with jitter only (a
random roll by up to 4 px, tf-keras-vis's `Jitter(jitter=4)`), Adam,
`--steps` steps, one image a step; tf-keras-vis `ActivationMaximization` in
its own venv and process (`peers.py`, `ascent_peer_tf_keras_vis.py`), one
call of K and K calls of 1.

Usage:
    python benchmarks/bench_ascent.py [--size 224] [--default-steps 8]
        [--demo-steps 100] [--steps 8] [--repeats 3]
        [--peer-venv PATH | --no-peers] [--out benchmarks/results/ascent.json]
        [--smoke]
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


def build_model(size: int):
    import keras

    keras.utils.set_random_seed(0)
    return keras.applications.VGG16(
        include_top=False, weights=None, input_shape=(size, size, 3)
    )


def against_floor(vis, k: int, steps: int, repeats: int) -> dict:
    """Per-step wall and CPU seconds of `vis`'s recipe and of the floor, best of
    `repeats` interleaved rounds; see the module docstring."""
    from bench_maco import floor_run

    chans = list(range(k))
    setup, _, _ = common.timed(lambda: vis(chans, steps=1))  # traces
    fns = {
        "fixed": lambda: vis(chans, steps=0),
        "run": lambda: vis(chans, steps=steps),
        "floor": floor_run(vis, k, 1, steps),
        "overlapped": floor_run(vis, k, 1, steps, sequential=False),
    }
    best = {name: [float("inf")] * 2 for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            wall, cpu, _ = common.timed(fn)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    fixed, run, floor, both = (best[n] for n in ("fixed", "run", "floor", "overlapped"))
    step = [max(run[i] - fixed[i], 0.0) / steps for i in (0, 1)]
    recipe_steps = vis.settings.steps
    return {
        "preset": vis.preset,
        "settings": vis.settings.as_json(),
        "images_per_channel_and_step": vis.settings.crops * vis.settings.starts,
        "measured_steps": steps,
        "s_per_step": {"wall": step[0], "cpu": step[1]},
        "floor_s_per_step": {"wall": floor[0] / steps, "cpu": floor[1] / steps},
        "floor_overlapped_s_per_step": {
            "wall": both[0] / steps,
            "cpu": both[1] / steps,
        },
        "ratio": {
            "wall": step[0] * steps / floor[0],
            "cpu": step[1] * steps / floor[1],
        },
        "fixed_s": {"wall": fixed[0], "cpu": fixed[1]},
        "first_call_s": setup,
        "s_per_layer": {  # extrapolated: the recipe's steps at the timed cost
            key: recipe_steps * step[i] + fixed[i]
            for i, key in enumerate(("wall", "cpu"))
        },
    }


def pixels_jitter(model, k: int, steps: int) -> dict:
    """tb_netviz on the like-for-like recipe: seconds per step, one timed call."""
    from tb_netviz.methods.ascent import FeatureVisualizer

    vis = FeatureVisualizer(
        model, LAYER, input_range=RANGE, verbose=False, **PIXEL_JITTER
    )
    vis(list(range(k)), steps=1)
    wall, cpu, _ = common.timed(lambda: vis(list(range(k)), steps=steps))
    return {"s_per_step": wall / steps, "cpu_s_per_step": cpu / steps}


def run_peer(args) -> dict:
    python = peers.python(args.peer_venv, "tf-keras-vis")
    cmd = [python, PEER, str(args.size), str(args.steps), str(args.k)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=224, help="VGG16's input size")
    parser.add_argument("--default-steps", type=int, default=8, help="VGG16, timed")
    parser.add_argument("--demo-steps", type=int, default=100, help="demo CNN, timed")
    parser.add_argument("--steps", type=int, default=8, help="like-for-like steps")
    parser.add_argument("--k", type=int, default=16, help="channels (batch)")
    parser.add_argument("--repeats", type=int, default=3)
    peers.add_flag(parser)
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "ascent.json"))
    smoke = dict(size=64, default_steps=1, demo_steps=2, steps=1, k=2, repeats=1)
    args = common.parse_args(parser, smoke)

    from tb_netviz import demo
    from tb_netviz.methods.ascent import FeatureVisualizer

    vgg = build_model(args.size)
    cases = {
        "vgg16": against_floor(
            FeatureVisualizer(vgg, LAYER, input_range=RANGE, verbose=False),
            args.k,
            args.default_steps,
            args.repeats,
        ),
        "demo": against_floor(
            FeatureVisualizer(
                demo.make_model(0),
                "conv2",
                examples=demo.make_data(256, 0)[0],
                verbose=False,
            ),
            args.k,
            args.demo_steps,
            args.repeats,
        ),
    }
    rows = []
    for name, c in cases.items():
        s, f, r = c["s_per_step"], c["floor_s_per_step"], c["ratio"]
        o = c["floor_overlapped_s_per_step"]
        rows.append(
            [
                f"{name} ({c['preset']}, {c['images_per_channel_and_step']} image(s) "
                f"per channel and step)",
                f"{f['wall']:.4f}",
                f"{s['wall']:.4f}",
                f"{r['wall']:.2f}",
                f"{f['cpu']:.4f}",
                f"{s['cpu']:.4f}",
                f"{r['cpu']:.2f}",
                f"{s['wall'] / o['wall']:.2f} / {s['cpu'] / o['cpu']:.2f}",
                f"{c['s_per_layer']['wall']:.1f}",
            ]
        )
    print(f"\nthe default against its floor, {args.k} channels in one batch")
    headers = ["setting", "floor s/step", "s/step", "x floor", "floor CPU s/step"]
    headers += ["CPU s/step", "x floor (CPU)", "x overlapped floor (wall / CPU)"]
    headers += ["s/layer (extrapolated)"]
    print(common.table(headers, rows))
    pixel = pixels_jitter(vgg, args.k, args.steps)
    peer_result = None if args.no_peer else run_peer(args)
    floor = cases["vgg16"]["floor_s_per_step"]
    like = {"tb_netviz pixels+jitter": pixel}
    if peer_result:
        p = peer_result
        like["tf-keras-vis, 1 call of K"] = {
            "s_per_step": p["batched_s_per_step"],
            "cpu_s_per_step": p["batched_cpu_s_per_step"],
        }
        like["tf-keras-vis, K calls of 1"] = {
            "s_per_step": p["sequential_s_per_step"],
            "cpu_s_per_step": p["sequential_cpu_s_per_step"],
        }
    print(f"\nlike for like, VGG16 {args.size}x{args.size}, {args.steps} steps")
    table = [
        [
            n,
            f"{v['s_per_step']:.3f}",
            f"{v['s_per_step'] / floor['wall']:.2f}",
            f"{v['cpu_s_per_step']:.3f}",
            f"{v['cpu_s_per_step'] / floor['cpu']:.2f}",
        ]
        for n, v in like.items()
    ]
    print(
        common.table(
            ["method", "s/step", "x floor", "CPU s/step", "x floor (CPU)"], table
        )
    )
    common.write_json(
        args.out,
        {
            "benchmark": "ascent",
            "smoke": args.smoke,
            "setting": {
                "vgg16": {
                    "model": "VGG16(include_top=False, weights=None)",
                    "size": args.size,
                    "layer": LAYER,
                    "input_range": RANGE,
                },
                "demo": {"model": "demo.make_model(0)", "size": 32, "layer": "conv2"},
                "channels": args.k,
                "repeats": args.repeats,
                "peers": peers.versions(args.peer_venv, args.no_peer),
            },
            "default": cases,
            "like_for_like": {"steps": args.steps, **like},
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    main()
