"""Notebooks: TensorBoard started the way `%tensorboard` starts it shows the tab.

`%load_ext tensorboard` / `%tensorboard --logdir ...` call
`tensorboard.notebook.start`, which launches a `tensorboard` process through
`tensorboard.manager` and then embeds its page. This test makes the same call
outside a notebook and loads the page it serves in Chromium.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium is not at /usr/bin/chromium", allow_module_level=True)

from browser_util import Panel, free_port, images_loaded

pytest_plugins = ["browser_util"]

DEMO = Path(__file__).resolve().parent.parent / "demo_logs"


def test_notebook_start_shows_the_netviz_tab(browser, tmp_path, monkeypatch, capsys):
    from tensorboard import manager, notebook

    logdir = tmp_path / "logs"
    shutil.copytree(DEMO, logdir)
    # The notebook helper runs the `tensorboard` command beside this Python.
    binary = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    monkeypatch.setenv("TENSORBOARD_BINARY", binary)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    port = free_port()
    notebook.start(f"--logdir {logdir} --port {port} --host 127.0.0.1")
    (info,) = [i for i in manager.get_all() if i.port == port]
    try:
        assert f"localhost:{port}" in capsys.readouterr().out  # what a notebook shows
        panel = Panel(browser, f"http://127.0.0.1:{port}/")
        try:
            # The first listing may come before TensorBoard has read the logdir;
            # the panel checks again within 10 s.
            panel.frame.wait_for_function(
                "() => document.querySelectorAll('.nv-columns > .nv-col').length === 2",
                timeout=40000,
            )
            assert sorted(panel.headers()) == ["lr_0.001", "lr_0.01"]  # no flag needed
            panel.frame.wait_for_function(
                "() => [...document.querySelectorAll('img.nv-src')].every(i => i.complete)"
            )
            loaded = images_loaded(panel.frame)
            assert loaded and all(i["complete"] and i["w"] > 0 for i in loaded), loaded
            assert panel.problems == []
        finally:
            panel.close()
    finally:
        os.kill(info.pid, signal.SIGTERM)
