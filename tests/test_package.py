"""The wheel ships the frontend and declares the TensorBoard entry point."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_wheel_has_frontend_and_entry_point(tmp_path):
    # No build isolation: the test must not download setuptools.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("tb_netviz-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    folder = ROOT / "frontend"
    frontend = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.suffix in {".js", ".css"}
    }
    assert {"index.js", "app.js", "views/view_units.js", "shared/state.js"} <= frontend
    assert {f"tb_netviz/frontend/{n}" for n in frontend} <= names
    assert "tb_netviz/plugin.py" in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[tensorboard_plugins]\nnetviz = tb_netviz.plugin:NetVizLoader" in text


def test_plugin_module_does_not_import_tensorflow():
    code = (
        "import sys, tb_netviz.plugin, tb_netviz.metadata, tb_netviz\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, "
        "sorted(m for m in sys.modules if m.startswith(('tensorflow', 'keras')))[:5]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
