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

import collections
import logging
from pathlib import Path

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from tensorboard.data import provider
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tb_netviz import metadata

logger = logging.getLogger(__name__)

# Without a --samples_per_plugin hint, ask for at most this many steps: the
# loaders keep fewer by default anyway (10), and `netviz=0` keeps every step.
_DEFAULT_DOWNSAMPLE = 1000
_ALL_STEPS = 2**31 - 1
_INFO_CACHE_SIZE = 4096
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
    values = request.args.getlist(name)
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
        self._data_provider = context.data_provider
        hint = (context.sampling_hints or {}).get(self.plugin_name)
        if hint is None:
            self._downsample = _DEFAULT_DOWNSAMPLE
        else:
            self._downsample = _ALL_STEPS if hint == 0 else hint
        self._static = _static_files()
        self._warned: set[tuple[str, str]] = set()
        # Element 0 of a step never changes once written: cache recent ones by
        # blob key, bounded so memory does not grow with the number of requests.
        self._info_cache: collections.OrderedDict[str, dict] = collections.OrderedDict()

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
        listing = self._data_provider.list_blob_sequences(
            plugin_util.context(request.environ),
            experiment_id=plugin_util.experiment_id(request.environ),
            plugin_name=metadata.PLUGIN_NAME,
            run_tag_filter=run_tag_filter,
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
        return None

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

    def _read(self, request, run: str, tag: str) -> list:
        """Returns the `BlobSequenceDatum`s of one run/tag, or raises a 404."""
        only = provider.RunTagFilter(runs=[run], tags=[tag])
        if tag not in self._series(request, only).get(run, {}):
            raise errors.NotFoundError(f"no NetViz data for run {run!r}, tag {tag!r}")
        data = self._data_provider.read_blob_sequences(
            plugin_util.context(request.environ),
            experiment_id=plugin_util.experiment_id(request.environ),
            plugin_name=metadata.PLUGIN_NAME,
            downsample=self._downsample,
            run_tag_filter=only,
        )
        return data.get(run, {}).get(tag, [])

    def _step_info(self, request, datum) -> dict:
        """Reads and decodes element 0 of a step; the entry says why if it cannot."""
        entry = {
            "step": datum.step,
            "wall_time": datum.wall_time,
            "samples": max(len(datum.values) - 1, 0),
            "info": None,
        }
        if not datum.values:
            entry["error"] = "the step holds no values"
            return entry
        key = datum.values[0].blob_key
        if key in self._info_cache:
            self._info_cache.move_to_end(key)
        else:
            try:
                info = metadata.decode_step_info(self._blob(request, key))
            except (ValueError, errors.NotFoundError) as e:
                entry["error"] = f"unreadable step JSON: {e}"
                return entry
            self._info_cache[key] = info
            if len(self._info_cache) > _INFO_CACHE_SIZE:
                self._info_cache.popitem(last=False)
        entry["info"] = self._info_cache[key]
        return entry

    def _blob(self, request, key: str) -> bytes:
        """Reads one blob; any failure is a 404, never a 500."""
        try:
            return self._data_provider.read_blob(
                plugin_util.context(request.environ), blob_key=key
            )
        except errors.NotFoundError:
            raise
        except Exception as e:  # a broken log must not become a 500
            raise errors.NotFoundError(f"blob unreadable: {e}") from None

    @wrappers.Request.application
    def _serve_steps(self, request):
        run, tag = _arg(request, "run"), _arg(request, "tag")
        steps = [self._step_info(request, d) for d in self._read(request, run, tag)]
        body = {"run": run, "tag": tag, "steps": steps}
        return http_util.Respond(request, body, "application/json")

    @wrappers.Request.application
    def _serve_image(self, request):
        run, tag = _arg(request, "run"), _arg(request, "tag")
        step, sample = _int_arg(request, "step"), _int_arg(request, "sample")
        datum = next((d for d in self._read(request, run, tag) if d.step == step), None)
        if datum is None:
            raise errors.NotFoundError(f"run {run!r} tag {tag!r} has no step {step}")
        if sample + 1 >= len(datum.values):
            raise errors.NotFoundError(
                f"step {step} has {max(len(datum.values) - 1, 0)} images; "
                f"sample {sample} does not exist"
            )
        blob = self._blob(request, datum.values[sample + 1].blob_key)
        return http_util.Respond(request, blob, "image/png")
