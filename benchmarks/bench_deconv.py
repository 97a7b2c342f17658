"""Benchmark: deconvnet and guided backprop on VGG16 block3_conv1.

VGG16 (`weights=None`, 224x224), layer `block3_conv1`, N probe images x K channels
(16 x 8 by default: 128 pairs), both methods. In one run it reports:

- tb_netviz: one `Deconvolver` call for both methods, and guided backprop alone;
- the floor: one forward+backward pass of the same N*K (image, channel) pairs as
  one batch in plain TF (tf.nn ops, a `tf.custom_gradient` ReLU), per method, the
  faster of without and with XLA. XLA on CPU needs ~0.17 GB per pair here (~21 GB
  for 128, more than this machine has), so its batch is capped by `--xla-batch`
  and the table says so;
- tf-keras-vis 0.8 guided backprop (`ExtractIntermediateLayer` +
  `GuidedBackpropagation` modifiers + `Saliency`, one call per channel over the N
  images), installed from PyPI into `.bench_venv` (created here if missing).

Floors and tf-keras-vis run in subprocesses (their memory is returned between
them) on the same weights, images and K channels (the K largest mean maxima), and
each is checked against tb_netviz's output. Times: best of `--repeats` calls after
a warm-up (trace/compile) call, whose time is shown as "first".

    python benchmarks/bench_deconv.py [--images 16] [--channels 8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

LAYER = "block3_conv1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".bench_venv")
PEER = os.path.join(ROOT, "benchmarks", "deconv_peer_tf_keras_vis.py")


def timed(fn, repeats: int) -> tuple[float, float, float, object]:
    """Returns (first call s, best later call s, its CPU s, last result).

    CPU seconds (all threads of this process) are less disturbed than wall time
    when other work shares the cores.
    """
    start = time.perf_counter()
    result = fn()
    first, times = time.perf_counter() - start, []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    best, cpu = min(times)
    return first, best, cpu, result


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def floor_child(method: str, jit: bool, batch: int, data_path: str, out: str):
    """Plain TF: the VGG16 prefix on (image, channel) pairs, seeds, one gradient."""
    data = np.load(data_path)
    k = len(data["channels"])
    x_all = np.repeat(data["images"], k, axis=0)  # pair p = (image p // k, ...)
    c_all = np.tile(data["channels"], len(data["images"])).astype(np.int32)
    params = [(tf.constant(data[f"{n}/kernel"]), tf.constant(data[f"{n}/bias"]))
              for n in data["layer_names"]]  # fmt: skip

    @tf.custom_gradient
    def relu(x):
        def grad(dy):
            if method == "deconvnet":
                return tf.nn.relu(dy)
            return tf.nn.relu(dy) * tf.cast(x > 0, dy.dtype)

        return tf.nn.relu(x), grad

    @tf.function(jit_compile=jit)
    def run(x, channel):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            h = x
            for i, (kernel, bias) in enumerate(params):
                if i in (2, 4):  # block1_pool, block2_pool
                    h = tf.nn.max_pool2d(h, 2, 2, "VALID")
                h = relu(tf.nn.conv2d(h, kernel, 1, "SAME") + bias)
        seed = h * tf.one_hot(channel, h.shape[-1])[:, None, None, :]
        return tape.gradient(h, x, output_gradients=seed)

    chunks = [
        (tf.constant(x_all[i : i + batch]), tf.constant(c_all[i : i + batch]))
        for i in range(0, len(x_all), batch)
    ]
    first, best, cpu, grads = timed(
        lambda: [run(x, c).numpy() for x, c in chunks], int(data["repeats"])
    )
    images = np.concatenate(grads)
    np.savez(out, images=images, first=first, best=best, cpu=cpu, gb=peak_gb())


def child(args: list[str], out: str) -> dict:
    subprocess.run(args, check=True)
    return dict(np.load(out, allow_pickle=False))


def ensure_venv() -> str:
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", VENV], check=True
        )
    if subprocess.run([python, "-c", "import tf_keras_vis"]).returncode:
        pip = [python, "-m", "pip", "install", "-q", "tf-keras-vis"]
        subprocess.run(pip, check=True)
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--xla-batch", type=int, default=32)
    parser.add_argument("--floor-child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child:
        method, jit, batch, data, out = args.floor_child
        return floor_child(method, jit == "1", int(batch), data, out)
    import keras

    from tb_netviz.methods import deconv, layer_activations

    n, k, repeats = args.images, args.channels, args.repeats
    keras.utils.set_random_seed(0)
    model = keras.applications.VGG16(weights=None, input_shape=(224, 224, 3))
    rng = np.random.default_rng(0)
    images = (rng.uniform(0, 255, (n, 224, 224, 3)) - 120).astype(np.float32)
    maxima = layer_activations(model, images, [LAYER])[LAYER].max(axis=(1, 2))
    channels = np.argsort(-maxima.mean(axis=0), kind="stable")[:k]

    rows = []  # (label, first s, best s, CPU s, peak GB)

    def row(*values):
        rows.append(values)
        print(
            f"{values[0]}: first {values[1]:.2f} s, best {values[2]:.2f} s", flush=True
        )

    both = deconv.Deconvolver(model, LAYER)
    first, best, cpu, ours = timed(lambda: both(images, channels), repeats)
    row("tb_netviz, both methods, one call", first, best, cpu, peak_gb())
    guided = deconv.Deconvolver(model, LAYER, methods="guided_backprop")
    first, best, cpu, _ = timed(lambda: guided(images, channels), repeats)
    row("tb_netviz, guided backprop only", first, best, cpu, peak_gb())

    names = [layer.name for layer in model.layers if layer.weights]
    names = names[: names.index(LAYER) + 1]
    weights = {f"{name}/{w}": getattr(model.get_layer(name), w).numpy()
               for name in names for w in ("kernel", "bias")}  # fmt: skip
    floor, errors = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        data, out = os.path.join(tmp, "data.npz"), os.path.join(tmp, "out.npz")
        np.savez(data, images=images, channels=channels, repeats=repeats,
                 layer_names=np.array(names), **weights)  # fmt: skip
        for method in deconv.METHODS:
            for jit, batch in ((0, n * k), (1, min(args.xla_batch, n * k))):
                cmd = [sys.executable, __file__, "--floor-child", method, str(jit),
                       str(batch), data, out]  # fmt: skip
                res = child(cmd, out)
                label = f"floor {method}, " + (
                    f"XLA ({n * k // batch} x {batch} pairs)" if jit else "no XLA"
                )
                row(label, *(float(res[key]) for key in ("first", "best", "cpu", "gb")))
                best = (float(res["best"]), float(res["cpu"]))
                floor[method] = min(floor.get(method, (np.inf,)), best)
                ref = ours.images[method]
                err = np.abs(res["images"].reshape(ref.shape) - ref).max()
                errors.append((label, err / np.abs(ref).max()))
        res = child([ensure_venv(), PEER, data, out], out)
    timings = json.loads(str(res["timings"]))
    row("tf-keras-vis guided, one call per channel", timings["warmup_s"],
        *min(timings["runs"]), timings["peak_gb"])  # fmt: skip
    ref = ours.images["guided_backprop"]
    err = np.abs(res["images"] - ref).max() / np.abs(ref).max()
    errors.append(("tf-keras-vis guided", err))

    print(f"\nVGG16 {LAYER}, {n} images x {k} channels = {n * k} pairs, TF "
          f"{tf.__version__}, {os.cpu_count()} CPUs, best of {repeats}")  # fmt: skip
    print(f"{'':44} {'first s':>8} {'best s':>8} {'CPU s':>8} {'peak GB':>8}")
    for label, *values in rows:
        print(f"{label:44} " + " ".join(f"{v:8.2f}" for v in values))
    ours_both, ours_guided, peer = (np.array(r[2:4]) for r in (*rows[:2], rows[-1]))
    floor_both = np.add(floor["deconvnet"], floor["guided_backprop"])
    ratios = [
        ("both methods / floor (sum of both)", ours_both / floor_both, "<= 1.15x"),
        ("guided only / floor guided", ours_guided / floor["guided_backprop"],
         "<= 1.15x"),
        ("tf-keras-vis guided / tb_netviz guided", peer / ours_guided, ">= 1.7x"),
    ]  # fmt: skip
    print(f"\n{'ratio':44} {'wall':>8} {'CPU':>8}   target")
    for label, (wall, cpu), target in ratios:
        print(f"{label:44} {wall:7.2f}x {cpu:7.2f}x   {target}")
    # XLA rounds differently (~1e-6), which flips the few ReLU gates and pool
    # switches whose inputs are that close: these rules are discontinuous.
    print("\nmax |difference| / max |tb_netviz|:")
    for label, err in errors:
        print(f"  {label:44} {err:.1e}")
    print(f"\ncommand: python benchmarks/bench_deconv.py --images {n} "
          f"--channels {k} --repeats {repeats} --xla-batch {args.xla_batch}")  # fmt: skip


if __name__ == "__main__":
    main()
