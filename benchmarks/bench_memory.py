"""TensorBoard's resident memory with NetViz logs, per loader, and what a step costs.

For each `--load_fast` mode it starts `tensorboard --logdir X` (no
`--samples_per_plugin`: NetViz's default keeps 1000 steps per series) on:

- `empty`: an empty logdir, the baseline;
- `demo_logs`: the committed demo logs;
- `load-test`: the `bench_load.py` logdir (`--load-runs` 100 runs x
  `--load-layers` 5 layers x `--load-steps` 500 steps, generated into its
  `--cache` if missing);
- `512ch`, `512ch-all`: one run with one 512-channel layer, `--steps` steps of
  8 probe inputs of 14x14x512 (VGG16 block5_conv3 at 224 px; ReLU of Gaussian
  noise), written by `pictures.activations.record` -> `writer.write_record`
  with the default `max_channels=64`, and with `max_channels=512`.

It waits until the NetViz listing is complete and unchanged, asks for every
tag's `steps` once (filling the plugin's caches, as an open panel would), waits
`--settle` 2 s and reads VmRSS of tensorboard and its children (the Rust data server).
A step's memory is `(RSS(512ch) - RSS(empty)) / steps`; its disk cost is the
event bytes / steps.

Usage:
    python benchmarks/bench_memory.py [--steps 200] [--modes false,true]
        [--load-runs 100] [--load-layers 5] [--load-steps 500] [--cache DIR]
        [--demo DIR] [--poll 3] [--settle 2] [--out benchmarks/results/memory.json]
        [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import logdirs
import tbserver

SHAPE = (8, 14, 14, 512)


def write_512(logdir: str, steps: int, max_channels: int) -> dict:
    import numpy as np
    import tensorflow as tf

    from tb_netviz import writer
    from tb_netviz.pictures import activations

    rng = np.random.default_rng(0)
    summary = tf.summary.create_file_writer(os.path.join(logdir, "run", "netviz"))
    json_bytes = png_bytes = 0
    with summary.as_default():
        for step in range(steps):
            acts = np.maximum(rng.standard_normal(SHAPE, dtype=np.float32), 0)
            info, grids = activations.record(acts, max_channels=max_channels)
            pngs = [writer.encode_png(g) for g in grids]
            writer.write_record("activations", "block5_conv3", step, info, pngs)
            json_bytes += len(json.dumps(info))
            png_bytes += sum(map(len, pngs))
    summary.close()
    return {
        "disk_bytes_per_step": common.dir_bytes(logdir) / steps,
        "json_bytes_per_step": json_bytes / steps,
        "png_bytes_per_step": png_bytes / steps,
        "grid_shape": list(grids[0].shape),
    }


def settled(tb: tbserver.TensorBoard, seen: list) -> bool:
    """True once the listing is non-empty (or `empty`) and equal to the last poll."""
    listing = tb.get_json("data/plugin/netviz/runs")["runs"]
    seen.append(listing)
    return len(seen) > 1 and seen[-1] == seen[-2]


def measure(logdir: str, load_fast: str, tmp: str, empty: bool, args) -> dict:
    log_path = os.path.join(tmp, f"tb-{load_fast}.log")
    with tbserver.TensorBoard(logdir, load_fast, log_path) as tb:
        seen: list = []
        done = lambda t: settled(t, seen) and (empty or seen[-1])  # noqa: E731
        load_s = tb.wait(done, 900, args.poll)
        tags = [
            (run, layer_info["tag"])
            for run, kinds in seen[-1].items()
            for layers in kinds.values()
            for layer_info in layers.values()
        ]
        start = time.perf_counter()
        for run, tag in tags:
            query = urllib.parse.urlencode({"run": run, "tag": tag})
            tb.get_json(f"data/plugin/netviz/steps?{query}")
        steps_s = time.perf_counter() - start
        time.sleep(args.settle)
        mem = tb.memory()
        return {
            "load_s": load_s,
            "tags": len(tags),
            "all_steps_s": steps_s,
            "rss_mb": mem["rss_mb"],
            "rss_by_process_mb": mem["rss_by_process_mb"],
            "peak_rss_mb": tb.peak_rss_mb,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--modes", default="false,true")
    parser.add_argument("--demo", default=os.path.join(common.ROOT, "demo_logs"))
    parser.add_argument("--cache", default=logdirs.DEFAULT_CACHE)
    parser.add_argument("--load-runs", type=int, default=100)
    parser.add_argument("--load-layers", type=int, default=5)
    parser.add_argument("--load-steps", type=int, default=500)
    parser.add_argument(
        "--poll", type=float, default=3.0, help="seconds between listing polls"
    )
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds waited before RSS reads"
    )
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "memory.json"))
    # One loader in the smoke run: each logdir and mode is a tensorboard start
    # (~8 s here); bench_backend.py and bench_load.py smoke-test both loaders.
    smoke = {"steps": 2, "load_runs": 2, "load_layers": 1, "load_steps": 5}
    smoke.update(modes="false", poll=0.5, settle=0.2)
    args = common.parse_args(parser, smoke)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="netviz-bench-memory-")
    try:
        dirs = {"empty": os.path.join(tmp, "empty"), "demo_logs": args.demo}
        os.makedirs(dirs["empty"])
        dirs["load-test"], _ = logdirs.cached_load_test(
            args.cache,
            args.load_runs,
            args.load_layers,
            args.load_steps,
            (2, 4, 4, 4),
        )
        written = {}
        for name, cap in (("512ch", 64), ("512ch-all", 512)):
            dirs[name] = os.path.join(tmp, name)
            written[name] = write_512(dirs[name], args.steps, cap)
        sizes = {name: common.dir_bytes(d) for name, d in dirs.items()}
        results = {}
        for mode in args.modes.split(","):
            for name, d in dirs.items():
                r = measure(d, mode, tmp, name == "empty", args)
                results[f"load_fast={mode} {name}"] = r
                print(
                    f"load_fast={mode} {name}: {sizes[name] / 2**20:.1f} MiB on disk, "
                    f"RSS {r['rss_mb']:.0f} MiB",
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows, per_step = [], {}
    for name in dirs:
        row = [name, f"{sizes[name] / 2**20:.1f}"]
        for mode in args.modes.split(","):
            r, base = (
                results[f"load_fast={mode} {name}"],
                results[f"load_fast={mode} empty"],
            )
            row += [f"{r['rss_mb']:.0f}", f"{r['rss_mb'] - base['rss_mb']:+.0f}"]
            if name in written:
                delta = (r["rss_mb"] - base["rss_mb"]) * 2**20 / args.steps
                per_step[f"load_fast={mode} {name}"] = delta
        rows.append(row)
    modes = args.modes.split(",")
    headers = ["logdir", "disk MiB"] + [
        h for m in modes for h in (f"RSS {m}", "vs empty")
    ]
    print(common.table(headers, rows))
    for name, w in written.items():
        mem = ", ".join(
            f"{m}: {per_step[f'load_fast={m} {name}'] / 1024:.0f} KiB" for m in modes
        )
        print(
            f"{name}: one step = {w['disk_bytes_per_step'] / 1024:.0f} KiB on disk "
            f"(PNGs {w['png_bytes_per_step'] / 1024:.0f} KiB, JSON "
            f"{w['json_bytes_per_step'] / 1024:.1f} KiB; grid {w['grid_shape']}); "
            f"memory per step with load_fast={mem}"
        )
    common.write_json(
        args.out,
        {
            "benchmark": "memory",
            "smoke": args.smoke,
            "setting": {
                "load_test": [args.load_runs, args.load_layers, args.load_steps],
                "poll_s": args.poll,
                "settle_s": args.settle,
                "steps_512": args.steps,
                "shape_512": SHAPE,
                "samples_per_plugin": None,
            },
            "disk_bytes": sizes,
            "written_512": written,
            "results": results,
            "memory_bytes_per_step": per_step,
            "environment": common.environment(),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
