"""The reader: version-2 steps in one read, version-1 logs still served."""

from __future__ import annotations

from pathlib import Path

import logs
import numpy as np
import pytest
from plugin_client import PREFIX, make_client

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
