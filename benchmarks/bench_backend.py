"""Latency of the NetViz plugin routes in a real `tensorboard`, beside the images plugin.

Setting (issue 2): a generated logdir of 50 runs x 3 layers x 200 steps of
NetViz activations (4 probe inputs of 8x8x16 each, written with
`summary.activation_arrays` into `run_NN/netviz`), and the same PNG grids
written with `tf.summary.image` under the same tags into the sibling run
`run_NN/images`, for TensorBoard's own images plugin. One template run is
written and copied 50 times (a run's name is its directory, so the copies are
50 distinct runs to TensorBoard).

For each of `--load_fast=false` (Python loader) and `--load_fast=true` (Rust
data server) it starts `tensorboard --logdir X --host 127.0.0.1 --port FREE
--samples_per_plugin netviz=0,images=0`, waits until every run's every tag
shows its last step, then times sequential GETs on 127.0.0.1 (a new
connection each, as `urllib` does, with `Accept-Encoding: gzip` as a browser
sends it, so JSON comes gzipped), after a warm-up:

- `netviz runs`: the listing `data/plugin/netviz/runs`;
- `images tags`: the images plugin's listing `data/plugin/images/tags`;
- `netviz steps cold`: `data/plugin/netviz/steps?run&tag` (200 steps), the
  first request for each of `--tags_viewed` (run, layer) pairs picked at
  random with a fixed seed, as a panel does when a tag is opened (the
  plugin caches the step JSON); `netviz steps`: the same again
  (`--list_requests` requests, cycling over the pairs);
- `images list`: `data/plugin/images/images?run&tag&sample` for the same
  pairs, the images plugin's per-tag step list (this is where its panel
  gets the blob keys; fetched once for every pair and sample before timing);
- `netviz image`: `data/plugin/netviz/image?run&tag&step&sample` at random
  steps and samples of those pairs;
- `images image`: `data/plugin/images/individualImage?blob_key=...` for the
  same sequence.

`--samples_per_plugin images=0` would make the images plugin list no image
at all (it passes the hint on as its `downsample`), so the default is
`images=STEPS`, which keeps every step too.

Usage:
    python benchmarks/bench_backend.py [--runs 50] [--steps 200]
        [--requests 200] [--modes false,true]
        [--out benchmarks/results/backend.json]

Targets: listing p95 <= 50 ms, image p95 <= 10 ms, and no slower than the
images plugin's corresponding route (p95 within 10% of it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common

LAYERS = ("conv1", "conv2", "conv3")
PROBES, SIZE, CHANNELS = 4, 8, 16
LOAD_TIMEOUT_S = 150


# Log directory -------------------------------------------------------------------


def generate(logdir: str, runs: int, steps: int) -> dict:
    """Writes one template run pair and copies it into `runs` run directories."""
    import numpy as np
    import tensorflow as tf

    from tb_netviz import grid, summary

    start = time.perf_counter()
    template = tempfile.mkdtemp(prefix="netviz-bench-template-")
    rng = np.random.default_rng(0)
    try:
        netviz = tf.summary.create_file_writer(os.path.join(template, "netviz"))
        images = tf.summary.create_file_writer(os.path.join(template, "images"))
        for step in range(steps):
            for layer in LAYERS:
                acts = rng.standard_normal((PROBES, SIZE, SIZE, CHANNELS))
                acts = acts.astype(np.float32)
                with netviz.as_default():
                    summary.activation_arrays(layer, acts, step)
                # The same grids as PNGs through TensorBoard's own image summary.
                _, grids = grid.pack_activations(acts)
                with images.as_default():
                    tf.summary.image(
                        f"activations/{layer}",
                        np.asarray(grids)[..., None],
                        step=step,
                        max_outputs=PROBES,
                    )
        netviz.close()
        images.close()
        written = time.perf_counter() - start
        for i in range(runs):
            shutil.copytree(template, os.path.join(logdir, f"run_{i:02d}"))
    finally:
        shutil.rmtree(template, ignore_errors=True)
    size = sum(
        os.path.getsize(os.path.join(d, f))
        for d, _, files in os.walk(logdir)
        for f in files
    )
    return {
        "write_s": written,
        "total_s": time.perf_counter() - start,
        "bytes": size,
    }


# TensorBoard process ---------------------------------------------------------------


class TensorBoard:
    """A `tensorboard` subprocess in its own process group, always stopped on exit."""

    def __init__(self, logdir: str, load_fast: str, samples: str, log_path: str):
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        flags = [f"--load_fast={load_fast}", "--samples_per_plugin", samples]
        self.proc, self.port = common.start_tensorboard(logdir, flags, self._log)
        self.base = f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        common.stop_group(self.proc)
        self._log.close()

    def log_tail(self, lines: int = 15) -> str:
        return common.log_tail(self.log_path, lines)

    def get(self, path: str, timeout: float = 120.0) -> tuple[float, bytes, str]:
        """One GET on a new connection, accepting gzip as browsers do.

        Returns:
          (seconds, body as sent, Content-Encoding or "").
        """
        request = urllib.request.Request(
            self.base + path, headers={"Accept-Encoding": "gzip"}
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            encoding = response.headers.get("Content-Encoding", "")
        return time.perf_counter() - start, body, encoding

    def get_json(self, path: str):
        _, body, encoding = self.get(path)
        return json.loads(gzip.decompress(body) if encoding == "gzip" else body)


def wait_loaded(tb: TensorBoard, runs: int, steps: int) -> float:
    """Polls the listings until every run shows every tag up to its last step."""
    start = time.perf_counter()
    want = {f"activations/{layer}" for layer in LAYERS}
    while True:
        if tb.proc.poll() is not None:
            raise RuntimeError(f"tensorboard exited:\n{tb.log_tail()}")
        if time.perf_counter() - start > LOAD_TIMEOUT_S:
            raise RuntimeError(
                f"runs not loaded in {LOAD_TIMEOUT_S}s:\n{tb.log_tail()}"
            )
        try:
            listing = tb.get_json("data/plugin/netviz/runs")["runs"]
            tags = tb.get_json("data/plugin/images/tags")
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            time.sleep(0.5)
            continue
        nv_done = sum(
            1
            for kinds in listing.values()
            if len(kinds.get("activations", {})) == len(LAYERS)
            and all(v["max_step"] == steps - 1 for v in kinds["activations"].values())
        )
        img_done = sum(1 for t in tags.values() if set(t) >= want)
        if nv_done == runs and img_done == runs:
            return time.perf_counter() - start
        time.sleep(0.5)


# Measurement --------------------------------------------------------------------------


def timed(tb: TensorBoard, paths: list[str], warmup: int) -> dict:
    """Times sequential GETs of `paths` after `warmup` untimed ones."""
    for path in paths[:warmup]:
        tb.get(path)
    seconds = []
    sizes = []
    for path in paths[warmup:]:
        s, body, _ = tb.get(path)
        seconds.append(s)
        sizes.append(len(body))
    ms = [1000 * s for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": common.percentile(ms, 50),
        "p95_ms": common.percentile(ms, 95),
        "max_ms": max(ms),
        "mean_bytes": sum(sizes) / len(sizes),
    }


def measure(
    tb: TensorBoard,
    runs: int,
    steps: int,
    n: int,
    warmup: int,
    list_requests: int = 20,
    tags_viewed: int = 5,
) -> dict:
    """Times the routes the way a panel uses them.

    A user looks at `tags_viewed` (run, layer) pairs: each panel first asks
    for the tag's step list (NetViz `steps`, the images plugin's `images`),
    then fetches images at random steps and probe inputs of those pairs.
    """
    rng = random.Random(0)
    pairs = []
    while len(pairs) < tags_viewed:
        pair = (f"run_{rng.randrange(runs):02d}", f"activations/{rng.choice(LAYERS)}")
        if pair not in pairs:
            pairs.append(pair)
    picks = [
        (*rng.choice(pairs), rng.randrange(steps), rng.randrange(PROBES))
        for _ in range(n + warmup)
    ]
    total = n + warmup
    result = {
        "netviz runs": timed(tb, ["data/plugin/netviz/runs"] * total, warmup),
        "images tags": timed(tb, ["data/plugin/images/tags"] * total, warmup),
    }

    def netviz_steps(run, tag):
        query = urllib.parse.urlencode({"run": f"{run}/netviz", "tag": tag})
        return f"data/plugin/netviz/steps?{query}"

    def images_list(run, tag, sample):
        query = urllib.parse.urlencode(
            {"run": f"{run}/images", "tag": tag, "sample": sample}
        )
        return f"data/plugin/images/images?{query}"

    # Opening a tag: `steps` reads element 0 (the step JSON) of every step, and
    # the plugin caches those, so each pair's first request is the cold case.
    result["netviz steps cold"] = timed(tb, [netviz_steps(*p) for p in pairs], 0)
    # Blob keys for the images plugin (its panel gets them from `images?...`).
    keys = {}
    for run, tag in pairs:
        for sample in range(PROBES):
            entries = tb.get_json(images_list(run, tag, sample))
            if len(entries) != steps:
                raise RuntimeError(
                    f"images plugin lists {len(entries)} of {steps} steps for "
                    f"{run}/images {tag} (images=0 in --samples_per_plugin makes it "
                    "list none: it passes the hint on as its downsample)"
                )
            keys[run, tag, sample] = {e["step"]: e["query"] for e in entries}

    def netviz_image(run, tag, step, sample):
        query = urllib.parse.urlencode(
            {"run": f"{run}/netviz", "tag": tag, "step": step, "sample": sample}
        )
        return f"data/plugin/netviz/image?{query}"

    def images_image(run, tag, step, sample):
        return f"data/plugin/images/individualImage?{keys[run, tag, sample][step]}"

    # Both plugins must serve the very same PNG bytes.
    result["same_png_bytes"] = all(
        tb.get(netviz_image(*p))[1] == tb.get(images_image(*p))[1] for p in picks[:10]
    )
    cycle = [pairs[i % len(pairs)] for i in range(list_requests + 1)]
    result["netviz steps"] = timed(tb, [netviz_steps(*p) for p in cycle], 1)
    result["images list"] = timed(
        tb, [images_list(*p, i % PROBES) for i, p in enumerate(cycle)], 1
    )
    result["netviz image"] = timed(tb, [netviz_image(*p) for p in picks], warmup)
    result["images image"] = timed(tb, [images_image(*p) for p in picks], warmup)
    return result


def run_mode(logdir: str, load_fast: str, args, tmp: str) -> dict:
    log_path = os.path.join(tmp, f"tensorboard-load_fast={load_fast}.log")
    tb = TensorBoard(logdir, load_fast, args.samples_per_plugin, log_path)
    try:
        load_s = wait_loaded(tb, args.runs, args.steps)
        print(f"load_fast={load_fast}: {args.runs} runs loaded in {load_s:.1f}s")
        result = {"ok": True, "load_s": load_s}
        result.update(
            measure(
                tb,
                args.runs,
                args.steps,
                args.requests,
                args.warmup,
                args.list_requests,
                args.tags_viewed,
            )
        )
        return result
    except Exception as e:
        print(f"load_fast={load_fast}: FAILED: {e}")
        return {"ok": False, "error": str(e), "log_tail": tb.log_tail(40)}
    finally:
        tb.stop()


ROUTES = (
    ("netviz runs", "images tags", 50.0),
    ("netviz image", "images image", 10.0),
    ("netviz steps cold", "images list", None),
    ("netviz steps", "images list", None),
)


def report(modes: dict) -> tuple[str, dict]:
    rows, targets = [], {}
    for mode, result in modes.items():
        if not result["ok"]:
            rows.append([mode, "FAILED", "", "", "", "", ""])
            continue
        for ours, theirs, limit in ROUTES:
            a, b = result[ours], result[theirs]
            rows.append(
                [
                    mode,
                    ours,
                    f"{a['p50_ms']:.1f}",
                    f"{a['p95_ms']:.1f}",
                    theirs,
                    f"{b['p50_ms']:.1f}",
                    f"{b['p95_ms']:.1f}",
                ]
            )
            if limit is not None:
                targets[f"{mode} {ours}"] = {
                    "p95_ms": a["p95_ms"],
                    "limit_ms": limit,
                    "images_p95_ms": b["p95_ms"],
                    "within_limit": a["p95_ms"] <= limit,
                    "ratio_to_images_p95": a["p95_ms"] / b["p95_ms"],
                    # 10% slack: p95s of the same data-provider call differ
                    # by that much from one series of requests to the next.
                    "not_slower_than_images": a["p95_ms"] <= 1.1 * b["p95_ms"],
                }
    headers = ["mode", "netviz", "p50 ms", "p95 ms", "images plugin", "p50 ms"]
    text = common.table([*headers, "p95 ms"], rows)
    return text, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--list_requests",
        type=int,
        default=20,
        help="requests for the per-tag routes (netviz steps, images list)",
    )
    parser.add_argument(
        "--tags_viewed",
        type=int,
        default=5,
        help="(run, layer) pairs opened; images are fetched from these",
    )
    parser.add_argument("--modes", default="false,true", help="--load_fast values")
    parser.add_argument(
        "--samples_per_plugin",
        default=None,
        help="default netviz=0,images=STEPS (images=0 would make the images "
        "plugin list no image at all: it uses the hint as its downsample)",
    )
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "backend.json"))
    args = parser.parse_args()
    if args.samples_per_plugin is None:
        args.samples_per_plugin = f"netviz=0,images={args.steps}"

    # A SIGTERM must still run the `finally` blocks that stop TensorBoard.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="netviz-bench-backend-")
    logdir = os.path.join(tmp, "logs")
    try:
        gen = generate(logdir, args.runs, args.steps)
        print(
            f"logdir: {args.runs} runs x {len(LAYERS)} layers x {args.steps} steps, "
            f"{gen['bytes'] / 2**20:.1f} MiB, written in {gen['total_s']:.1f}s"
        )
        modes = {}
        for load_fast in args.modes.split(","):
            modes[f"load_fast={load_fast}"] = run_mode(logdir, load_fast, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    text, targets = report(modes)
    print()
    print(
        f"{args.requests} sequential requests per route after {args.warmup} "
        "warm-up, new connection each, gzip accepted"
    )
    print(text)
    for name, t in targets.items():
        verdict = (
            "met" if t["within_limit"] and t["not_slower_than_images"] else "MISSED"
        )
        print(
            f"{name}: p95 {t['p95_ms']:.1f} ms (limit {t['limit_ms']:.0f} ms, "
            f"images plugin {t['images_p95_ms']:.1f} ms): {verdict}"
        )
    common.write_json(
        args.out,
        {
            "benchmark": "backend",
            "setting": {
                "runs": args.runs,
                "layers": list(LAYERS),
                "steps": args.steps,
                "probes": PROBES,
                "activation_shape": [SIZE, SIZE, CHANNELS],
                "requests": args.requests,
                "warmup": args.warmup,
                "samples_per_plugin": args.samples_per_plugin,
            },
            "generate": gen,
            "modes": modes,
            "targets": targets,
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    main()
