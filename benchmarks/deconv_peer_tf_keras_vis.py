"""tf-keras-vis guided backprop on the benchmark's VGG16 prefix; run by bench_deconv.py.

Runs inside the peer venv (`peers.py`: tf-keras-vis at its pinned version), in
its own process so its imports and model clone cannot touch the tb_netviz
measurement. Usage, as bench_deconv.py calls it:

    PEER_VENV/bin/python benchmarks/deconv_peer_tf_keras_vis.py DATA.npz OUT.npz

DATA.npz holds `images` (N, S, S, 3) (S: 224 by default), `channels` (K,), `repeats` and the
block1_conv1..block3_conv1 weights; OUT.npz receives `images` (N, K, S, S, 3)
(raw signed gradients) and the timings as JSON.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from tf_keras_vis.saliency import Saliency
from tf_keras_vis.utils.model_modifiers import (
    ExtractIntermediateLayer,
    GuidedBackpropagation,
)

LAYER = "block3_conv1"


def main(data_path: str, out_path: str) -> None:
    data = np.load(data_path)
    images, channels = data["images"], [int(c) for c in data["channels"]]
    repeats = int(data["repeats"])
    model = tf.keras.applications.VGG16(weights=None, input_shape=images.shape[1:])
    for name in data["layer_names"]:
        model.get_layer(str(name)).set_weights(
            [data[f"{name}/kernel"], data[f"{name}/bias"]]
        )

    start = time.perf_counter()
    saliency = Saliency(
        model,
        model_modifier=[ExtractIntermediateLayer(LAYER), GuidedBackpropagation()],
        clone=True,
    )
    setup_s = time.perf_counter() - start

    def one_channel(c: int) -> np.ndarray:
        # Seed = the channel's own feature map, as in tb_netviz: the gradient of
        # sum(y_c * stop_gradient(y_c)) w.r.t. the input. Raw signed gradients.
        def score(output):
            y = output[..., c]
            return tf.reduce_sum(y * tf.stop_gradient(y), axis=[1, 2])

        return saliency(
            score, images, keepdims=True, normalize_map=False, gradient_modifier=None
        )

    start = time.perf_counter()
    one_channel(channels[0])  # warm-up: oneDNN primitives, first eager calls
    warmup_s = time.perf_counter() - start
    runs = []  # (wall s, CPU s of this process)
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = np.stack([one_channel(c) for c in channels], axis=1)
        runs.append((time.perf_counter() - start, time.process_time() - cpu))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    timings = {
        "setup_s": setup_s,
        "warmup_s": warmup_s,
        "runs": runs,
        "peak_gb": peak_gb,
    }
    np.savez(out_path, images=result.astype(np.float32), timings=json.dumps(timings))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
