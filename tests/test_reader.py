"""The reader: version-2 steps in one read, version-1 logs still served."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import logs
import numpy as np
import pytest
from plugin_client import PREFIX, make_client
from tensorboard import context

from tb_netviz import metadata
from tb_netviz import reader as reader_module

V1_LOG = str(Path(__file__).parent / "fixtures" / "v1_log")


def test_version_one_fixture_is_listed_and_served():
    client, _ = make_client(V1_LOG)
    runs = client.get(f"{PREFIX}/runs").json["runs"]
    assert sorted(runs["run_a/netviz"]) == [
        "activations",
        "ascent",
        "deconvnet",
        "guided_backprop",
    ]
    conv1 = runs["run_a/netviz"]["activations"]["conv1"]
    assert (conv1["tag"], conv1["max_step"], conv1["samples"]) == (
        "activations/conv1",
        1,
        4,
    )
    query = {"run": "run_a/netviz", "tag": "activations/conv1"}
    steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert [s["step"] for s in steps] == [0, 1]
    assert steps[0]["samples"] == 4 and steps[0]["info"]["version"] == 1
    assert steps[0]["info"]["layout"]["cols"] == 3
    image = client.get(
        f"{PREFIX}/image", query_string={**query, "step": 1, "sample": 3}
    )
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    missing = client.get(
        f"{PREFIX}/image", query_string={**query, "step": 1, "sample": 4}
    )
    assert missing.status_code == 404


class _CountingProvider:
    """Wraps a data provider and counts its calls by name."""

    def __init__(self, inner):
        self._inner, self.calls = inner, {}

    def __getattr__(self, name):
        method = getattr(self._inner, name)

        def counted(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def long_run(tmp_path) -> str:
    rng = np.random.default_rng(0)
    with logs.event_writer(tmp_path / "long" / "netviz"):
        for step in range(300):
            logs.activations_record("c", rng.normal(size=(2, 3, 3, 2)), step)
    return str(tmp_path)


def test_version_two_reads_every_step_json_in_one_call(long_run):
    client, plugin = make_client(long_run)
    counting = _CountingProvider(plugin._reader._provider)
    plugin._reader._provider = counting
    query = {"run": "long/netviz", "tag": "activations/c"}
    steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert [s["step"] for s in steps] == list(range(300))
    assert all(s["info"]["layer"] == "c" and s["samples"] == 2 for s in steps)
    assert counting.calls.get("read_tensors") == 1
    assert "read_blob" not in counting.calls  # no per-step reads
    client.get(f"{PREFIX}/steps", query_string=query)  # cached while unchanged
    assert counting.calls.get("read_tensors") == 1


def test_writer_promises_compact_step_json_and_the_listing_does_not_decode_it(
    long_run, monkeypatch
):
    client, plugin = make_client(long_run)
    query = {"run": "long/netviz", "tag": "activations/c"}
    decoded = []
    real = metadata.decode_step_info
    monkeypatch.setattr(
        metadata, "decode_step_info", lambda raw: decoded.append(raw) or real(raw)
    )
    fast = client.get(f"{PREFIX}/steps", query_string=query)
    assert decoded == []  # samples from each JSON's head, the text passed on
    assert fast.json["steps"][7]["samples"] == 2
    # The same body as decoding every step (what a log without the promise gets).
    ctx, reader = context.RequestContext(), plugin._reader
    record = reader.records(ctx, "", "long/netviz", "activations/c")
    record = record["long/netviz"]["activations/c"]
    assert record.compact
    slow = reader_module.Reader(reader._provider, 1000).steps_body(
        ctx, "", "long/netviz", "activations/c", replace(record, compact=False)
    )
    assert len(decoded) == 300
    assert gzip.decompress(slow) == fast.data


def test_version_two_without_the_promise_is_decoded(tmp_path):
    info = {"version": 2, "kind": "activations", "layer": "x", "samples": 3}
    head = b'{"version": 2, "kind": "activations", "layer": "x", "series": '
    path = str(tmp_path / "r")
    with logs.event_writer(path):
        logs.raw("activations.info/x", json.dumps(info), 0, head + b'"info"}', False)
    client = make_client(str(tmp_path))[0]
    query = {"run": "r", "tag": "activations/x"}
    steps = client.get(f"{PREFIX}/steps", query_string=query).json["steps"]
    assert [(s["step"], s["samples"], s["info"]) for s in steps] == [(0, 3, info)]


def test_steps_are_sent_gzipped_when_accepted(long_run):
    client, _ = make_client(long_run)
    query = {"run": "long/netviz", "tag": "activations/c"}
    plain = client.get(f"{PREFIX}/steps", query_string=query)
    zipped = client.get(
        f"{PREFIX}/steps", query_string=query, headers={"Accept-Encoding": "gzip"}
    )
    assert plain.headers.get("Content-Encoding") is None
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert plain.json["run"] == "long/netviz" and len(plain.json["steps"]) == 300


@pytest.mark.parametrize(
    "data, samples",
    [
        (b'{"version":2,"kind":"activations","layer":"a/b","samples":4,"x":1}', 4),
        (b'{"version":2,"kind":"probe","layer":"in\\"put","samples":0}', 0),
        (b'{"version":2,"kind":"units","layer":"\\u00e9","samples":12,"y":[]}', 12),
        (b'{"version":2,"kind":"activations","layer":"a","samples":null}', None),
        (b'{"version":2,"kind":"activations","layer":"a","samples":"4"}', None),
        (b'{"version":2,"kind":"activations","layer":"a","samples":04}', None),
        (b'{"version": 2, "kind": "activations", "layer": "a", "samples": 4}', None),
        (b'{"kind":"activations","version":2,"layer":"a","samples":4}', None),
        (b"\xff\xfe", None),
    ],
)
def test_step_samples_reads_only_the_writers_head(data, samples):
    assert metadata.step_samples(data) == samples


def test_step_info_head_comes_first_even_where_info_repeats_it():
    full = metadata.make_step_info("activations", "c", 2, {"a": 1, "samples": 5})
    data = metadata.encode_step_info(full)
    assert data.startswith(b'{"version":2,"kind":"activations","layer":"c"')
    assert metadata.step_samples(data) == 5 == json.loads(data)["samples"]
