"""The log format module: tags, metadata protos, step JSON."""

from __future__ import annotations

import json

import pytest
from tensorboard.compat.proto import summary_pb2

from tb_netviz import metadata


@pytest.mark.parametrize(
    ("series", "data_class"),
    [
        ("info", summary_pb2.DATA_CLASS_TENSOR),
        ("images", summary_pb2.DATA_CLASS_BLOB_SEQUENCE),
    ],
)
def test_metadata_round_trip(series, data_class):
    md = metadata.create_summary_metadata("activations", "backbone/conv1", series)
    assert md.plugin_data.plugin_name == "netviz"
    assert md.data_class == data_class
    parsed = metadata.parse_plugin_content(md.plugin_data.content)
    assert parsed == {
        "version": 2,
        "kind": "activations",
        "layer": "backbone/conv1",
        "series": series,
    }


def test_version_one_content_is_one_series():
    content = b'{"version": 1, "kind": "ascent", "layer": "c"}'
    assert metadata.parse_plugin_content(content)["series"] == "v1"


def test_tags():
    assert metadata.make_tag("ascent", "a/b") == "ascent/a/b"
    assert metadata.info_tag("ascent", "a/b") == "ascent.info/a/b"
    assert metadata.split_tag("ascent/a/b") == ("ascent", "a/b")
    assert metadata.split_tag("ascent.info/a/b") is None
    assert metadata.split_tag("ascent") is None
    with pytest.raises(ValueError, match="unknown kind 'pictures'"):
        metadata.make_tag("pictures", "a")
    with pytest.raises(ValueError, match="unknown series"):
        metadata.create_summary_metadata("ascent", "a", "pngs")


def test_every_kind_belongs_to_one_group():
    kinds = [k for group in metadata.GROUPS.values() for k in group]
    assert sorted(kinds) == sorted(set(kinds)) == sorted(metadata.KINDS)
    assert metadata.GROUPS["deconv"] == ("deconvnet", "guided_backprop", "gradient")
    assert metadata.GROUPS["accentuation"] == ("accentuation",)
    assert set(metadata.LIGHT) < set(metadata.GROUPS)
    heavy = set(metadata.GROUPS) - set(metadata.LIGHT)
    assert set(metadata.DESCRIPTIONS) == heavy  # one tb-netviz log flag each


@pytest.mark.parametrize(
    "content",
    [
        b"\xff",
        b"[1]",
        b"{}",
        b'{"version": "1", "kind": "a", "layer": "b"}',
        b'{"version": true, "kind": "a", "layer": "b"}',
        b'{"version": 1, "kind": 3}',
        b'{"version": 2, "kind": "a", "layer": "b"}',
        b'{"version": 2, "kind": "a", "layer": "b", "series": "pngs"}',
    ],
)
def test_bad_content_raises_value_error(content):
    with pytest.raises(ValueError):
        metadata.parse_plugin_content(content)


def test_step_info_writes_nonfinite_as_null():
    data = metadata.encode_step_info(
        {"a": [1.5, float("nan")], "b": {"c": float("inf")}}
    )
    assert json.loads(data) == {"a": [1.5, None], "b": {"c": None}}
    assert metadata.decode_step_info(data) == {"a": [1.5, None], "b": {"c": None}}
    with pytest.raises(ValueError):
        metadata.decode_step_info(b"[]")
