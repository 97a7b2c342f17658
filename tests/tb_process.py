"""Start a real `tensorboard` process on 127.0.0.1 and wait until it serves data."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 10.0) -> tuple[int, str, bytes]:
    """Returns `(status, content type, body)`; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


@contextlib.contextmanager
def tensorboard(logdir: str, *flags: str, expect_runs: int = 1, timeout: float = 120):
    """Yields the base URL of a TensorBoard serving `logdir` once NetViz lists runs."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir",
        logdir,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--reload_interval",
        "1",
        *flags,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"tensorboard exited: {proc.stdout.read().decode()[-2000:]}"
                )
            try:
                status, _, body = get(f"{base}/data/plugin/netviz/runs", timeout=2)
                if status == 200 and len(json.loads(body)["runs"]) >= expect_runs:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"tensorboard did not list {expect_runs} NetViz runs"
                )
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
