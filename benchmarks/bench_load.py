"""Load test: a real `tensorboard` under bounded concurrent NetViz requests.

Setting (issues 5 and 8): a generated logdir of 100 runs x 5 layers x 500
steps of NetViz activations in format version 2, written with
`writer.write_record` (each record: the step JSON of
`pictures.activations.record` on a (2, 4, 4, 4) array, and its two PNG grids).
One template run is written and copied; the logdir is cached under `--cache`
(keyed by its size and the format version) and reused by later runs.

For each `--load_fast` mode it starts `tensorboard --logdir X --host 127.0.0.1
--port FREE --load_fast=M` (no `--samples_per_plugin`: NetViz's default keeps
1000 steps per series) in its own process group, waits until `runs` lists every
run with every layer at its last step, checks that `steps` returns all 500
steps, sends a short warm-up, primes the plugin's caches (`--prime`: one image
of every run/layer), then runs `--phases` equal load phases: `--threads`
clients, each with its own keep-alive connection, for `--duration` seconds,
each sending GETs drawn with the `--mix` weights from

- `runs`: `data/plugin/netviz/runs` (the whole listing);
- `steps`: `steps?run&tag` for a random run and layer (500 steps of JSON);
- `image`: `image?run&tag&step&sample` for a random run, layer, step, sample.

An error is any exception, a status other than 200, a wrong content type or
an unexpected body. Memory: RSS (summed over tensorboard and the Rust data
server) after loading, before the phases and after each; peak RSS and VmHWM.

Usage:
    python benchmarks/bench_load.py [--runs 100] [--layers 5] [--steps 500]
        [--threads 8] [--duration 30] [--phases 2] [--modes false,true]
        [--mix runs=1,steps=4,image=15] [--cache /tmp/netviz-load] [--settle 2]
        [--out benchmarks/results/load.json] [--smoke]

Targets: `steps` p99 <= 500 ms on both loaders, 0 errors. Exits 1 if missed
(with `--smoke`, only for errors or lost steps).
The clients share the machine's CPUs with the server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import logdirs
import tbserver
from httpload import PROBES, ROUTES, clients, parse_mix, path_for, random_requests

SIZE, CHANNELS = 4, 4
STEPS_P99_LIMIT_MS = 500.0


def run_mode(logdir: str, load_fast: str, args, weights: dict, tmp: str) -> dict:
    log_path = os.path.join(tmp, f"tensorboard-load_fast={load_fast}.log")
    with tbserver.TensorBoard(logdir, load_fast, log_path) as tb:
        try:
            return _run_mode(tb, args, weights, load_fast)
        except Exception as e:
            print(f"load_fast={load_fast}: FAILED: {e}")
            return {"ok": False, "error": str(e), "log_tail": tb.log_tail(40)}


def _run_mode(tb, args, weights: dict, load_fast: str) -> dict:
    loaded = tbserver.activations_loaded(args.runs, args.layers, args.steps)
    load_s = tb.wait(loaded, args.load_timeout, every=1.0)
    print(f"load_fast={load_fast}: {args.runs} runs loaded in {load_s:.1f}s")
    time.sleep(args.settle)
    after_load = tb.memory()
    kept = len(tb.get_json(path_for("steps", args.runs - 1, 0))["steps"])
    warm = clients(
        tb,
        args.threads,
        random_requests(args, weights, 99),
        time.monotonic() + args.warmup,
    )
    primed = {"requests": 0, "errors": 0}
    if args.prime:  # one image of every run/layer fills the bounded caches
        todo = iter(
            ("image", path_for("image", r, layer))
            for r in range(args.runs)
            for layer in range(args.layers)
        )
        primed = clients(tb, args.threads, lambda _rng: next(todo, None))
    time.sleep(args.settle)
    result = {
        "ok": True,
        "load_s": load_s,
        "steps_kept": kept,
        "rss_after_load_mb": after_load["rss_mb"],
        "rss_after_load_by_process_mb": after_load["rss_by_process_mb"],
        "warmup": {"requests": warm["requests"], "errors": warm["errors"]},
        "prime": {"requests": primed["requests"], "errors": primed["errors"]},
        "rss_before_phases_mb": tb.memory()["rss_mb"],
        "phases": [],
    }
    for n in range(args.phases):
        deadline = time.monotonic() + args.duration
        phase = clients(tb, args.threads, random_requests(args, weights, n), deadline)
        time.sleep(args.settle)  # let the last responses and collections settle
        phase["rss_after_mb"] = tb.memory()["rss_mb"]
        result["phases"].append(phase)
        print(
            f"load_fast={load_fast} phase {n + 1}: {phase['per_s']:.1f} req/s, "
            f"steps p99 {phase['routes']['steps']['p99_ms']:.0f} ms, "
            f"{phase['errors']} errors, RSS {phase['rss_after_mb']:.0f} MiB"
        )
    result["peak_rss_mb"] = tb.peak_rss_mb
    result["peak_hwm_mb"] = max(tb.peak_hwm_mb, tb.memory()["hwm_mb"])
    first, last = result["phases"][0], result["phases"][-1]
    result["rss_growth_mb"] = last["rss_after_mb"] - first["rss_after_mb"]
    return result


def report(modes: dict, args) -> tuple[str, dict]:
    """The table (per mode and phase, each route's rate and latency) and targets."""
    rows, targets = [], {}
    for mode, result in modes.items():
        if not result["ok"]:
            rows.append([mode, "FAILED", *[""] * 7])
            targets[mode] = {"met": False}
            continue
        for n, phase in enumerate(result["phases"], 1):
            for route in ROUTES:
                r = phase["routes"][route]
                ms = [f"{r[k]:.1f}" for k in ("per_s", "p50_ms", "p99_ms")]
                rows.append([mode, n, route, r["requests"], *ms, "", ""])
            rss = f"{phase['rss_after_mb']:.0f}"
            rate = f"{phase['per_s']:.1f}"
            rows.append([mode, n, "all", phase["requests"], rate, "", ""])
            rows[-1] += [phase["errors"], rss]
        errors = sum(p["errors"] for p in result["phases"])
        errors += result["warmup"]["errors"] + result["prime"]["errors"]
        p99 = max(p["routes"]["steps"]["p99_ms"] for p in result["phases"])
        targets[mode] = {
            "steps_p99_ms": p99,
            "limit_ms": STEPS_P99_LIMIT_MS,
            "errors": errors,
            "steps_kept": result["steps_kept"],
            "met": p99 <= STEPS_P99_LIMIT_MS
            and errors == 0
            and result["steps_kept"] == args.steps,
        }
    headers = ["mode", "phase", "route", "requests", "req/s", "p50 ms", "p99 ms"]
    return common.table([*headers, "errors", "RSS after MiB"], rows), targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds a phase")
    parser.add_argument("--phases", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds")
    parser.add_argument("--prime", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--mix", default="runs=1,steps=4,image=15")
    parser.add_argument("--modes", default="false,true", help="--load_fast values")
    parser.add_argument("--load_timeout", type=float, default=900.0)
    parser.add_argument("--cache", default=logdirs.DEFAULT_CACHE)
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds waited before RSS reads"
    )
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "load.json"))
    smoke = {"runs": 1, "layers": 1, "steps": 5, "threads": 1, "duration": 1.0}
    smoke.update(phases=1, warmup=0.5, mix="runs=1,steps=1,image=1", settle=0.2)
    args = common.parse_args(parser, smoke)
    weights = parse_mix(args.mix)

    # A SIGTERM must still run the `finally` blocks that stop TensorBoard.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logdir, gen = logdirs.cached_load_test(
        args.cache, args.runs, args.layers, args.steps, (PROBES, SIZE, SIZE, CHANNELS)
    )
    print(
        f"logdir {logdir}: {args.runs} runs x {args.layers} layers x {args.steps} "
        f"steps, {gen['bytes'] / 2**20:.0f} MiB, "
        + ("cached" if gen["cached"] else f"written in {gen['write_s']:.0f}s")
    )
    tmp = tempfile.mkdtemp(prefix="netviz-load-")
    try:
        modes = {
            f"load_fast={m}": run_mode(logdir, m, args, weights, tmp)
            for m in args.modes.split(",")
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    text, targets = report(modes, args)
    print(f"\n{args.threads} clients x {args.duration:.0f}s a phase, mix {args.mix}")
    print(text)
    for mode, t in targets.items():
        if "steps_p99_ms" not in t:
            print(f"{mode}: FAILED")
            continue
        r = modes[mode]
        print(
            f"{mode}: steps p99 {t['steps_p99_ms']:.0f} ms (target <= "
            f"{STEPS_P99_LIMIT_MS:.0f}), {t['errors']} errors, {t['steps_kept']} of "
            f"{args.steps} steps kept: {'met' if t['met'] else 'MISSED'}; loaded in "
            f"{r['load_s']:.0f}s, RSS after load {r['rss_after_load_mb']:.0f} MiB, "
            f"peak {r['peak_rss_mb']:.0f} MiB, phase 1 -> {len(r['phases'])}: "
            f"{r['rss_growth_mb']:+.1f} MiB"
        )
    common.write_json(
        args.out,
        {
            "benchmark": "load",
            "smoke": args.smoke,
            "setting": {
                **{k: getattr(args, k) for k in ("runs", "layers", "steps", "threads")},
                "probes": PROBES,
                "activation_shape": [SIZE, SIZE, CHANNELS],
                "phase_s": args.duration,
                "phases": args.phases,
                "warmup_s": args.warmup,
                "prime": args.prime,
                "settle_s": args.settle,
                "mix": weights,
                "samples_per_plugin": None,
                "connections": "one keep-alive HTTP/1.1 connection per client thread",
            },
            "generate": gen,
            "modes": modes,
            "targets": targets,
            "environment": common.environment(),
        },
    )
    if args.smoke:  # latency is not judged; errors and lost steps still are
        correct = all(
            t.get("errors") == 0 and t.get("steps_kept") == args.steps
            for t in targets.values()
        )
        return 0 if correct else 1
    return 0 if all(t["met"] for t in targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
