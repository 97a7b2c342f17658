"""The NetViz TensorBoard plugin: HTTP routes over TensorBoard's data provider.

This is the `tensorboard_plugins` entry point, so it imports only the standard
library, werkzeug and numpy-free `tensorboard.*` modules: an import error here
would take TensorBoard itself down. It reads only through
`context.data_provider`, so it works with the Rust data server, the Python
loader and remote logdirs alike.

Routes (under `data/plugin/netviz/`), documented in the README's "HTTP API":
`index.js` and `static/<path>` (the frontend: `static/app.js`,
`static/views/<file>`, `static/shared/<file>`), `runs`, `steps`, `image`.

The entry point is `NetVizLoader`: it sets TensorBoard's sampling hint for
`netviz` when the user gave none, so every step of an ordinary run is kept
without a flag.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tb_netviz import metadata
from tb_netviz.reader import Reader

# Steps kept per series when the user gave no `--samples_per_plugin netviz=N`:
# every step of an ordinary run; beyond it the loaders' reservoir sampling
# keeps memory bounded on a long one (the newest step is always kept).
# TensorBoard keeps 10 images and 1000 scalars per tag for the same reason.
DEFAULT_SAMPLES = 1000
_ALL_STEPS = 2**31 - 1
_CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}


def _frontend_dir() -> Path:
    """The frontend folder: inside the installed package, else the source checkout's."""
    here = Path(__file__).resolve().parent
    installed = here / "frontend"
    return installed if installed.is_dir() else here.parent / "frontend"


def _static_files() -> dict[str, Path]:
    """The allowlist: every `.js`/`.css` file in the frontend folder or below it.

    Keys are `/`-separated paths relative to the folder (`app.js`,
    `views/view_units.js`, `shared/state.js`), matched exactly against the
    request, so `..`, backslashes and absolute paths never match. A file
    that resolves outside the folder (a symbolic link) is left out.
    """
    folder = _frontend_dir().resolve()
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.suffix in _CONTENT_TYPES
        and p.is_file()
        and p.resolve().is_relative_to(folder)
    }


def _arg(request, name: str) -> str:
    """Returns a required query parameter or raises a 400 naming it."""
    try:
        values = request.args.getlist(name)
    except UnicodeDecodeError:
        raise errors.InvalidArgumentError(
            "the query string is not valid UTF-8"
        ) from None
    if len(values) != 1 or values[0] == "":
        raise errors.InvalidArgumentError(
            f"query parameter {name!r} is required exactly once"
        )
    return values[0]


def _int_arg(request, name: str) -> int:
    """Returns a required non-negative integer query parameter or raises a 400."""
    text = _arg(request, name)
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise errors.InvalidArgumentError(
            f"query parameter {name!r} must be a non-negative integer, got {text!r}"
        )
    return int(text)


def logdir_name(location: str) -> str:
    """The name a logdir that is itself a run is shown by: its folder's name.

    TensorBoard names the run of the logdir itself `.` (`netviz` when the
    writer's `<logdir>/netviz` is under it). Like the panel's run names, a
    trailing `netviz` folder is left out: `logs/mymodel/netviz` and
    `logs/mymodel` are both `mymodel`. `""` when unknown (no location, `/`).

    Args:
      location: the experiment's data location as TensorBoard was given it:
        a local path (relative ones resolve against TensorBoard's working
        folder, as TensorBoard resolves them) or a URL (`gs://bucket/logs`).
    """
    if not location:
        return ""
    if "://" not in location:
        location = os.path.abspath(os.path.expanduser(location))
    parts = [p for p in re.split(r"[/\\]", location) if p]
    if len(parts) > 1 and parts[-1] == metadata.RUN_SUBDIR:
        parts.pop()
    return parts[-1] if parts else ""


class NetVizLoader(base_plugin.TBLoader):
    """The `tensorboard_plugins` entry point: fixes the sampling hint, loads the plugin."""

    def fix_flags(self, flags):
        """Sets `--samples_per_plugin netviz=DEFAULT_SAMPLES` unless given.

        An explicit `netviz=N` (0: every step) wins.
        """
        hints = getattr(flags, "samples_per_plugin", None)
        if isinstance(hints, dict):
            hints.setdefault(metadata.PLUGIN_NAME, DEFAULT_SAMPLES)

    def load(self, context):
        return NetVizPlugin(context)


class NetVizPlugin(base_plugin.TBPlugin):
    """Serves NetViz records (every kind of `metadata.KINDS`) to the panel."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context: base_plugin.TBContext):
        """Args:
        context: TensorBoard's `TBContext`; only `data_provider` and
          `sampling_hints` are used.
        """
        hint = (context.sampling_hints or {}).get(self.plugin_name, DEFAULT_SAMPLES)
        self._reader = Reader(context.data_provider, _ALL_STEPS if hint == 0 else hint)
        self._static = _static_files()

    def get_plugin_apps(self):
        return {
            "/index.js": self._serve_index,
            "/static/*": self._serve_static,
            "/runs": self._serve_runs,
            "/steps": self._serve_steps,
            "/image": self._serve_image,
        }

    def is_active(self) -> bool:
        return False  # TensorBoard core's `list_plugins` decides

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(
            es_module_path="/index.js", tab_name="NetViz"
        )

    def data_plugin_names(self):
        return (metadata.PLUGIN_NAME,)

    # Frontend files -------------------------------------------------------------

    def _respond_file(self, request, name: str):
        path = self._static.get(name)
        if path is None:
            raise errors.NotFoundError(f"no frontend file {name!r}")
        return http_util.Respond(
            request, path.read_bytes(), _CONTENT_TYPES[path.suffix]
        )

    @wrappers.Request.application
    def _serve_index(self, request):
        return self._respond_file(request, "index.js")

    @wrappers.Request.application
    def _serve_static(self, request):
        prefix = f"/data/plugin/{self.plugin_name}/static/"
        name = request.path[request.path.find(prefix) + len(prefix) :]
        return self._respond_file(request, name)

    # Data -------------------------------------------------------------------------

    @staticmethod
    def _where(request) -> tuple:
        return (
            plugin_util.context(request.environ),
            plugin_util.experiment_id(request.environ),
        )

    def _record(self, request, run: str, tag: str):
        """The record of one run and record tag, or a 404."""
        ctx, experiment = self._where(request)
        found = self._reader.records(ctx, experiment, run, tag).get(run, {}).get(tag)
        if found is None or found.main is None:
            raise errors.NotFoundError(f"no NetViz data for run {run!r}, tag {tag!r}")
        return found

    @wrappers.Request.application
    def _serve_runs(self, request):
        runs = {}
        for run, records in sorted(self._reader.records(*self._where(request)).items()):
            kinds = runs.setdefault(run, {})
            for tag, record in sorted(records.items()):
                main = record.main
                if main is None:
                    continue
                images = record.images
                samples = images.max_length if images is not None else 0
                kinds.setdefault(record.kind, {})[record.layer] = {
                    "tag": tag,
                    "max_step": main.max_step,
                    "max_wall_time": main.max_wall_time,
                    # Version 1 keeps the step JSON in element 0.
                    "samples": max(samples - (record.version == 1), 0),
                }
        body = {"runs": runs}
        if "." in runs or metadata.RUN_SUBDIR in runs:  # the logdir is itself a run
            location = self._reader.data_location(*self._where(request))
            body["logdir_name"] = logdir_name(location)
        return http_util.Respond(request, body, "application/json")

    @wrappers.Request.application
    def _serve_steps(self, request):
        run, tag = _arg(request, "run"), _arg(request, "tag")
        record = self._record(request, run, tag)
        ctx, experiment = self._where(request)
        body = self._reader.steps_body(ctx, experiment, run, tag, record)
        return http_util.Respond(
            request, body, "application/json", content_encoding="gzip"
        )

    @wrappers.Request.application
    def _serve_image(self, request):
        run, tag = _arg(request, "run"), _arg(request, "tag")
        step, sample = _int_arg(request, "step"), _int_arg(request, "sample")
        record = self._record(request, run, tag)
        ctx, experiment = self._where(request)
        datum = self._reader.blob_keys(ctx, experiment, run, tag, record).get(step)
        if datum is None:
            raise errors.NotFoundError(f"run {run!r} tag {tag!r} has no step {step}")
        index = sample + (record.version == 1)  # version 1: element 0 is JSON
        if index >= len(datum.values):
            count = len(datum.values) - (record.version == 1)
            raise errors.NotFoundError(
                f"step {step} has {max(count, 0)} images; sample {sample} does not exist"
            )
        blob = self._reader.blob(ctx, datum.values[index].blob_key)
        return http_util.Respond(request, blob, "image/png")
