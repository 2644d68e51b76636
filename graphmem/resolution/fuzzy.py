"""Batch fuzzy matching of names against an owner's name index (rapidfuzz).

The scorer is plain ``fuzz.ratio`` (normalized Indel similarity) on word-normalized
keys, used as a fast pre-filter; acceptance then requires the same words in the same
order with at most one misspelled (:func:`~graphmem.resolution.lexical.same_words_one_typo`).
``WRatio`` was rejected because its partial-match bonus scores "Bank of America" vs
"Bank of America Stadium", "Apple" vs "Apple Pie" and "Melanie" vs "Melanie Adams" at
90, i.e. at the default threshold. ``token_sort_ratio`` was rejected because it scores
reordered names at 100 ("Willow Alpine Park" / "Alpine Willow Park"), which the word
check refuses anyway, so they would only crowd real misspellings out of the top hits;
word order is not noise in names, and for people "Smith, John" is kept apart by the
first-name rule regardless. ``ratio`` is also the cheapest scorer in batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from graphmem.resolution.name_index import OwnerNameIndex

_ROWS_PER_CHUNK = 256
"""Queries scored per rapidfuzz call: bounds the score matrix to 256 x names floats."""
_PARALLEL_CELLS = 2_000_000
"""Score-matrix size from which scoring runs on all cores: starting the worker threads
costs about 3 ms, more than scoring one turn's names against thousands of entities."""


@dataclass(frozen=True, slots=True)
class FuzzyHit:
    """A stored name or alias that scored at or above the threshold for a query."""

    entity_id: uuid.UUID
    score: float
    """``fuzz.ratio``, 0-100."""
    matched: str
    """The stored name or alias (fuzzy key) that matched."""


def fuzzy_hits(
    queries: Sequence[str],
    index: OwnerNameIndex,
    threshold: float,
    *,
    per_query: int = 5,
) -> list[list[FuzzyHit]]:
    """For each query (a fuzzy key), the best-scoring entities at or above ``threshold``.

    Each entity appears at most once per query (its best name or alias); at most
    ``per_query`` hits, best first. Scoring runs in rapidfuzz's native batch function,
    on all cores when the batch is large.
    """
    results: list[list[FuzzyHit]] = [[] for _ in queries]
    if not queries or not len(index):
        return results
    for start in range(0, len(queries), _ROWS_PER_CHUNK):
        chunk = list(queries[start : start + _ROWS_PER_CHUNK])
        scores = process.cdist(
            chunk,
            index.choices,
            scorer=fuzz.ratio,
            score_cutoff=threshold,
            dtype=np.float32,
            workers=-1 if len(chunk) * len(index.choices) >= _PARALLEL_CELLS else 1,
        )
        for offset, row in enumerate(scores):
            results[start + offset] = _best_of_row(row, index, threshold, per_query)
    return results


def _best_of_row(
    row: np.ndarray, index: OwnerNameIndex, threshold: float, per_query: int
) -> list[FuzzyHit]:
    columns = np.flatnonzero(row >= threshold)
    if not columns.size:
        return []
    ordered = columns[np.argsort(-row[columns], kind="stable")]
    hits: list[FuzzyHit] = []
    seen: set[uuid.UUID] = set()
    for column in ordered:
        entity_id = index.entity_ids[column]
        if entity_id in seen:
            continue
        seen.add(entity_id)
        hits.append(FuzzyHit(entity_id, float(row[column]), index.choices[column]))
        if len(hits) == per_query:
            break
    return hits
