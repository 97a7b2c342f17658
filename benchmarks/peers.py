"""The peer libraries the benchmarks compare against: pinned here, and only here.

Peers run in their own virtual environment (created with
a `.pth` file naming this interpreter's site-packages, so it shares this
TensorFlow and Keras while its own packages come first) and in a
subprocess, so their imports cannot touch a tb_netviz measurement. Which venv:
the `--peer-venv PATH` flag of a benchmark, else `$NETVIZ_PEER_VENV`, else
`.bench_venv/` in the checkout (gitignored). A missing venv is created and a
missing peer installed from PyPI with the pinned version below.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV_VAR = "NETVIZ_PEER_VENV"
DEFAULT_VENV = os.path.join(ROOT, ".bench_venv")

# name -> (pip requirement, module to import). Bump a version here and nowhere else.
PEERS = {
    "tf-keras-vis": ("tf-keras-vis==0.8.7", "tf_keras_vis"),
    "tf-explain": ("tf-explain==0.3.1", "tf_explain"),
}


def add_flag(parser: argparse.ArgumentParser) -> None:
    """Adds `--peer-venv` and `--no-peers` (alias `--no-peer`) to a parser.

    `--no-peers` runs no peer and installs nothing (what the tests use: tests
    never download); `versions()` records that the peers were skipped.
    """
    parser.add_argument(
        "--peer-venv",
        default=None,
        help=f"virtual environment for the peer libraries (default ${ENV_VAR}, "
        f"else {os.path.relpath(DEFAULT_VENV, ROOT)}/); created if missing",
    )
    parser.add_argument(
        "--no-peers",
        "--no-peer",
        dest="no_peer",
        action="store_true",
        help="skip the peers (nothing is installed; recorded in the results)",
    )


def venv_path(flag: str | None) -> str:
    """The peer venv: the flag, else `$NETVIZ_PEER_VENV`, else `.bench_venv/`."""
    return os.path.abspath(flag or os.environ.get(ENV_VAR) or DEFAULT_VENV)


def python(flag: str | None, *names: str) -> str:
    """The peer venv's `python`, with the named peers installed at their pins.

    Args:
      flag: the value of `--peer-venv` (None: the variable or the default).
      *names: keys of `PEERS`.
    """
    venv = venv_path(flag)
    exe = os.path.join(venv, "bin", "python")
    if not os.path.exists(exe):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    _share_site_packages(exe)
    for name in names:
        requirement, module = PEERS[name]
        found = subprocess.run(
            [exe, "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
            capture_output=True,
            text=True,
            check=False,
        )
        pinned = requirement.split("==", 1)[1]
        if found.returncode != 0 or found.stdout.strip() != pinned:
            print(f"installing {requirement} into {venv}", flush=True)
            pip = [exe, "-m", "pip", "install", "-q", requirement]
            subprocess.run(pip, check=True)
        subprocess.run([exe, "-c", f"import {module}"], check=True)
    return exe


def _share_site_packages(exe: str) -> None:
    """Makes the peer venv see this interpreter's packages after its own."""
    ask = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([exe, "-c", ask], capture_output=True, text=True, check=True)
    ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    with open(os.path.join(site.stdout.strip(), "netviz-host.pth"), "w") as f:
        f.write("\n".join(sorted(ours)) + "\n")


def versions(flag: str | None, skipped: bool = False) -> dict:
    """The pinned requirement of each peer and whether they ran, for the JSON."""
    return {
        "skipped": bool(skipped),
        "venv": venv_path(flag),
        "pins": {name: req for name, (req, _) in PEERS.items()},
    }
