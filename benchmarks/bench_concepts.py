"""What concept extraction (`ConceptExtractor`) costs against one forward pass.

Floor: one batched forward pass of the examples to the layer (the extractor's
batch size, `units.health.BATCH_SIZE` = 64; outputs copied to numpy as
`predict` does). Against it, on `--examples` (1,000) demo images of 32x32x3
(`tb_netviz.demo.make_data`) and the demo CNN (`make_model`, trained for
`--epochs` (1) on 1,200 demo images; 0: built, untrained) at `--layer` (conv2,
the demo's concepts layer; 16x16x32, so 256,000 positions):

- `nmf`: one factorization of pass 1's sample (4,096 patches, k = 8);
- `nmf_stability`: the two the extractor runs with `stability` (its default),
  side by side in one call (`factorize.nmf_many`), as it runs them;
- `extraction`: `ConceptExtractor(model, layer)(examples, labels)`, every
  default (importance and stability on), the object kept across rounds as
  the logger keeps it;
- its parts, timed inside the same call (a second extractor whose passes
  are wrapped in timers): `pass1` (the forward pass and the patch sample;
  for an array that fits the cache, with the importance's backward to the
  layer), `fits` (both factorizations), `pass2` (projection of every
  position, exemplars, importance; a forward pass again when not cached).

Each is timed in wall and process CPU seconds (all threads), interleaved,
median of `--repeats` (5) rounds after a warm-up. The goal (issue 21, "the
factorization against one forward pass of the examples to the layer: <= 1.5x
that forward pass"): `fits`, the factorization as the extractor runs it
(both fits), <= 1.5x the floor on 2 CPU cores. The whole extraction is
reported beside it; it also runs the importance's backward pass and projects
every position, so it costs several forward passes.

Usage:
    python benchmarks/bench_concepts.py [--examples 1000] [--repeats 5]
        [--epochs 1] [--layer conv2] [--out benchmarks/results/concepts.json]
        [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common

GOAL = 1.5  # fits (the factorization) / floor
TIMED = ("floor", "nmf", "nmf_stability", "extraction", "pass1", "fits", "pass2")


def _model(epochs: int):
    import keras

    from tb_netviz.demo import make_data, make_model

    model = make_model()
    if epochs:
        x, y = make_data(1200)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    return model


def _timer(fn, spent: list):
    def run(*args, **kwargs):
        w_s, c_s, out = common.timed(lambda: fn(*args, **kwargs))
        spent[0] += w_s
        spent[1] += c_s
        return out

    return run


def _parted(model, layer: str):
    """An extractor whose pass 1 (`PatchPass.sample`, which drives the forward
    step) and pass 2 (`ScorePass.reduce`) add their seconds to `spent`."""
    from tb_netviz.methods.concepts import ConceptExtractor

    parted = ConceptExtractor(model, layer)
    spent = {name: [0.0, 0.0] for name in ("pass1", "fits", "pass2")}
    parted._patches.sample = _timer(parted._patches.sample, spent["pass1"])
    parted._scores.reduce = _timer(parted._scores.reduce, spent["pass2"])
    return parted, spent


@contextlib.contextmanager
def _timed_fits(spent: dict):
    """`factorize.nmf_many`, as the extractor calls it, adding to
    `spent["fits"]`."""
    from tb_netviz.methods.concepts import factorize

    original = factorize.nmf_many
    factorize.nmf_many = _timer(original, spent["fits"])
    try:
        yield
    finally:
        factorize.nmf_many = original


def measure(n: int, repeats: int, epochs: int, layer: str) -> dict:
    import numpy as np
    import tensorflow as tf

    from tb_netviz.demo import make_data
    from tb_netviz.methods.common.layers import call_features, feature_model
    from tb_netviz.methods.concepts import ConceptExtractor, factorize

    model = _model(epochs)
    x, y = make_data(n, 2)
    x = np.asarray(x, np.float32)
    ours = ConceptExtractor(model, layer)
    bs = ours._patches.batch_size
    features = feature_model(model, [layer])
    forward = tf.function(lambda b: call_features(features, b)[0])

    def floor():
        for start in range(0, n, bs):
            np.asarray(forward(x[start : start + bs]))

    # Pass 1's sample, as the extractor draws it (see its __call__).
    seeds = np.random.SeedSequence(ours.settings["seed"]).spawn(4)
    fit_seeds = [int(s.generate_state(1)[0]) for s in seeds[2:]]
    sample = ours._patches(x, ours.settings["patches"], seeds[:2])
    parted, spent = _parted(model, layer)

    def parts():
        with _timed_fits(spent):
            parted(x, labels=y)

    steps = {
        "floor": floor,
        "nmf": lambda: factorize.nmf(sample.patches[0], ours.k, fit_seeds[0]),
        "nmf_stability": lambda: factorize.nmf_many(sample.patches, ours.k, fit_seeds),
        "extraction": lambda: ours(x, labels=y),
        "parts": parts,
    }
    for step in steps.values():  # warm-up: every trace (and the short batch)
        step()
    wall = {name: [] for name in TIMED}
    cpu = {name: [] for name in TIMED}
    for _ in range(repeats):
        for name, step in steps.items():
            for part in spent.values():
                part[:] = [0.0, 0.0]
            w_s, c_s, _ = common.timed(step)
            if name != "parts":
                wall[name].append(w_s)
                cpu[name].append(c_s)
        for name, (w_s, c_s) in spent.items():
            wall[name].append(w_s)
            cpu[name].append(c_s)
    found = {
        "model": f"demo CNN (tb_netviz.demo.make_model), trained {epochs} epoch(s) "
        "on make_data(1200)"
        if epochs
        else "demo CNN (tb_netviz.demo.make_model), built, untrained",
        "layer": layer,
        "examples": n,
        "input": list(x.shape[1:]),
        "batch_size": bs,
        "positions": int(n * np.prod(sample.spatial or (1,))),
        "settings": ours.settings,
        "pass1_kept_for_pass2": ours._cached_rows(x) is not None,
        "repeats": repeats,
        "seconds": {
            name: {"wall": common.median(wall[name]), "cpu": common.median(cpu[name])}
            for name in TIMED
        },
    }
    base = found["seconds"]["floor"]
    found["ratios"] = {
        name: {
            "wall": found["seconds"][name]["wall"] / base["wall"],
            "cpu": found["seconds"][name]["cpu"] / base["cpu"],
        }
        for name in TIMED[1:]
    }
    found["goal"] = f"fits (the factorization) wall <= {GOAL}x floor"
    found["meets_goal"] = found["ratios"]["fits"]["wall"] <= GOAL
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1, help="0: untrained model")
    parser.add_argument("--layer", default="conv2")
    parser.add_argument(
        "--out", default=os.path.join(common.ROOT, "benchmarks/results/concepts.json")
    )
    args = common.parse_args(parser, {"examples": 64, "repeats": 1, "epochs": 0})
    found = measure(args.examples, args.repeats, args.epochs, args.layer)
    s, r = found["seconds"], found["ratios"]
    print(
        common.table(
            ["step", "wall s", "cpu s", "wall / floor", "cpu / floor"],
            [
                [
                    name,
                    f"{s[name]['wall']:.3f}",
                    f"{s[name]['cpu']:.3f}",
                    "1" if name == "floor" else f"{r[name]['wall']:.2f}",
                    "1" if name == "floor" else f"{r[name]['cpu']:.2f}",
                ]
                for name in TIMED
            ],
        )
    )
    print(
        f"{found['examples']} examples, {found['layer']}: the factorization "
        f"{r['fits']['wall']:.2f}x the forward pass (goal <= {GOAL}x), the whole "
        f"extraction {r['extraction']['wall']:.2f}x"
    )
    common.write_json(
        args.out,
        {
            "benchmark": "concepts",
            "smoke": args.smoke,
            "environment": common.environment(),
            **found,
        },
    )


if __name__ == "__main__":
    main()
