"""The optional reranking step: rescore the best candidates with a stronger model.

Any object with a ``score(query, texts)`` method is a :class:`Reranker`.
:class:`CrossEncoderReranker` wraps a sentence-transformers cross-encoder, for users
who install one (for example ``cross-encoder/ms-marco-MiniLM-L-6-v2``); graphmem
ships none and never downloads one on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from graphmem.errors import GraphmemError, InvalidInputError

T = TypeVar("T")


@runtime_checkable
class Reranker(Protocol):
    """Scores (query, text) pairs; higher means more relevant."""

    def score(self, query: str, texts: Sequence[str]) -> Sequence[float]:
        """One relevance score per text, in the order given."""
        ...


class RerankerUnavailableError(GraphmemError):
    """The cross-encoder model or its library cannot be loaded."""


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` as a :class:`Reranker`."""

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32) -> None:
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise RerankerUnavailableError(
                "sentence-transformers is not installed; it is needed for CrossEncoderReranker"
            ) from exc
        try:
            self._model: Any = CrossEncoder(model, device=device)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise RerankerUnavailableError(f"cannot load cross-encoder {model!r}: {exc}") from exc
        self._batch_size = batch_size

    def score(self, query: str, texts: Sequence[str]) -> Sequence[float]:
        """Cross-encoder relevance of each text to the query."""
        if not texts:
            return []
        scores = self._model.predict(
            [(query, text) for text in texts],
            batch_size=self._batch_size,
            show_progress_bar=False,
        )
        return [float(s) for s in scores]


def apply_reranker(
    reranker: Reranker, query: str, items: Sequence[T], text: Callable[[T], str]
) -> list[tuple[T, float]]:
    """Reorder ``items`` by reranker score, best first, as ``(item, reranker score)``."""
    if not items:
        return []
    scores = [float(s) for s in reranker.score(query, [text(item) for item in items])]
    if len(scores) != len(items):
        raise InvalidInputError(
            f"the reranker returned {len(scores)} scores for {len(items)} texts"
        )
    order = sorted(range(len(items)), key=lambda i: -scores[i])
    return [(items[i], scores[i]) for i in order]
