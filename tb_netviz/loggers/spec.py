"""A kind group's spec: its user settings and its schedule, and how it builds
its logger.

Each group's spec lives with its logger (`loggers/<group>.py`) and is
exported from the package root:

    NetVizCallback("logs/run1", probe=x_val[:8], ascent=Ascent(freq=5))

A spec's settings are named exactly as its logger's keywords and are checked
in one place, the logger's constructor (the assembler builds every logger
before the first batch). The spec checks only its own schedule.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import keras
import numpy as np

from tb_netviz import metadata
from tb_netviz.loggers.base import Logger

# When a spec runs. EPOCHS: at the epochs its `freq` says (None: the first
# and the last epoch of the fit, so there are pictures of the untrained and
# of the trained model); ONCE: at the first step anything is logged.
EPOCHS = "epochs"
ONCE = "once"


@dataclasses.dataclass(frozen=True)
class Context:
    """What every logger is built from.

    Attributes:
      model: the built Keras model.
      probe: the checked probe batch `(N, *input_shape)` (a list of arrays for
        several inputs).
      labels: the probe's labels `(N,)` or `(N, classes)` when the probe was
        an `(x, y)` batch, else None.
      layers: the layers shown by default (given, or chosen and printed).
      input_range: `(lo, hi)` of the model's inputs.
      built: the loggers of the groups built before this one (a spec's
        `needs` are built first).
    """

    model: keras.Model
    probe: Any
    labels: np.ndarray | None
    layers: tuple[str, ...]
    input_range: tuple[float, float]
    built: Mapping[str, Logger]


class Spec:
    """Base of the specs: subclasses are frozen dataclasses made by `spec`.

    Class attributes:
      group: the kind group (a key of `metadata.GROUPS`).
      needs: groups whose loggers this one reads when they are on (built and
        run before it at the same step).
      when: `EPOCHS` or `ONCE`.
      default: on when the callback is not told otherwise.
    """

    group: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()
    when: ClassVar[str] = EPOCHS
    default: ClassVar[bool] = False
    freq: int | None

    @property
    def heavy(self) -> bool:
        """Its cost can dwarf a training epoch (not in `metadata.LIGHT`): the
        overhead budget applies."""
        return self.group not in metadata.LIGHT

    def build(self, context: Context) -> Logger:
        """The logger of these settings (it checks them: `ValueError`)."""
        raise NotImplementedError

    def due(self, epoch: int, final: bool) -> bool:
        """Whether this spec runs after 0-based `epoch` (`final`: the last)."""
        if self.when == ONCE:
            return False  # the callback logs it at its first step
        if self.freq is None:
            return epoch == 0 or final
        return final or (epoch + 1) % self.freq == 0

    def settings(self) -> dict[str, Any]:
        """The logger's keywords: every field but the schedule (`freq`)."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.name != "freq"
        }


def spec(cls: type) -> type:
    """Makes `cls` (a `Spec` subclass) a frozen dataclass whose constructor
    names the spec and its fields on a misspelled or misplaced setting, and
    checks `freq` (an integer >= 1, or None)."""
    cls = dataclasses.dataclass(frozen=True)(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        unknown = sorted(set(kwargs) - set(names))
        if unknown or len(args) > len(names):
            what = ", ".join(unknown) or f"{len(args)} positional settings"
            raise TypeError(
                f"{cls.__name__} has no setting {what}; its settings are "
                f"{', '.join(names)}"
            )
        init(self, *args, **kwargs)
        freq = self.freq
        if freq is not None and (
            isinstance(freq, bool) or not isinstance(freq, int) or freq < 1
        ):
            raise ValueError(
                f"{cls.__name__}(freq=...) must be an integer >= 1 (every N epochs), "
                f"or None (the first and the last epoch), got {freq!r}"
            )

    cls.__init__ = __init__
    return cls
