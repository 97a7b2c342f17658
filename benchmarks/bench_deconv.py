"""Deconvnet and guided backprop on VGG16 block3_conv1: tb_netviz, the floor, tf-keras-vis.

VGG16 (`weights=None`, 224x224), layer `block3_conv1`, N probe images x K
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

    python benchmarks/bench_deconv.py [--images 8] [--channels 8] [--repeats 2]
        [--peer-venv PATH | --no-peer] [--out benchmarks/results/deconv.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
import numpy as np
import peers

LAYER = "block3_conv1"
PEER = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "deconv_peer_tf_keras_vis.py"
)
POOL_BEFORE = (2, 4)  # block1_pool before block2_conv1, block2_pool before block3_conv1


def best_of(fn, repeats: int) -> dict:
    """First call, then the best (wall, CPU) of `repeats` more; and the result."""
    first, _, result = common.timed(fn)
    runs = []
    for _ in range(repeats):
        wall, cpu, result = common.timed(fn)
        runs.append((wall, cpu))
    best, cpu = min(runs)
    return {"first": first, "best": best, "cpu": cpu, "result": result}


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def floor_child(data_path: str, out: str) -> None:
    """One forward pass, K hand-written backward passes per method (plain TF)."""
    import tensorflow as tf

    data = np.load(data_path)
    x = tf.constant(data["images"])
    channels = [int(c) for c in data["channels"]]
    params = [
        (tf.constant(data[f"{n}/kernel"]), tf.constant(data[f"{n}/bias"]))
        for n in data["layer_names"]
    ]

    def run(methods):
        saved, h = [], x  # per layer: (conv input, pre-activation, pool in/out)
        for i, (kernel, bias) in enumerate(params):
            pool = None
            if i in POOL_BEFORE:
                pool = (h, tf.nn.max_pool2d(h, 2, 2, "VALID"))
                h = pool[1]
            z = tf.nn.conv2d(h, kernel, 1, "SAME") + bias
            saved.append((h, z, pool))
            h = tf.nn.relu(z)
        out = {}
        for method in methods:
            images = []
            for c in channels:
                r = h * tf.one_hot(c, h.shape[-1])  # the channel's own feature map
                for i in reversed(range(len(params))):
                    conv_in, z, pool = saved[i]
                    r = tf.nn.relu(r)
                    if method == "guided_backprop":
                        r *= tf.cast(z > 0, r.dtype)
                    r = tf.nn.conv2d_transpose(
                        r, params[i][0], tf.shape(conv_in), 1, "SAME"
                    )
                    if pool is not None:
                        r = tf.raw_ops.MaxPoolGrad(
                            orig_input=pool[0],
                            orig_output=pool[1],
                            grad=r,
                            ksize=[1, 2, 2, 1],
                            strides=[1, 2, 2, 1],
                            padding="VALID",
                        )
                images.append(r)
            out[method] = tf.stack(images, axis=1)  # (N, K, H, W, C)
        return out

    both = tf.function(lambda: run(("deconvnet", "guided_backprop")))
    guided = tf.function(lambda: run(("guided_backprop",)))
    repeats = int(data["repeats"])
    b = best_of(lambda: {k: v.numpy() for k, v in both().items()}, repeats)
    g = best_of(lambda: guided()["guided_backprop"].numpy(), repeats)
    timings = {
        name: {k: v for k, v in r.items() if k != "result"}
        for name, r in (("both", b), ("guided", g))
    }
    np.savez(
        out,
        deconvnet=b["result"]["deconvnet"],
        guided_backprop=b["result"]["guided_backprop"],
        timings=json.dumps({**timings, "peak_gb": peak_gb()}),
    )


def child(args: list[str], out: str) -> dict:
    subprocess.run(args, check=True)
    return dict(np.load(out, allow_pickle=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--floor-child", nargs=2, help=argparse.SUPPRESS)
    peers.add_flag(parser)
    parser.add_argument("--out", default=os.path.join(common.RESULTS, "deconv.json"))
    args = parser.parse_args()
    if args.floor_child:
        return floor_child(*args.floor_child)
    import keras
    import tensorflow as tf

    from tb_netviz.methods import Deconvolver, layer_activations

    n, k, repeats = args.images, args.channels, args.repeats
    keras.utils.set_random_seed(0)
    model = keras.applications.VGG16(weights=None, input_shape=(224, 224, 3))
    rng = np.random.default_rng(0)
    images = (rng.uniform(0, 255, (n, 224, 224, 3)) - 120).astype(np.float32)
    maxima = layer_activations(model, images, [LAYER])[LAYER].max(axis=(1, 2))
    channels = np.argsort(-maxima.mean(axis=0), kind="stable")[:k]

    both = Deconvolver(model, LAYER)
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
        f"\nVGG16 {LAYER}, {n} images x {k} channels, TF {tf.__version__}, "
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
            "setting": {
                "model": "VGG16(weights=None) 224x224",
                "layer": LAYER,
                "images": n,
                "channels": k,
                "repeats": repeats,
                "peers": peers.versions(args.peer_venv),
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
