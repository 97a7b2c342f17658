"""Check and convert the probe batch that the callback shows the model."""

from __future__ import annotations

import keras
import numpy as np

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
