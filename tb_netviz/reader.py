"""Cached reads of NetViz records through TensorBoard's data provider.

Only the standard library and numpy-free `tensorboard.*` (this is imported by
the plugin entry point). A record tag `<kind>/<layer>` stands for the two
series of format version 2 (step JSON as tensors, images as blobs) or the one
blob series of version 1 (JSON in element 0). All caches are bounded:

* the listing, for `_LISTING_TTL_S`: the Python loader scans every event of
  every tag to answer it, and the loaders only reload every 5 s anyway;
* each record's `steps` body, gzipped, while its series is unchanged: one
  `read_tensors` call for all steps of a version-2 record (version 1 needs a
  `read_blob` per step, read concurrently). Where the info series promises
  the writer's compact step JSON (`metadata.STEP_JSON_COMPACT`), each step's
  `samples` comes from the JSON's head and its text is passed on undecoded:
  decoding 500 steps' JSON was most of a first `steps` read, and gzipping
  the body (~1 MB for 500 activations steps) most of a repeated one;
* each record's blob keys, while its series is unchanged: an image then
  costs one `read_blob`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import gzip
import json
import logging
import time

from tensorboard import errors
from tensorboard.data import provider

from tb_netviz import listing, metadata
from tb_netviz.lru import LRU

logger = logging.getLogger(__name__)

_LISTING_TTL_S = 2.0
# Cached series are bounded by their total number of steps, not their count.
_SERIES_CACHE_STEPS = 100_000
_READ_WORKERS = 8


@dataclasses.dataclass
class Record:
    """One run's series of one kind and layer.

    Attributes:
      kind, layer, version: from the series' plugin content.
      info: the step-JSON series (version 2), else None.
      images: the blob series (images; version 1: JSON and images), or None.
      compact: whether `info` promises the writer's compact step JSON.
    """

    kind: str
    layer: str
    version: int
    info: object = None
    images: object = None
    compact: bool = False

    @property
    def main(self):
        """The series that lists the record's steps."""
        return self.info if self.info is not None else self.images

    def signature(self, series) -> tuple:
        return (series.max_step, series.max_wall_time, getattr(series, "max_length", 0))


class Reader:
    """Reads listings, steps and blobs for one plugin instance."""

    def __init__(self, data_provider, downsample: int):
        """Args:
        data_provider: TensorBoard's `DataProvider`.
        downsample: at most this many steps per series are read.
        """
        self._provider, self._downsample = data_provider, downsample
        self._listing: tuple | None = None  # (time, experiment, records)
        self._steps = LRU(_SERIES_CACHE_STEPS)
        self._keys = LRU(_SERIES_CACHE_STEPS)
        self._warned: set[tuple[str, str]] = set()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            _READ_WORKERS, thread_name_prefix="netviz-read"
        )

    # Listing -----------------------------------------------------------------

    def records(
        self, ctx, experiment: str, run: str | None = None, tag: str | None = None
    ):
        """`{run: {record tag: Record}}`, all runs or one run's one record tag."""
        cached = self._listing
        fresh = cached and time.monotonic() - cached[0] < _LISTING_TTL_S
        if run is None and fresh and cached[1] == experiment:
            return cached[2]
        if run is None:
            tensor_filter = blob_filter = None
        else:
            split = metadata.split_tag(tag)
            info = [metadata.info_tag(*split)] if split else []
            tensor_filter = provider.RunTagFilter(runs=[run], tags=info)
            blob_filter = provider.RunTagFilter(runs=[run], tags=[tag])
        kw = dict(experiment_id=experiment, plugin_name=metadata.PLUGIN_NAME)
        tensors = self._provider.list_tensors(ctx, run_tag_filter=tensor_filter, **kw)
        blobs = self._provider.list_blob_sequences(
            ctx, run_tag_filter=blob_filter, **kw
        )
        result: dict[str, dict[str, Record]] = {}
        for found in (tensors, blobs):
            for run_name, tags in found.items():
                for series_tag, series in tags.items():
                    self._add(result, run_name, series_tag, series)
        if run is None:
            self._listing = (time.monotonic(), experiment, result)
        return result

    def data_location(self, ctx, experiment: str) -> str:
        """The experiment's logdir as TensorBoard was given it; "" if unknown."""
        try:
            found = self._provider.experiment_metadata(ctx, experiment_id=experiment)
        except Exception:  # a remote provider's failure: a run name is not worth a 500
            return ""
        return getattr(found, "data_location", "") or ""

    def _add(self, result: dict, run: str, tag: str, series) -> None:
        try:
            content = metadata.parse_plugin_content(series.plugin_content)
        except ValueError as e:
            return self._warn_once(run, tag, f"unreadable NetViz metadata ({e})")
        if content["version"] > metadata.VERSION:
            return self._warn_once(
                run,
                tag,
                f"format version {content['version']} is newer than this reader "
                f"({metadata.VERSION}); upgrade tb_netviz",
            )
        kind, layer = content["kind"], content["layer"]
        if kind not in metadata.KINDS:
            return self._warn_once(run, tag, f"unknown kind {kind!r}")
        key = metadata.make_tag(kind, layer)
        record = result.setdefault(run, {}).setdefault(
            key, Record(kind, layer, content["version"])
        )
        if content["series"] == "info":
            record.info = series
            record.compact = content.get("step_json") == metadata.STEP_JSON_COMPACT
        else:
            record.images = series

    def _warn_once(self, run: str, tag: str, why: str) -> None:
        if (run, tag) not in self._warned:
            self._warned.add((run, tag))
            logger.warning("netviz: skipping run %r tag %r: %s", run, tag, why)

    # Steps -------------------------------------------------------------------

    def steps_body(
        self, ctx, experiment: str, run: str, tag: str, record: Record
    ) -> bytes:
        """The `steps` route's body, gzipped: UTF-8 JSON `{"run", "tag",
        "steps"}`, `steps` a list of `{"step", "wall_time", "samples", "info"}`.

        Built as text: TensorBoard's `Respond` would otherwise walk the whole
        body in `json_util.Cleanse`; every info is re-encoded as finite JSON
        (a hand-made log may hold NaN literals, which browsers reject).
        Gzipped here (as `Respond` would, level 3) so that the cache holds
        what is sent: `Respond` unzips it for a client that refuses gzip.
        """
        key = (experiment, run, tag)
        signature = record.signature(record.main)
        hit = self._steps.get(key)
        if hit is not None and hit[0] == signature:
            return hit[1]
        if record.info is not None:
            entries = self._entries_v2(ctx, experiment, run, tag, record)
        else:
            entries = self._entries_v1(ctx, experiment, run, tag, record)
        head = json.dumps({"run": run, "tag": tag})[:-1]
        text = f'{head}, "steps": [{", ".join(entries)}]}}'
        body = gzip.compress(text.encode("utf-8"), compresslevel=3, mtime=0)
        self._steps.put(key, (signature, body), weight=max(len(entries), 1))
        return body

    def _entries_v2(self, ctx, experiment, run, tag, record) -> list[str]:
        info_tag = metadata.info_tag(record.kind, record.layer)
        data = self._provider.read_tensors(
            ctx,
            experiment_id=experiment,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=self._downsample,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[info_tag]),
        )
        entries = []
        for datum in data.get(run, {}).get(info_tag, []):
            try:
                raw = datum.numpy.item()
                # The writer's JSON is finite and compact: pass it through as it
                # is (re-encoding 500 steps costs ~40 ms); hand-made NaN literals
                # are re-encoded, which refuses them.
                odd = b"NaN" in raw or b"Infinity" in raw
                samples = metadata.step_samples(raw) if record.compact else None
                if samples is not None and not odd and raw.endswith(b"}"):
                    # Promised: not decoded (that was ~60 us a step).
                    text = raw.decode("utf-8")
                else:
                    info = metadata.decode_step_info(raw)
                    text = listing.finite_json(info) if odd else raw.decode("utf-8")
                    samples = info.get("samples", 0)
            except (ValueError, AttributeError) as e:
                text, samples = e, 0
            entries.append(listing.entry(datum.step, datum.wall_time, samples, text))
        return entries

    def _entries_v1(self, ctx, experiment, run, tag, record) -> list[str]:
        data = self.blob_keys(ctx, experiment, run, tag, record)
        keys = [d.values[0].blob_key for d in data.values() if d.values]
        read = lambda key: self._info_v1(ctx, key)  # noqa: E731
        texts = iter(self._pool.map(read, keys) if len(keys) > 1 else map(read, keys))
        entries = []
        for datum in data.values():
            empty = ValueError("the step holds no values")
            text = next(texts) if datum.values else empty
            samples = max(len(datum.values) - 1, 0)
            entries.append(listing.entry(datum.step, datum.wall_time, samples, text))
        return entries

    def _info_v1(self, ctx, key: str):
        try:
            return listing.finite_json(metadata.decode_step_info(self.blob(ctx, key)))
        except (ValueError, errors.NotFoundError) as e:
            return e

    # Images ------------------------------------------------------------------

    def blob_keys(
        self, ctx, experiment: str, run: str, tag: str, record: Record
    ) -> dict:
        """`{step: BlobSequenceDatum}` of the record's blob series, in step order."""
        if record.images is None:
            return {}
        key = (experiment, run, tag)
        signature = record.signature(record.images)
        hit = self._keys.get(key)
        if hit is not None and hit[0] == signature:
            return hit[1]
        data = self._provider.read_blob_sequences(
            ctx,
            experiment_id=experiment,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=self._downsample,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
        )
        by_step = {d.step: d for d in data.get(run, {}).get(tag, [])}
        self._keys.put(key, (signature, by_step), weight=max(len(by_step), 1))
        return by_step

    def blob(self, ctx, key: str) -> bytes:
        """Reads one blob; any failure is a `NotFoundError` (404), never a 500."""
        try:
            return self._provider.read_blob(ctx, blob_key=key)
        except errors.NotFoundError:
            raise
        except Exception as e:  # a broken log must not become a 500
            raise errors.NotFoundError(f"blob unreadable: {e}") from None
