"""`LRU`: the reader's bounded caches (standard library only: the plugin's
entry point stays light)."""

from __future__ import annotations

import collections
import threading


class LRU:
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
