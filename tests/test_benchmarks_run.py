"""Every benchmark in benchmarks/ runs at HEAD, at its smallest settings (issue 20).

A benchmark script is a `benchmarks/*.py` with a `__main__` block, found here
by reading the folder, so a new script takes part without being listed (and
fails if it has no `--smoke`). Left out: the peer scripts (`*_peer_*.py`),
which their benchmark runs inside the peer venv (`benchmarks/peers.py`), and
the helper modules (no `__main__`). Each script runs as

    python benchmarks/SCRIPT --smoke [--no-peers] --out TMP/SCRIPT.json

(`--no-peers` where it has peers: tests never install or download), with
`TMPDIR` in pytest's tmp folder (its logdirs, caches and temporary files go
there) and `TF_CPP_MIN_LOG_LEVEL=2`. It must exit 0, write JSON that records
`"smoke": true`, and print no TensorFlow retracing warning (issue 20). The
scripts run two at a time in the background from the first test on; each test
waits for its own. The committed `benchmarks/results/` must not change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"
CHROMIUM = "/usr/bin/chromium"
JOBS = 2  # scripts at a time: most of a script is one busy thread or waiting
TIMEOUT_S = 420  # one script, at its smoke settings
RETRACING = "triggered tf.function retracing"
# Started first, the longest smoke runs (several tensorboard starts, or a fit
# with every kind): a hint for the schedule only; any other script runs too.
LONGEST = ("bench_memory.py", "bench_backend.py", "bench_oneline.py", "bench_load.py")


def is_peer(path: Path) -> bool:
    return re.search(r"(^|_)peer(_|$)", path.stem) is not None


def scripts() -> list[str]:
    return sorted(
        p.name
        for p in BENCHMARKS.glob("*.py")
        if not is_peer(p) and 'if __name__ == "__main__":' in p.read_text("utf-8")
    )


def command(script: str, out: Path) -> list[str]:
    text = (BENCHMARKS / script).read_text("utf-8")
    args = [sys.executable, str(BENCHMARKS / script), "--smoke", "--out", str(out)]
    return args + (["--no-peers"] if "peers.add_flag(" in text else [])


def needs_browser(script: str) -> bool:
    return "browser_util" in (BENCHMARKS / script).read_text("utf-8")


def browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed"
    return None if os.path.exists(CHROMIUM) else f"Chromium is not at {CHROMIUM}"


def run(script: str, folder: Path) -> dict:
    """Runs `script --smoke`; returns its exit status, output, JSON and seconds."""
    folder.mkdir(parents=True)
    (folder / "tmp").mkdir()
    out, log_path = folder / "result.json", folder / "output.log"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TMPDIR": str(folder / "tmp")}
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command(script, out),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its group: whatever it started, stopped
        )
        try:
            rc = proc.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            rc = stop(proc)
    output = log_path.read_text("utf-8", "replace")
    result = json.loads(out.read_text("utf-8")) if out.exists() else None
    return {
        "rc": rc,
        "output": output,
        "result": result,
        "seconds": time.perf_counter() - start,
    }


def stop(proc: subprocess.Popen) -> str:
    """SIGTERM to the group (the servers' scripts stop theirs), then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(grace)
            break
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            break
    return f"timed out after {TIMEOUT_S} s"


def digests() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(RESULTS.glob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def smoke_runs(request, tmp_path_factory):
    """Starts every selected script in the background; {script: future}."""
    params = [
        getattr(getattr(item, "callspec", None), "params", {})
        for item in request.session.items
        if item.module is request.module
    ]
    chosen = [p["script"] for p in params if "script" in p]
    chosen = [s for s in chosen if not (needs_browser(s) and browser_missing())]
    chosen.sort(key=lambda s: s not in LONGEST)
    base = tmp_path_factory.mktemp("benchmarks")
    before = digests()
    with ThreadPoolExecutor(JOBS) as pool:
        futures = {s: pool.submit(run, s, base / Path(s).stem) for s in chosen}
        yield futures
        for future in futures.values():
            future.cancel()
    assert digests() == before, "a smoke run changed benchmarks/results/"


def test_the_scripts_are_found():
    found = scripts()
    assert "bench_load.py" in found and "bench_deconv.py" in found
    assert not any(is_peer(BENCHMARKS / s) for s in found)
    assert "common.py" not in found and "peers.py" not in found


@pytest.mark.parametrize("script", scripts())
def test_benchmark_runs_at_its_smallest_settings(script, smoke_runs):
    if needs_browser(script) and browser_missing():
        pytest.skip(browser_missing())
    r = smoke_runs[script].result()
    tail = "\n".join(r["output"].splitlines()[-40:])
    print(f"{script}: {r['seconds']:.1f} s")
    assert r["rc"] == 0, f"{script} --smoke: exit status {r['rc']}\n{tail}"
    assert r["result"] is not None, f"{script} wrote no JSON to --out\n{tail}"
    assert r["result"].get("smoke") is True, f'{script}: no "smoke": true'
    retraced = [line for line in r["output"].splitlines() if RETRACING in line]
    assert retraced == [], f"{script}: TensorFlow retraced:\n" + "\n".join(retraced)
