"""Embedders: the protocol, the default sentence-transformers implementation, and the
batching and caching that let one write embed everything it needs in a single call."""

from graphmem.embedding.base import Embedder, Vectors
from graphmem.embedding.batch import EmbeddingBatch, EmbeddingShapeError
from graphmem.embedding.cache import VectorCache
from graphmem.embedding.sentence_transformers import (
    DEFAULT_MODEL,
    EmbedderUnavailableError,
    SentenceTransformerEmbedder,
)

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "EmbedderUnavailableError",
    "EmbeddingBatch",
    "EmbeddingShapeError",
    "SentenceTransformerEmbedder",
    "VectorCache",
    "Vectors",
]
