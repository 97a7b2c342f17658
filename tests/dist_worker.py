"""Subprocess entry for the distributed tests: fit under a strategy, then exit.

Usage: python dist_worker.py mirrored LOG_DIR
       python dist_worker.py multiworker LOG_DIR   (with TF_CONFIG set)
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf


def main(kind: str, log_dir: str) -> None:
    if kind == "mirrored":
        (cpu,) = tf.config.list_physical_devices("CPU")
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        assert strategy.num_replicas_in_sync == 2
    else:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    from models import compiled, data, small_cnn

    from tb_netviz import NetVizCallback

    x, y = data(64)
    with strategy.scope():
        model = compiled(small_cnn())
    cb = NetVizCallback(
        log_dir,
        probe=x[:2],
        layers=["conv1", "conv2"],
        ascent=None,
        deconv=None,
        units=None,
        sanity=None,
    )
    if kind == "mirrored":
        model.fit(x, y, epochs=2, batch_size=16, callbacks=[cb], verbose=0)
    else:
        # Keras 3.15's fit fails under MultiWorkerMirroredStrategy before the first
        # batch (its symbolic build reduces PerReplica inputs), so drive the same
        # callback hooks from a distributed custom loop, as Keras' fit would.
        _custom_loop(strategy, model, cb, x, y)
    assert cb.failures == [], cb.failures
    print("DONE", kind, flush=True)


def _custom_loop(strategy, model, cb, x, y) -> None:
    import keras

    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    dist = strategy.experimental_distribute_dataset(ds)
    with strategy.scope():
        optimizer = keras.optimizers.SGD(0.01)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(batch):
        def replica_step(bx, by):
            with tf.GradientTape() as tape:
                loss = loss_fn(by, model(bx, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))

        strategy.run(replica_step, args=batch)

    cb.set_model(model)
    cb.on_train_begin()
    for epoch in range(2):
        for i, batch in enumerate(dist):
            step(batch)
            cb.on_train_batch_end(i)
        cb.on_epoch_end(epoch)
    cb.on_train_end()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
