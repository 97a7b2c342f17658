"""The README's two commands stay true: CI runs the test command verbatim."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_ci_runs_the_readme_test_command_verbatim():
    show, test = _commands()
    assert "tensorboard --logdir demo_logs" in show
    assert "pytest tests" in test
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines


def test_demo_logs_are_committed_and_small():
    files = [p for p in (ROOT / "demo_logs").rglob("*") if p.is_file()]
    assert any(p.parent.name == "netviz" for p in files)
    assert sum(p.stat().st_size for p in files) < 20 * 2**20
