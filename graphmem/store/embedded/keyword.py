"""BM25 keyword search over the FTS5 tables, always restricted to one owner.

FTS5 finds each query term's documents within the owner (its postings); the score is
computed here, with the owner's own statistics: a term's rarity is measured among
that owner's documents of the kind searched. FTS5's ``bm25()`` would measure it over
every owner, which costs a scan of each term's postings in the whole store on every
query (about 13 ms per search of a small owner at a million facts) and would let
other users' data reorder one user's results.

Each term counts once per document, as a match in a short text almost always is; the
documents are facts, names and chat turns, not articles. Document lengths, and the
average length they are compared with (the store's), come from FTS5's own size
records. Equal scores go to the newest record.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from graphmem.stopwords import ENGLISH_STOPWORDS

# Queries are natural-language questions: their stopwords would make every document match.
STOPWORDS = ENGLISH_STOPWORDS

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 32


def scope_token(owner: str) -> str:
    """An opaque single-token stand-in for an owner, indexed in the FTS ``scope`` column."""
    return "s" + hashlib.sha1(owner.encode("utf-8")).hexdigest()[:24]


def names_text(name: str, aliases_json: str) -> str:
    """The text indexed for an entity: its name and aliases."""
    aliases = json.loads(aliases_json) if aliases_json else []
    return " ".join([name, *aliases])


def query_terms(text: str) -> list[str]:
    """Distinct lower-case content words of a query, in order, stopwords removed."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and word not in seen:
            seen[word] = None
    return list(seen)[:MAX_QUERY_TERMS]


def owner_expression(owner: str) -> str:
    """An FTS5 MATCH expression for every document of ``owner``."""
    return f'{{scope}}:"{scope_token(owner)}"'


def term_expression(owner: str, term: str, column: str) -> str:
    """An FTS5 MATCH expression for the documents of ``owner`` whose ``column`` holds
    ``term``. The term is quoted, so FTS5 operators and punctuation in user text are
    inert (FTS5 still stems it as it stemmed the documents)."""
    quoted = '"' + term.replace('"', '""') + '"'
    return f"{owner_expression(owner)} AND {{{column}}}:{quoted}"


K1 = 1.2
B = 0.75
"""BM25's term-frequency saturation and length normalization, FTS5's defaults."""


def idf(documents: int, containing: int) -> float:
    """BM25's inverse document frequency, floored just above zero as FTS5 floors it:
    a term in more than half of the documents still ranks a match above no match."""
    return max(math.log((documents - containing + 0.5) / (containing + 0.5)), 1e-6)


def length_factor(lengths: np.ndarray, average_length: float) -> np.ndarray:
    """BM25's weight of one occurrence of a term in documents of these lengths: above
    1 in documents shorter than average, below 1 in longer ones."""
    return (K1 + 1) / (1 + K1 * (1 - B + B * lengths / max(average_length, 1.0)))


def varints(blob: bytes) -> list[int]:
    """The SQLite variable-length integers packed in ``blob`` (FTS5's size records)."""
    values: list[int] = []
    value, used = 0, 0
    for byte in blob:
        used += 1
        if used == 9:
            values.append((value << 8) | byte)
            value, used = 0, 0
        elif byte & 0x80:
            value = (value << 7) | (byte & 0x7F)
        else:
            values.append((value << 7) | byte)
            value, used = 0, 0
    return values


class KeywordRanking:
    """An owner's documents matching some query term, ranked by BM25 on demand.

    A document scores ``sum(idf(term) for each query term it contains) * length_factor``.
    Only the length of documents that can still reach the requested top are read: they
    are scored in order of their idf sum, and scoring stops once that sum times the
    largest possible length factor falls below the score of the last place.
    """

    def __init__(
        self,
        postings: Sequence[np.ndarray],
        documents: int,
        average_length: float,
        lengths_of: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        """``postings``: one array of rowids per query term; ``documents``: how many
        documents the owner has; ``lengths_of``: the lengths in tokens of an array of
        rowids, aligned with it."""
        found = [rowids for rowids in postings if len(rowids)]
        self._average_length = average_length
        self._lengths_of = lengths_of
        self._rowids: np.ndarray = np.empty(0, dtype=np.int64)
        self._sums: np.ndarray = np.empty(0, dtype=np.float64)
        if found:
            every = max(documents, *(len(rowids) for rowids in found))
            weights = [np.full(len(rowids), idf(every, len(rowids))) for rowids in found]
            unique, position = np.unique(np.concatenate(found), return_inverse=True)
            sums = np.bincount(position, weights=np.concatenate(weights))
            order = np.lexsort((-unique, -sums))
            self._rowids, self._sums = unique[order], sums[order]
        self._scores = np.empty(0, dtype=np.float64)
        self._best_factor = float(length_factor(np.array([1.0]), average_length)[0])

    def __len__(self) -> int:
        return len(self._rowids)

    def best(self, n: int) -> list[tuple[int, float]]:
        """The ``n`` best ``(rowid, score)`` pairs, best first; equal scores go newest
        (highest rowid) first."""
        chunk = max(n, 32)
        while len(self._scores) < len(self._rowids):
            if len(self._scores) >= n:
                last_place = np.partition(self._scores, len(self._scores) - n)[-n]
                if self._sums[len(self._scores)] * self._best_factor < last_place:
                    break
            self._score_next(chunk)
            chunk *= 2
        scored = len(self._scores)
        rowids = self._rowids[:scored]
        order = np.lexsort((-rowids, -self._scores))[:n]
        return list(zip(rowids[order].tolist(), self._scores[order].tolist(), strict=True))

    def _score_next(self, count: int) -> None:
        start = len(self._scores)
        batch = self._rowids[start : start + count]
        factors = length_factor(
            np.asarray(self._lengths_of(batch), dtype=np.float64), self._average_length
        )
        scores = self._sums[start : start + len(batch)] * factors
        self._scores = np.concatenate([self._scores, scores])
