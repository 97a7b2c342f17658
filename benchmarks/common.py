"""Small helpers shared by the benchmark scripts (no TensorFlow import here)."""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
SMOKE_RESULTS = os.path.join(tempfile.gettempdir(), "netviz-bench-smoke")


def parse_args(parser: argparse.ArgumentParser, smoke: dict) -> argparse.Namespace:
    """Adds `--smoke` to `parser` and parses the command line.

    `--smoke` runs the script at its smallest settings (`smoke`: argument
    dest -> value, taking the place of the defaults; flags given on the
    command line still win), to check that it runs (`tests/test_benchmarks_run.py`):
    its figures are not measurements, a missed target does not set the exit
    status, and the results record `"smoke": true`. A default `--out` in
    `benchmarks/results/` becomes `SMOKE_RESULTS/<same name>`, so a smoke run
    never replaces a committed result (`write_json` refuses to).

    Args:
      parser: the script's parser, every other argument added.
      smoke: the smallest settings, e.g. `{"repeats": 1, "samples": 64}`.
    """
    flags = {a.dest: a.option_strings[0] for a in parser._actions if a.option_strings}
    unknown = sorted(set(smoke) - set(flags))
    if unknown:
        raise ValueError(f"smoke settings for unknown arguments {unknown}")
    shown = ", ".join(f"{flags[k]} {v}" for k, v in smoke.items())
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"the smallest settings ({shown}): checks the script runs; the "
        "figures are not measurements and no target sets the exit status",
    )
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(**smoke)
        out = parser.get_default("out")
        if isinstance(out, str) and _in_results(out):  # keep committed results
            parser.set_defaults(out=os.path.join(SMOKE_RESULTS, os.path.basename(out)))
        args = parser.parse_args()
    return args


def _in_results(path: str) -> bool:
    return os.path.dirname(os.path.abspath(path)) == RESULTS


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation, like numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def environment() -> dict:
    """Versions and machine facts recorded beside every result."""
    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    for name in ("tensorflow", "keras", "tensorboard", "tensorboard-data-server"):
        try:
            info[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info[name] = None
    with contextlib.suppress(OSError):
        info["loadavg_1m"] = os.getloadavg()[0]
    return info


def write_json(path: str, payload: dict) -> None:
    """Writes `payload` as indented JSON; a smoke run's never into `RESULTS`."""
    if payload.get("smoke") and _in_results(path):
        raise ValueError(f"a smoke run must not replace the committed {path}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2, sort_keys=False)
        f.write("\n")
    shown = os.path.abspath(path)
    if shown.startswith(ROOT + os.sep):
        shown = os.path.relpath(shown, ROOT)
    print(f"wrote {shown}")


def table(headers: list[str], rows: list[list]) -> str:
    """A plain fixed-width text table."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tensorboard(
    logdir: str, flags: list[str], log
) -> tuple[subprocess.Popen, int]:
    """Starts `tensorboard` on 127.0.0.1 in its own process group.

    Args:
      logdir: the folder of runs.
      flags: more flags, e.g. `["--load_fast=true"]`. The benchmarks pass no
        `--samples_per_plugin`: the plugin's loader sets NetViz's default.
      log: an open binary file for the server's output.

    Returns:
      `(process, port)`; stop it by signalling its group (the Rust data server
      is in the same group).
    """
    port = free_port()
    args = [sys.executable, "-m", "tensorboard.main", "--logdir", logdir]
    args += ["--host", "127.0.0.1", "--port", str(port), *flags]
    proc = subprocess.Popen(
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    return proc, port


def stop_group(proc: subprocess.Popen) -> None:
    """Stops a process started by `start_tensorboard`, with its whole group."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def timed(fn) -> tuple[float, float, object]:
    """Runs `fn()`; returns (wall s, CPU s of this process over all threads, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def dir_bytes(path: str) -> int:
    """Total size of the files under `path`."""
    return sum(
        os.path.getsize(os.path.join(d, f))
        for d, _, files in os.walk(path)
        for f in files
    )


def log_tail(path: str, lines: int) -> str:
    """The last `lines` lines of a server log."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])
