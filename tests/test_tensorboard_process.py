"""A real `tensorboard` process serves NetViz with both data loaders."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import logs
import numpy as np
import pytest
from tb_process import get, tensorboard


@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_real_tensorboard_serves_runs_steps_and_images(demo_logdir, load_fast):
    flags = (f"--load_fast={load_fast}",)
    with tensorboard(demo_logdir, *flags, expect_runs=2) as base:
        plugins = json.loads(get(f"{base}/data/plugins_listing")[2])
        assert plugins["netviz"]["enabled"] is True
        assert plugins["netviz"]["tab_name"] == "NetViz"
        runs = json.loads(get(f"{base}/data/plugin/netviz/runs")[2])["runs"]
        assert sorted(runs) == ["lr_0.001/netviz", "lr_0.01/netviz"]
        assert sorted(runs["lr_0.001/netviz"]["activations"]) == [
            "conv1",
            "conv2",
            "dense",
        ]
        query = urllib.parse.urlencode(
            {"run": "lr_0.01/netviz", "tag": "activations/conv2"}
        )
        status, ctype, body = get(f"{base}/data/plugin/netviz/steps?{query}")
        assert (status, ctype) == (200, "application/json")
        steps = json.loads(body)["steps"]
        assert [s["step"] for s in steps] == [0, 1]
        assert steps[1]["info"]["layout"]["cols"] == 6  # 32 channels -> 6 columns
        status, ctype, body = get(
            f"{base}/data/plugin/netviz/image?{query}&step=1&sample=7"
        )
        assert (status, ctype) == (200, "image/png")
        assert body.startswith(b"\x89PNG")
        status, ctype, body = get(
            f"{base}/data/plugin/netviz/image?{query}&step=1&sample=8"
        )
        assert (status, ctype) == (404, "text/plain; charset=utf-8")
        status, _, _ = get(f"{base}/data/plugin/netviz/index.js")
        assert status == 200


@pytest.fixture(scope="module")
def long_logdir(tmp_path_factory) -> str:
    """One run with a 300-step activations record, and the version-1 fixture."""
    root = tmp_path_factory.mktemp("long_logs")
    rng = np.random.default_rng(0)
    with logs.event_writer(root / "long" / "netviz"):
        for step in range(300):
            logs.activations_record("conv", rng.normal(size=(2, 4, 4, 3)), step)
    v1 = Path(__file__).parent / "fixtures" / "v1_log" / "run_a" / "netviz"
    (root / "old").mkdir()
    for event_file in v1.iterdir():
        (root / "old" / event_file.name).write_bytes(event_file.read_bytes())
    return str(root)


@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_no_flag_needed_to_keep_every_step(long_logdir, load_fast):
    # No --samples_per_plugin: NetViz's loader sets its own default (1000).
    with tensorboard(long_logdir, f"--load_fast={load_fast}", expect_runs=2) as base:
        query = urllib.parse.urlencode(
            {"run": "long/netviz", "tag": "activations/conv"}
        )
        steps = json.loads(get(f"{base}/data/plugin/netviz/steps?{query}")[2])["steps"]
        assert [s["step"] for s in steps] == list(range(300))
        status, _, body = get(
            f"{base}/data/plugin/netviz/image?{query}&step=123&sample=1"
        )
        assert status == 200 and body.startswith(b"\x89PNG")
        old = urllib.parse.urlencode({"run": "old", "tag": "activations/conv1"})
        steps = json.loads(get(f"{base}/data/plugin/netviz/steps?{old}")[2])["steps"]
        assert [(s["step"], s["info"]["version"]) for s in steps] == [(0, 1), (1, 1)]
