"""The model map view: time from a click on "Model" to the painted map, for
ResNet50 (177 layers), DenseNet121 (429) and a synthetic 1,290-layer map.

    python benchmarks/bench_map.py [--repeats 7] [--out benchmarks/results/map.json]
        [--models resnet50,densenet121] [--smoke]

Logs each model's map (`ModelLogger`, `weights=None`, 64×64 inputs) and the
activations of a few layers with the loggers in a `tf.summary` writer;
the synthetic map is three DenseNet121 maps chained (written with the same
writer). Starts `tensorboard --load_fast=false`, opens the NetViz tab in
Debian's Chromium (headless, Playwright, no browser download) and measures
inside the page with performance.now(): from the click on the view button to
the animation frame after the panel says it is ready. Cold = first visit (the
map's step JSON is fetched), warm = later visits (cached). `build` is the
view's own time to lay out and build the blocks (its `data-build-ms`).
Reports medians and ranges against the issue's target (≤ 1 s for ResNet50);
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from browser_util import Panel, TensorBoard, launch_chromium  # noqa: E402
from common import environment, parse_args, table, write_json  # noqa: E402

MEASURE_VIEW = """async (view) => {
  const root = document.querySelector(".nv-root");
  const renders = Number(root.dataset.renders || 0);
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  document.querySelector(`button[data-view="${view}"]`).click();
  while (!(root.dataset.state === "ready" && Number(root.dataset.renders) > renders)) await frame();
  await frame(); // the map is painted in this frame
  const v = document.querySelector(".nv-view");
  const map = document.querySelector(".nv-map");
  return { ms: performance.now() - t0, build: v ? Number(v.dataset.buildMs) : null,
           blocks: map ? Number(map.dataset.blocks) : 0 };
}"""

LAYERS = {
    "resnet50": ["conv1_relu", "conv3_block4_out", "conv5_block3_out"],
    "densenet121": ["conv1_relu", "pool3_relu", "relu"],
}


def log_models(root: Path, models: list[str]) -> dict[str, int]:
    """Writes the runs of `models` (keys of `LAYERS`; the synthetic map with
    DenseNet121's); returns {run: layers in its map}."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from tb_netviz import writer as nv_writer
    from tb_netviz.loggers import ActivationsLogger, ModelLogger
    from tb_netviz.methods.common.model_map import model_map
    from tb_netviz.pictures import model as pictures

    counts = {}
    probe = np.random.default_rng(0).uniform(0, 1, (2, 64, 64, 3)).astype("float32")
    builders = {
        "resnet50": keras.applications.ResNet50,
        "densenet121": keras.applications.DenseNet121,
    }
    dense_map = None
    for name in models:
        build = builders[name]
        model = build(weights=None, input_shape=(64, 64, 3), classes=10)
        loggers = [ModelLogger(model), ActivationsLogger(model, probe, LAYERS[name])]
        with tf.summary.create_file_writer(str(root / name / "netviz")).as_default():
            for logger in loggers:
                logger.log(0)
        counts[name] = len(model_map(model))
        if name == "densenet121":
            dense_map = model_map(model)
    if dense_map is None:
        return counts
    # Three DenseNet121 maps in a chain: copy i's input fed by copy i-1's output.
    chained = []
    for i in range(3):
        for layer in dense_map:
            inbound = [f"{p}_{i}" for p in layer["inbound"]]
            if i and layer["class"] == "InputLayer":
                inbound = [f"{dense_map[-1]['path']}_{i - 1}"]
            chained.append(
                {**layer, "path": f"{layer['path']}_{i}", "inbound": inbound}
            )
    info, _ = pictures.record(chained, "densenet121_x3")
    run = f"synthetic_{len(chained)}"
    with tf.summary.create_file_writer(str(root / run / "netviz")).as_default():
        nv_writer.write_record("model", "graph", 0, {**info, "seconds": 0.0}, [])
    counts[run] = len(chained)
    return counts


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--out", "--json", dest="out", help="also write the figures to this file"
    )
    parser.add_argument(
        "--models", default=",".join(LAYERS), help="of " + ", ".join(LAYERS)
    )
    args = parse_args(parser, {"repeats": 1, "models": "resnet50"})
    from playwright.sync_api import sync_playwright

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "logs"
        root.mkdir()
        counts = log_models(root, args.models.split(","))
        with TensorBoard(root, load_fast=False) as tb, sync_playwright() as p:
            tb.wait_for_runs(len(counts), timeout=300)
            browser = launch_chromium(p)
            panel = Panel(browser, tb.url, viewport={"width": 1400, "height": 900})
            for run in counts:
                panel.only(f"{run}/netviz")
                cold = panel.frame.evaluate(MEASURE_VIEW, "model")
                warm, build = [], []
                for _ in range(args.repeats):
                    if run in LAYERS:  # from its activations; else the map again
                        panel.act(lambda f: f.click("button[data-view=activations]"))
                    r = panel.frame.evaluate(MEASURE_VIEW, "model")
                    warm.append(r["ms"])
                    build.append(r["build"])
                results[run] = {
                    "layers": counts[run],
                    "blocks": cold["blocks"],
                    "cold_ms": cold["ms"],
                    "warm_ms": warm,
                    "build_ms": build,
                }
            panel.close()
            browser.close()
    rows = [
        [
            run,
            r["layers"],
            f"{r['cold_ms']:.0f}",
            summary(r["warm_ms"]),
            summary(r["build_ms"]),
        ]
        for run, r in results.items()
    ]
    print(
        "Model map view, click on 'Model' -> painted map (ms), Chromium headless, 1400x900"
    )
    print(
        table(
            ["run", "layers", "cold", "warm median (range)", "build median (range)"],
            rows,
        )
    )
    target = results.get("resnet50")
    if target:
        print(
            f"target: ResNet50 map in <= 1000 ms: cold {target['cold_ms']:.0f} ms, "
            f"warm median {statistics.median(target['warm_ms']):.0f} ms"
        )
    if args.out:
        write_json(
            args.out,
            {
                "benchmark": "map",
                "smoke": args.smoke,
                "environment": environment(),
                "repeats": args.repeats,
                "models": args.models.split(","),
                "results": results,
            },
        )


if __name__ == "__main__":
    main()
