"""The NetViz log format: plugin name, version, tag scheme, metadata create/parse.

Writer (`summary.py`) and reader (`plugin.py`) both import this module; nothing
else knows a tag string or a JSON key of the summary metadata by heart. It
imports only the standard library and TensorBoard's protos, so the plugin entry
point stays light.

Format, version 1:

* `SummaryMetadata.plugin_data.plugin_name == "netviz"`.
* `plugin_data.content` is UTF-8 JSON `{"version": 1, "kind": K, "layer": L}`.
* `data_class == DATA_CLASS_BLOB_SEQUENCE`.
* Tag `"<kind>/<layer path>"`; the writer's run directory is `<log_dir>/netviz`.
* Each value is a rank-1 string tensor: element 0 is the step's UTF-8 JSON
  object, elements 1..n are PNG images.
"""

from __future__ import annotations

import json
from typing import Any

from tensorboard.compat.proto import summary_pb2

PLUGIN_NAME = "netviz"
VERSION = 1
RUN_SUBDIR = "netviz"
KINDS = ("activations", "ascent", "deconvnet", "guided_backprop")


def make_tag(kind: str, layer: str) -> str:
    """Returns the tag `"<kind>/<layer path>"` for a kind and a layer path."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return f"{kind}/{layer}"


def create_summary_metadata(
    kind: str, layer: str, description: str = ""
) -> summary_pb2.SummaryMetadata:
    """Builds the `SummaryMetadata` proto for one NetViz time series.

    Args:
      kind: one of `KINDS`.
      layer: the layer path, e.g. `"backbone/block1_conv1"`.
      description: optional Markdown shown by TensorBoard.

    Returns:
      A `SummaryMetadata` with plugin name, JSON content and blob-sequence class.
    """
    make_tag(kind, layer)  # validates the kind
    content = json.dumps({"version": VERSION, "kind": kind, "layer": layer})
    return summary_pb2.SummaryMetadata(
        display_name=f"{kind} {layer}",
        summary_description=description,
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=content.encode("utf-8")
        ),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )


def parse_plugin_content(content: bytes) -> dict[str, Any]:
    """Parses `plugin_data.content` into a dict.

    Args:
      content: the raw bytes of the summary metadata's plugin content.

    Returns:
      A dict with at least the keys `version` (int), `kind` and `layer` (str).

    Raises:
      ValueError: if the content is not UTF-8 JSON of that shape.
    """
    try:
        parsed = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"plugin content is not UTF-8 JSON: {e}") from None
    if not isinstance(parsed, dict):
        raise ValueError("plugin content is not a JSON object")
    version, kind, layer = (parsed.get(k) for k in ("version", "kind", "layer"))
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"plugin content has no integer version: {parsed!r}")
    if not isinstance(kind, str) or not isinstance(layer, str):
        raise ValueError(f"plugin content lacks kind or layer: {parsed!r}")
    return parsed


def encode_step_info(info: dict[str, Any]) -> bytes:
    """Encodes a step's JSON object (element 0 of each value) as UTF-8 bytes.

    Non-finite floats are written as `null` so any JSON parser can read them;
    the step's own `nonfinite` flag says that this happened.
    """
    return json.dumps(_finite(info), separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def decode_step_info(data: bytes) -> dict[str, Any]:
    """Decodes element 0 of a value; raises `ValueError` if it is not a JSON object."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"step info is not UTF-8 JSON: {e}") from None
    if not isinstance(parsed, dict):
        raise ValueError("step info is not a JSON object")
    return parsed


def _finite(value: Any) -> Any:
    """Replaces NaN and infinities, at any depth, by None."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
