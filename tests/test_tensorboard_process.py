"""A real `tensorboard` process serves NetViz with both data loaders."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from tb_process import get, tensorboard


@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_real_tensorboard_serves_runs_steps_and_images(demo_logdir, load_fast):
    flags = (f"--load_fast={load_fast}", "--samples_per_plugin=netviz=0")
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
