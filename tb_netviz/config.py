"""Configuration checks: probe, default layers, input range, frequencies, chief.

Everything here runs before the first batch (or when a logger is built), so a
mistake stops `fit` with a message that says what to do instead of failing
later inside TensorFlow.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tb_netviz.methods.common import class_scores
from tb_netviz.methods.common import default_layers as default_layers_lib
from tb_netviz.methods.common.layers import check_input_range

MAX_PROBES = 64


def _expected_shapes(model: keras.Model) -> list[tuple]:
    return [tuple(t.shape) for t in model.inputs]


def check_probe(model: keras.Model, probe) -> np.ndarray | list[np.ndarray]:
    """Returns the probe as array(s) of the model's input dtype, or explains the misfit.

    Args:
      model: a built model.
      probe: array `(N, *input_shape)` with N <= `MAX_PROBES`; a list of arrays
        for a model with several inputs; or an `(x, y)` batch from a dataset.

    Returns:
      One array (one-input model) or a list of arrays, cast to the input dtypes.

    Raises:
      ValueError: wrong shape, non-numeric dtype, too many samples, or a model
        without symbolic inputs.
    """
    if not getattr(model, "inputs", None):
        raise ValueError(
            f"Model {model.name!r} has no symbolic inputs (never built, or "
            "subclassed). Build it on a keras.Input before fit."
        )
    expected = _expected_shapes(model)
    parts = list(probe) if isinstance(probe, (list, tuple)) else [probe]
    if len(expected) == 1 and isinstance(probe, tuple) and len(parts) == 2:
        parts = parts[:1]  # an (x, y) batch taken from a dataset
    if len(parts) != len(expected):
        raise ValueError(
            f"probe has {len(parts)} arrays but model {model.name!r} takes "
            f"{len(expected)} inputs"
        )
    arrays = []
    for part, shape, tensor in zip(parts, expected, model.inputs):
        arr = np.asarray(part)
        if arr.dtype.kind not in "biuf":
            raise ValueError(
                f"probe has dtype {arr.dtype}; it must be numeric like the model "
                f"input ({tensor.dtype})"
            )
        fits = arr.ndim == len(shape) and all(
            e is None or e == a for e, a in zip(shape[1:], arr.shape[1:])
        )
        if not fits:
            raise ValueError(
                f"probe has shape {arr.shape} but model {model.name!r} expects "
                f"inputs of shape {shape}; pass a small batch such as x_val[:8]"
            )
        if not 0 < len(arr) <= MAX_PROBES:
            raise ValueError(
                f"probe has {len(arr)} inputs; pass between 1 and {MAX_PROBES}, "
                "e.g. x_val[:8] (the probe is a small batch, not a dataset)"
            )
        arrays.append(arr.astype(tensor.dtype))
    return arrays[0] if len(arrays) == 1 else arrays


def is_chief(model: keras.Model) -> bool:
    """True unless training runs under a multi-worker strategy on a non-chief task."""
    strategy = (
        getattr(model, "distribute_strategy", None) or tf.distribute.get_strategy()
    )
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def choose_layers(model: keras.Model, layers, said: str) -> list[str]:
    """`layers` as a list, or the default layers, printed with their reasons.

    The defaults (see `methods/default_layers.py`) are the stem's first
    non-linearity, a block output in the middle, and the last feature map
    before the head; `said` starts the printed line (who chose them). A
    layer that is the model's outputs (`class_scores`) is labelled so, e.g.
    "7 channels = the model's outputs", chosen by default or by the user.

    Raises:
      ValueError: the model has nothing to show (the message lists its layers).
    """
    outputs = class_scores.notes(model)
    if layers is not None:
        for path in (p for p in layers if p in outputs):
            print(f"{said.split(':')[0]}: layer {path}: {outputs[path]} (class scores)")
        return list(layers)
    chosen = default_layers_lib.choose(model)
    shown = "; ".join(
        f"{c.path} ({c.reason}{'; ' + outputs[c.path] if c.path in outputs else ''})"
        for c in chosen
    )
    print(f"{said}, showing {shown}")
    return [c.path for c in chosen]


def check_freq(name: str, value: int, allow_zero: bool) -> int:
    """Returns `value` if it is an integer >= 1 (>= 0 with `allow_zero`), else raises."""
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = "an integer >= 0 (0 turns it off)" if allow_zero else "an integer >= 1"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


def probe_labels(model: keras.Model, probe) -> np.ndarray | None:
    """The labels of an `(x, y)` probe batch of a one-input model, else None."""
    if len(model.inputs) == 1 and isinstance(probe, tuple) and len(probe) == 2:
        return np.asarray(probe[1])
    return None


def check_probe_batch(probe):
    """Returns `probe` unless it is a whole `tf.data.Dataset` (ValueError)."""
    if isinstance(probe, tf.data.Dataset):
        raise ValueError(
            "probe is a whole tf.data.Dataset; pass one small batch instead, "
            "e.g. probe=next(iter(dataset))[0][:8]"
        )
    return probe


def infer_input_range(probe) -> tuple[float, float]:
    """Guesses the model's input range from a probe batch.

    Returns the smallest common range that holds the probe: (0, 1), (-1, 1),
    (0, 255) or (-128, 128), else the probe's own (min, max).
    """
    parts = probe if isinstance(probe, (list, tuple)) else [probe]
    values = np.concatenate([np.asarray(p, np.float64).reshape(-1) for p in parts])
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    for a, b in ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0), (-128.0, 128.0)):
        if a <= lo and hi <= b:
            return a, b
    return (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)


def choose_input_range(probe, given, said: str | None) -> tuple[float, float]:
    """`given` checked, or the range inferred from the probe (printed after
    `said`, unless None)."""
    if given is not None:
        return check_input_range(given)
    inferred = infer_input_range(probe)
    if said is not None:
        print(f"{said}, using {inferred} inferred from the probe")
    return inferred


def check_budget(name: str, value: float | None, allow_none: bool) -> float | None:
    """Returns `value` as a float > 0 (or None when allowed), else raises."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        what = "a number > 0, or None to turn it off" if allow_none else "a number > 0"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return float(value)
