"""Training overhead of `NetVizCallback` (activations only), beside Keras's TensorBoard.

Setting (issue 2): the small CNN of `fits.py` (Conv32-Pool-Conv64-Pool-Dense10)
on 2000 synthetic 32x32x3 samples, batch 32, 3 epochs.

- `none`: `fit` with no callbacks (Keras still adds its `History`);
- `netviz`: `fit` with `NetVizCallback(log_dir, probe=x[:8], ascent=None,
  deconv=None, sanity=None, units=None)`: layers chosen by it, 8 probe
  inputs, activations every epoch and nothing else but the model map and the
  probe (once), which is what the defaults were before 0.3;
- `tensorboard`: `fit` with `keras.callbacks.TensorBoard(histogram_freq=1,
  write_images=True)`.

One warm-up fit of each variant, then `--rounds` rounds; each round runs every
variant once, in an order rotated from round to round. Figures: the median of
the per-round ratios `fit(variant) / fit(none)`, and the time inside the
callback's own hooks as a share of the `none` fit of the same round, in wall
and in process CPU time. For ascent and deconvolution every epoch under the
overhead budget, see `bench_budget.py`; for the one-line callback with all
its 0.3 defaults, see `bench_oneline.py`.

Usage:
    python benchmarks/bench_callback.py [--rounds 5] [--epochs 3]
        [--samples 2000] [--out benchmarks/results/callback.json] [--smoke]

Targets: NetViz hook share <= 5% and median ratio <= 1.05.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

import common
import fits

VARIANTS = ("none", "netviz", "tensorboard")


def callbacks(variant: str, log_dir: str, probe) -> list:
    import keras

    import tb_netviz

    if variant == "netviz":
        return [
            tb_netviz.NetVizCallback(
                log_dir, probe=probe, ascent=None, deconv=None, units=None, sanity=None
            )
        ]
    if variant == "tensorboard":
        return [
            keras.callbacks.TensorBoard(log_dir, histogram_freq=1, write_images=True)
        ]
    return []


def one_fit(variant, x, y, probe, weights, epochs, tmp) -> dict:
    log_dir = tempfile.mkdtemp(dir=tmp, prefix=f"{variant}-")
    cbs = callbacks(variant, log_dir, probe)
    result = {"variant": variant, **fits.fit(weights, x, y, epochs, cbs)}
    if variant == "netviz":
        result["netviz_hook_seconds"] = cbs[0].hook_seconds
        result["netviz_failures"] = len(cbs[0].failures)
    shutil.rmtree(log_dir, ignore_errors=True)
    return result


def summarize(rounds: list[dict]) -> dict:
    summary = {}
    for variant in VARIANTS:
        get = lambda key, v=variant: [r[v][key] for r in rounds]  # noqa: E731
        entry = {
            "fit_s": get("fit_s"),
            "fit_s_median": common.median(get("fit_s")),
            "fit_cpu_s_median": common.median(get("fit_cpu_s")),
        }
        if variant != "none":
            base, base_cpu = (
                [r["none"]["fit_s"] for r in rounds],
                [r["none"]["fit_cpu_s"] for r in rounds],
            )
            ratio = lambda a, b: [p / q for p, q in zip(a, b)]  # noqa: E731
            entry.update(
                ratios=ratio(get("fit_s"), base),
                ratio_median=common.median(ratio(get("fit_s"), base)),
                cpu_ratio_median=common.median(ratio(get("fit_cpu_s"), base_cpu)),
                hook_s_median=common.median(get("hook_s")),
                hook_share_median=common.median(ratio(get("hook_s"), base)),
                hook_cpu_share_median=common.median(ratio(get("hook_cpu_s"), base_cpu)),
            )
        summary[variant] = entry
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "callback.json"))
    args = common.parse_args(parser, {"rounds": 1, "epochs": 1, "samples": 128})
    x, y, probe, weights = fits.data(args.samples)

    tmp = tempfile.mkdtemp(prefix="netviz-bench-callback-")
    try:
        print(f"warm-up: one fit of each of {', '.join(VARIANTS)}")
        for v in VARIANTS:
            one_fit(v, x, y, probe, weights, 1, tmp)
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
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    summary = summarize(rounds)
    rows = [
        [
            "none",
            f"{summary['none']['fit_s_median']:.2f}",
            "1",
            "-",
            "-",
            f"{summary['none']['fit_cpu_s_median']:.1f}",
            "1",
            "-",
        ]
    ]
    for variant in VARIANTS[1:]:
        s = summary[variant]
        rows.append(
            [
                variant,
                f"{s['fit_s_median']:.2f}",
                f"{s['ratio_median']:.3f}x",
                f"{s['hook_s_median']:.3f}",
                f"{100 * s['hook_share_median']:.1f}%",
                f"{s['fit_cpu_s_median']:.1f}",
                f"{s['cpu_ratio_median']:.3f}x",
                f"{100 * s['hook_cpu_share_median']:.1f}%",
            ]
        )
    print(f"\n{args.rounds} rounds, {args.samples} samples, {args.epochs} epochs")
    headers = ["variant", "fit s", "ratio", "hooks s", "hook share", "fit cpu s"]
    print(common.table([*headers, "cpu ratio", "hook cpu share"], rows))
    nv = summary["netviz"]
    targets = {
        "hook_share_max": 0.05,
        "ratio_max": 1.05,
        "hook_share_met": nv["hook_share_median"] <= 0.05,
        "ratio_met": nv["ratio_median"] <= 1.05,
    }
    print(
        f"NetViz: hook share {100 * nv['hook_share_median']:.1f}% (<= 5%): "
        f"{'met' if targets['hook_share_met'] else 'MISSED'}; median ratio "
        f"{nv['ratio_median']:.3f}x (<= 1.05x): "
        f"{'met' if targets['ratio_met'] else 'MISSED'}"
    )
    common.write_json(
        args.out,
        {
            "benchmark": "callback",
            "smoke": args.smoke,
            "setting": {
                "model": "Conv32-Pool-Conv64-Pool-Dense10, same padding",
                "samples": args.samples,
                "batch": fits.BATCH,
                "epochs": args.epochs,
                "rounds": args.rounds,
                "netviz": "NetVizCallback(log_dir, probe=x[:8], ascent=None, "
                "deconv=None, sanity=None, units=None): activations only",
                "tensorboard": {"histogram_freq": 1, "write_images": True},
            },
            "summary": summary,
            "targets": targets,
            "rounds": rounds,
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    main()
