"""One line shows the whole story (issue 17 item 3): `NetVizCallback` with all its defaults, vs Keras's TensorBoard.

Setting: the demo CNN (`tb_netviz.demo.make_model`: conv1(16)-pool-conv2(32)-
pool-dense(32)-logits(4)) on the demo's generated data (`make_data`,
`--samples` training inputs, 1200 as the demo uses), batch 32, Adam 1e-3,
`--epochs` epochs (10).

- `tensorboard`: `fit` with `keras.callbacks.TensorBoard(log_dir)` alone (its
  defaults);
- `netviz`: `fit` with `NetVizCallback(log_dir, probe=x[:8])`, the one line,
  every setting its 0.3 default (layers and input range chosen by it;
  activations and units every epoch; ascent, deconv and sanity at the first
  and the last epoch; the model map and the probe once; exemplars and
  accentuation off; overhead budget 0.25), beside the same
  `keras.callbacks.TensorBoard(log_dir)`.

Every fit starts from the same initial weights and the same shuffling seed.
One warm-up 1-epoch fit of each (`--warmup 0` skips it), then `--pairs`
interleaved pairs (the order alternates). Reported: the median of the
per-pair ratios `fit(netviz) / fit(tensorboard)` in wall time, the hook share
`cb.hook_seconds / fit(netviz)` (wall), and per kind group the seconds its
logger's `log` took summed over the fit (timed around each logger) and the
seconds recorded in the step JSON of its records (read back from the event
files), with the steps each group ran at.

Usage:
    python benchmarks/bench_oneline.py [--pairs 3] [--epochs 10]
        [--samples 1200] [--warmup 1] [--ascent-steps N]
        [--out benchmarks/results/oneline.json] [--smoke]

`--ascent-steps N` (the smoke run's 4) passes `ascent=Ascent(steps=N)`, the
one departure from the defaults; by default the preset's own steps.

Target: hook share <= 10% on a 10-epoch fit (median over the pairs); exits 1
if missed (not with `--smoke`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import fits

HOOK_SHARE_MAX = 0.10
BATCH = 32
N_PROBES = 8


def one_fit(variant: str, data, epochs: int, tmp: str, ascent_steps=None) -> dict:
    import keras

    import tb_netviz
    from tb_netviz import Ascent
    from tb_netviz.demo import make_model

    x, y, weights = data
    log_dir = tempfile.mkdtemp(dir=tmp, prefix=f"{variant}-")
    cbs = [keras.callbacks.TensorBoard(log_dir)]
    if variant == "netviz":
        short = {} if ascent_steps is None else {"ascent": Ascent(steps=ascent_steps)}
        netviz = tb_netviz.NetVizCallback(log_dir, probe=x[:N_PROBES], **short)
        calls = fits.time_loggers(netviz)
        cbs.insert(0, netviz)
    model = fits.ready(make_model, weights)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=cbs)
    result = {
        "variant": variant,
        "epochs": epochs,
        "fit_s": time.perf_counter() - start,
        "fit_cpu_s": time.process_time() - cpu,
    }
    if variant == "netviz":
        group_of = fits.group_of_kind()
        recorded: dict[str, dict[int, float]] = {}
        for tag, logged in fits.logged_steps(os.path.join(log_dir, "netviz")).items():
            group = group_of.get(tag.split(".", 1)[0], tag.split(".", 1)[0])
            for step, seconds in logged.items():
                at = recorded.setdefault(group, {})
                at[step] = at.get(step, 0.0) + (seconds or 0.0)
        result.update(
            hook_s=netviz.hook_seconds,
            hook_share=netviz.hook_seconds / result["fit_s"],
            log_s={g: sum(c["seconds"] for c in v) for g, v in sorted(calls.items())},
            recorded_s={g: round(sum(v.values()), 4) for g, v in recorded.items()},
            ran_at={g: sorted(v) for g, v in recorded.items()},
            layers=list(netviz.layers),
            deferred=netviz.deferred,
            failures=[str(f) for f in netviz.failures],
        )
    shutil.rmtree(log_dir, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=1200)
    parser.add_argument("--warmup", type=int, default=1, choices=(0, 1))
    parser.add_argument(
        "--ascent-steps", type=int, default=None, help="default: the preset's"
    )
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "oneline.json"))
    smoke = {"pairs": 1, "epochs": 1, "samples": 64, "warmup": 0, "ascent_steps": 4}
    args = common.parse_args(parser, smoke)

    import keras

    from tb_netviz.demo import make_data, make_model

    x, y = make_data(args.samples)
    keras.utils.set_random_seed(0)
    data = (x, y, make_model().get_weights())

    tmp = tempfile.mkdtemp(prefix="netviz-bench-oneline-")
    pairs = []
    try:
        if args.warmup:
            print("warm-up: one 1-epoch fit of each", flush=True)
            for v in ("tensorboard", "netviz"):
                one_fit(v, data, 1, tmp, args.ascent_steps)
        for i in range(args.pairs):
            order = (
                ("tensorboard", "netviz") if i % 2 == 0 else ("netviz", "tensorboard")
            )
            pair = {
                v: one_fit(v, data, args.epochs, tmp, args.ascent_steps) for v in order
            }
            pairs.append(pair)
            nv, tb = pair["netviz"], pair["tensorboard"]
            print(
                f"pair {i + 1}/{args.pairs} ({' then '.join(order)}): tensorboard "
                f"{tb['fit_s']:.1f}s, netviz {nv['fit_s']:.1f}s "
                f"({nv['fit_s'] / tb['fit_s']:.3f}x), hooks {nv['hook_s']:.2f}s "
                f"({100 * nv['hook_share']:.1f}%); per group "
                + ", ".join(f"{g} {s:.2f}s" for g, s in nv["log_s"].items()),
                flush=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    nvs = [p["netviz"] for p in pairs]
    ratios = [p["netviz"]["fit_s"] / p["tensorboard"]["fit_s"] for p in pairs]
    groups = sorted({g for nv in nvs for g in nv["log_s"]})
    summary = {
        "ratio_median": common.median(ratios),
        "ratios": ratios,
        "cpu_ratio_median": common.median(
            [p["netviz"]["fit_cpu_s"] / p["tensorboard"]["fit_cpu_s"] for p in pairs]
        ),
        "tensorboard_fit_s_median": common.median(
            [p["tensorboard"]["fit_s"] for p in pairs]
        ),
        "netviz_fit_s_median": common.median([nv["fit_s"] for nv in nvs]),
        "hook_s_median": common.median([nv["hook_s"] for nv in nvs]),
        "hook_share_median": common.median([nv["hook_share"] for nv in nvs]),
        "log_s_median": {
            g: common.median([nv["log_s"].get(g, 0.0) for nv in nvs]) for g in groups
        },
        "recorded_s_median": {
            g: common.median([nv["recorded_s"].get(g, 0.0) for nv in nvs])
            for g in sorted({g for nv in nvs for g in nv["recorded_s"]})
        },
    }
    met = summary["hook_share_median"] <= HOOK_SHARE_MAX
    print(
        f"\n{args.pairs} pairs, {args.samples} samples, {args.epochs} epochs, "
        f"layers {nvs[0]['layers']}"
    )
    print(
        common.table(
            ["group", "log s (timed)", "recorded s (step JSON)", "ran at"],
            [
                [
                    g,
                    f"{summary['log_s_median'].get(g, 0.0):.3f}",
                    f"{summary['recorded_s_median'].get(g, 0.0):.3f}",
                    ",".join(map(str, nvs[0]["ran_at"].get(g, []))) or "-",
                ]
                for g in groups
            ],
        )
    )
    print(
        f"median ratio fit(netviz)/fit(tensorboard) {summary['ratio_median']:.3f}x; "
        f"hook share {100 * summary['hook_share_median']:.1f}% "
        f"(<= {100 * HOOK_SHARE_MAX:.0f}%): {'met' if met else 'MISSED'}"
    )
    common.write_json(
        args.out,
        {
            "benchmark": "oneline",
            "smoke": args.smoke,
            "setting": {
                "model": "tb_netviz.demo.make_model (conv16-pool-conv32-pool-dense32-4)",
                "data": "tb_netviz.demo.make_data",
                "samples": args.samples,
                "batch": BATCH,
                "epochs": args.epochs,
                "pairs": args.pairs,
                "warmup": args.warmup,
                "ascent_steps": args.ascent_steps,
                "netviz": "NetVizCallback(log_dir, probe=x[:8]) with all its defaults, "
                "beside keras.callbacks.TensorBoard(log_dir)",
                "baseline": "keras.callbacks.TensorBoard(log_dir) defaults",
            },
            "summary": summary,
            "target": {
                "hook_share_max": HOOK_SHARE_MAX,
                "hook_share": summary["hook_share_median"],
                "met": met,
            },
            "pairs": pairs,
            "environment": common.environment(),
        },
    )
    return 0 if met or args.smoke else 1


if __name__ == "__main__":
    raise SystemExit(main())
