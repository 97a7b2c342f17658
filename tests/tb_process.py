"""The one TensorBoard launcher of the tests: a real `tensorboard` process on
127.0.0.1, started with no NetViz flag (the plugin's loader sets its own
sampling default), waited for until NetViz lists runs."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def get(url: str, timeout: float = 10.0) -> tuple[int, str, bytes]:
    """Returns `(status, content type, body)`; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


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
        self,
        logdir: Path,
        load_fast: bool = False,
        log_path: Path | None = None,
        flags: tuple[str, ...] = (),
    ):
        self.logdir = Path(logdir)
        self.load_fast = load_fast
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log_path or self.logdir.parent / f"tensorboard-{self.port}.log"
        self.process = None
        self.flags = tuple(flags)

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
            *self.flags,
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


@contextlib.contextmanager
def tensorboard(logdir: str, *flags: str, expect_runs: int = 1, timeout: float = 120):
    """Yields the base URL (no trailing slash) once NetViz lists `expect_runs` runs.

    `--load_fast=...` among `flags` picks the loader (default: the Python one).
    """
    load_fast = "--load_fast=true" in flags
    rest = tuple(f for f in flags if not f.startswith("--load_fast"))
    with TensorBoard(Path(logdir), load_fast=load_fast, flags=rest) as board:
        board.wait_for_runs(expect_runs, timeout)
        yield board.url.rstrip("/")
