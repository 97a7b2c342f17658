"""What every logger shares: timing, failure records, non-finite warnings."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from tb_netviz import metadata, writer
from tb_netviz.methods.common.traced import tracing_seconds


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
      shrinks: the setting the overhead budget may make smaller (`"steps"`),
        or None: the logger's work does not shrink (it runs whole, or waits).
      layers: the layer paths it logs.
      failures: a `Failure` per layer and step that could not be logged.
      seconds: wall time of the last `log` call.
      tracing_seconds: the part of it spent building graphs (a first call).
      scale: the share of its work the last call did (1.0 unless it shrinks).
    """

    group = ""
    shrinks: str | None = None

    def __init__(self, layers: Sequence[str]):
        if self.group not in metadata.GROUPS:
            raise TypeError(f"{type(self).__name__}.group must name a kind group")
        self.layers = list(layers)
        if not self.layers:
            raise ValueError(f"{self.group}: name at least one layer")
        self.failures: list[Failure] = []
        self.seconds = 0.0
        self.tracing_seconds = 0.0
        self.scale = 1.0

    def log(self, step: int, scale: float = 1.0, **extra: Any) -> bool:
        """Computes and writes this logger's records at `step`.

        Args:
          step: the training step or epoch.
          scale: the share of its work to do, in (0, 1]; below 1 a logger
            that `shrinks` does that share of its setting (`shrunk` below),
            the others do all of it.
          **extra: JSON-able facts added to every record's step JSON (the
            callback adds `deferred_steps`).

        Returns:
          True if every record was written; False if none could be (no
          default writer) or some failed (see `failures`).
        """
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"scale must be in (0, 1], got {scale!r}")
        self.scale = float(scale) if self.shrinks else 1.0
        start, traces = time.perf_counter(), tracing_seconds()
        try:
            return bool(self._log(int(step), extra))
        finally:
            self.seconds = time.perf_counter() - start
            self.tracing_seconds = tracing_seconds() - traces

    def shrunk(self, full: int, extra: dict[str, Any]) -> int:
        """`full` (the `shrinks` setting) times `scale`, at least 1; when that
        is less than `full`, `extra` (the step JSON's facts) gets
        `shrunk: {setting: [done, full]}` for the panel to say so."""
        done = max(1, round(full * self.scale))
        if done < full:
            extra["shrunk"] = {self.shrinks: [done, int(full)]}
        return done

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
