"""What every logger shares: timing, failure records, non-finite warnings."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from tb_netviz import metadata, writer


class Failure(NamedTuple):
    """A visualization that failed at run time (training went on)."""

    step: int
    kind: str  # a group of `metadata.GROUPS`
    layer: str
    message: str


class Logger:
    """Base of the loggers: subclasses set `group` and implement `_log`.

    Attributes:
      group: the group of kinds this logger writes (a key of `metadata.GROUPS`).
      layers: the layer paths it logs.
      failures: a `Failure` per layer and step that could not be logged.
      seconds: wall time of the last `log` call.
    """

    group = ""

    def __init__(self, layers: Sequence[str]):
        if self.group not in metadata.GROUPS:
            raise TypeError(f"{type(self).__name__}.group must name a kind group")
        self.layers = list(layers)
        if not self.layers:
            raise ValueError(f"{self.group}: name at least one layer")
        self.failures: list[Failure] = []
        self.seconds = 0.0

    def log(self, step: int, **extra: Any) -> bool:
        """Computes and writes this logger's records at `step`.

        Args:
          step: the training step or epoch.
          **extra: JSON-able facts added to every record's step JSON (the
            callback adds `deferred_steps`).

        Returns:
          True if every record was written; False if none could be (no
          default writer) or some failed (see `failures`).
        """
        start = time.perf_counter()
        try:
            return bool(self._log(int(step), extra))
        finally:
            self.seconds = time.perf_counter() - start

    def _log(self, step: int, extra: dict[str, Any]) -> bool:
        raise NotImplementedError

    def each_layer(self, step: int, fn: Callable[[str], object]) -> bool:
        """Runs `fn(layer)` for every layer, each failure recorded on its own.

        Returns:
          True if every layer's record was written.
        """
        return all(
            [bool(self.attempt(step, layer, fn, layer)) for layer in self.layers]
        )

    def attempt(self, step: int, layer: str, fn: Callable, *args):
        """Returns `fn(*args)`; a failure warns, is recorded and returns None."""
        try:
            return fn(*args)
        except Exception as e:  # training must go on whatever a picture does
            message = f"{type(e).__name__}: {e}"
            self.failures.append(Failure(step, self.group, layer, message))
            warnings.warn(
                f"NetViz could not log {self.group} of layer {layer!r} at step "
                f"{step} ({message}); training goes on.",
                RuntimeWarning,
                stacklevel=3,
            )
            return None

    def write(
        self,
        kind: str,
        layer: str,
        step: int,
        record: tuple[dict[str, Any], list[np.ndarray]],
        seconds: float,
        extra: dict[str, Any],
    ) -> bool:
        """Encodes and writes a record from `pictures/`.

        Its step JSON gets `seconds` (what the caller spent on it plus the PNG
        encoding) and the extras.
        """
        start = time.perf_counter()
        info, images = record
        pngs = [writer.encode_png(image) for image in images]
        seconds += time.perf_counter() - start
        info = {**info, "seconds": round(seconds, 4), **extra}
        return writer.write_record(kind, layer, step, info, pngs)


def warn_nonfinite(kind: str, layer: str, step: int) -> None:
    """Warns that a picture holds NaN/Inf (it is written and flagged)."""
    warnings.warn(
        f"NetViz: non-finite values (NaN/Inf) in {kind} of layer {layer!r} at step "
        f"{step}; the picture is written and flagged, training goes on.",
        RuntimeWarning,
        stacklevel=3,
    )
