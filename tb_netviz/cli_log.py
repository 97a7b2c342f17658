"""`tb-netviz log`: load a saved model and a probe, write every requested kind.

Separate from `cli.py` so that `tb-netviz serve` and `--help` never import
TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tb_netviz import config, loggers, metadata

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def load_model(path: str) -> keras.Model:
    """Loads a `.keras` or `.h5` model, or explains why it cannot."""
    if not os.path.exists(path):
        raise ValueError(f"model file {path!r} does not exist")
    if os.path.isdir(path):
        raise ValueError(
            f"{path!r} is a folder (a TensorFlow SavedModel?): Keras 3 loads only "
            ".keras and .h5 files as models. Re-save it with model.save('model.keras')."
        )
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # any loader error: the file is not a model we can read
        raise ValueError(
            f"{path!r} is not a Keras model that Keras can load ({e})"
        ) from None
    if not isinstance(model, keras.Model):
        raise ValueError(f"{path!r} holds a {type(model).__name__}, not a keras.Model")
    return model


def _image_files(items: list[str], what: str) -> list[Path]:
    files = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files += sorted(
                p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
            )
        elif path.exists():
            files.append(path)
        else:
            raise ValueError(f"{what} file {item!r} does not exist")
    if not files:
        raise ValueError(f"no PNG or JPEG images in {', '.join(items)}")
    return files


def load_probe(
    model: keras.Model, items: list[str], input_range, what: str = "probe"
) -> tuple[np.ndarray, tuple]:
    """The probe (or examples) batch and the input range: a `.npy` array, or
    images resized to the model's input and mapped from 0..255 onto
    `input_range` (default 0..1)."""
    if len(items) == 1 and items[0].endswith(".npy"):
        if not os.path.exists(items[0]):
            raise ValueError(f"{what} file {items[0]!r} does not exist")
        probe = np.load(items[0])
        return probe, tuple(input_range) if input_range else config.infer_input_range(
            probe
        )
    shape = tuple(model.inputs[0].shape)
    if len(model.inputs) != 1 or len(shape) != 4:
        raise ValueError(
            f"image probes need a model with one image input; {model.name!r} takes "
            f"{[tuple(t.shape) for t in model.inputs]}: pass a .npy probe instead"
        )
    _, height, width, channels = shape
    lo, hi = input_range or (0.0, 1.0)
    images = []
    for path in _image_files(items, what):
        try:
            image = tf.io.decode_image(
                tf.io.read_file(str(path)), expand_animations=False
            )
        except tf.errors.OpError as e:
            raise ValueError(
                f"{path} is not a PNG or JPEG image ({e.message})"
            ) from None
        if channels is not None and image.shape[-1] != channels:
            raise ValueError(
                f"{path} has {image.shape[-1]} colour channel(s) but the model takes "
                f"{channels}; convert it (e.g. to {'grayscale' if channels == 1 else 'RGB'})"
            )
        size = (height or image.shape[0], width or image.shape[1])
        if tuple(image.shape[:2]) != size:
            print(
                f"tb-netviz: note: {path} is {image.shape[1]}x{image.shape[0]}, "
                f"resized to the model's {size[1]}x{size[0]}"
            )
            image = tf.image.resize(image, size, antialias=True)
        images.append(lo + tf.cast(image, tf.float32).numpy() / 255.0 * (hi - lo))
    return np.stack(images), (lo, hi)


def _fmt(lo: float, hi: float) -> str:
    return f"{lo:.4g}..{hi:.4g}"


def describe_probe(
    batch: np.ndarray, input_range, images: bool, source: str, what: str = "probe"
) -> str:
    """One line on how a batch was read: count, size, channels, range mapping.

    Args:
      batch: the batch as the model gets it, `(N, *input_shape)`.
      input_range: the model's `(lo, hi)`.
      images: whether it came from PNG/JPEG files (0..255, mapped linearly).
      source: where the range came from: "given by --input-range", "the
        default" (images), "inferred from the values" (a `.npy` probe).
      what: "probe" or "exemplars".

    Returns:
      e.g. "tb-netviz: probe: 3 images of 16x16 pixels, 3 channels; PNG/JPEG
      values 0..255 mapped linearly onto the input range 0..1 (the default)".
    """
    n, *size = batch.shape
    if len(size) == 3:
        height, width, channels = size
        shape = f"of {height}x{width} pixels, {channels} channel{'s' * (channels != 1)}"
    else:
        shape = f"of shape {tuple(size)}"
    lo, hi = (float(v) for v in input_range)
    if images:
        how = f"PNG/JPEG values 0..255 mapped linearly onto the input range {_fmt(lo, hi)} ({source})"
        return f"tb-netviz: {what}: {n} image{'s' * (n != 1)} {shape}; {how}"
    values = _fmt(float(np.min(batch)), float(np.max(batch)))
    how = f"values {values} used as they are; input range {_fmt(lo, hi)} ({source})"
    return f"tb-netviz: {what}: {n} input{'s' * (n != 1)} {shape}; {how}"


def specs(args, model: keras.Model, input_range, source: str) -> list[loggers.Spec]:
    """The kinds of `tb-netviz log`: the light ones always, every heavy kind
    whose flag is set (`--ascent`, `--sanity`, ...), exemplars with
    `--exemplars` (read onto the probe's `input_range`, and described; see
    `describe_probe` for `source`)."""
    given: dict[str, loggers.Spec | None] = {}
    held_out = None  # the --exemplars data, read once
    for group, spec in loggers.SPECS.items():
        flag = getattr(args, group, None)
        if group in metadata.LIGHT:
            given[group] = spec() if spec.default else None
        elif group == "exemplars" and flag:
            examples, _ = load_probe(model, flag, input_range, group)
            images = not (len(flag) == 1 and flag[0].endswith(".npy"))
            print(describe_probe(examples, input_range, images, source, group))
            given[group] = spec(examples)
            held_out = examples
        elif group == "concepts" and flag:
            if held_out is None:
                raise ValueError(
                    "--concepts factorizes a layer's activations over held-out "
                    "examples: give them with --exemplars FILES_OR_DIR"
                )
            given[group] = spec(held_out)
        else:
            given[group] = spec() if flag else None
    return loggers.choose(given, "tb-netviz log")


def run(args) -> None:
    """Writes the run for `tb-netviz log` (see `cli.py`); raises `ValueError`."""
    model = load_model(args.model)
    probe, input_range = load_probe(model, args.probe, args.input_range)
    probe = config.check_probe(model, probe)
    images = not (len(args.probe) == 1 and args.probe[0].endswith(".npy"))
    if args.input_range is not None:
        source = "given by --input-range"
    else:
        source = "the default" if images else "inferred from the values"
    if not isinstance(probe, list):
        print(describe_probe(probe, input_range, images, source))
    layers = config.choose_layers(
        model, args.layers or None, "tb-netviz: --layers not given"
    )
    onto = source.replace("the values", "the probe's values")  # the examples'
    chosen = specs(args, model, input_range, onto)
    work = loggers.build(chosen, model, probe, layers, input_range)
    run_dir = f"{args.logdir.rstrip('/')}/{metadata.RUN_SUBDIR}"
    bar = keras.utils.Progbar(len(work), unit_name="kind")
    writer = tf.summary.create_file_writer(run_dir)
    with writer.as_default():
        for i, logger in enumerate(work.values()):
            logger.log(args.step)
            bar.update(i + 1)
    writer.close()
    failures = [f for logger in work.values() for f in logger.failures]
    for f in failures:
        print(f"tb-netviz: could not log {f.kind} of {f.layer!r}: {f.message}")
    if failures:
        raise ValueError(
            f"{len(failures)} visualization(s) failed; the rest is in {run_dir}"
        )
    print(f"tb-netviz: wrote {run_dir}; see it with: tb-netviz serve {args.logdir}")
