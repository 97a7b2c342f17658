"""Shared fixtures: quiet TensorFlow, a small demo logdir, a plugin test client."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest


@pytest.fixture(scope="session")
def demo_logdir(tmp_path_factory) -> str:
    """A logdir with two demo runs of 2 epochs each (built by `demo.run_all`)."""
    from tb_netviz import demo

    logdir = str(tmp_path_factory.mktemp("demo_logs"))
    demo.run_all(logdir, epochs=2, samples=256, ascent_steps=16)
    return logdir
