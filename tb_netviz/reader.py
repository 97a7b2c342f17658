"""Cached reads of NetViz data through TensorBoard's data provider.

Only the standard library and numpy-free `tensorboard.*` (this is imported by
the plugin entry point). Three caches, all bounded, keep the HTTP routes fast:

* the unfiltered listing, for `_LISTING_TTL_S`: the Python loader scans every
  event of every tag to answer it (~90 ms for 50 runs x 3 tags x 200 steps),
  and the loaders only reload every 5 s anyway;
* each run/tag's step list, while the series' (max_step, max_wall_time,
  max_length) is unchanged: an image then costs one `read_blob`;
* each step's JSON (element 0) as compact text, by blob key. Missing ones are
  read concurrently: the Rust data server answers each `read_blob` after
  ~45 ms on loopback, so 200 in a row would take ~9 s.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import threading
import time

from tensorboard import errors
from tensorboard.data import provider

from tb_netviz import metadata

_LISTING_TTL_S = 2.0
# Step lists are bounded by their total number of steps, not their count: with
# `--samples_per_plugin netviz=0` one list can hold any number of steps, each
# costing ~0.5-0.8 KB (blob keys and their objects).
_SERIES_CACHE_STEPS = 100_000
_INFO_CACHE_SIZE = 4096
_READ_WORKERS = 8


class _LRU:
    """A thread-safe mapping that forgets the least recently used entries once
    their summed weights pass `size` (the newest entry is always kept)."""

    def __init__(self, size: int):
        self._size, self._data = size, collections.OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            self._data.move_to_end(key)
            return hit[0]

    def put(self, key, value, weight: int = 1) -> None:
        with self._lock:
            old = self._data.pop(key, None)
            self._weight += weight - (old[1] if old else 0)
            self._data[key] = (value, weight)
            while self._weight > self._size and len(self._data) > 1:
                self._weight -= self._data.popitem(last=False)[1][1]


class Reader:
    """Reads listings, step lists, step JSON and blobs for one plugin instance."""

    def __init__(self, data_provider, downsample: int):
        """Args:
        data_provider: TensorBoard's `DataProvider`.
        downsample: at most this many steps per series are read.
        """
        self._provider, self._downsample = data_provider, downsample
        self._listing: tuple | None = None  # (time, experiment, listing)
        self._series = _LRU(_SERIES_CACHE_STEPS)
        self._infos = _LRU(_INFO_CACHE_SIZE)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            _READ_WORKERS, thread_name_prefix="netviz-read"
        )

    def listing(self, ctx, experiment: str, run_tag_filter=None) -> dict:
        """`{run: {tag: BlobSequenceTimeSeries}}` of NetViz data."""
        cached = self._listing
        unfiltered = run_tag_filter is None
        fresh = cached and time.monotonic() - cached[0] < _LISTING_TTL_S
        if unfiltered and fresh and cached[1] == experiment:
            return cached[2]
        result = self._provider.list_blob_sequences(
            ctx,
            experiment_id=experiment,
            plugin_name=metadata.PLUGIN_NAME,
            run_tag_filter=run_tag_filter,
        )
        if unfiltered:
            self._listing = (time.monotonic(), experiment, result)
        return result

    def steps(self, ctx, experiment: str, run: str, tag: str, series) -> dict:
        """`{step: BlobSequenceDatum}` in step order for one listed series."""
        key = (experiment, run, tag)
        signature = (series.max_step, series.max_wall_time, series.max_length)
        hit = self._series.get(key)
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
        self._series.put(key, (signature, by_step), weight=max(len(by_step), 1))
        return by_step

    def blob(self, ctx, key: str) -> bytes:
        """Reads one blob; any failure is a `NotFoundError` (404), never a 500."""
        try:
            return self._provider.read_blob(ctx, blob_key=key)
        except errors.NotFoundError:
            raise
        except Exception as e:  # a broken log must not become a 500
            raise errors.NotFoundError(f"blob unreadable: {e}") from None

    def _info_text(self, ctx, key: str):
        """Element 0 as compact JSON text, or the exception that prevented it."""
        text = self._infos.get(key)
        if text is None:
            try:
                info = metadata.decode_step_info(self.blob(ctx, key))
                # A hand-made log may hold NaN literals, which browsers reject.
                text = json.dumps(info, separators=(",", ":"), allow_nan=False)
            except (ValueError, errors.NotFoundError) as e:
                return e
            self._infos.put(key, text)
        return text

    def info_texts(self, ctx, keys: list[str]) -> list:
        """The step JSON text (or an exception) for each blob key, read concurrently."""
        texts = [self._infos.get(k) for k in keys]
        missing = [i for i, text in enumerate(texts) if text is None]
        read = lambda i: self._info_text(ctx, keys[i])  # noqa: E731
        found = (
            self._pool.map(read, missing) if len(missing) > 1 else map(read, missing)
        )
        for i, text in zip(missing, found):
            texts[i] = text
        return texts
