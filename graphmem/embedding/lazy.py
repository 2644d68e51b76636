"""An embedder that loads its model on first use.

Opening a store, listing, deleting or exporting needs only the embedder's identity;
loading torch and the model takes seconds, so it waits until text must be embedded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from graphmem.embedding.base import Embedder, Vectors, embed_queries


class LazyEmbedder:
    """Knows ``model`` and ``dim`` up front; builds the real embedder when first needed."""

    def __init__(self, model: str, dim: int | None, factory: Callable[[], Embedder]) -> None:
        self._model = model
        self._dim = dim
        self._factory = factory
        self._loaded: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the real model has been loaded."""
        return self._loaded is not None

    def _real(self) -> Embedder:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    embedder = self._factory()
                    if self._dim is not None and embedder.dim != self._dim:
                        raise ValueError(
                            f"embedder {self._model!r} has dimension {embedder.dim}, "
                            f"expected {self._dim}"
                        )
                    self._loaded = embedder
        return self._loaded

    @property
    def model(self) -> str:
        """The model's name."""
        return self._model

    @property
    def dim(self) -> int:
        """Vector length (known without loading for well-known models)."""
        return self._dim if self._dim is not None else self._real().dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts with the real model."""
        return self._real().embed(texts)

    def embed_query(self, text: str) -> Vectors:
        """Embed one query with the real model."""
        return self._real().embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed queries with the real model, in one batch if it can."""
        return embed_queries(self._real(), texts)
