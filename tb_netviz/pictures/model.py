"""The model map as a record: the layer list, no pictures (numpy-free)."""

from __future__ import annotations

from typing import Any


def record(layers: list[dict[str, Any]], name: str) -> tuple[dict[str, Any], list]:
    """The record of a model's map (see `methods.model_map`).

    Args:
      layers: one dict per layer, in graph order.
      name: the model's name.

    Returns:
      `(info, [])`: the step JSON (`name`, `layers`, `layer_count`, `params`).
    """
    info = {
        "name": name,
        "layer_count": len(layers),
        "params": sum(entry["params"] for entry in layers if entry["depth"] == 0),
        "layers": layers,
    }
    return info, []
