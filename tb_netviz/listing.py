"""The text of the `steps` listing: one JSON entry per step, built from the
step JSON's text without decoding it again (standard library only: the
plugin's entry point stays light)."""

from __future__ import annotations

import json
import math


def finite_json(info: dict) -> str:
    """A step's JSON object as compact text (the writer's own form)."""
    return json.dumps(info, separators=(",", ":"), allow_nan=False)


def entry(step: int, wall_time: float, samples, text) -> str:
    """One step's JSON text; `text` is the info's JSON, or the error reading it."""
    if (
        isinstance(text, str)
        and type(step) is int
        and type(samples) is int
        and type(wall_time) is float
        and math.isfinite(wall_time)
    ):  # json.dumps' text for these (repr), without its cost per call
        return (
            f'{{"step": {step}, "wall_time": {wall_time!r}, '
            f'"samples": {samples}, "info": {text}}}'
        )
    entry = {"step": step, "wall_time": wall_time, "samples": samples}
    if not isinstance(text, str):
        entry["error"] = f"unreadable step JSON: {text}"
        text = "null"
    return f'{json.dumps(entry)[:-1]}, "info": {text}}}'
