"""The floor of `bench_deconv.py`: deconvnet and guided backprop by hand, in plain TF.

Run by `bench_deconv.py --floor-child DATA.npz OUT.npz` in its own process (so
its graph and memory are its own): ONE forward pass of the N images to the
layer, then per method K backward passes (one per channel), each by hand: the
ReLU rule, `conv2d_transpose` through each convolution, TF's `MaxPoolGrad`
through each pooling (the switches of the forward pass).
"""

from __future__ import annotations

import json
import resource

import common
import numpy as np

METHODS = ("deconvnet", "guided_backprop")  # what the floor computes
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

    both = tf.function(lambda: run(METHODS))
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
