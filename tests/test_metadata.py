"""The log format module: tags, metadata protos, step JSON."""

from __future__ import annotations

import json

import pytest
from tensorboard.compat.proto import summary_pb2

from tb_netviz import metadata


def test_metadata_round_trip():
    md = metadata.create_summary_metadata("activations", "backbone/conv1")
    assert md.plugin_data.plugin_name == "netviz"
    assert md.data_class == summary_pb2.DATA_CLASS_BLOB_SEQUENCE
    parsed = metadata.parse_plugin_content(md.plugin_data.content)
    assert parsed == {"version": 1, "kind": "activations", "layer": "backbone/conv1"}


def test_tags():
    assert metadata.make_tag("ascent", "a/b") == "ascent/a/b"
    with pytest.raises(ValueError, match="unknown kind 'pictures'"):
        metadata.make_tag("pictures", "a")


@pytest.mark.parametrize(
    "content",
    [
        b"\xff",
        b"[1]",
        b"{}",
        b'{"version": "1", "kind": "a", "layer": "b"}',
        b'{"version": true, "kind": "a", "layer": "b"}',
        b'{"version": 1, "kind": 3}',
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
