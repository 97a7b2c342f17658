"""The small CNN fit that the callback benchmarks time, and hook timers.

Conv32-Pool-Conv64-Pool-Dense10 on synthetic 32x32x3 data, batch 32. Every fit
gets a fresh model with the same initial weights and the same shuffling seed.
"""

from __future__ import annotations

import functools
import gc
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BATCH = 32
N_PROBES = 8
HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_begin",
    "on_batch_end",
)


def build_model():
    import keras

    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(name="pool1"),
            layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(10, name="logits"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def ready(build, weights):
    """A new model from `build()` holding `weights`, compiled with Adam 1e-3 and
    sparse cross-entropy from logits, with the shuffling seed set and garbage
    collected: where each of the interleaved fits of the demo-CNN benchmarks
    starts."""
    import keras

    model = build()
    model.set_weights(weights)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    keras.utils.set_random_seed(1)  # same shuffling in every fit
    gc.collect()
    return model


def data(samples: int):
    """`(x, y, probe, initial weights)`, the same in every call."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 1.0, (samples, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, samples).astype("int32")
    keras.utils.set_random_seed(0)
    return x, y, x[:N_PROBES], build_model().get_weights()


def time_hooks(callback) -> dict:
    """Wraps every hook the callback overrides with a timer; returns the tally.

    Only overridden hooks are wrapped, and the wrapper keeps Keras's
    `_is_default` marker, so Keras schedules the callback exactly as before.
    """
    from keras.src.utils import python_utils

    tally = {"seconds": 0.0, "cpu_seconds": 0.0, "calls": 0}
    for name in HOOKS:
        method = getattr(callback, name)
        if python_utils.is_default(method):
            continue

        @functools.wraps(method)
        def timed(*args, _method=method, **kwargs):
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return _method(*args, **kwargs)
            finally:
                tally["seconds"] += time.perf_counter() - start
                tally["cpu_seconds"] += time.process_time() - cpu
                tally["calls"] += 1

        setattr(callback, name, timed)
    return tally


def group_of_kind() -> dict[str, str]:
    from tb_netviz import metadata

    return {kind: group for group, kinds in metadata.GROUPS.items() for kind in kinds}


def time_loggers(cb) -> dict[str, list[dict]]:
    """Wraps each logger's `log` once the callback has built them (in
    `on_train_begin`); returns `{group: [call, ...]}`, filled as the fit runs,
    a call `{"seconds", "tracing_s", "scale"}`: its wall time timed around it,
    the part the logger spent building graphs, the share of work it did."""
    calls: dict[str, list[dict]] = {}
    begin = cb.on_train_begin

    @functools.wraps(begin)
    def on_train_begin(*args, **kwargs):
        out = begin(*args, **kwargs)
        for group, logger in getattr(cb, "_loggers", {}).items():
            calls.setdefault(group, [])

            def log(*a, _logger=logger, _log=logger.log, _group=group, **k):
                start = time.perf_counter()
                try:
                    return _log(*a, **k)
                finally:
                    calls[_group].append(
                        {
                            "seconds": round(time.perf_counter() - start, 4),
                            "tracing_s": round(_logger.tracing_seconds, 4),
                            "scale": round(_logger.scale, 3),
                        }
                    )

            logger.log = log
        return out

    cb.on_train_begin = on_train_begin
    return calls


def fit(weights, x, y, epochs: int, callbacks: list) -> dict:
    """One `fit` of a fresh model; `callbacks[0]`'s hooks are timed if any."""
    import keras

    model = build_model()
    model.set_weights(weights)
    tally = time_hooks(callbacks[0]) if callbacks else None
    keras.utils.set_random_seed(1)  # same shuffling in every fit
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=callbacks)
    result = {
        "fit_s": time.perf_counter() - start,
        "fit_cpu_s": time.process_time() - cpu,
    }
    if tally is not None:
        result.update(hook_s=tally["seconds"], hook_cpu_s=tally["cpu_seconds"])
        result["hook_calls"] = tally["calls"]
    return result


def logged_steps(run_dir: str) -> dict:
    """`{tag: {step: seconds}}` of the NetViz step-JSON series in `run_dir`
    (`seconds`: what the logger recorded for that record)."""
    import json

    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(run_dir, size_guidance={"tensors": 0})
    acc.Reload()
    found = {}
    for tag in acc.Tags()["tensors"]:
        if ".info/" in tag:
            found[tag] = {
                e.step: json.loads(e.tensor_proto.string_val[0]).get("seconds")
                for e in acc.Tensors(tag)
            }
    return found
