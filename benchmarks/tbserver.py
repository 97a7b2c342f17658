"""A real `tensorboard` process for the backend benchmarks, and its memory.

It is started exactly as a user would, `tensorboard --logdir X`, plus only
`--host 127.0.0.1 --port FREE --load_fast=...`: never `--samples_per_plugin`,
so every figure is for NetViz's default sampling (set by its `TBLoader`).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import threading
import time

import common


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def memory_mb(pid: int) -> dict:
    """VmRSS and VmHWM (MiB) of `pid` and its descendants: summed, and each one's RSS."""
    total = {"rss_mb": 0.0, "hwm_mb": 0.0, "rss_by_process_mb": {}}
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status", encoding="utf-8") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        total["rss_mb"] += rss
        total["hwm_mb"] += int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
        total["rss_by_process_mb"][f"{fields['Name'].strip()}[{p}]"] = rss
    return total


class TensorBoard:
    """A `tensorboard` subprocess in its own process group; use as a context manager.

    Attributes:
      port: its port on 127.0.0.1.
      peak_rss_mb, peak_hwm_mb: the largest summed RSS / VmHWM seen by a
        sampler thread (every 0.25 s), the Rust data server included.
    """

    def __init__(self, logdir: str, load_fast: str, log_path: str):
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        flags = [f"--load_fast={load_fast}"]
        self.proc, self.port = common.start_tensorboard(logdir, flags, self._log)
        self.peak_rss_mb = self.peak_hwm_mb = 0.0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            mem = memory_mb(self.proc.pid)
            self.peak_rss_mb = max(self.peak_rss_mb, mem["rss_mb"])
            self.peak_hwm_mb = max(self.peak_hwm_mb, mem["hwm_mb"])

    def memory(self) -> dict:
        return memory_mb(self.proc.pid)

    def stop(self) -> None:
        self._stop.set()
        common.stop_group(self.proc)
        self._sampler.join(timeout=5)
        self._log.close()

    def log_tail(self, lines: int = 20) -> str:
        return common.log_tail(self.log_path, lines)

    def get(self, path: str, gzip_ok: bool = False, timeout: float = 60.0):
        """One GET on a new connection.

        Returns:
          `(seconds, status, body as sent, headers)`; with `gzip_ok`, sends
          `Accept-Encoding: gzip` as a browser does.
        """
        headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        start = time.perf_counter()
        try:
            conn.request("GET", "/" + path.lstrip("/"), headers=headers)
            response = conn.getresponse()
            body = response.read()
            return time.perf_counter() - start, response.status, body, response
        finally:
            conn.close()

    def get_json(self, path: str):
        _, status, body, response = self.get(path, gzip_ok=True)
        if status != 200:
            raise ValueError(f"{path}: status {status}: {body[:200]!r}")
        if response.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return json.loads(body)

    def wait(self, done, limit: float, every: float = 0.5) -> float:
        """Polls `done(self)` (errors count as not yet) until true; returns seconds."""
        start = time.perf_counter()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tensorboard exited:\n{self.log_tail()}")
            if time.perf_counter() - start > limit:
                raise RuntimeError(f"not ready in {limit:.0f}s:\n{self.log_tail()}")
            try:
                if done(self):
                    return time.perf_counter() - start
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                pass
            time.sleep(every)


def activations_loaded(runs: int, layers: int, steps: int, suffix: str = "/netviz"):
    """A `wait` predicate: `runs` list `runs` runs, each `layers` layers at `steps - 1`."""

    def done(tb: TensorBoard) -> bool:
        listing = tb.get_json("data/plugin/netviz/runs")["runs"]
        return (
            sum(
                1
                for run, kinds in listing.items()
                if run.endswith(suffix)
                and len(kinds.get("activations", {})) == layers
                and all(
                    v["max_step"] == steps - 1 for v in kinds["activations"].values()
                )
            )
            == runs
        )

    return done
