"""The vectors a search needs, embedded while the text indexes are searched.

A search embeds the query, and the query without the names it mentions (its
residual), in one batch. That batch runs on a worker thread: the model (or a remote
embedding API) and SQLite both release the GIL, so the keyword searches, which need
no vector, run meanwhile instead of waiting for the embedding.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from graphmem.embedding.base import Embedder, Vectors, embed_queries
from graphmem.errors import EmbeddingShapeError

_WORKER_THREADS = 4
"""Shared by every retriever: several searches running in threads each get their
embedding started at once; idle threads cost nothing."""
_workers: ThreadPoolExecutor | None = None
_workers_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _workers
    with _workers_lock:
        if _workers is None:
            _workers = ThreadPoolExecutor(
                max_workers=_WORKER_THREADS, thread_name_prefix="graphmem-query-embedding"
            )
        return _workers


def _forget_workers_after_fork() -> None:
    # A forked child inherits the executor but not its threads: work handed to it
    # would wait forever. The child starts its own on first use.
    global _workers, _workers_lock
    _workers = None
    _workers_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_workers_after_fork)


class QueryVectors:
    """The query's vector (given, or embedded) and, once started, its residual's."""

    def __init__(
        self, embedder: Embedder, query: str, given: Sequence[float] | None, *, residual: bool
    ) -> None:
        """``given`` is the caller's query vector, already checked; ``residual`` says
        whether the residual query is embedded at all."""
        self._embedder = embedder
        self._query = query
        self._given = list(given) if given is not None else None
        self._embed_residual = residual
        self._texts: list[str] = []
        self._residual_row: int | None = None
        self._pending: Future[Vectors] | None = None
        self._vectors: list[list[float]] | None = None

    def start(self, residual: str) -> None:
        """Begin embedding what is needed, in the background: the query unless it was
        given, and ``residual`` unless it is empty."""
        if self._given is None:
            self._texts.append(self._query)
        if residual and self._embed_residual:
            self._residual_row = len(self._texts)
            self._texts.append(residual)
        if self._texts:
            self._pending = _pool().submit(embed_queries, self._embedder, list(self._texts))

    def query(self) -> list[float]:
        """The query's vector (waits for the embedding if it is still running)."""
        if self._given is not None:
            return self._given
        return self._embedded()[0]

    def residual(self) -> list[float] | None:
        """The residual query's vector, or None when it was not embedded."""
        if self._residual_row is None:
            return None
        return self._embedded()[self._residual_row]

    def _embedded(self) -> list[list[float]]:
        """The embedded rows as float lists, converted once (both reads use them)."""
        if self._vectors is None:
            if self._pending is None:
                raise RuntimeError("QueryVectors.start() must be called before reading vectors")
            vectors = np.asarray(self._pending.result(), dtype=np.float32)
            if vectors.shape != (len(self._texts), self._embedder.dim):
                raise EmbeddingShapeError(
                    f"embedder {self._embedder.model!r} returned an array of shape "
                    f"{vectors.shape} for {len(self._texts)} queries of dimension "
                    f"{self._embedder.dim}"
                )
            self._vectors = vectors.tolist()
        return self._vectors
