"""What the examples pass (exemplars + unit health) costs.

1. The pass against a plain batched forward pass over the same examples to the
   deepest chosen layer (the same batch size, outputs copied to numpy as
   `predict` does): `ExamplesPass` ranks every channel of every chosen layer
   (top-k in the graph, streamed) and accumulates the unit statistics. The
   target is a ratio <= 1.15. Median of `--repeats` interleaved rounds after a
   warm-up, on the demo CNN, for two layer sets.
2. What `exemplars=Exemplars(held_out, freq=1, top_k=9)` costs a fit of the
   demo (`tb_netviz.demo`): the same fit (`NetVizCallback(log_dir, probe,
   layers=["conv1", "conv2", "dense"], overhead_budget=None, ...)`, activations
   at every epoch; ascent, deconv and sanity off) without (`units=None`) and
   with exemplars and unit health (`exemplars=Exemplars(...)`, `units`
   its default, every epoch), on `--held-out` (1,000) held-out inputs, training
   on `--samples` (1,200, as the demo): wall time and NetViz's own hook seconds.

Usage:
    python benchmarks/bench_examples.py [--examples 20000] [--repeats 5]
        [--epochs 3] [--samples 1200] [--held-out 1000]
        [--out benchmarks/results/examples.json] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common

LAYER_SETS = {"conv1,conv2,dense": ["conv1", "conv2", "dense"], "conv2": ["conv2"]}


def pass_ratio(n: int, repeats: int) -> list[dict]:
    import numpy as np
    import tensorflow as tf

    from tb_netviz.demo import make_model
    from tb_netviz.methods import ExamplesPass
    from tb_netviz.methods.common.layers import call_features, feature_model
    from tb_netviz.methods.units import health as units

    model = make_model()
    x = np.random.default_rng(0).random((n, 32, 32, 3), dtype=np.float32)
    bs = units.BATCH_SIZE
    rows = []
    for name, layers in LAYER_SETS.items():
        deepest = feature_model(model, layers[-1:])
        forward = tf.function(lambda b, f=deepest: call_features(f, b)[0])

        def plain(forward=forward):
            for start in range(0, n, bs):
                np.asarray(forward(x[start : start + bs]))

        ours = ExamplesPass(model, layers, k=9)
        plain(), ours(x[: 2 * bs])  # trace both (and the last, short batch)
        plain(), ours(x)
        base, mine = [], []
        for _ in range(repeats):
            base.append(common.timed(plain)[0])
            mine.append(common.timed(lambda ours=ours: ours(x))[0])
        b, m = common.median(base), common.median(mine)
        rows.append(
            {
                "layers": name,
                "examples": n,
                "batch_size": bs,
                "forward_s": b,
                "examples_pass_s": m,
                "ratio": m / b,
            }
        )
    return rows


def fit_cost(epochs: int, samples: int, held_out_n: int) -> dict:
    import keras

    from tb_netviz import Exemplars, NetVizCallback
    from tb_netviz.demo import make_data, make_model

    x, y = make_data(samples)
    probe, held_out = make_data(8, 1)[0], make_data(held_out_n, 2)[0]
    found = {}
    variants = (
        ("without", {"units": None}),
        ("with", {"exemplars": Exemplars(held_out, freq=1, top_k=9)}),
    )
    for label, extra in variants:
        model = make_model()
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        with tempfile.TemporaryDirectory() as log_dir:
            cb = NetVizCallback(
                log_dir,
                probe,
                layers=["conv1", "conv2", "dense"],
                overhead_budget=None,
                ascent=None,
                deconv=None,
                sanity=None,
                **extra,
            )
            start = time.perf_counter()
            model.fit(x, y, batch_size=32, epochs=epochs, callbacks=[cb], verbose=0)
            wall = time.perf_counter() - start
        found[label] = {"fit_s": wall, "netviz_hook_s": cb.hook_seconds}
    found["epochs"] = epochs
    found["samples"], found["held_out"] = samples, held_out_n
    found["netviz"] = (
        'NetVizCallback(log_dir, probe, layers=["conv1", "conv2", "dense"], '
        "overhead_budget=None, ascent=None, deconv=None, sanity=None, ...): "
        "without: units=None; with: exemplars=Exemplars(held_out, freq=1, top_k=9)"
    )
    found["fit_ratio"] = found["with"]["fit_s"] / found["without"]["fit_s"]
    found["examples_s_per_epoch"] = (
        found["with"]["netviz_hook_s"] - found["without"]["netviz_hook_s"]
    ) / epochs
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=1200, help="training inputs")
    parser.add_argument("--held-out", type=int, default=1000, help="exemplar inputs")
    parser.add_argument(
        "--out", default=os.path.join(common.ROOT, "benchmarks/results/examples.json")
    )
    smoke = {"examples": 64, "repeats": 1, "epochs": 1, "samples": 64, "held_out": 32}
    args = common.parse_args(parser, smoke)
    rows = pass_ratio(args.examples, args.repeats)
    print(
        common.table(
            ["layers", "examples", "forward s", "examples pass s", "ratio"],
            [
                [
                    r["layers"],
                    r["examples"],
                    f"{r['forward_s']:.3f}",
                    f"{r['examples_pass_s']:.3f}",
                    f"{r['ratio']:.3f}",
                ]
                for r in rows
            ],
        )
    )
    fit = fit_cost(args.epochs, args.samples, args.held_out)
    print(
        f"demo fit, {fit['epochs']} epochs: {fit['without']['fit_s']:.1f} s without "
        f"exemplars, {fit['with']['fit_s']:.1f} s with Exemplars(freq=1) "
        f"({fit['fit_ratio']:.2f}x; {fit['examples_s_per_epoch']:.2f} s per epoch)"
    )
    common.write_json(
        args.out,
        {
            "benchmark": "examples",
            "smoke": args.smoke,
            "environment": common.environment(),
            "pass": rows,
            "fit": fit,
        },
    )


if __name__ == "__main__":
    main()
