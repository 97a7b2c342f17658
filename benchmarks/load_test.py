"""Load test: a real `tensorboard` under bounded concurrent NetViz requests.

Setting (issue 5): a generated logdir of 100 runs x 5 layers x 500 steps of
NetViz activations, written with `tf.summary.write` under the plugin's own
metadata (`metadata.create_summary_metadata`). Every value is the same small
one, made once per layer: element 0 is a step JSON packed by
`grid.pack_activations` from a (2, 4, 4, 4) array and encoded with
`metadata.encode_step_info`, elements 1..2 are its two PNG grids. The logdir is
cached under `--cache` (keyed by its size) and reused by later runs.

For each `--load_fast` mode it starts `tensorboard --logdir X --host 127.0.0.1
--port FREE --samples_per_plugin netviz=0` in its own process group, waits
until `runs` lists every run with every layer at its last step, sends a short
warm-up, then runs `--phases` equal load phases: `--threads` client threads,
each with its own keep-alive HTTP connection, for `--duration` seconds, each
sending GETs drawn with the `--mix` weights from

- `runs`: `data/plugin/netviz/runs` (the whole listing);
- `steps`: `steps?run&tag` for a random run and layer (500 steps of JSON);
- `image`: `image?run&tag&step&sample` for a random run, layer, step, sample.

An error is any exception, a status other than 200, a wrong content type or
an unexpected body. Requests/s counts every request of a phase over its wall
time, the tail of requests still in flight at the deadline included.

Memory: a sampler thread reads VmRSS and VmHWM from /proc/<pid>/status of the
tensorboard process and all its descendants (the Rust data server with
`--load_fast=true`) every 0.25 s, for the peak. The RSS is also read after
loading; after a 5 s warm-up and priming (`--prime`: one image of every
run/layer, which fills the plugin's bounded per-series cache, so that cache
filling is not mistaken for growth); and 2 s after each phase. Equal phases
with equal RSS show that memory does not grow with the number of requests.

Usage:
    python benchmarks/load_test.py [--runs 100] [--layers 5] [--steps 500]
        [--threads 8] [--duration 30] [--phases 2] [--modes false,true]
        [--mix runs=1,steps=4,image=15] [--cache /tmp/netviz-load]
        [--out benchmarks/results/load.json]

Exits 1 if a mode fails to start or load, or any request is an error. The
client threads share the machine's CPUs with the server, so requests/s is a
floor for what the server alone could do.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.parse

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common

PROBES, SIZE, CHANNELS = 2, 4, 4
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CONTENT_TYPES = {"runs": "application/json", "steps": "application/json"}
CONTENT_TYPES["image"] = "image/png"
ROUTES = ("runs", "steps", "image")


# Log directory -------------------------------------------------------------------


def generate(logdir: str, runs: int, layers: int, steps: int) -> float:
    """Writes `runs` runs of `layers` tags x `steps` steps; returns seconds."""
    import numpy as np
    import tensorflow as tf

    from tb_netviz import grid, metadata

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    values = []
    for i in range(layers):
        layer = f"layer{i}"
        acts = rng.standard_normal((PROBES, SIZE, SIZE, CHANNELS)).astype(np.float32)
        info, grids = grid.pack_activations(acts)
        step_json = metadata.encode_step_info(
            {"version": metadata.VERSION, "kind": "activations", "layer": layer, **info}
        )
        pngs = [tf.io.encode_png(g[..., None]).numpy() for g in grids]
        values.append(
            (
                metadata.make_tag("activations", layer),
                tf.constant([step_json, *pngs]),
                metadata.create_summary_metadata("activations", layer),
            )
        )
    for r in range(runs):
        writer = tf.summary.create_file_writer(
            os.path.join(logdir, f"run_{r:03d}", "netviz")
        )
        with writer.as_default():
            for step in range(steps):
                for tag, value, md in values:
                    tf.summary.write(tag, value, step=step, metadata=md)
        writer.close()
    return time.perf_counter() - start


def cached_logdir(cache: str, runs: int, layers: int, steps: int) -> tuple[str, dict]:
    """The logdir for this size under `cache`, generated (atomically) if missing."""
    folder = os.path.join(cache, f"{runs}x{layers}x{steps}-v1")
    logdir = os.path.join(folder, "logs")
    info_path = os.path.join(folder, "generated.json")
    if os.path.exists(info_path):
        with open(info_path, encoding="utf-8") as f:
            return logdir, {**json.load(f), "cached": True}
    os.makedirs(cache, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="partial-", dir=cache)
    try:
        seconds = generate(os.path.join(scratch, "logs"), runs, layers, steps)
        size = sum(
            os.path.getsize(os.path.join(d, f))
            for d, _, files in os.walk(scratch)
            for f in files
        )
        info = {"write_s": seconds, "bytes": size}
        with open(os.path.join(scratch, "generated.json"), "w", encoding="utf-8") as f:
            json.dump(info, f)
        shutil.rmtree(folder, ignore_errors=True)
        os.rename(scratch, folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return logdir, {**info, "cached": False}


# TensorBoard process and its memory -------------------------------------------------


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def memory_mb(pid: int) -> dict:
    """VmRSS and VmHWM (MiB) of `pid` and its descendants: summed, and each one's RSS."""
    total = {"rss_mb": 0.0, "hwm_mb": 0.0, "rss_by_process_mb": {}}
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status", encoding="utf-8") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        total["rss_mb"] += rss
        total["hwm_mb"] += int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
        total["rss_by_process_mb"][f"{fields['Name'].strip()}[{p}]"] = rss
    return total


class TensorBoard:
    """A `tensorboard` subprocess in its own process group, always stopped."""

    def __init__(self, logdir: str, load_fast: str, log):
        """`log` is an open binary file for the server's output."""
        self.log_path = log.name
        flags = [f"--load_fast={load_fast}", "--samples_per_plugin", "netviz=0"]
        self.proc, self.port = common.start_tensorboard(logdir, flags, log)
        self.peak_rss_mb = 0.0
        self.peak_hwm_mb = 0.0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            mem = memory_mb(self.proc.pid)
            self.peak_rss_mb = max(self.peak_rss_mb, mem["rss_mb"])
            self.peak_hwm_mb = max(self.peak_hwm_mb, mem["hwm_mb"])

    def stop(self) -> None:
        self._stop.set()
        common.stop_group(self.proc)
        self._sampler.join(timeout=5)

    def log_tail(self, lines: int = 20) -> str:
        return common.log_tail(self.log_path, lines)

    def get(self, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def wait_loaded(tb: TensorBoard, runs: int, layers: int, steps: int, limit: float):
    """Polls `runs` until every run lists every layer at its last step."""
    start = time.perf_counter()
    while True:
        if tb.proc.poll() is not None:
            raise RuntimeError(f"tensorboard exited:\n{tb.log_tail()}")
        if time.perf_counter() - start > limit:
            raise RuntimeError(f"not loaded in {limit:.0f}s:\n{tb.log_tail()}")
        try:
            status, body = tb.get("/data/plugin/netviz/runs")
            listing = json.loads(body)["runs"] if status == 200 else {}
        except (OSError, http.client.HTTPException, ValueError):
            listing = {}
        done = sum(
            1
            for kinds in listing.values()
            if len(kinds.get("activations", {})) == layers
            and all(v["max_step"] == steps - 1 for v in kinds["activations"].values())
        )
        if done == runs:
            return time.perf_counter() - start
        time.sleep(1.0)


# Load ----------------------------------------------------------------------------------


def pick(rng: random.Random, weights: dict, args) -> tuple[str, str]:
    """A random request: `(route, path)`."""
    route = rng.choices(ROUTES, [weights[r] for r in ROUTES])[0]
    if route == "runs":
        return route, "/data/plugin/netviz/runs"
    query = {
        "run": f"run_{rng.randrange(args.runs):03d}/netviz",
        "tag": f"activations/layer{rng.randrange(args.layers)}",
    }
    if route == "image":
        query["step"] = rng.randrange(args.steps)
        query["sample"] = rng.randrange(PROBES)
    return route, f"/data/plugin/netviz/{route}?{urllib.parse.urlencode(query)}"


def check(route: str, status: int, content_type: str | None, body: bytes) -> str | None:
    """Why a response is wrong, or None."""
    if status != 200:
        return f"status {status}: {body[:120]!r}"
    if content_type != CONTENT_TYPES[route]:
        return f"content type {content_type!r}"
    good = body.startswith(PNG_SIGNATURE if route == "image" else b'{"run')
    return None if good else f"body {body[:60]!r}"


def load_phase(tb: TensorBoard, args, weights: dict, seed: int, seconds: float):
    """`--threads` clients for `seconds`; returns per-route latencies and errors."""
    deadline = time.monotonic() + seconds
    latencies = {r: [] for r in ROUTES}
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        conn = http.client.HTTPConnection("127.0.0.1", tb.port, timeout=30)
        mine = {r: [] for r in ROUTES}
        bad = []
        while time.monotonic() < deadline:
            route, path = pick(rng, weights, args)
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                why = check(
                    route, response.status, response.getheader("Content-Type"), body
                )
            except (OSError, http.client.HTTPException) as e:
                why = f"{type(e).__name__}: {e}"
                conn.close()  # reconnects on the next request
            mine[route].append(time.perf_counter() - start)
            if why:
                bad.append(f"{path}: {why}")
        conn.close()
        with lock:
            for r in ROUTES:
                latencies[r] += mine[r]
            errors.extend(bad)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)  # a request times out after 30 s
    wall = time.perf_counter() - start
    total = sum(len(v) for v in latencies.values())
    routes = {}
    for r in ROUTES:
        ms = [1000 * s for s in latencies[r]]
        routes[r] = {
            "requests": len(ms),
            "per_s": len(ms) / wall,
            "p50_ms": common.percentile(ms, 50),
            "p99_ms": common.percentile(ms, 99),
            "max_ms": max(ms, default=float("nan")),
        }
    return {
        "wall_s": wall,
        "requests": total,
        "per_s": total / wall,
        "errors": len(errors),
        "error_examples": errors[:10],
        "routes": routes,
    }


def prime(tb: TensorBoard, args) -> dict:
    """One image of every run/layer, so the plugin's bounded caches are as full
    as this load can make them before the phases compare memory."""
    paths = [
        "/data/plugin/netviz/image?"
        + urllib.parse.urlencode(
            {
                "run": f"run_{r:03d}/netviz",
                "tag": f"activations/layer{layer}",
                "step": 0,
                "sample": 0,
            }
        )
        for r in range(args.runs)
        for layer in range(args.layers)
    ]
    todo = iter(paths)
    lock = threading.Lock()
    errors: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", tb.port, timeout=60)
        while True:
            with lock:
                path = next(todo, None)
            if path is None:
                break
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                why = check(
                    "image", response.status, response.getheader("Content-Type"), body
                )
            except (OSError, http.client.HTTPException) as e:
                why = f"{type(e).__name__}: {e}"
                conn.close()
            if why:
                with lock:
                    errors.append(f"{path}: {why}")
        conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    seconds = time.perf_counter() - start
    print(f"primed {len(paths)} run/layer step lists in {seconds:.1f}s")
    return {"requests": len(paths), "errors": len(errors), "seconds": seconds}


def run_mode(logdir: str, load_fast: str, args, weights: dict, tmp: str) -> dict:
    log_path = os.path.join(tmp, f"tensorboard-load_fast={load_fast}.log")
    with open(log_path, "wb") as log:
        return _run_mode(TensorBoard(logdir, load_fast, log), args, weights, load_fast)


def _run_mode(tb: TensorBoard, args, weights: dict, load_fast: str) -> dict:
    try:
        load_s = wait_loaded(tb, args.runs, args.layers, args.steps, args.load_timeout)
        print(f"load_fast={load_fast}: {args.runs} runs loaded in {load_s:.1f}s")
        time.sleep(2)
        loaded = memory_mb(tb.proc.pid)
        warm = load_phase(tb, args, weights, seed=99, seconds=args.warmup)
        primed = prime(tb, args) if args.prime else {"requests": 0, "errors": 0}
        time.sleep(2)
        ready = memory_mb(tb.proc.pid)
        result = {
            "ok": True,
            "load_s": load_s,
            "rss_after_load_mb": loaded["rss_mb"],
            "rss_after_load_by_process_mb": loaded["rss_by_process_mb"],
            "warmup": {"requests": warm["requests"], "errors": warm["errors"]},
            "prime": primed,
            "rss_before_phases_mb": ready["rss_mb"],
            "rss_before_phases_by_process_mb": ready["rss_by_process_mb"],
            "phases": [],
        }
        served = warm["requests"] + primed["requests"]
        for n in range(args.phases):
            phase = load_phase(tb, args, weights, seed=n, seconds=args.duration)
            time.sleep(2)  # let the last responses and collections settle
            served += phase["requests"]
            mem = memory_mb(tb.proc.pid)
            phase["rss_after_mb"] = mem["rss_mb"]
            phase["rss_after_by_process_mb"] = mem["rss_by_process_mb"]
            phase["requests_served_so_far"] = served
            result["phases"].append(phase)
            print(
                f"load_fast={load_fast} phase {n + 1}: {phase['per_s']:.1f} req/s, "
                f"{phase['errors']} errors, RSS {phase['rss_after_mb']:.0f} MiB"
            )
        mem = memory_mb(tb.proc.pid)
        result["peak_rss_mb"] = tb.peak_rss_mb
        result["peak_hwm_mb"] = max(tb.peak_hwm_mb, mem["hwm_mb"])
        first, last = result["phases"][0], result["phases"][-1]
        result["rss_growth_mb"] = last["rss_after_mb"] - first["rss_after_mb"]
        result["requests_between"] = (
            last["requests_served_so_far"] - first["requests_served_so_far"]
        )
        return result
    except Exception as e:
        print(f"load_fast={load_fast}: FAILED: {e}")
        return {"ok": False, "error": str(e), "log_tail": tb.log_tail(40)}
    finally:
        tb.stop()


# Report ------------------------------------------------------------------------------


def report(modes: dict) -> str:
    """The table: per mode and phase, each route's rate and latency, then totals."""
    rows = []
    for mode, result in modes.items():
        if not result["ok"]:
            rows.append([mode, "FAILED", *[""] * 7])
            continue
        for n, phase in enumerate(result["phases"], 1):
            for route in ROUTES:
                r = phase["routes"][route]
                latency = [f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}"]
                rows.append([mode, n, route, r["requests"], f"{r['per_s']:.1f}"])
                rows[-1] += [*latency, "", ""]
            rss = f"{phase['rss_after_mb']:.0f}"
            rows.append([mode, n, "all", phase["requests"], f"{phase['per_s']:.1f}"])
            rows[-1] += ["", "", phase["errors"], rss]
    headers = ["mode", "phase", "route", "requests", "req/s", "p50 ms", "p99 ms"]
    return common.table([*headers, "errors", "RSS after MiB"], rows)


def parse_mix(text: str) -> dict:
    weights = {r: 0.0 for r in ROUTES}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name not in weights:
            raise SystemExit(f"--mix: unknown route {name!r}; use {', '.join(ROUTES)}")
        weights[name] = float(value)
    return weights


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds a phase")
    parser.add_argument("--phases", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds")
    parser.add_argument(
        "--prime",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="before the phases, request one image of every run/layer",
    )
    parser.add_argument("--mix", default="runs=1,steps=4,image=15")
    parser.add_argument("--modes", default="false,true", help="--load_fast values")
    parser.add_argument("--load_timeout", type=float, default=900.0)
    parser.add_argument(
        "--cache", default=os.path.join(tempfile.gettempdir(), "netviz-load")
    )
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "load.json"))
    args = parser.parse_args()
    weights = parse_mix(args.mix)

    # A SIGTERM must still run the `finally` blocks that stop TensorBoard.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logdir, gen = cached_logdir(args.cache, args.runs, args.layers, args.steps)
    print(
        f"logdir {logdir}: {args.runs} runs x {args.layers} layers x {args.steps} "
        f"steps, {gen['bytes'] / 2**20:.0f} MiB, "
        + ("cached" if gen["cached"] else f"written in {gen['write_s']:.0f}s")
    )
    tmp = tempfile.mkdtemp(prefix="netviz-load-")
    try:
        modes = {}
        for load_fast in args.modes.split(","):
            modes[f"load_fast={load_fast}"] = run_mode(
                logdir, load_fast, args, weights, tmp
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(
        f"{args.threads} client threads x {args.duration:.0f}s per phase, keep-alive, "
        f"mix {args.mix}"
    )
    print(report(modes))
    ok = True
    for mode, result in modes.items():
        if not result["ok"]:
            ok = False
            continue
        errors = sum(p["errors"] for p in result["phases"])
        errors += result["warmup"]["errors"] + result["prime"]["errors"]
        ok &= errors == 0
        print(
            f"{mode}: loaded in {result['load_s']:.0f}s; RSS after load "
            f"{result['rss_after_load_mb']:.0f} MiB, after warm-up and priming "
            f"{result['rss_before_phases_mb']:.0f} MiB, peak "
            f"{result['peak_rss_mb']:.0f} MiB (VmHWM {result['peak_hwm_mb']:.0f} MiB); "
            f"end of phase 1 to end of phase {len(result['phases'])}: "
            f"{result['rss_growth_mb']:+.1f} MiB over {result['requests_between']} "
            f"more requests; errors {errors}"
        )
    common.write_json(
        args.out,
        {
            "benchmark": "load",
            "setting": {
                "runs": args.runs,
                "layers": args.layers,
                "steps": args.steps,
                "probes": PROBES,
                "activation_shape": [SIZE, SIZE, CHANNELS],
                "threads": args.threads,
                "phase_s": args.duration,
                "phases": args.phases,
                "warmup_s": args.warmup,
                "prime": args.prime,
                "mix": weights,
                "samples_per_plugin": "netviz=0",
                "connections": "one keep-alive HTTP/1.1 connection per client thread",
            },
            "generate": gen,
            "modes": modes,
            "environment": common.environment(),
        },
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
