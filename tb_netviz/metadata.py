"""The NetViz log format: kinds and their groups, tags, versions, create/parse.

Writer (`writer.py`) and reader (`reader.py`, `plugin.py`) both import this
module; nothing else knows a tag string or a JSON key of the summary metadata
by heart. It imports only the standard library and TensorBoard's protos, so
the plugin entry point stays light.

Format, version 2 (what the writer writes):

* Every series has `SummaryMetadata.plugin_data.plugin_name == "netviz"` and
  `plugin_data.content` = UTF-8 JSON `{"version": 2, "kind": K, "layer": L,
  "series": S}`.
* A record (one kind, one layer, one step) is two series. The step's JSON is
  a scalar string tensor at tag `<kind>.info/<layer>` (`series: "info"`,
  `DATA_CLASS_TENSOR`), so one `read_tensors` call returns every step's JSON.
  Its pictures, if any, are a rank-1 string tensor of PNGs at tag
  `<kind>/<layer>` (`series: "images"`, `DATA_CLASS_BLOB_SEQUENCE`).
* The writer's run directory is `<log_dir>/netviz`.
* Additive (still version 2): the writer's info series also says
  `"step_json": "compact"` in its plugin content. It promises that every
  step's JSON is `encode_step_info(make_step_info(...))`: a compact, finite,
  ASCII JSON object that begins `{"version":V,"kind":K,"layer":L,"samples":N`,
  so a reader takes `samples` from that head (`step_samples`) and passes the
  text on without decoding it. Series without the promise (older version-2
  logs, hand-made ones) are decoded step by step.

Version 1 (still read): one blob sequence at `<kind>/<layer>` whose element 0
is the step's JSON and whose elements 1..n are the PNGs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tensorboard.compat.proto import summary_pb2

PLUGIN_NAME = "netviz"
VERSION = 2
RUN_SUBDIR = "netviz"
# The vocabulary: every kind a record can have, grouped by what computes them
# together. One spec and one logger per group (`loggers/<group>.py`), and the
# group's name is its keyword in `NetVizCallback` and its `tb-netviz log` flag.
GROUPS: dict[str, tuple[str, ...]] = {
    "model": ("model",),
    "probe": ("probe",),
    "activations": ("activations",),
    "ascent": ("ascent",),
    # The three backward passes through the ReLUs (Springenberg et al. 2014):
    # "gradient" is the plain one, with the same channels, for contrast.
    "deconv": ("deconvnet", "guided_backprop", "gradient"),
    "accentuation": ("accentuation",),
    # Each channel's top-k real examples (one streamed pass over held-out
    # examples), and every channel's health over the probe and the examples.
    "exemplars": ("exemplars",),
    "units": ("units",),
    # Cascading weight randomization of the deconvolutions (Adebayo et al.
    # 2018), one record per layer: the similarity curves, verdict per method.
    "sanity": ("sanity",),
    # Where the model looks for a class: per probe input, the maps of the
    # chosen methods for each target and their faithfulness (one record).
    "attribution": ("attribution",),
    # A layer's concepts: non-negative factors of its activations over
    # held-out examples (CRAFT), their crops, heatmaps and importance.
    "concepts": ("concepts",),
}
# The groups that are always logged: cheap (one forward pass of the probe at
# most). Every other group is heavy: budgeted in a fit, a flag of
# `tb-netviz log`.
LIGHT = ("model", "probe", "activations", "units")
DESCRIPTIONS = {
    "ascent": "feature visualizations (gradient ascent) of each layer's channels",
    "deconv": "deconvnet and guided-backprop reconstructions of the probe",
    "accentuation": "feature accentuations of the probe (Hamblin et al. 2024)",
    "exemplars": "each channel's top real examples over held-out data",
    "sanity": "the weight-randomization sanity check of the reconstructions",
    "attribution": "attribution maps of the probe's classes and their faithfulness",
    "concepts": "a layer's concepts over held-out examples (needs --exemplars data)",
}
KINDS = tuple(kind for kinds in GROUPS.values() for kind in kinds)
SERIES = ("info", "images")
# The info series' promise that its step JSON has `make_step_info`'s head.
STEP_JSON_COMPACT = "compact"
# `make_step_info`'s head as `encode_step_info` writes it (ASCII, compact);
# group 1 is `samples`.
_STEP_HEAD = re.compile(
    rb'\{"version":\d+,"kind":"[a-z_]+","layer":"(?:[^"\\]|\\.)*",'
    rb'"samples":(0|[1-9]\d*)[,}]'
)
_INFO_SUFFIX = ".info"


def check_kind(kind: str) -> str:
    """Returns `kind` if it is one of `KINDS`, else raises `ValueError`."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def make_tag(kind: str, layer: str) -> str:
    """The record's tag `"<kind>/<layer path>"` (its images series)."""
    return f"{check_kind(kind)}/{layer}"


def info_tag(kind: str, layer: str) -> str:
    """The tag of a record's step-JSON series, `"<kind>.info/<layer path>"`."""
    return f"{check_kind(kind)}{_INFO_SUFFIX}/{layer}"


def histogram_tag(layer: str) -> str:
    """The TensorBoard histogram of a layer's activations over the probe,
    `"<layer path>/activations/histogram"`: it sorts beside Keras' weight
    histograms (`"<layer>/kernel/histogram"`) in the Histograms tab."""
    return f"{layer}/activations/histogram"


def scalar_tag(group: str, *parts: str) -> str:
    """A TensorBoard scalar a NetViz logger writes beside its records, e.g.
    `"netviz/attribution/deletion/gradcam"`: the Scalars tab plots it over
    training and compares runs."""
    return "/".join((PLUGIN_NAME, group, *parts))


def split_tag(tag: str) -> tuple[str, str] | None:
    """`(kind, layer)` of a record tag `"<kind>/<layer>"`, or None if it is not one."""
    kind, sep, layer = tag.partition("/")
    return (kind, layer) if sep and kind in KINDS and layer else None


def create_summary_metadata(
    kind: str, layer: str, series: str, step_json: str | None = None
) -> summary_pb2.SummaryMetadata:
    """Builds the `SummaryMetadata` proto for one NetViz series.

    Args:
      kind: one of `KINDS`.
      layer: the layer path, e.g. `"backbone/block1_conv1"`.
      series: `"info"` (a scalar string tensor of step JSON) or `"images"`
        (a rank-1 string tensor of PNGs).
      step_json: `STEP_JSON_COMPACT` to promise (info series only) that every
        step's JSON is made by `make_step_info` and `encode_step_info`.

    Returns:
      A `SummaryMetadata` with plugin name, JSON content and data class.
    """
    check_kind(kind)
    if series not in SERIES:
        raise ValueError(f"unknown series {series!r}; expected one of {SERIES}")
    content = {"version": VERSION, "kind": kind, "layer": layer, "series": series}
    if step_json is not None:
        if series != "info" or step_json != STEP_JSON_COMPACT:
            raise ValueError(f"step_json {step_json!r} is only for info series")
        content["step_json"] = step_json
    data_class = (
        summary_pb2.DATA_CLASS_TENSOR
        if series == "info"
        else summary_pb2.DATA_CLASS_BLOB_SEQUENCE
    )
    return summary_pb2.SummaryMetadata(
        display_name=f"{kind} {layer}",
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=json.dumps(content).encode("utf-8")
        ),
        data_class=data_class,
    )


def parse_plugin_content(content: bytes) -> dict[str, Any]:
    """Parses `plugin_data.content` into a dict.

    Args:
      content: the raw bytes of the summary metadata's plugin content.

    Returns:
      A dict with at least `version` (int), `kind`, `layer` and `series` (str;
      `"v1"` for version-1 content, whose single series holds both).

    Raises:
      ValueError: if the content is not UTF-8 JSON of that shape.
    """
    parsed = _json_object(content, "plugin content")
    version, kind, layer = (parsed.get(k) for k in ("version", "kind", "layer"))
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"plugin content has no integer version: {parsed!r}")
    if not isinstance(kind, str) or not isinstance(layer, str):
        raise ValueError(f"plugin content lacks kind or layer: {parsed!r}")
    if version == 1:
        parsed["series"] = "v1"
    elif parsed.get("series") not in SERIES and version <= VERSION:
        raise ValueError(f"plugin content has no known series: {parsed!r}")
    return parsed


def make_step_info(
    kind: str, layer: str, samples: int, info: dict[str, Any]
) -> dict[str, Any]:
    """A step's JSON object: `version`, `kind`, `layer` and `samples` (the
    number of images) first, in that order, then `info`'s keys.

    The head's keys come first even where `info` holds them too (its values
    win), so `step_samples` finds them; a head `info` breaks is decoded.
    """
    return {
        "version": VERSION,
        "kind": kind,
        "layer": layer,
        "samples": samples,
        **info,
    }


def step_samples(data: bytes) -> int | None:
    """`samples` from the head of a step's JSON written as `make_step_info`
    and `encode_step_info` write it, without decoding the rest; None if the
    head is not that (then decode the JSON to read it)."""
    match = _STEP_HEAD.match(data)
    return int(match[1]) if match else None


def encode_step_info(info: dict[str, Any]) -> bytes:
    """Encodes a step's JSON object as UTF-8 bytes.

    Non-finite floats are written as `null` so any JSON parser can read them;
    the step's own `nonfinite` flag says that this happened.
    """
    return json.dumps(_finite(info), separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def decode_step_info(data: bytes) -> dict[str, Any]:
    """Decodes a step's JSON; raises `ValueError` if it is not a JSON object."""
    return _json_object(data, "step info")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{what} is not UTF-8 JSON: {e}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"{what} is not a JSON object")
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
