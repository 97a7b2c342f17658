"""What logging activations costs per probe input, and where the time goes.

Setting (issue 8): two models with the callback's defaults (`max_channels=64`,
`max_tile_size=64`), `--probes` probe inputs:

- `small CNN` (`fits.py`): conv1 (32 x 32x32) and conv2 (64 x 16x16), the
  layers `NetVizCallback` picks by default;
- `VGG16 224` (`weights=None`): block1_conv2 (64 x 224x224, tiles averaged to
  56x56), block3_conv3 (256 x 56x56, 64 drawn), block5_conv3 (512 x 14x14,
  64 drawn).

Stages, each the median of `--repeats` rounds (interleaved, after a warm-up):
forward (`ActivationReader`, one pass for all layers), packing
(`pictures.activations.record`), PNG encoding (`writer.encode_png`, one per
probe input and layer), write (`writer.write_record` into a
`tf.summary` file writer, then `flush`); and the whole `ActivationsLogger.log`.
Then PNG encoders (`png_encoders.py`) on the same grids: time per grid and
bytes, checked lossless by decoding.

Usage:
    python benchmarks/bench_activations.py [--probes 8] [--repeats 7]
        [--models small,vgg16] [--out benchmarks/results/activations.json] [--smoke]
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
import png_encoders

STAGES = ("forward", "packing", "png", "write")


def model_and_layers(name: str):
    import keras

    keras.utils.set_random_seed(0)
    if name == "small":
        return fits.build_model(), ["conv1", "conv2"], 32
    vgg = keras.applications.VGG16(weights=None, input_shape=(224, 224, 3))
    return vgg, ["block1_conv2", "block3_conv3", "block5_conv3"], 224


def one_round(reader, probe, layers, summary, step: int) -> tuple[dict, dict]:
    """Times each stage once; returns (wall s per stage, CPU s per stage) and grids."""
    from tb_netviz import writer
    from tb_netviz.pictures import activations

    wall, cpu = {}, {}
    w, c, outputs = common.timed(lambda: reader(probe))
    wall["forward"], cpu["forward"] = w, c
    w, c, records = common.timed(
        lambda: {
            layer: activations.record(
                outputs[layer], 64, 64, reader.channels_total[layer]
            )
            for layer in layers
        }
    )
    wall["packing"], cpu["packing"] = w, c
    w, c, pngs = common.timed(
        lambda: {
            layer: [writer.encode_png(g) for g in records[layer][1]] for layer in layers
        }
    )
    wall["png"], cpu["png"] = w, c

    def write():
        with summary.as_default():
            for layer in layers:
                writer.write_record(
                    "activations", layer, step, records[layer][0], pngs[layer]
                )
        summary.flush()

    w, c, _ = common.timed(write)
    wall["write"], cpu["write"] = w, c
    grids = [g for layer in layers for g in records[layer][1]]
    nbytes = sum(len(p) for layer in layers for p in pngs[layer])
    return {"wall": wall, "cpu": cpu, "png_bytes": nbytes}, grids


def bench_model(name: str, args, tmp: str) -> dict:
    import numpy as np
    import tensorflow as tf

    from tb_netviz.loggers import ActivationsLogger
    from tb_netviz.methods.activations import ActivationReader

    model, layers, size = model_and_layers(name)
    rng = np.random.default_rng(0)
    probe = rng.uniform(0, 1, (args.probes, size, size, 3)).astype(np.float32)
    if name != "small":
        probe = probe * 255.0 - 120.0
    reader = ActivationReader(model, layers, 64)
    logger = ActivationsLogger(model, probe, layers)
    summary = tf.summary.create_file_writer(os.path.join(tmp, name, "netviz"))
    one_round(reader, probe, layers, summary, 0)  # warm-up: traces
    with summary.as_default():
        logger.log(0)
    rounds, logger_s, logger_cpu = [], [], []
    for i in range(args.repeats):
        result, grids = one_round(reader, probe, layers, summary, i + 1)
        rounds.append(result)
        with summary.as_default():
            w, c, _ = common.timed(lambda s=i: logger.log(1000 + s))
        logger_s.append(w)
        logger_cpu.append(c)
    summary.close()
    med = {
        kind: {s: common.median([r[kind][s] for r in rounds]) for s in STAGES}
        for kind in ("wall", "cpu")
    }
    encoders = {}
    for label, encode in png_encoders.ENCODERS.items():
        encode(grids[0])
        times, nbytes, lossless = [], 0, True
        for _ in range(args.repeats):
            start = time.perf_counter()
            pngs = [encode(g) for g in grids]
            times.append(time.perf_counter() - start)
            nbytes = sum(map(len, pngs))
        for g, p in zip(grids, pngs):
            lossless &= bool((png_encoders.decode(p)[..., 0] == g).all())
        encoders[label] = {
            "s": common.median(times),
            "bytes": nbytes,
            "lossless": lossless,
        }
    return {
        "layers": layers,
        "probes": args.probes,
        "grid_shapes": sorted({tuple(g.shape) for g in grids}),
        "stages_median": med,
        "sum_of_stages_s": sum(med["wall"].values()),
        "logger_log_s_median": common.median(logger_s),
        "logger_log_cpu_s_median": common.median(logger_cpu),
        "png_bytes_per_step": rounds[-1]["png_bytes"],
        "encoders": encoders,
    }


def print_model(name: str, r: dict) -> None:
    n, total = r["probes"], r["sum_of_stages_s"]
    print(
        f"\n{name}: {', '.join(r['layers'])}; {n} probe inputs; grids {r['grid_shapes']}"
    )
    rows = [
        [
            s,
            f"{1000 * r['stages_median']['wall'][s] / n:.2f}",
            f"{100 * r['stages_median']['wall'][s] / total:.0f}%",
            f"{1000 * r['stages_median']['cpu'][s] / n:.2f}",
        ]
        for s in STAGES
    ]
    rows.append(["sum", f"{1000 * total / n:.2f}", "100%", ""])
    rows.append(
        [
            "ActivationsLogger.log",
            f"{1000 * r['logger_log_s_median'] / n:.2f}",
            "",
            f"{1000 * r['logger_log_cpu_s_median'] / n:.2f}",
        ]
    )
    print(common.table(["stage", "ms / probe input", "share", "CPU ms / probe"], rows))
    base = r["encoders"][png_encoders.BASELINE]
    rows = [
        [
            label,
            f"{1000 * e['s'] / n:.2f}",
            f"{base['s'] / e['s']:.2f}x",
            f"{e['bytes'] / n / 1024:.1f}",
            f"{e['bytes'] / base['bytes']:.2f}",
            e["lossless"],
        ]
        for label, e in r["encoders"].items()
    ]
    headers = ["PNG encoder", "ms / probe", "speed-up", "KiB / probe", "size x"]
    print(common.table([*headers, "lossless"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--models", default="small,vgg16")
    parser.add_argument(
        "--out", default=os.path.join(common.RESULTS, "activations.json")
    )
    args = common.parse_args(parser, {"probes": 1, "repeats": 1, "models": "small"})
    tmp = tempfile.mkdtemp(prefix="netviz-bench-activations-")
    try:
        results = {m: bench_model(m, args, tmp) for m in args.models.split(",")}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, r in results.items():
        print_model(name, r)
    common.write_json(
        args.out,
        {
            "benchmark": "activations",
            "smoke": args.smoke,
            "setting": {
                "probes": args.probes,
                "repeats": args.repeats,
                "max_channels": 64,
                "max_tile_size": 64,
            },
            "models": results,
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    main()
