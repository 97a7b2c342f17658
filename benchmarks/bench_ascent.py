"""Feature visualization speed: tb_netviz against tf-keras-vis and the floor.

Setting (issue 3): `keras.applications.VGG16(include_top=False, weights=None)`
at 128x128, layer `block3_conv1`, 16 channels, 100 steps, pixel
parameterization with jitter (a random roll by up to 4 px, tf-keras-vis's
`Jitter(jitter=4)`), no other regularizer, Adam.

- tb_netviz: `FeatureVisualizer`, one batch of 16, the loop compiled; the
  time of a 100-step call after a 1-step warm-up call (which traces). Also,
  with fewer steps: under XLA, and computing all 256 channels of the layer
  (`slice_channels=False`, the same work as the floor plus the step's own).
- tf-keras-vis `ActivationMaximization` on the same model, channels and
  steps, installed from PyPI into `.bench_venv/` (created here, gitignored)
  and run there in a subprocess: one call with a batch of 16, and 16 calls
  with a batch of 1.
- floor: the fastest single forward+backward pass of a 16-image batch to
  `block3_conv1` (gradient of the summed output w.r.t. the input), with and
  without XLA, the faster, times the steps.

Usage:
    python benchmarks/bench_ascent.py [--steps 100] [--size 128]
        [--out benchmarks/results/ascent.json] [--no-peer]

Prints a table (seconds per step, ratio to the floor) and writes JSON.
Other processes share the CPUs: compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".bench_venv")
PEER_PACKAGE = "tf-keras-vis==0.8.7"
LAYER = "block3_conv1"


def timed(fn) -> tuple[float, float]:
    """Runs `fn`; returns (wall seconds, CPU seconds of this process, all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def build_model(size: int):
    import keras

    keras.utils.set_random_seed(0)
    return keras.applications.VGG16(
        include_top=False, weights=None, input_shape=(size, size, 3)
    )


def floor_step(model, k: int, size: int, repeats: int) -> dict:
    """Fastest forward+backward of a (k, size, size, 3) batch, without and with XLA."""
    import tensorflow as tf

    from tb_netviz.methods import layers

    features = layers.feature_model(model, [LAYER])
    x = tf.random.stateless_uniform([k, size, size, 3], [0, 0], 0.0, 255.0)

    def fwd_bwd(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = features(x, training=False)
            out = out[0] if isinstance(out, (list, tuple)) else out
            total = tf.reduce_sum(out)
        return tape.gradient(total, x)

    best = {}
    for jit in (False, True):
        fn = tf.function(fwd_bwd, jit_compile=jit)
        fn(x).numpy()
        times = [timed(lambda f=fn: f(x).numpy()) for _ in range(repeats)]
        name = "xla" if jit else "graph"
        best[name] = min(w for w, _ in times)
        best[name + "_cpu"] = min(c for _, c in times)
    return best


def ours(model, k: int, size: int, steps: int, jit: bool, sliced: bool = True) -> dict:
    from tb_netviz.methods.ascent import FeatureVisualizer

    t = time.perf_counter()
    vis = FeatureVisualizer(
        model,
        LAYER,
        size=size,
        preset="lucid",
        input_range=(0.0, 255.0),
        param="pixel",
        pad=0,
        jitter=8,  # a crop offset in 0..8 is a move by -4..4 px
        jitter2=0,
        scales=[1.0],
        angles=[0.0],
        fill="wrap",  # a roll, as tf-keras-vis's Jitter
        jit_compile=jit,
        slice_channels=sliced,
    )
    vis(list(range(k)), steps=1)
    first = time.perf_counter() - t
    out = []
    wall, cpu = timed(lambda: out.append(vis(list(range(k)), steps=steps)))
    result = out[0]
    return dict(
        s_per_step=wall / steps,
        cpu_s_per_step=cpu / steps,
        total_s=wall,
        setup_and_trace_s=first,
        objective_mean=float(result.objective.mean()),
    )


def peer(size: int, steps: int, k: int) -> dict:
    """Runs inside .bench_venv: tf-keras-vis batched and sequential."""
    import keras
    import tensorflow as tf
    from tf_keras_vis.activation_maximization import ActivationMaximization
    from tf_keras_vis.activation_maximization.input_modifiers import Jitter
    from tf_keras_vis.utils.model_modifiers import ExtractIntermediateLayer

    model = build_model(size)
    vis = ActivationMaximization(
        model, model_modifier=ExtractIntermediateLayer(LAYER), clone=True
    )

    def run(channels, n_steps):
        def score(output):  # each image's own channel mean, shape (batch,)
            return tf.stack(
                [tf.reduce_mean(output[i, ..., c]) for i, c in enumerate(channels)]
            )

        seed = tf.random.stateless_uniform(
            [len(channels), size, size, 3], [0, 0], 0.0, 255.0
        )
        return vis(
            score,
            seed_input=seed,
            input_range=(0.0, 255.0),
            input_modifiers=[Jitter(jitter=4)],
            regularizers=[],
            steps=n_steps,
            optimizer=keras.optimizers.Adam(learning_rate=0.05 * 255.0),
        )

    run(list(range(k)), 2)  # warm-up: kernels and op caches
    batched = timed(lambda: run(list(range(k)), steps))
    sequential = timed(lambda: [run([c], steps) for c in range(k)])
    return dict(
        batched_s_per_step=batched[0] / steps,
        batched_cpu_s_per_step=batched[1] / steps,
        sequential_s_per_step=sequential[0] / steps,
        sequential_cpu_s_per_step=sequential[1] / steps,
    )


def run_peer(args) -> dict:
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", VENV], check=True
        )
    check = subprocess.run(
        [python, "-c", "import tf_keras_vis"], capture_output=True, check=False
    )
    if check.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", PEER_PACKAGE], check=True)
    cmd = [python, os.path.abspath(__file__), "--peer-only"]
    cmd += ["--size", str(args.size), "--steps", str(args.steps), "--k", str(args.k)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--k", type=int, default=16, help="channels (batch)")
    parser.add_argument("--floor-repeats", type=int, default=8)
    parser.add_argument("--xla-steps", type=int, default=10)
    parser.add_argument("--unsliced-steps", type=int, default=20)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--peer-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--out", default=os.path.join(ROOT, "benchmarks", "results", "ascent.json")
    )
    args = parser.parse_args()
    if args.peer_only:
        print(json.dumps(peer(args.size, args.steps, args.k)))
        return

    import tensorflow as tf

    model = build_model(args.size)
    floor_a = floor_step(model, args.k, args.size, args.floor_repeats)
    mine = ours(model, args.k, args.size, args.steps, jit=False)
    mine_xla = ours(model, args.k, args.size, args.xla_steps, jit=True)
    unsliced = ours(model, args.k, args.size, args.unsliced_steps, False, sliced=False)
    floor_b = floor_step(model, args.k, args.size, args.floor_repeats)
    # The floor is the fastest pass seen, before or after the other runs.
    floor = {m: min(floor_a[m], floor_b[m]) for m in floor_a}
    floor_s = min(floor["graph"], floor["xla"])
    floor_cpu = min(floor["graph_cpu"], floor["xla_cpu"])
    rows = [
        ("floor (fwd+bwd, best of graph/XLA)", floor_s, floor_cpu),
        ("tb_netviz (graph, default)", mine["s_per_step"], mine["cpu_s_per_step"]),
        (
            f"tb_netviz (XLA, {args.xla_steps} steps)",
            mine_xla["s_per_step"],
            mine_xla["cpu_s_per_step"],
        ),
        (
            f"tb_netviz (all channels, {args.unsliced_steps} st)",
            unsliced["s_per_step"],
            unsliced["cpu_s_per_step"],
        ),
    ]
    peer_result = None
    if not args.no_peer:
        peer_result = run_peer(args)
        p = peer_result
        rows += [
            ("tf-keras-vis, 1 call of 16", p["batched_s_per_step"],
             p["batched_cpu_s_per_step"]),
            ("tf-keras-vis, 16 calls of 1", p["sequential_s_per_step"],
             p["sequential_cpu_s_per_step"]),
        ]  # fmt: skip
    print(
        f"\nVGG16 {args.size}x{args.size}, {LAYER}, {args.k} channels, {args.steps} "
        "steps, pixels + jitter.\nwall: seconds per step; cpu: CPU seconds of the "
        "process per step (steadier when other processes share the cores)."
    )
    head = ("method", "wall s", "x floor", "x ours", "cpu s", "x floor", "x ours")
    print("{:38s} {:>7s} {:>7s} {:>7s} {:>7s} {:>7s} {:>7s}".format(*head))
    ours_w, ours_c = mine["s_per_step"], mine["cpu_s_per_step"]
    for name, w, c in rows:
        print(
            f"{name:38s} {w:7.3f} {w / floor_s:7.2f} {w / ours_w:7.2f} "
            f"{c:7.3f} {c / floor_cpu:7.2f} {c / ours_c:7.2f}"
        )
    report = dict(
        setting=dict(
            model="VGG16(include_top=False, weights=None)",
            size=args.size,
            layer=LAYER,
            channels=args.k,
            steps=args.steps,
        ),
        machine=dict(
            platform=platform.platform(),
            cpus=os.cpu_count(),
            tensorflow=tf.__version__,
        ),
        floor_s_per_step=floor,
        tb_netviz=mine,
        tb_netviz_xla=mine_xla,
        tb_netviz_all_channels=unsliced,
        tf_keras_vis=peer_result,
        ratios={
            name: dict(
                wall=w / floor_s,
                cpu=c / floor_cpu,
                wall_vs_tb_netviz=w / ours_w,
                cpu_vs_tb_netviz=c / ours_c,
            )
            for name, w, c in rows
        },  # fmt: skip
    )
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
