"""A bounded memory of the vectors of short texts that recur (entity names, fact sentences).

Every write embeds the names of the entities it mentions and the sentences of its
facts. Speakers, popular entities and facts repeated in conversation come back again
and again; a model call costs about the same for one short text as for dozens, so
looking them up here instead saves both that fixed cost and the tokens.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from graphmem.embedding.base import Vectors
from graphmem.errors import InvalidInputError

DEFAULT_MAX_ENTRIES = 8192
"""About 13 MB of 384-dimensional float32 vectors."""
DEFAULT_MAX_TEXT_CHARS = 256
"""Longer texts are rarely repeated word for word; they are embedded every time."""


class VectorCache:
    """Least-recently-used map from (model, exact text) to its unit vector; thread-safe.

    The model name is part of the key, so one cache can never hand a vector of one
    model to a store of another. Stored vectors are read-only copies.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    ) -> None:
        for name, value in (("max_entries", max_entries), ("max_text_chars", max_text_chars)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
        self._max_entries = max_entries
        self._max_text_chars = max_text_chars
        self._vectors: OrderedDict[tuple[str, str], Vectors] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        """Lookups answered from the cache (for benchmarks and monitoring)."""
        self.misses = 0
        """Lookups of cacheable texts that had to be embedded."""

    def __len__(self) -> int:
        with self._lock:
            return len(self._vectors)

    def cacheable(self, text: str) -> bool:
        """Whether ``text`` is short enough to be kept."""
        return len(text) <= self._max_text_chars

    def get(self, model: str, text: str) -> Vectors | None:
        """The remembered vector of ``text`` under ``model``, or None."""
        key = (model, text)
        with self._lock:
            vector = self._vectors.get(key)
            if vector is None:
                self.misses += 1
                return None
            self._vectors.move_to_end(key)
            self.hits += 1
            return vector

    def put(self, model: str, text: str, vector: Vectors) -> None:
        """Remember ``vector`` for ``text`` (ignored for texts too long to keep)."""
        if not self.cacheable(text):
            return
        kept = np.array(vector, dtype=np.float32, copy=True)
        kept.setflags(write=False)
        key = (model, text)
        with self._lock:
            self._vectors[key] = kept
            self._vectors.move_to_end(key)
            while len(self._vectors) > self._max_entries:
                self._vectors.popitem(last=False)

    def clear(self) -> None:
        """Forget every vector (the counters keep their values)."""
        with self._lock:
            self._vectors.clear()
