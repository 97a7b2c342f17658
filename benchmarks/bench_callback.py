"""Training overhead of `NetVizCallback`, beside `keras.callbacks.TensorBoard`.

Setting (issue 2): a small CNN (Conv32-Pool-Conv64-Pool-Dense10) on synthetic
32x32x3 data, 2000 samples, batch 32, 3 epochs.

- `none`: `fit` with no callbacks (Keras still adds its `History`).
- `netviz`: `fit` with `NetVizCallback` (2 conv layers, 8 probe inputs,
  activations every epoch).
- `tensorboard`: `fit` with `keras.callbacks.TensorBoard(histogram_freq=1,
  write_images=True)`.

One warm-up fit of each variant first (TensorFlow's one-time start-up costs
are then counted against none of them), then `--rounds` rounds; each round
runs every variant once, in an order rotated from round to round, and every
fit gets a fresh model with the same initial weights and the same shuffling
seed. Whole fits vary a lot on shared CPUs, so the figures are the median of
the per-round ratios `fit(variant) / fit(none)`, and the time spent inside a
callback's own hooks (measured by a wrapper around every hook it overrides;
for NetViz also its own `hook_seconds`) as a share of the `none` fit of the
same round.

Usage:
    python benchmarks/bench_callback.py [--rounds 5] [--epochs 3]
        [--samples 2000] [--out benchmarks/results/callback.json]

Targets: NetViz hook share <= 5% and median ratio <= 1.05.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common

HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_begin",
    "on_batch_end",
)
VARIANTS = ("none", "netviz", "tensorboard")
LAYERS = ["conv1", "conv2"]
N_PROBES = 8
BATCH = 32


def build_model():
    import keras

    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(name="pool1"),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(name="pool2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, name="logits"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def time_hooks(callback) -> dict:
    """Wraps every hook the callback overrides with a timer; returns the tally.

    Only overridden hooks are wrapped, and the wrapper keeps Keras's
    `_is_default` marker, so Keras schedules the callback exactly as before.
    """
    from keras.src.utils import python_utils

    tally = {"seconds": 0.0, "cpu_seconds": 0.0, "calls": 0, "by_hook": {}}
    for name in HOOKS:
        method = getattr(callback, name)
        if python_utils.is_default(method):
            continue

        @functools.wraps(method)
        def timed(*args, _method=method, **kwargs):
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return _method(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                tally["seconds"] += spent
                tally["cpu_seconds"] += time.process_time() - cpu
                by_hook = tally["by_hook"]
                by_hook[_method.__name__] = by_hook.get(_method.__name__, 0.0) + spent
                tally["calls"] += 1

        setattr(callback, name, timed)
    return tally


def one_fit(variant: str, x, y, probe, weights, epochs: int, tmp: str) -> dict:
    """Runs one fit of a fresh model and returns its timings."""
    import keras

    import tb_netviz

    model = build_model()
    model.set_weights(weights)
    log_dir = tempfile.mkdtemp(dir=tmp, prefix=f"{variant}-")
    callbacks, tally, netviz = [], None, None
    if variant == "netviz":
        netviz = tb_netviz.NetVizCallback(log_dir, probe=probe, layers=LAYERS)
        callbacks = [netviz]
    elif variant == "tensorboard":
        callbacks = [
            keras.callbacks.TensorBoard(log_dir, histogram_freq=1, write_images=True)
        ]
    if callbacks:
        tally = time_hooks(callbacks[0])
    keras.utils.set_random_seed(1)  # same shuffling in every fit
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    result = {"variant": variant, "fit_s": seconds, "fit_cpu_s": cpu}
    if tally is not None:
        result["hook_s"] = tally["seconds"]
        result["hook_cpu_s"] = tally["cpu_seconds"]
        result["hook_calls"] = tally["calls"]
        result["hook_s_by_hook"] = tally["by_hook"]
    if netviz is not None:
        result["netviz_hook_seconds"] = netviz.hook_seconds
        result["netviz_failures"] = len(netviz.failures)
    shutil.rmtree(log_dir, ignore_errors=True)
    return result


def summarize(rounds: list[dict]) -> dict:
    summary = {}
    for variant in VARIANTS:
        fits = [r[variant]["fit_s"] for r in rounds]
        entry = {
            "fit_s_median": common.median(fits),
            "fit_s": fits,
            "fit_cpu_s_median": common.median(
                [r[variant]["fit_cpu_s"] for r in rounds]
            ),
        }
        if variant != "none":
            ratios = [r[variant]["fit_s"] / r["none"]["fit_s"] for r in rounds]
            shares = [r[variant]["hook_s"] / r["none"]["fit_s"] for r in rounds]
            cpu_ratios = [
                r[variant]["fit_cpu_s"] / r["none"]["fit_cpu_s"] for r in rounds
            ]
            cpu_shares = [
                r[variant]["hook_cpu_s"] / r["none"]["fit_cpu_s"] for r in rounds
            ]
            entry.update(
                ratio_median=common.median(ratios),
                ratios=ratios,
                hook_s_median=common.median([r[variant]["hook_s"] for r in rounds]),
                hook_share_median=common.median(shares),
                hook_shares=shares,
                cpu_ratio_median=common.median(cpu_ratios),
                cpu_ratios=cpu_ratios,
                hook_cpu_share_median=common.median(cpu_shares),
            )
        if variant == "netviz":
            own = [
                r[variant]["netviz_hook_seconds"] / r["none"]["fit_s"] for r in rounds
            ]
            entry["own_hook_seconds_share_median"] = common.median(own)
        summary[variant] = entry
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "callback.json"))
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 1.0, (args.samples, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, args.samples).astype("int32")
    probe = x[:N_PROBES]
    import keras

    keras.utils.set_random_seed(0)
    weights = build_model().get_weights()

    tmp = tempfile.mkdtemp(prefix="netviz-bench-callback-")
    try:
        print(f"warm-up: one fit of each of {', '.join(VARIANTS)}")
        warmup = {v: one_fit(v, x, y, probe, weights, 1, tmp) for v in VARIANTS}
        rounds = []
        for i in range(args.rounds):
            order = VARIANTS[i % 3 :] + VARIANTS[: i % 3]
            rounds.append(
                {v: one_fit(v, x, y, probe, weights, args.epochs, tmp) for v in order}
            )
            r = rounds[-1]
            print(
                f"round {i + 1}/{args.rounds} ({' '.join(order)}): "
                + "  ".join(f"{v} {r[v]['fit_s']:.2f}s" for v in VARIANTS)
                + f"  netviz hooks {r['netviz']['hook_s']:.3f}s"
                + f"  tensorboard hooks {r['tensorboard']['hook_s']:.3f}s"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    summary = summarize(rounds)
    rows = []
    for variant in VARIANTS:
        s = summary[variant]
        rows.append(
            [
                variant,
                f"{s['fit_s_median']:.2f}",
                f"{s['ratio_median']:.3f}x" if variant != "none" else "1",
                f"{s['hook_s_median']:.3f}" if variant != "none" else "-",
                f"{100 * s['hook_share_median']:.1f}%" if variant != "none" else "-",
                f"{s['fit_cpu_s_median']:.1f}",
                f"{s['cpu_ratio_median']:.3f}x" if variant != "none" else "1",
                f"{100 * s['hook_cpu_share_median']:.1f}%"
                if variant != "none"
                else "-",
            ]
        )
    print()
    print(
        f"{args.rounds} rounds, {args.samples} samples, batch {BATCH}, "
        f"{args.epochs} epochs, TF {tf.__version__}"
    )
    print(
        "wall clock (median over rounds; ratio and share per round against `none`),"
        "\nand process CPU time (all threads; less sensitive to other processes):"
    )
    print(
        common.table(
            [
                "variant",
                "fit s",
                "ratio",
                "hooks s",
                "hook share",
                "fit cpu s",
                "cpu ratio",
                "hook cpu share",
            ],
            rows,
        )
    )
    nv = summary["netviz"]
    targets = {
        "hook_share_max": 0.05,
        "ratio_max": 1.05,
        "hook_share_met": nv["hook_share_median"] <= 0.05,
        "ratio_met": nv["ratio_median"] <= 1.05,
    }
    print(
        f"NetViz targets: hook share {100 * nv['hook_share_median']:.1f}% (<= 5%): "
        f"{'met' if targets['hook_share_met'] else 'MISSED'}; median ratio "
        f"{nv['ratio_median']:.3f}x (<= 1.05x): "
        f"{'met' if targets['ratio_met'] else 'MISSED'}"
    )
    common.write_json(
        args.out,
        {
            "benchmark": "callback",
            "setting": {
                "model": "Conv32-Pool-Conv64-Pool-Dense10, same padding",
                "samples": args.samples,
                "batch": BATCH,
                "epochs": args.epochs,
                "rounds": args.rounds,
                "netviz": {"layers": LAYERS, "probes": N_PROBES, "freq": "epoch"},
                "tensorboard": {"histogram_freq": 1, "write_images": True},
            },
            "summary": summary,
            "targets": targets,
            "warmup": warmup,
            "rounds": rounds,
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    main()
