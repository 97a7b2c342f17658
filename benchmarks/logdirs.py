"""Generated NetViz logdirs (format version 2) for the backend benchmarks.

Each writes one template run through the public writing path
(`pictures.activations.record` -> `writer.encode_png` -> `writer.write_record`)
and copies it: a run's name is its directory, so the copies are distinct runs.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

import common


def _activations(rng, shape):
    import numpy as np

    return rng.standard_normal(shape).astype(np.float32)


def backend(logdir: str, runs: int, layers, steps: int, shape) -> dict:
    """`run_NN/netviz` (NetViz) and `run_NN/images` (the same grids through
    `tf.summary.image`, for TensorBoard's images plugin), `runs` copies."""
    import numpy as np
    import tensorflow as tf

    from tb_netviz import writer
    from tb_netviz.pictures import activations

    start = time.perf_counter()
    template = tempfile.mkdtemp(prefix="netviz-bench-template-")
    rng = np.random.default_rng(0)
    try:
        netviz = tf.summary.create_file_writer(os.path.join(template, "netviz"))
        images = tf.summary.create_file_writer(os.path.join(template, "images"))
        for step in range(steps):
            for layer in layers:
                info, grids = activations.record(_activations(rng, shape))
                with netviz.as_default():
                    pngs = [writer.encode_png(g) for g in grids]
                    writer.write_record("activations", layer, step, info, pngs)
                with images.as_default():
                    batch = np.stack(grids)[..., None]
                    tf.summary.image(
                        f"activations/{layer}", batch, step=step, max_outputs=len(batch)
                    )
        netviz.close()
        images.close()
        written = time.perf_counter() - start
        for i in range(runs):
            shutil.copytree(template, os.path.join(logdir, f"run_{i:02d}"))
    finally:
        shutil.rmtree(template, ignore_errors=True)
    total = time.perf_counter() - start
    return {"write_s": written, "total_s": total, "bytes": common.dir_bytes(logdir)}


def load_test(logdir: str, runs: int, layers: int, steps: int, shape) -> float:
    """`run_NNN/netviz` with `layers` tags `activations/layerI` x `steps` steps,
    every step the same small record per layer; returns seconds."""
    import numpy as np
    import tensorflow as tf

    from tb_netviz import writer
    from tb_netviz.pictures import activations

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    records = []
    for i in range(layers):
        info, grids = activations.record(_activations(rng, shape))
        records.append((f"layer{i}", info, [writer.encode_png(g) for g in grids]))
    first = os.path.join(logdir, "run_000")
    summary = tf.summary.create_file_writer(os.path.join(first, "netviz"))
    with summary.as_default():
        for step in range(steps):
            for layer, info, pngs in records:
                writer.write_record("activations", layer, step, info, pngs)
    summary.close()
    for r in range(1, runs):
        shutil.copytree(first, os.path.join(logdir, f"run_{r:03d}"))
    return time.perf_counter() - start


def cached_load_test(
    cache: str, runs: int, layers: int, steps: int, shape
) -> tuple[str, dict]:
    """The load-test logdir for this size under `cache`, generated atomically
    if missing (keyed by size and format version)."""
    folder = os.path.join(cache, f"{runs}x{layers}x{steps}-v2")
    logdir, info_path = os.path.join(folder, "logs"), os.path.join(folder, "gen.json")
    if os.path.exists(info_path):
        with open(info_path, encoding="utf-8") as f:
            return logdir, {**json.load(f), "cached": True}
    os.makedirs(cache, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="partial-", dir=cache)
    try:
        seconds = load_test(os.path.join(scratch, "logs"), runs, layers, steps, shape)
        info = {"write_s": seconds, "bytes": common.dir_bytes(scratch)}
        with open(os.path.join(scratch, "gen.json"), "w", encoding="utf-8") as f:
            json.dump(info, f)
        shutil.rmtree(folder, ignore_errors=True)
        os.rename(scratch, folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return logdir, {**info, "cached": False}


DEFAULT_CACHE = os.path.join(tempfile.gettempdir(), "netviz-load")
