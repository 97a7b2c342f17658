"""Deconvnet and guided backprop on VGG16 block3_conv1: tb_netviz, the floor, tf-keras-vis.

VGG16 (`weights=None`, `--size` 224 px a side), layer `block3_conv1`, N probe images x K
channels (8 x 8 by default), both methods. Reported, best of `--repeats` calls
after a warm-up call (shown as "first"), wall and process CPU time:

- tb_netviz: one `Deconvolver` call for both methods, and guided backprop alone;
- the floor, what the method itself must do, in plain TF (graph mode, no
  XLA): ONE forward pass of the N images to the layer, then per method K
  backward passes over the N images (one per channel), each by hand: the
  ReLU rule, `conv2d_transpose` through each convolution, TF's `MaxPoolGrad`
  through each pooling (the switches of the forward pass). Both methods:
  1 forward + 2K backward; guided backprop only: 1 forward + K backward;
- tf-keras-vis guided backprop (`ExtractIntermediateLayer` +
  `GuidedBackpropagation` + `Saliency`, one call per channel over the N
  images: K forward+backward passes), in the peer venv (`peers.py`).

Floor and peer run in subprocesses on the same weights, images and K channels
(the K largest mean maxima), and each output is checked against tb_netviz's.

    python benchmarks/bench_deconv.py [--size 224] [--images 8] [--channels 8] [--repeats 2]
        [--peer-venv PATH | --no-peers] [--out benchmarks/results/deconv.json]
        [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import numpy as np
import peers
from deconv_floor import METHODS, best_of, floor_child

LAYER = "block3_conv1"
PEER = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "deconv_peer_tf_keras_vis.py"
)


def child(args: list[str], out: str) -> dict:
    subprocess.run(args, check=True)
    return dict(np.load(out, allow_pickle=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="input px a side")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--floor-child", nargs=2, help=argparse.SUPPRESS)
    peers.add_flag(parser)
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "deconv.json"))
    args = common.parse_args(
        parser, {"size": 64, "images": 1, "channels": 1, "repeats": 1}
    )
    if args.floor_child:
        return floor_child(*args.floor_child)
    import keras
    import tensorflow as tf

    from tb_netviz.methods import Deconvolver, layer_activations

    n, k, repeats = args.images, args.channels, args.repeats
    keras.utils.set_random_seed(0)
    size = args.size
    model = keras.applications.VGG16(weights=None, input_shape=(size, size, 3))
    rng = np.random.default_rng(0)
    images = (rng.uniform(0, 255, (n, size, size, 3)) - 120).astype(np.float32)
    maxima = layer_activations(model, images, [LAYER])[LAYER].max(axis=(1, 2))
    channels = np.argsort(-maxima.mean(axis=0), kind="stable")[:k]

    # The floor is defined for these two; the Deconvolver's default also
    # computes the plain gradient (a contrast), which the floor does not.
    both = Deconvolver(model, LAYER, methods=METHODS)
    ours = best_of(lambda: both(images, channels), repeats)
    guided = Deconvolver(model, LAYER, methods="guided_backprop")
    ours_guided = best_of(lambda: guided(images, channels), repeats)
    reference = ours["result"].images
    rows = {
        "tb_netviz, both methods, one call": ours,
        "tb_netviz, guided backprop only": ours_guided,
    }

    names = [layer.name for layer in model.layers if layer.weights]
    names = names[: names.index(LAYER) + 1]
    weights = {
        f"{name}/{w}": getattr(model.get_layer(name), w).numpy()
        for name in names
        for w in ("kernel", "bias")
    }
    errors = {}
    with tempfile.TemporaryDirectory() as tmp:
        data, out = os.path.join(tmp, "data.npz"), os.path.join(tmp, "out.npz")
        np.savez(
            data,
            images=images,
            channels=channels,
            repeats=repeats,
            layer_names=np.array(names),
            **weights,
        )
        res = child([sys.executable, __file__, "--floor-child", data, out], out)
        floor = json.loads(str(res["timings"]))
        rows["floor, both (1 forward + 2K backward)"] = floor["both"]
        rows["floor, guided only (1 forward + K backward)"] = floor["guided"]
        for method, ref in reference.items():
            err = np.abs(res[method] - ref).max() / np.abs(ref).max()
            errors[f"floor {method}"] = float(err)
        if not args.no_peer:
            python = peers.python(args.peer_venv, "tf-keras-vis")
            res = child([python, PEER, data, out], out)
            t = json.loads(str(res["timings"]))
            best, cpu = min(t["runs"])
            rows["tf-keras-vis guided, one call per channel"] = {
                "first": t["warmup_s"],
                "best": best,
                "cpu": cpu,
            }
            ref = reference["guided_backprop"]
            errors["tf-keras-vis guided"] = float(
                np.abs(res["images"] - ref).max() / np.abs(ref).max()
            )

    print(
        f"\nVGG16 {size}x{size} {LAYER}, {n} images x {k} channels, TF {tf.__version__}, "
        f"{os.cpu_count()} CPUs, best of {repeats} after a warm-up call"
    )
    table = [
        [label, f"{r['first']:.2f}", f"{r['best']:.2f}", f"{r['cpu']:.2f}"]
        for label, r in rows.items()
    ]
    print(common.table(["", "first s", "best s", "CPU s"], table))
    pairs = [
        (
            "both methods / floor both",
            "tb_netviz, both methods, one call",
            "floor, both (1 forward + 2K backward)",
        ),
        (
            "guided only / floor guided",
            "tb_netviz, guided backprop only",
            "floor, guided only (1 forward + K backward)",
        ),
        (
            "tf-keras-vis guided / tb_netviz guided",
            "tf-keras-vis guided, one call per channel",
            "tb_netviz, guided backprop only",
        ),
    ]
    ratios = {}
    for label, a, b in pairs:
        if a in rows and b in rows:
            ratios[label] = {
                "wall": rows[a]["best"] / rows[b]["best"],
                "cpu": rows[a]["cpu"] / rows[b]["cpu"],
            }
            print(
                f"{label:44} {ratios[label]['wall']:6.2f}x wall "
                f"{ratios[label]['cpu']:6.2f}x CPU"
            )
    print(
        "max |difference| / max |tb_netviz|: "
        + ", ".join(f"{k} {v:.1e}" for k, v in errors.items())
    )
    common.write_json(
        args.out,
        {
            "benchmark": "deconv",
            "smoke": args.smoke,
            "setting": {
                "model": f"VGG16(weights=None) {size}x{size}",
                "layer": LAYER,
                "images": n,
                "channels": k,
                "repeats": repeats,
                "peers": peers.versions(args.peer_venv, args.no_peer),
            },
            "rows": {
                label: {k: v for k, v in r.items() if k != "result"}
                for label, r in rows.items()
            },
            "ratios": ratios,
            "relative_max_difference": errors,
            "environment": common.environment(),
        },
    )


if __name__ == "__main__":
    main()
