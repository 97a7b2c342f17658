"""Helpers for the browser tests: a real `tensorboard` process and headless Chromium.

Chromium is the Debian package at /usr/bin/chromium, driven by Python
Playwright; Playwright never downloads a browser here.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from tb_process import TensorBoard, data_server_available, free_port  # noqa: F401

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
# A second hostile run (it sorts first, so it is the first card) with layer
# names that are markup; "/" cannot be in a run directory's name.
HOSTILE_RUN_2 = "\"'><svg onload=alert(3)>"
HOSTILE_LAYERS = ("<script>alert(2)</script>\"'", "seq<b onmouseover=alert(4)>")
VIEWPORT = {"width": 1360, "height": 860}


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


# --- Logdirs for the browser tests, written without TensorFlow or the writer ---
# Built from the committed demo_logs (copied, filtered, renamed) and from
# hand-made steps in the documented log format (README "Log format").

REPO = Path(__file__).resolve().parent.parent
DEMO_LOGS = REPO / "demo_logs"


def _events(run_dir: Path):
    from tensorboard.backend.event_processing import event_file_loader

    for path in sorted(Path(run_dir).glob("events.out.tfevents.*")):
        yield from event_file_loader.EventFileLoader(str(path)).Load()


def _value_event(step: int, wall_time: float, kind: str, layer: str, info: dict, pngs):
    from tensorboard.compat.proto import (
        event_pb2,
        summary_pb2,
        tensor_pb2,
        tensor_shape_pb2,
        types_pb2,
    )

    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name="netviz",
            content=json.dumps({"version": 1, "kind": kind, "layer": layer}).encode(),
        ),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )
    elements = [json.dumps(info).encode()] + list(pngs)
    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(elements))]
        ),
        string_val=elements,
    )
    value = summary_pb2.Summary.Value(
        tag=f"{kind}/{layer}", metadata=metadata, tensor=tensor
    )
    return event_pb2.Event(
        step=step, wall_time=wall_time, summary=summary_pb2.Summary(value=[value])
    )


def write_events(run_dir: Path, events) -> None:
    """Writes events (protos) to a new event file in `run_dir`."""
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    Path(run_dir).mkdir(parents=True, exist_ok=True)
    writer = EventFileWriter(str(run_dir))
    for event in events:
        writer.add_event(event)
    writer.close()


def copy_run(src: Path, dst: Path, keep=lambda tag: True, extra=()) -> None:
    """Copies a run's NetViz values whose tag passes `keep`, plus `extra` events."""
    events = [
        e for e in _events(src) if e.summary.value and keep(e.summary.value[0].tag)
    ]
    write_events(dst, events + list(extra))


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def activation_event(layer: str, x: np.ndarray, step: int):
    """One activations step in the log format, for a (N, H, W, C) or (N, T, C) array."""
    x = np.asarray(x, np.float32)
    if x.ndim == 3:  # a sequence: one T x 1 tile per channel, in one row
        x = x[:, :, None, :]
        rows, cols, pad = 1, x.shape[-1], 0
    else:
        cols = int(np.ceil(np.sqrt(x.shape[-1])))
        rows, pad = int(np.ceil(x.shape[-1] / cols)), 1
    n, h, w, c = x.shape
    grids, ranges = [], []
    for i in range(n):
        grid = np.zeros((rows * (h + pad) - pad, cols * (w + pad) - pad), np.uint8)
        row_ranges = []
        for k in range(c):
            tile = x[i, :, :, k]
            ok = np.isfinite(tile)
            lo = float(tile[ok].min()) if ok.any() else None
            hi = float(tile[ok].max()) if ok.any() else None
            span = (hi - lo) if ok.any() and hi > lo else 1.0
            q = np.where(
                ok, np.round((np.nan_to_num(tile) - (lo or 0)) / span * 255), 0
            )
            r, cc = divmod(k, cols)
            grid[
                r * (h + pad) : r * (h + pad) + h, cc * (w + pad) : cc * (w + pad) + w
            ] = q
            row_ranges.append([lo, hi])
        grids.append(_png(grid))
        ranges.append(row_ranges)
    finite = np.isfinite(x)
    info = {
        "version": 1, "kind": "activations", "layer": layer,
        "output_shape": [n, *x.shape[1:-1], c] if pad else [n, h, c],
        "layout": {"rows": rows, "cols": cols, "tile_height": h, "tile_width": w, "pad": pad},
        "channels": list(range(c)), "channels_total": c, "channels_omitted": 0,
        "downsample": 1, "qmax": 255, "ranges": ranges,
        "stats": {
            "mean": [float(np.nanmean(np.where(finite, x, np.nan)[..., k])) for k in range(c)],
            "frac_positive": [float((x[..., k] > 0).mean()) for k in range(c)],
        },
        "samples": n, "nonfinite": bool((~finite).any()),
    }  # fmt: skip
    return _value_event(step, 1.8e9 + step, "activations", layer, info, grids)


def probe_event(run_dir_with_deconv: Path, step: int = 0, layer: str = "input_layer"):
    """A `probe` step whose pictures are the probe inputs: tile 0 of the run's
    first deconvnet step (the input each reconstruction is drawn beside)."""
    from PIL import Image

    for e in _events(run_dir_with_deconv):
        value = e.summary.value[0] if e.summary.value else None
        if value is None or not value.tag.startswith("deconvnet/"):
            continue
        info = json.loads(value.tensor.string_val[0])
        lay = info["layout"]
        pngs = []
        for png in value.tensor.string_val[1:]:
            image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
            pngs.append(_png(image[: lay["tile_height"], : lay["tile_width"]]))
        probe = {
            "version": 1, "kind": "probe", "layer": layer, "samples": len(pngs),
            "shape": [len(pngs), lay["tile_height"], lay["tile_width"], 3],
            "input_range": [0.0, 1.0], "drawn_as": "image", "layout": {},
        }  # fmt: skip
        return _value_event(step, e.wall_time, "probe", layer, probe, pngs)
    raise ValueError(f"no deconvnet step in {run_dir_with_deconv}")


def write_hostile_layers(run_dir: Path) -> None:
    """A run whose layer names are markup: a conv-shaped layer (a NaN at step 1)
    and a sequence layer."""
    rng = np.random.default_rng(0)
    events = []
    for step in (0, 1):
        conv = rng.normal(size=(2, 8, 8, 4)).astype(np.float32)
        if step == 1:
            conv[0, 0, 0, 0] = np.nan
        events.append(activation_event(HOSTILE_LAYERS[0], conv, step))
        seq = rng.normal(size=(2, 12, 6)).astype(np.float32)
        events.append(activation_event(HOSTILE_LAYERS[1], seq, step))
    write_events(run_dir, events)


def has_tag(run_dir: Path, prefix: str) -> bool:
    return any(
        e.summary.value and e.summary.value[0].tag.startswith(prefix)
        for e in _events(run_dir)
    )


def make_browser_logdir(root: Path) -> Path:
    """The demo runs (their `netviz` folders), a probe for the first one when
    the demo logs have none, and the two hostile runs."""
    for run in sorted(p.parent for p in DEMO_LOGS.glob("*/netviz")):
        shutil.copytree(run / "netviz", root / run.name / "netviz")
    first = sorted(root.glob("*/netviz"))[0]
    if not has_tag(first, "probe/"):
        write_events(first, [probe_event(first)])
    shutil.copytree(sorted(root.glob("*/netviz"))[-1], root / HOSTILE_RUN)
    write_hostile_layers(root / HOSTILE_RUN_2)
    return root


class Panel:
    """A browser page on TensorBoard's NetViz tab, recording what must not happen."""

    def __init__(self, browser, url: str, viewport=VIEWPORT, hash_="#netviz", **kw):
        self.page = browser.new_page(viewport=viewport, **kw)
        self.problems: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("console", self._on_console)
        self.page.goto(url + hash_)
        self.frame = plugin_frame(self.page)
        wait_ready(self.frame)

    def _on_dialog(self, dialog):
        self.problems.append(f"dialog ({dialog.type}): {dialog.message}")
        dialog.dismiss()

    def _on_console(self, message):
        where = (message.location or {}).get("url", "")
        ours = "plugin/netviz" in where or "plugin_entry" in where
        if message.type == "error" and (
            ours or "Content Security Policy" in message.text
        ):
            self.problems.append(f"console error: {message.text} @ {where}")

    def act(self, action):
        """Runs an action on the frame and waits for the panel to render again."""
        action(self.frame)
        wait_ready(self.frame)

    def layer(self) -> str:
        return self.frame.eval_on_selector("select[name=layer]", "s => s.value")

    def columns(self):
        return self.frame.query_selector_all(".nv-columns > .nv-col")

    def headers(self) -> list[str]:
        return [
            c.query_selector(".nv-run-label").text_content() for c in self.columns()
        ]

    def check_run(self, run: str, checked: bool = True):
        """Ticks (or unticks) a run by its id in the sidebar."""
        box = self.frame.evaluate_handle(
            "run => [...document.querySelectorAll('.nv-run input')].find(b => b.dataset.run === run)",
            run,
        ).as_element()
        assert box, f"no run {run!r} in the sidebar"
        self.act(lambda f: box.set_checked(checked))

    def only(self, *runs: str):
        """Chooses exactly these runs (ids) in the sidebar."""
        self.act(lambda f: f.click(".nv-sidebar button.nv-link >> text=none"))
        for run in runs:
            self.check_run(run)

    def resize(self, width: int, height: int):
        """Sets the viewport and waits for the panel's re-render that follows."""
        before = self.frame.eval_on_selector(
            ".nv-root", "r => Number(r.dataset.renders || 0)"
        )
        self.page.set_viewport_size({"width": width, "height": height})
        self.frame.wait_for_function(
            "n => Number(document.querySelector('.nv-root').dataset.renders || 0) > n",
            arg=before,
        )
        wait_ready(self.frame)

    def host_hash(self) -> str:
        return self.page.evaluate("() => location.hash")

    def reload(self):
        """Reloads the whole TensorBoard page (its hash kept) and waits for the panel."""
        self.page.reload()
        self.frame = plugin_frame(self.page)
        wait_ready(self.frame)

    def close(self):
        self.page.close()
        assert not self.problems, self.problems


def display(run: str) -> str:
    """The name the panel shows for a run id."""
    return "." if run == "netviz" else run.removesuffix("/netviz")


# --- Fixtures shared by the tests/test_browser*.py modules (`pytest_plugins`) ---


@pytest.fixture(scope="session")
def logdir(tmp_path_factory) -> Path:
    """demo_logs' runs plus hostile runs (see `make_browser_logdir`).

    NETVIZ_BROWSER_LOGDIR=<logdir> uses a copy of that logdir instead.
    """
    root = tmp_path_factory.mktemp("netviz_browser") / "logs"
    source = os.environ.get("NETVIZ_BROWSER_LOGDIR")
    if source:
        shutil.copytree(source, root)
        return root
    root.mkdir()
    return make_browser_logdir(root)


@pytest.fixture(scope="session")
def tensorboard(logdir):
    with TensorBoard(logdir, load_fast=False) as tb:
        tb.runs = tb.wait_for_runs(4)
        yield tb


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shared_panel(browser, tensorboard):
    """One TensorBoard page on the NetViz tab for a module's tests."""
    p = Panel(browser, tensorboard.url)
    p.fresh = True
    yield p
    p.close()


@pytest.fixture
def panel(shared_panel):
    """The shared page with a fresh panel (default state, URL cleared); fails on
    dialogs and errors."""
    p = shared_panel
    if not p.fresh:
        p.page.set_viewport_size(VIEWPORT)
        p.page.evaluate("() => { location.hash = '#netviz'; }")
        p.frame.goto(p.frame.url)
        p.frame = plugin_frame(p.page)
        wait_ready(p.frame)
    p.fresh = False
    yield p
    problems, p.problems = p.problems, []
    assert not problems, problems


def demo_runs(tb) -> list[str]:
    return sorted(r for r in tb.runs if r not in (HOSTILE_RUN, HOSTILE_RUN_2))
