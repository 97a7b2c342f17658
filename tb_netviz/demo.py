"""Demo: train two small CNNs that differ in learning rate and log NetViz pictures.

Every epoch it logs activations (conv1, conv2, dense), feature visualizations
of 8 channels of conv1 and conv2, deconvnet and guided-backprop
reconstructions of the probe inputs and every channel's health (units: the
1e-2 run loses many of its ReLUs); every second epoch each conv2 channel's
top 9 of 1000 held-out examples (exemplars); once per run the model map and
the probe, and at the end a sanity check of the deconvolutions. Every epoch
also the attribution maps of the probe for its labels (Grad-CAM, Saliency,
Integrated Gradients), with their faithfulness and randomization check, and
every second epoch conv2's concepts over the held-out examples.

Run `python -m tb_netviz.demo --logdir demo_logs`, then
`tensorboard --logdir demo_logs` and open the NetViz tab. `run_all` is also the
library function that tests use to build fixture logdirs. The data is generated
here (no downloads): four classes of 32x32 colour pictures (horizontal stripes,
vertical stripes, disks, checkerboards) with random colours, phases and noise.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import keras
import numpy as np

from tb_netviz.callback import NetVizCallback
from tb_netviz.loggers import (
    Accentuation,
    Ascent,
    Attribution,
    Concepts,
    Deconv,
    Exemplars,
    Sanity,
)

CLASSES = ("h_stripes", "v_stripes", "disk", "checker")
SIZE = 32


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generates the demo dataset.

    Returns:
      `(x, y)`: float32 images `(n, 32, 32, 3)` in [0, 1], int labels `(n,)`
      cycling through the four classes.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    y = np.arange(n) % len(CLASSES)
    x = np.empty((n, SIZE, SIZE, 3), np.float32)
    for i, label in enumerate(y):
        period = rng.uniform(4, 10)
        phase = rng.uniform(0, 2 * np.pi)
        if label == 0:
            mask = np.sin(2 * np.pi * yy / period + phase) > 0
        elif label == 1:
            mask = np.sin(2 * np.pi * xx / period + phase) > 0
        elif label == 2:
            cy, cx, r = rng.uniform(8, 24), rng.uniform(8, 24), rng.uniform(5, 11)
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        else:
            cell = int(period)
            mask = ((yy // cell + xx // cell) % 2) == 0
        fg, bg = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
        img = np.where(mask[..., None], fg, bg) + rng.normal(0, 0.05, (SIZE, SIZE, 3))
        x[i] = np.clip(img, 0, 1)
    return x, y.astype(np.int32)


def make_model(seed: int = 0) -> keras.Model:
    """The demo CNN: conv1(16) - pool - conv2(32) - pool - dense(32) - logits(4)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(16, 3, activation="relu", padding="same", name="conv1"),
            keras.layers.MaxPooling2D(name="pool1"),
            keras.layers.Conv2D(32, 3, activation="relu", padding="same", name="conv2"),
            keras.layers.MaxPooling2D(name="pool2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(32, activation="relu", name="dense"),
            keras.layers.Dense(len(CLASSES), name="logits"),
        ],
        name="demo_cnn",
    )


def run_all(
    logdir: str,
    epochs: int = 5,
    samples: int = 1200,
    learning_rates: Sequence[float] = (1e-3, 1e-2),
    seed: int = 0,
    ascent_steps: int = 256,
    examples: int = 1000,
) -> list[str]:
    """Trains one run per learning rate and logs NetViz summaries for each.

    Args:
      logdir: parent folder; run `lr_<rate>` goes to `<logdir>/lr_<rate>` with its
        NetViz data in `<logdir>/lr_<rate>/netviz` and Keras scalars beside it.
      epochs: epochs per run; NetViz logs at every epoch.
      samples: training examples generated.
      learning_rates: one run per Adam learning rate.
      seed: seed for data and weights.
      ascent_steps: gradient-ascent steps per feature visualization.
      examples: held-out examples ranked for exemplars and unit health (0: off).

    Returns:
      The run directories, in order.
    """
    x, y = make_data(samples, seed)
    probe = make_data(8, seed + 1)  # (x, labels): the labels are the targets
    held_out, held_labels = make_data(examples, seed + 2) if examples else (None, None)
    run_dirs = []
    shown = ["conv1", "conv2"]  # the pictures in input space
    for rate in learning_rates:
        run_dir = f"{logdir.rstrip('/')}/lr_{rate:g}"
        model = make_model(seed)
        model.compile(
            optimizer=keras.optimizers.Adam(rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        callbacks = [
            keras.callbacks.TensorBoard(run_dir, write_graph=False),
            NetVizCallback(
                run_dir,
                probe,
                layers=["conv1", "conv2", "dense"],
                input_range=(0.0, 1.0),
                # A showcase of every kind at every epoch; a real fit keeps
                # the default budget (0.25 of the training time).
                overhead_budget=None,
                ascent=Ascent(freq=1, layers=shown, channels=8, steps=ascent_steps),
                deconv=Deconv(freq=1, layers=shown),
                accentuation=Accentuation(freq=1, layers=shown),
                sanity=Sanity(layers=shown),
                # Every second epoch keeps the committed demo_logs small.
                exemplars=None
                if held_out is None
                else Exemplars(held_out, freq=2, top_k=9, layers=["conv2"]),
                attribution=Attribution(freq=1, class_names=CLASSES),
                concepts=None
                if held_out is None
                else Concepts(
                    held_out,
                    freq=2,
                    layers=["conv2"],
                    labels=held_labels,
                    class_names=CLASSES,
                ),
            ),
        ]
        model.fit(x, y, batch_size=32, epochs=epochs, callbacks=callbacks, verbose=0)
        run_dirs.append(run_dir)
    return run_dirs


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="demo_logs")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)
    for run in run_all(args.logdir, epochs=args.epochs):
        print("wrote", run)
    print(f"now run: tensorboard --logdir {args.logdir}")


if __name__ == "__main__":
    main()
