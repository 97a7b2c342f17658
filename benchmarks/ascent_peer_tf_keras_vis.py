"""tf-keras-vis activation maximization for `bench_ascent.py`, batched and one by one.

Runs inside the peer venv (`peers.py`: tf-keras-vis at its pinned version), in
its own process so its imports cannot touch the tb_netviz measurement. Usage,
as bench_ascent.py calls it:

    PEER_VENV/bin/python benchmarks/ascent_peer_tf_keras_vis.py SIZE STEPS K

The same VGG16 (`bench_ascent.build_model`), layer and input range; pixels
with `Jitter(jitter=4)` and Adam, no regularizer: one call with a batch of K
channels and K calls of one, after a 2-step warm-up. Prints the seconds per
step (wall and process CPU) as one line of JSON.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common
from bench_ascent import LAYER, RANGE, build_model


def peer(size: int, steps: int, k: int) -> dict:
    """tf-keras-vis on K channels: batched and sequential, seconds per step."""
    import keras
    import tensorflow as tf
    from tf_keras_vis.activation_maximization import ActivationMaximization
    from tf_keras_vis.activation_maximization.input_modifiers import Jitter
    from tf_keras_vis.utils.model_modifiers import ExtractIntermediateLayer

    model = build_model(size)
    vis = ActivationMaximization(
        model, model_modifier=ExtractIntermediateLayer(LAYER), clone=True
    )

    def run(channels, n_steps):
        def score(output):  # each image's own channel mean, shape (batch,)
            return tf.stack(
                [tf.reduce_mean(output[i, ..., c]) for i, c in enumerate(channels)]
            )

        seed = tf.random.stateless_uniform(
            [len(channels), size, size, 3], [0, 0], *RANGE
        )
        return vis(
            score,
            seed_input=seed,
            input_range=RANGE,
            input_modifiers=[Jitter(jitter=4)],
            regularizers=[],
            steps=n_steps,
            optimizer=keras.optimizers.Adam(learning_rate=0.05 * 255.0),
        )

    run(list(range(k)), 2)  # warm-up: kernels and op caches
    batched = common.timed(lambda: run(list(range(k)), steps))
    sequential = common.timed(lambda: [run([c], steps) for c in range(k)])
    return {
        "batched_s_per_step": batched[0] / steps,
        "batched_cpu_s_per_step": batched[1] / steps,
        "sequential_s_per_step": sequential[0] / steps,
        "sequential_cpu_s_per_step": sequential[1] / steps,
    }


if __name__ == "__main__":
    size, steps, k = (int(a) for a in sys.argv[1:4])
    print(json.dumps(peer(size, steps, k)))
