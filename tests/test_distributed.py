"""Training under tf.distribute: exactly one copy of each summary, chief only."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from logs import read_records
from tb_process import free_port

HERE = pathlib.Path(__file__).resolve().parent


def _env(**extra) -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def test_mirrored_strategy_on_two_logical_cpus_writes_one_copy(tmp_path):
    log_dir = str(tmp_path / "run")
    done = subprocess.run(
        [sys.executable, str(HERE / "dist_worker.py"), "mirrored", log_dir],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "DONE mirrored" in done.stdout
    assert read_records(f"{log_dir}/netviz") == {
        "activations/conv1": [0, 1],
        "activations/conv2": [0, 1],
        "model/graph": [0],
        "probe/input": [0],
    }
    assert len(os.listdir(f"{log_dir}/netviz")) == 1


def test_multi_worker_only_the_chief_writes(tmp_path):
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in range(2):
        tf_config = json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(HERE / "dist_worker.py"),
                    "multiworker",
                    str(tmp_path / f"worker{index}"),
                ],
                env=_env(TF_CONFIG=tf_config),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=HERE,
            )
        )
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
        assert "DONE multiworker" in out
    assert read_records(str(tmp_path / "worker0" / "netviz")) == {
        "activations/conv1": [0, 1],
        "activations/conv2": [0, 1],
        "model/graph": [0],
        "probe/input": [0],
    }
    assert not (tmp_path / "worker1").exists()
