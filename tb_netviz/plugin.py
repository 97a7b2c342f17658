"""The NetViz TensorBoard plugin: HTTP routes over TensorBoard's data provider.

This is the `tensorboard_plugins` entry point, so it imports only the standard
library, werkzeug and numpy-free `tensorboard.*` modules: an import error here
would take TensorBoard itself down. It reads only through
`context.data_provider`, so it works with the Rust data server, the Python
loader and remote logdirs alike.

Routes (under `data/plugin/netviz/`), documented in the README's "HTTP API":
`index.js` and `static/<file>` (the frontend), `runs`, `steps`, `image`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from tensorboard.data import provider
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tb_netviz import metadata
from tb_netviz.reader import Reader

logger = logging.getLogger(__name__)

# Without a --samples_per_plugin hint, ask for at most this many steps: the
# loaders keep fewer by default anyway (10), and `netviz=0` keeps every step.
_DEFAULT_DOWNSAMPLE = 1000
_ALL_STEPS = 2**31 - 1
_CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}


def _frontend_dir() -> Path:
    """The frontend folder: inside the installed package, else the source checkout's."""
    here = Path(__file__).resolve().parent
    installed = here / "frontend"
    return installed if installed.is_dir() else here.parent / "frontend"


def _static_files() -> dict[str, Path]:
    """The allowlist: every `.js`/`.css` file directly in the frontend folder."""
    folder = _frontend_dir()
    return {
        p.name: p
        for p in sorted(folder.iterdir())
        if p.suffix in _CONTENT_TYPES and p.is_file()
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


class NetVizPlugin(base_plugin.TBPlugin):
    """Serves NetViz summaries (activations, ascent, deconvolutions) to the panel."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context: base_plugin.TBContext):
        """Args:
        context: TensorBoard's `TBContext`; only `data_provider` and
          `sampling_hints` are used.
        """
        hint = (context.sampling_hints or {}).get(self.plugin_name)
        if hint is None:
            downsample = _DEFAULT_DOWNSAMPLE
        else:
            downsample = _ALL_STEPS if hint == 0 else hint
        self._reader = Reader(context.data_provider, downsample)
        self._static = _static_files()
        self._warned: set[tuple[str, str]] = set()

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

    def _series(self, request, run_tag_filter=None) -> dict:
        """`run -> tag -> (content, series)` for valid tags of known versions."""
        listing = self._reader.listing(
            plugin_util.context(request.environ),
            plugin_util.experiment_id(request.environ),
            run_tag_filter,
        )
        result = {}
        for run, tags in listing.items():
            for tag, series in tags.items():
                content = self._content(run, tag, series.plugin_content)
                if content is not None:
                    result.setdefault(run, {})[tag] = (content, series)
        return result

    def _content(self, run: str, tag: str, raw: bytes):
        """Parses a tag's plugin content; warns once and returns None if unusable."""
        try:
            content = metadata.parse_plugin_content(raw)
        except ValueError as e:
            return self._warn_once(run, tag, f"unreadable NetViz metadata ({e})")
        if content["version"] > metadata.VERSION:
            return self._warn_once(
                run,
                tag,
                f"format version {content['version']} is newer than this reader "
                f"({metadata.VERSION}); upgrade tb_netviz",
            )
        return content

    def _warn_once(self, run: str, tag: str, why: str) -> None:
        if (run, tag) not in self._warned:
            self._warned.add((run, tag))
            logger.warning("netviz: skipping run %r tag %r: %s", run, tag, why)

    @wrappers.Request.application
    def _serve_runs(self, request):
        runs = {}
        for run, tags in sorted(self._series(request).items()):
            kinds = runs.setdefault(run, {})
            for tag, (content, series) in sorted(tags.items()):
                kinds.setdefault(content["kind"], {})[content["layer"]] = {
                    "tag": tag,
                    "max_step": series.max_step,
                    "max_wall_time": series.max_wall_time,
                    "samples": max(series.max_length - 1, 0),
                }
        return http_util.Respond(request, {"runs": runs}, "application/json")

    def _steps(self, request, run: str, tag: str) -> dict:
        """`{step: BlobSequenceDatum}` of one run/tag, or a 404."""
        only = provider.RunTagFilter(runs=[run], tags=[tag])
        found = self._series(request, only).get(run, {}).get(tag)
        if found is None:
            raise errors.NotFoundError(f"no NetViz data for run {run!r}, tag {tag!r}")
        return self._reader.steps(
            plugin_util.context(request.environ),
            plugin_util.experiment_id(request.environ),
            run,
            tag,
            found[1],
        )

    @wrappers.Request.application
    def _serve_steps(self, request):
        run, tag = _arg(request, "run"), _arg(request, "tag")
        data = list(self._steps(request, run, tag).values())
        keys = [d.values[0].blob_key for d in data if d.values]
        texts = iter(
            self._reader.info_texts(plugin_util.context(request.environ), keys)
        )
        entries = []
        for datum in data:
            entry = {
                "step": datum.step,
                "wall_time": datum.wall_time,
                "samples": max(len(datum.values) - 1, 0),
            }
            text = (
                next(texts) if datum.values else ValueError("the step holds no values")
            )
            if not isinstance(text, str):
                entry["error"] = f"unreadable step JSON: {text}"
                text = "null"
            entries.append(f'{json.dumps(entry)[:-1]}, "info": {text}}}')
        # Built as text: `Respond` would otherwise walk the whole body in
        # `json_util.Cleanse` (~30 ms for 200 steps); every info is finite JSON.
        head = json.dumps({"run": run, "tag": tag})[:-1]
        body = f'{head}, "steps": [{", ".join(entries)}]}}'
        return http_util.Respond(request, body, "application/json")

    @wrappers.Request.application
    def _serve_image(self, request):
        run, tag = _arg(request, "run"), _arg(request, "tag")
        step, sample = _int_arg(request, "step"), _int_arg(request, "sample")
        datum = self._steps(request, run, tag).get(step)
        if datum is None:
            raise errors.NotFoundError(f"run {run!r} tag {tag!r} has no step {step}")
        if sample + 1 >= len(datum.values):
            raise errors.NotFoundError(
                f"step {step} has {max(len(datum.values) - 1, 0)} images; "
                f"sample {sample} does not exist"
            )
        blob = self._reader.blob(
            plugin_util.context(request.environ), datum.values[sample + 1].blob_key
        )
        return http_util.Respond(request, blob, "image/png")
