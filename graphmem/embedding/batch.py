"""Texts gathered from every part of one write, embedded with a single model call.

A model call has a large fixed cost (on a small CPU, reading the model's weights
takes longer than the arithmetic for a few short texts), so one write that needs
episode, entity-name and fact-sentence vectors asks for all of them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from graphmem.embedding.base import Embedder, Vectors
from graphmem.embedding.cache import VectorCache
from graphmem.errors import EmbeddingShapeError

__all__ = ["EmbeddingBatch", "EmbeddingShapeError"]


@dataclass(slots=True)
class _Part:
    texts: list[str]
    reuse: bool
    vectors: list[list[float]] | None = None


class EmbeddingBatch:
    """Collects texts in parts, embeds them in one call, hands each part its vectors.

    Parts added with ``reuse=True`` (short, recurring texts such as entity names and
    fact sentences) are looked up in, and then stored into, the ``cache``; other parts
    (episode contents) are always embedded. A text that occurs several times in the
    batch is embedded once.
    """

    def __init__(self, cache: VectorCache | None = None) -> None:
        self._cache = cache
        self._parts: list[_Part] = []
        self._done = False
        self.model_calls = 0
        """Calls made to the embedder by :meth:`run` (0 or 1)."""
        self.embedded = 0
        """Distinct texts the model embedded (cache hits and duplicates excluded)."""

    def add(self, texts: Sequence[str], *, reuse: bool = False) -> int:
        """Queue ``texts``; returns the handle to pass to :meth:`vectors`."""
        if self._done:
            raise RuntimeError("texts cannot be added to a batch that has already run")
        self._parts.append(_Part(list(texts), reuse))
        return len(self._parts) - 1

    def run(self, embedder: Embedder) -> None:
        """Embed every queued text that is not cached, with at most one embedder call."""
        if self._done:
            raise RuntimeError("an embedding batch runs only once")
        self._done = True
        model = embedder.model
        rows: dict[str, int] = {}
        found: list[list[Vectors | int]] = []
        for part in self._parts:
            slots: list[Vectors | int] = []
            for text in part.texts:
                cached = self._lookup(model, text) if part.reuse else None
                slots.append(cached if cached is not None else rows.setdefault(text, len(rows)))
            found.append(slots)
        computed = self._embed(embedder, list(rows))
        if self._cache is not None:
            reusable = {text for part in self._parts if part.reuse for text in part.texts}
            for text, row in rows.items():
                if text in reusable:
                    self._cache.put(model, text, computed[row])
        for part, slots in zip(self._parts, found, strict=True):
            if not slots:
                part.vectors = []
                continue
            matrix = np.stack([computed[slot] if isinstance(slot, int) else slot for slot in slots])
            part.vectors = matrix.tolist()

    def vectors(self, part: int) -> list[list[float]]:
        """The vectors of one part, in the order its texts were added."""
        if not 0 <= part < len(self._parts):
            raise IndexError(f"no part {part} in this batch")
        vectors = self._parts[part].vectors
        if vectors is None:
            raise RuntimeError("the batch has not run yet")
        return vectors

    def _lookup(self, model: str, text: str) -> Vectors | None:
        if self._cache is None or not self._cache.cacheable(text):
            return None
        return self._cache.get(model, text)

    def _embed(self, embedder: Embedder, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        computed = np.asarray(embedder.embed(texts), dtype=np.float32)
        self.model_calls += 1
        self.embedded += len(texts)
        if computed.shape != (len(texts), embedder.dim):
            raise EmbeddingShapeError(
                f"embedder {embedder.model!r} returned an array of shape {computed.shape} "
                f"for {len(texts)} texts of dimension {embedder.dim}"
            )
        return computed
