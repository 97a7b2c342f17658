"""Latency of the NetViz routes in a real `tensorboard` with no other load.

Setting (issues 2 and 8): a generated logdir of `--runs` runs x 3 layers x
`--steps` steps of NetViz activations in format version 2 (4 probe inputs of
8x8x16 each; `pictures.activations.record` -> `writer.encode_png` ->
`writer.write_record` into `run_NN/netviz`), and the same grids written with
`tf.summary.image` under the same tags into the sibling run `run_NN/images`,
for TensorBoard's own images plugin. One template run is written and copied.

For each `--load_fast` mode it starts `tensorboard --logdir X --host
127.0.0.1 --port FREE --load_fast=M`, with no `--samples_per_plugin` (NetViz's
loader keeps 1000 steps per series by default; the images plugin keeps its
default 10), waits until every run lists every tag at its last step, then
times sequential GETs, each on a new connection with `Accept-Encoding: gzip`:

- `netviz runs` / `images tags`: the listings;
- `netviz steps first`: `steps?run&tag`, the first request for each of
  `--tags_viewed` (run, layer) pairs (one `read_tensors` of all steps; the
  target (issue 20): <= 50 ms p50 for a 500-step tag on both loaders);
  `netviz steps`: the same again (served from the plugin's cache, gzipped,
  while the series is unchanged);
- `images list`: the images plugin's `images?run&tag&sample` (its step list);
- `netviz image` / `images image`: one PNG at random steps and samples.

Usage:
    python benchmarks/bench_backend.py [--runs 20] [--steps 500]
        [--requests 100] [--modes false,true] [--out benchmarks/results/backend.json]
        [--smoke]

Exits 1 if a mode failed or lost steps, or if the latency target was missed
(not with `--smoke`).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import urllib.parse

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import logdirs
import tbserver

LAYERS = ("conv1", "conv2", "conv3")
PROBES, SIZE, CHANNELS = 4, 8, 16
STEPS_LIMIT_MS = 50.0


def timed(tb: tbserver.TensorBoard, paths: list[str], warmup: int) -> dict:
    """Times sequential GETs of `paths` after `warmup` untimed ones."""
    for path in paths[:warmup]:
        tb.get(path, gzip_ok=True)
    ms, sizes = [], []
    for path in paths[warmup:]:
        seconds, status, body, _ = tb.get(path, gzip_ok=True)
        if status != 200:
            raise RuntimeError(f"{path}: status {status}: {body[:200]!r}")
        ms.append(1000 * seconds)
        sizes.append(len(body))
    return {
        "n": len(ms),
        "p50_ms": common.percentile(ms, 50),
        "p95_ms": common.percentile(ms, 95),
        "max_ms": max(ms),
        "mean_bytes": sum(sizes) / len(sizes),
    }


def url(route: str, **query) -> str:
    return f"data/plugin/{route}?{urllib.parse.urlencode(query)}"


def measure(tb: tbserver.TensorBoard, args) -> dict:
    """Times the routes the way the panels use them (see the module docstring)."""
    rng = random.Random(0)
    pairs: list[tuple[str, str]] = []
    while len(pairs) < min(args.tags_viewed, args.runs * len(LAYERS)):
        pair = (
            f"run_{rng.randrange(args.runs):02d}",
            f"activations/{rng.choice(LAYERS)}",
        )
        if pair not in pairs:
            pairs.append(pair)
    n, warm = args.requests, args.warmup
    result = {
        "netviz runs": timed(tb, ["data/plugin/netviz/runs"] * (n + warm), warm),
        "images tags": timed(tb, ["data/plugin/images/tags"] * (n + warm), warm),
    }
    steps = [url("netviz/steps", run=f"{r}/netviz", tag=t) for r, t in pairs]
    result["netviz steps first"] = timed(tb, steps, 0)
    kept = {len(tb.get_json(p)["steps"]) for p in steps}
    result["netviz steps kept"] = sorted(kept)
    result["netviz steps"] = timed(tb, steps * 3, 0)
    lists = [
        url("images/images", run=f"{r}/images", tag=t, sample=s)
        for r, t in pairs
        for s in range(PROBES)
    ]
    result["images list"] = timed(tb, lists, 0)
    keys = {}  # the images plugin keeps 10 steps per tag by default
    for run, tag in pairs:
        for sample in range(PROBES):
            path = url("images/images", run=f"{run}/images", tag=tag, sample=sample)
            for e in tb.get_json(path):
                keys[run, tag, e["step"], sample] = e["query"]
    result["images steps kept"] = len(keys) // max(len(pairs) * PROBES, 1)
    picks = [
        (*rng.choice(pairs), rng.randrange(args.steps), rng.randrange(PROBES))
        for _ in range(n + warm)
    ]
    ours = [
        url("netviz/image", run=f"{r}/netviz", tag=t, step=s, sample=p)
        for r, t, s, p in picks
    ]
    result["netviz image"] = timed(tb, ours, warm)
    theirs = [f"data/plugin/images/individualImage?{q}" for q in keys.values()]
    theirs = [theirs[i % len(theirs)] for i in range(n + warm)]
    result["images image"] = timed(tb, theirs, warm)
    same = [
        tb.get(url("netviz/image", run=f"{r}/netviz", tag=t, step=s, sample=p))[2]
        == tb.get(f"data/plugin/images/individualImage?{q}")[2]
        for (r, t, s, p), q in list(keys.items())[:10]
    ]
    result["same_png_bytes"] = all(same)
    return result


def run_mode(logdir: str, load_fast: str, args, tmp: str) -> dict:
    log_path = os.path.join(tmp, f"tensorboard-load_fast={load_fast}.log")
    with tbserver.TensorBoard(logdir, load_fast, log_path) as tb:
        try:
            loaded = tbserver.activations_loaded(args.runs, len(LAYERS), args.steps)
            load_s = tb.wait(loaded, 600)
            print(f"load_fast={load_fast}: {args.runs} runs loaded in {load_s:.1f}s")
            memory = tb.memory()
            result = {"ok": True, "load_s": load_s, "rss_after_load_mb": memory}
            result.update(measure(tb, args))
            result["peak_rss_mb"] = tb.peak_rss_mb
            return result
        except Exception as e:
            print(f"load_fast={load_fast}: FAILED: {e}")
            return {"ok": False, "error": str(e), "log_tail": tb.log_tail(40)}


ROWS = (
    ("netviz runs", "images tags"),
    ("netviz image", "images image"),
    ("netviz steps first", "images list"),
    ("netviz steps", "images list"),
)


def report(modes: dict, steps: int) -> tuple[str, dict]:
    rows, targets = [], {}
    for mode, r in modes.items():
        if not r["ok"]:
            rows.append([mode, "FAILED", "", "", "", "", ""])
            continue
        for ours, theirs in ROWS:
            a, b = r[ours], r[theirs]
            rows.append([mode, ours, f"{a['p50_ms']:.1f}", f"{a['max_ms']:.1f}"])
            rows[-1] += [theirs, f"{b['p50_ms']:.1f}", f"{b['max_ms']:.1f}"]
        first = r["netviz steps first"]
        targets[mode] = {
            "first_steps_p50_ms": first["p50_ms"],
            "first_steps_max_ms": first["max_ms"],
            "limit_ms": STEPS_LIMIT_MS,
            "steps_kept": r["netviz steps kept"],
            "all_steps_kept": r["netviz steps kept"] == [steps],
            "met": first["p50_ms"] <= STEPS_LIMIT_MS
            and r["netviz steps kept"] == [steps],
        }
    headers = ["mode", "netviz", "p50 ms", "max ms", "images plugin", "p50 ms"]
    return common.table([*headers, "max ms"], rows), targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--tags_viewed", type=int, default=12)
    parser.add_argument("--modes", default="false,true", help="--load_fast values")
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "backend.json"))
    smoke = {"runs": 1, "steps": 5, "requests": 2, "warmup": 1, "tags_viewed": 1}
    args = common.parse_args(parser, smoke)

    # A SIGTERM must still run the `finally` blocks that stop TensorBoard.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="netviz-bench-backend-")
    logdir = os.path.join(tmp, "logs")
    try:
        shape = (PROBES, SIZE, SIZE, CHANNELS)
        gen = logdirs.backend(logdir, args.runs, LAYERS, args.steps, shape)
        print(
            f"logdir: {args.runs} runs x {len(LAYERS)} layers x {args.steps} steps, "
            f"{gen['bytes'] / 2**20:.1f} MiB, written in {gen['total_s']:.1f}s"
        )
        modes = {
            f"load_fast={m}": run_mode(logdir, m, args, tmp)
            for m in args.modes.split(",")
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    text, targets = report(modes, args.steps)
    print(
        f"\n{args.requests} sequential requests per route after {args.warmup} warm-up"
    )
    print(text)
    for mode, t in targets.items():
        print(
            f"{mode}: first `steps` of a {args.steps}-step tag p50 "
            f"{t['first_steps_p50_ms']:.1f} ms, max {t['first_steps_max_ms']:.1f} ms "
            f"(target <= {STEPS_LIMIT_MS:.0f} ms), steps kept {t['steps_kept']} "
            f"with no --samples_per_plugin: {'met' if t['met'] else 'MISSED'}"
        )
    common.write_json(
        args.out,
        {
            "benchmark": "backend",
            "smoke": args.smoke,
            "setting": {
                "runs": args.runs,
                "layers": list(LAYERS),
                "steps": args.steps,
                "probes": PROBES,
                "activation_shape": [SIZE, SIZE, CHANNELS],
                "requests": args.requests,
                "warmup": args.warmup,
                "tags_viewed": args.tags_viewed,
                "samples_per_plugin": None,
            },
            "generate": gen,
            "modes": modes,
            "targets": targets,
            "environment": common.environment(),
        },
    )
    ok = all(r["ok"] for r in modes.values())
    met = all(t["met"] for t in targets.values())
    kept = all(t["all_steps_kept"] for t in targets.values())
    return 0 if ok and (met or (args.smoke and kept)) else 1


if __name__ == "__main__":
    sys.exit(main())
