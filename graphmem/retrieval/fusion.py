"""Combining ranked candidate lists, and the MMR diversity step.

Reciprocal rank fusion is used because the lists it merges carry incomparable
scores (cosine similarities, BM25 scores, PageRank mass); only ranks are comparable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

_WORD = re.compile(r"\w+", re.UNICODE)


def weighted_rrf(rankings: Iterable[tuple[Sequence[K], float]], k: int = 60) -> dict[K, float]:
    """Weighted reciprocal rank fusion: ``sum(weight / (k + rank))`` over the lists.

    Each ranking is a best-first sequence of keys paired with its weight; a key
    missing from a list contributes nothing for it. Scores are scaled so that a key
    ranked first by every list scores 1.0.
    """
    scores: dict[K, float] = {}
    total = 0.0
    for ranking, weight in rankings:
        if weight <= 0 or not ranking:
            continue
        total += weight / (k + 1)
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    if total <= 0:
        return scores
    return {key: score / total for key, score in scores.items()}


def ranked(scores: dict[K, float]) -> list[K]:
    """Keys sorted by descending score (ties in insertion order)."""
    # Sorting the pairs looks no key up again (Python's sort stays stable in reverse).
    return [key for key, _ in sorted(scores.items(), key=itemgetter(1), reverse=True)]


def ranked_ids(hits: Sequence[tuple[K, float]]) -> list[K]:
    """The keys of ``(key, score)`` hits that a store returned best first."""
    return [key for key, _ in hits]


def word_set(text: str) -> frozenset[str]:
    """Lower-case word tokens of a text, for lexical similarity."""
    return frozenset(_WORD.findall(text.casefold()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two token sets (0.0 when both are empty)."""
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def mmr(
    items: Sequence[T],
    relevance: Callable[[T], float],
    text: Callable[[T], str],
    *,
    lam: float,
    limit: int,
) -> list[T]:
    """Maximal marginal relevance: pick items that are relevant and unlike those picked.

    Similarity is lexical (Jaccard over word sets): search results carry no vectors,
    and near-duplicate statements are what this step exists to thin out. Relevance is
    normalized to [0, 1] over ``items`` so that ``lam`` means the same for any scorer.
    """
    if not items or limit <= 0:
        return []
    norm = _unit_scale([relevance(item) for item in items])
    tokens = [word_set(text(item)) for item in items]
    remaining = list(range(len(items)))
    picked: list[int] = []
    max_similarity = [0.0] * len(items)
    while remaining and len(picked) < limit:
        best = max(remaining, key=lambda i: lam * norm[i] - (1.0 - lam) * max_similarity[i])
        picked.append(best)
        remaining.remove(best)
        for i in remaining:
            similarity = jaccard(tokens[i], tokens[best])
            if similarity > max_similarity[i]:
                max_similarity[i] = similarity
    return [items[i] for i in picked]


def _unit_scale(values: list[float]) -> list[float]:
    """Divide by the maximum (non-negative scores keep their ratios), or min-max scale
    scores that can be negative (cross-encoder logits)."""
    high, low = max(values), min(values)
    if low >= 0:
        return [v / high if high > 0 else 1.0 for v in values]
    spread = high - low
    return [(v - low) / spread if spread > 0 else 1.0 for v in values]


def by_max(values: Mapping[K, float]) -> dict[K, float]:
    """Scale non-negative scores so that the best is 1."""
    high = max(values.values(), default=0.0)
    if high <= 0:
        return {}
    return {key: max(value, 0.0) / high for key, value in values.items()}


def min_max(values: Mapping[K, float]) -> dict[K, float]:
    """Scale similarities to [0, 1] over the hits: cosines of unrelated texts are not 0."""
    if not values:
        return {}
    high, low = max(values.values()), min(values.values())
    if high <= low:
        return dict.fromkeys(values, 1.0)
    return {key: (value - low) / (high - low) for key, value in values.items()}
