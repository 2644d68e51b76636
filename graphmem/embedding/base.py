"""The embedder protocol: text in, L2-normalized float vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into unit-length vectors. Stores record ``model`` and ``dim``.

    An embedder may also define ``embed_queries(texts) -> Vectors``: several search
    queries in one model call (a search embeds the query and the query without the
    names it mentions). :func:`embed_queries` uses it when present.
    """

    @property
    def model(self) -> str:
        """Stable identifier of the model (a store refuses vectors of another model)."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch of texts; returns an array of shape ``(len(texts), dim)``."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one search query (cached); returns shape ``(dim,)``."""
        ...


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> Vectors:
    """Embed search queries, in one batch when the embedder can; shape ``(len(texts), dim)``.

    Uses the embedder's own ``embed_queries`` if it has one (one model call for the
    texts not cached), else ``embed_query`` text by text.
    """
    batch = getattr(embedder, "embed_queries", None)
    if callable(batch):
        vectors: Vectors = batch(texts)
        return vectors
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([embedder.embed_query(text) for text in texts])
