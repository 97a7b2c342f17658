"""The overhead budget on short fits: every heavy kind every epoch, vs Keras's TensorBoard.

Setting (issue 20, part 2): a user's fit with every heavy kind due at every
epoch and the default `overhead_budget` (0.25), on two models:

- `demo`: the demo CNN (`tb_netviz.demo.make_model`) on the demo's generated
  data (`make_data`, 1,200 training images 32x32x3; 200 held out, seed 1);
- `digits`: a user's 2-conv CNN (conv8-pool-conv16-pool-dense10) on 1,400 real
  handwritten digits (scikit-learn's `load_digits()`, shipped in
  `tests/fixtures/digits.npz`, upsampled to 28x28x1; the last 297 held out).

Batch 32, Adam 1e-3. Each fit starts from the same initial weights and the same
shuffling seed.

- `tensorboard`: `fit` with `keras.callbacks.TensorBoard(log_dir)` alone;
- `netviz`: the same plus `NetVizCallback(log_dir, probe=x_val[:8],
  ascent=Ascent(freq=1), deconv=Deconv(freq=1), sanity=Sanity(freq=1),
  exemplars=Exemplars(x_val, freq=1))` (the issue's fit; activations and
  units every epoch, the model map and the probe once, as by default), every
  other setting its default. `--kinds` adds `accentuation` and/or
  `attribution` (`Accentuation(freq=1)`, `Attribution(freq=1)`).

One warm-up 1-epoch fit of each (`--warmup 0` skips it: it loads TensorFlow's
kernels, not NetViz's traces: every fit builds a new model and callback, so
each traces its own functions as a user's fit does), then per model
`--pairs` interleaved pairs of `--epochs` epochs and `--short-pairs` pairs of
`--short-epochs` epochs (the order alternates). Reported per model and fit
length: the median of the per-pair ratios `fit(netviz) / fit(tensorboard)`
(wall), NetViz's hook seconds and the part of them spent building graphs
(`tracing_seconds`, a one-off of each fit), and per heavy group the epochs it
ran at, the share of its work (`shrunk`) and the deferred steps, read back from
the event files; plus each group's first and steady call cost (`log` timed
around each logger, its graph building counted apart).

Usage:
    python benchmarks/bench_budget.py [--models demo,digits] [--pairs 5]
        [--epochs 10] [--short-pairs 5] [--short-epochs 3] [--warmup 1]
        [--kinds accentuation,attribution] [--out benchmarks/results/budget.json]
        [--smoke]

Targets: median ratio <= 1.25 at `--epochs` (10) and <= 1.35 at
`--short-epochs` (3) on every model; exits 1 if one is missed (not with
`--smoke`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import fits

LIMITS = {"long": 1.25, "short": 1.35}
BATCH = 32
N_PROBES = 8
DIGITS = os.path.join(common.ROOT, "tests", "fixtures", "digits.npz")
DIGITS_TRAIN = 1400
DEMO_TRAIN, DEMO_HELD_OUT = 1200, 200


def digits_model():
    import keras

    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(name="pool1"),
            layers.Conv2D(16, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(10, name="logits"),
        ]
    )


def model_data(name: str, samples: int | None):
    """`(make_model, x, y, x_val, initial weights)` of model `name`."""
    import keras
    import numpy as np

    if name == "demo":
        from tb_netviz.demo import make_data, make_model

        x, y = make_data(samples or DEMO_TRAIN)
        x_val = make_data(DEMO_HELD_OUT, seed=1)[0]
        build = make_model
    else:
        with np.load(DIGITS) as f:
            raw, labels = f["x"], f["y"].astype(np.int64)
        small = raw.astype(np.float32)[..., None] / 16.0
        big = keras.ops.image.resize(small, (28, 28), interpolation="bilinear")
        images = np.clip(keras.ops.convert_to_numpy(big), 0.0, 1.0)
        n = samples or DIGITS_TRAIN
        x, y, x_val = images[:n], labels[:n], images[1500:]
        build = digits_model
    keras.utils.set_random_seed(0)
    return build, x, y, x_val, build().get_weights()


def netviz_callback(log_dir: str, x_val, kinds: list[str], ascent_steps):
    from tb_netviz import (
        Accentuation,
        Ascent,
        Attribution,
        Deconv,
        Exemplars,
        NetVizCallback,
        Sanity,
    )

    extra = {"accentuation": Accentuation(freq=1), "attribution": Attribution(freq=1)}
    return NetVizCallback(
        log_dir,
        probe=x_val[:N_PROBES],
        ascent=Ascent(freq=1, steps=ascent_steps),
        deconv=Deconv(freq=1),
        sanity=Sanity(freq=1),
        exemplars=Exemplars(x_val, freq=1),
        **{k: extra[k] for k in kinds},
    )


def recorded(run_dir: str) -> dict[str, dict[int, dict]]:
    """`{group: {step: {"seconds", "shrunk", "deferred_steps"}}}` read back from
    the step JSON of the event files."""
    from tensorboard.backend.event_processing import event_accumulator

    group_of = fits.group_of_kind()
    acc = event_accumulator.EventAccumulator(run_dir, size_guidance={"tensors": 0})
    acc.Reload()
    found: dict[str, dict[int, dict]] = {}
    for tag in acc.Tags()["tensors"]:
        if ".info/" not in tag:
            continue
        group = group_of.get(tag.split(".", 1)[0])
        for e in acc.Tensors(tag):
            info = json.loads(e.tensor_proto.string_val[0])
            at = found.setdefault(group, {}).setdefault(e.step, {"seconds": 0.0})
            at["seconds"] = round(at["seconds"] + (info.get("seconds") or 0.0), 4)
            for key in ("shrunk", "deferred_steps"):
                if key in info:
                    at[key] = info[key]
    return found


def one_fit(variant: str, data, epochs: int, tmp: str, kinds, ascent_steps) -> dict:
    import keras

    from tb_netviz import metadata
    from tb_netviz.methods.common.traced import tracing_seconds

    build, x, y, x_val, weights = data
    log_dir = tempfile.mkdtemp(dir=tmp, prefix=f"{variant}-")
    cbs = [keras.callbacks.TensorBoard(log_dir)]
    if variant == "netviz":
        netviz = netviz_callback(log_dir, x_val, kinds, ascent_steps)
        calls = fits.time_loggers(netviz)
        cbs.insert(0, netviz)
    model = fits.ready(build, weights)
    traces = tracing_seconds()
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=cbs)
    result = {
        "variant": variant,
        "epochs": epochs,
        "fit_s": time.perf_counter() - start,
    }
    if variant == "netviz":
        found = recorded(os.path.join(log_dir, "netviz"))
        heavy = {g: v for g, v in found.items() if g not in metadata.LIGHT}
        result.update(
            hook_s=netviz.hook_seconds,
            tracing_s=tracing_seconds() - traces,
            ran_at={g: sorted(v) for g, v in heavy.items()},
            shrunk={
                g: {s: r["shrunk"] for s, r in v.items() if "shrunk" in r}
                for g, v in heavy.items()
                if any("shrunk" in r for r in v.values())
            },
            deferred=netviz.deferred,
            calls=calls,
            failures=[str(f) for f in netviz.failures],
        )
    shutil.rmtree(log_dir, ignore_errors=True)
    return result


def pairs(n: int, epochs: int, data, tmp: str, kinds, ascent_steps, name) -> list:
    out = []
    for i in range(n):
        order = ("tensorboard", "netviz") if i % 2 == 0 else ("netviz", "tensorboard")
        pair = {v: one_fit(v, data, epochs, tmp, kinds, ascent_steps) for v in order}
        nv, tb = pair["netviz"], pair["tensorboard"]
        print(
            f"{name}, {epochs} epochs, pair {i + 1}/{n}: tensorboard "
            f"{tb['fit_s']:.2f}s, netviz {nv['fit_s']:.2f}s "
            f"({nv['fit_s'] / tb['fit_s']:.2f}x; hooks {nv['hook_s']:.2f}s, "
            f"{nv['tracing_s']:.2f}s of it tracing); ran at {nv['ran_at']}; "
            f"shrunk {nv['shrunk']}",
            flush=True,
        )
        out.append(pair)
    return out


def costs(rounds: list[dict]) -> dict[str, dict]:
    """Per group: the first call's seconds and tracing, and the steady seconds
    of a whole run (later calls, per share of work), medians over the fits."""
    per: dict[str, dict[str, list]] = {}
    for r in rounds:
        for group, calls in r["netviz"]["calls"].items():
            p = per.setdefault(group, {"first": [], "tracing": [], "steady": []})
            p["first"].append(calls[0]["seconds"])
            p["tracing"].append(calls[0]["tracing_s"])
            p["steady"] += [c["seconds"] / c["scale"] for c in calls[1:]]
    return {
        g: {
            "first_s": round(common.median(p["first"]), 4),
            "first_tracing_s": round(common.median(p["tracing"]), 4),
            "steady_whole_s": round(common.median(p["steady"]), 4)
            if p["steady"]
            else None,
        }
        for g, p in sorted(per.items())
    }


def summarize(rounds: list[dict]) -> dict:
    nv = [r["netviz"] for r in rounds]
    tb = [r["tensorboard"] for r in rounds]
    ratios = [a["fit_s"] / b["fit_s"] for a, b in zip(nv, tb)]
    return {
        "ratios": [round(r, 4) for r in ratios],
        "ratio_median": common.median(ratios),
        "tensorboard_fit_s_median": common.median([b["fit_s"] for b in tb]),
        "netviz_fit_s_median": common.median([a["fit_s"] for a in nv]),
        "hook_s_median": common.median([a["hook_s"] for a in nv]),
        "tracing_s_median": common.median([a["tracing_s"] for a in nv]),
        "ran_at": nv[0]["ran_at"],
        "shrunk": nv[0]["shrunk"],
        "costs": costs(rounds),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="demo,digits")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--short-pairs", type=int, default=5)
    parser.add_argument("--short-epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=None, help="default: all")
    parser.add_argument("--warmup", type=int, default=1, choices=(0, 1))
    parser.add_argument("--kinds", default="", help="accentuation,attribution")
    parser.add_argument(
        "--ascent-steps", type=int, default=None, help="default: the preset's"
    )
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "budget.json"))
    smoke = {"pairs": 1, "epochs": 2, "short_pairs": 1, "short_epochs": 1}
    smoke.update(samples=64, warmup=0, ascent_steps=4, models="digits")
    args = common.parse_args(parser, smoke)
    if args.epochs == args.short_epochs:
        parser.error("--epochs and --short-epochs must differ")
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(kinds) - {"accentuation", "attribution"})
    models = args.models.split(",")
    if unknown or not set(models) <= {"demo", "digits"}:
        parser.error("--kinds takes accentuation, attribution; --models demo, digits")
    tmp = tempfile.mkdtemp(prefix="netviz-bench-budget-")
    summary, raw = {}, {}
    try:
        for name in models:
            data = model_data(name, args.samples)
            if args.warmup:
                print(f"{name}: warm-up, one 1-epoch fit of each", flush=True)
                for v in ("tensorboard", "netviz"):
                    one_fit(v, data, 1, tmp, kinds, args.ascent_steps)
            run = {
                "long": (args.pairs, args.epochs),
                "short": (args.short_pairs, args.short_epochs),
            }
            for length, (n, epochs) in run.items():
                rounds = pairs(n, epochs, data, tmp, kinds, args.ascent_steps, name)
                summary[f"{name}_{epochs}_epochs"] = {
                    "length": length,
                    **summarize(rounds),
                }
                raw[f"{name}_{epochs}_epochs"] = rounds
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows, met = [], True
    for key, s in summary.items():
        limit = LIMITS[s["length"]]
        ok = s["ratio_median"] <= limit
        met &= ok
        rows.append(
            [
                key,
                f"{s['tensorboard_fit_s_median']:.2f}",
                f"{s['netviz_fit_s_median']:.2f}",
                f"{s['ratio_median']:.2f}x",
                f"<= {limit}",
                "met" if ok else "MISSED",
                f"{s['hook_s_median']:.2f}",
                f"{s['tracing_s_median']:.2f}",
            ]
        )
    print()
    headers = ["fit", "TensorBoard s", "+NetViz s", "ratio", "target", ""]
    print(common.table([*headers, "hooks s", "tracing s"], rows))
    common.write_json(
        args.out,
        {
            "benchmark": "budget",
            "smoke": args.smoke,
            "setting": {
                "models": models,
                "batch": BATCH,
                "netviz": "NetVizCallback(log_dir, x_val[:8], ascent=Ascent(freq=1), "
                "deconv=Deconv(freq=1), sanity=Sanity(freq=1), "
                "exemplars=Exemplars(x_val, freq=1)), overhead_budget default 0.25",
                "extra_kinds": kinds,
                "baseline": "keras.callbacks.TensorBoard(log_dir) defaults",
                "ascent_steps": args.ascent_steps,
                "samples": args.samples,
                "warmup": args.warmup,
                "pairs": [args.pairs, args.short_pairs],
                "epochs": [args.epochs, args.short_epochs],
            },
            "summary": summary,
            "targets": LIMITS,
            "met": bool(met),
            "pairs": raw,
            "environment": common.environment(),
        },
    )
    return 0 if met or args.smoke else 1


if __name__ == "__main__":
    raise SystemExit(main())
