"""The one assembler: the specs of a fit (or of `tb-netviz log`) turned into
loggers, in the order their `needs` ask for.

The callback and the CLI both call `choose` and `build`; neither names a
group.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence

import keras
import numpy as np

from tb_netviz import metadata
from tb_netviz.loggers.base import Logger
from tb_netviz.loggers.spec import Context, Spec

# Every spec class, by its group: each group of the vocabulary
# (`metadata.GROUPS`) has its module `loggers/<group>.py` and in it its spec,
# the group's name capitalized. Adding a kind is its column and the vocabulary.
SPECS: dict[str, type[Spec]] = {
    group: getattr(
        importlib.import_module(f"tb_netviz.loggers.{group}"), group.capitalize()
    )
    for group in metadata.GROUPS
}


def choose(given: Mapping[str, Spec | None], who: str) -> list[Spec]:
    """The specs of a run: each group's default spec where it is on by
    default, replaced by the given ones (`None` turns a group off).

    Args:
      given: `{group: spec or None}`, e.g. the callback's keywords.
      who: names the caller in errors (`"NetVizCallback"`).

    Raises:
      TypeError: a keyword that is no group, or a spec under another
        group's keyword (the message lists the groups and their specs).
    """
    listed = ", ".join(f"{g}={s.__name__}(...)" for g, s in SPECS.items())
    for group, value in given.items():
        expected = SPECS.get(group)
        if expected is None:
            prefix, _, setting = group.partition("_")
            old = SPECS.get(prefix)
            hint = ""
            if old is not None and setting:
                hint = f" ({group}=... is now {prefix}={old.__name__}({setting}=...))"
            raise TypeError(
                f"{who} got an unexpected keyword {group}=; each kind is a spec "
                f"under its own name: {listed}; None turns one off{hint}"
            )
        if not (value is None or isinstance(value, expected)):
            raise TypeError(
                f"{who}: {group}= takes {expected.__name__}(...) or None, got "
                f"{type(value).__name__}"
            )
    chosen = {g: s() for g, s in SPECS.items() if s.default}
    chosen.update(given)
    return [s for s in chosen.values() if s is not None]


def order(specs: Sequence[Spec]) -> list[Spec]:
    """`specs` with each one after the groups it needs (stable otherwise)."""
    placed: list[Spec] = []
    pending = list(specs)
    while pending:
        groups = {s.group for s in pending}
        ready = [s for s in pending if not set(s.needs) & (groups - {s.group})]
        placed += ready
        pending = [s for s in pending if s not in ready]
    return placed


def build(
    specs: Sequence[Spec],
    model: keras.Model,
    probe,
    layers: Sequence[str],
    input_range: tuple[float, float],
    labels: np.ndarray | None = None,
) -> dict[str, Logger]:
    """One logger per spec, built in `order` (each checks its settings).

    Args:
      specs: the run's specs (see `choose`).
      model: the built model.
      probe: the checked probe batch.
      layers: the default layers of every spec that names none.
      input_range: `(lo, hi)` of the model's inputs.
      labels: the probe's labels, if it came as an `(x, y)` batch.

    Returns:
      `{group: logger}` in the order they must run at a step.

    Raises:
      ValueError: a setting a logger refuses (unknown layer, channel out of
        range, examples that do not fit the model, ...).
    """
    built: dict[str, Logger] = {}
    for s in order(specs):
        context = Context(model, probe, labels, tuple(layers), input_range, built)
        built[s.group] = s.build(context)
    return built
