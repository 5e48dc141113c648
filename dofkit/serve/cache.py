"""A least-recently-used store of focus maps bounded by their total size in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np


class MapCache:
    """Key -> float32 map, holding at most ``limit_bytes`` of maps (the least recently used
    dropped first; a map larger than the limit is not kept)."""

    def __init__(self, limit_bytes: int):
        self.limit = limit_bytes
        self._maps: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.size = self.hits = self.misses = 0

    def get(self, key: tuple) -> np.ndarray | None:
        """The map stored under ``key`` (now the most recent), or None."""
        with self._lock:
            found = self._maps.get(key)
            if found is None:
                self.misses += 1
                return None
            self._maps.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple, focus: np.ndarray) -> None:
        """Store ``focus`` (read-only from now on) under ``key``, evicting as needed."""
        if focus.nbytes > self.limit:
            return
        focus.setflags(write=False)
        with self._lock:
            old = self._maps.pop(key, None)
            self.size -= old.nbytes if old is not None else 0
            self._maps[key] = focus
            self.size += focus.nbytes
            while self.size > self.limit:
                _, dropped = self._maps.popitem(last=False)
                self.size -= dropped.nbytes

    def __len__(self) -> int:
        return len(self._maps)
