"""Helpers for the browser tests: a real `tensorboard` process and headless Chromium.

Chromium is the Debian package at /usr/bin/chromium, driven by Python
Playwright; Playwright never downloads a browser here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HOSTILE_RUN = "<img src=x onerror=alert(1)>"


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data_server_available() -> bool:
    """Whether the Rust data server (`tensorboard_data_server`) has a binary here."""
    try:
        import tensorboard_data_server
    except ImportError:
        return False
    path = tensorboard_data_server.server_binary()
    return bool(path) and os.path.exists(path)


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


class TensorBoard:
    """A `tensorboard` subprocess on a free port; use as a context manager.

    Attributes:
      url: base URL, e.g. `http://127.0.0.1:43211/`.
    """

    def __init__(
        self, logdir: Path, load_fast: bool = False, log_path: Path | None = None
    ):
        self.logdir = Path(logdir)
        self.load_fast = load_fast
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log_path or self.logdir.parent / f"tensorboard-{self.port}.log"
        self.process = None

    def __enter__(self) -> TensorBoard:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        command = [
            sys.executable,
            "-m",
            "tensorboard.main",
            "--logdir",
            str(self.logdir),
            "--port",
            str(self.port),
            "--host",
            "127.0.0.1",
            f"--load_fast={'true' if self.load_fast else 'false'}",
            "--reload_interval",
            "1",
            "--samples_per_plugin",
            "netviz=0",
        ]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        return self

    def wait_for_runs(self, expected: int, timeout: float = 90.0) -> dict:
        """Polls the plugin's `runs` route until `expected` runs are listed."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tensorboard exited:\n{self.log_text()}")
            with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
                last = _get_json(self.url + "data/plugin/netviz/runs")["runs"]
                if len(last) >= expected:
                    return last
            time.sleep(0.3)
        raise TimeoutError(f"only {last!r} after {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def add_hostile_run(logdir: Path, source_run: str) -> str:
    """Copies a run directory to a run named like an HTML injection; returns its run name.

    Args:
      logdir: the fixture logdir.
      source_run: the run directory to copy, relative to `logdir`,
        e.g. `"lr_0.01/netviz"`.
    """
    target = Path(logdir) / HOSTILE_RUN
    shutil.copytree(Path(logdir) / source_run, target)
    return HOSTILE_RUN


def launch_chromium(playwright):
    """Launches the system Chromium headless with the flags this machine needs."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )


def plugin_frame(page, timeout: float = 30.0):
    """Returns the NetViz iframe's `Frame` once it has loaded the panel."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "plugin_entry.html" in frame.url and "name=netviz" in frame.url:
                frame.wait_for_selector(".nv-root", timeout=timeout * 1000)
                return frame
        page.wait_for_timeout(200)
    raise TimeoutError(f"no NetViz iframe among {[f.url for f in page.frames]}")


def wait_ready(frame, timeout_ms: float = 30000) -> None:
    """Waits until the panel has rendered its current view (data-state=ready)."""
    frame.wait_for_selector(
        '.nv-root[data-state="ready"], .nv-root[data-state="empty"]', timeout=timeout_ms
    )
    # A render may be queued for the next animation frame; let it start and settle.
    frame.wait_for_timeout(100)
    frame.wait_for_selector(
        '.nv-root[data-state="ready"], .nv-root[data-state="empty"]', timeout=timeout_ms
    )


def images_loaded(frame) -> list[dict]:
    """The panel's source <img> elements with their load state."""
    return frame.eval_on_selector_all(
        "img.nv-src",
        "els => els.map(e => ({complete: e.complete, w: e.naturalWidth, h: e.naturalHeight}))",
    )
