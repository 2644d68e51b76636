"""Embedders: the protocol and the default sentence-transformers implementation."""

from graphmem.embedding.base import Embedder, Vectors
from graphmem.embedding.sentence_transformers import (
    DEFAULT_MODEL,
    EmbedderUnavailableError,
    SentenceTransformerEmbedder,
)

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "EmbedderUnavailableError",
    "SentenceTransformerEmbedder",
    "Vectors",
]
