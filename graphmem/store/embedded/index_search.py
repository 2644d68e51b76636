"""Searching the embedded store's derived indexes: vectors and BM25 keywords.

Both searches return record ids of one scope only: vector hits are keyed by SQLite
rowid and per owner, so they are resolved (and narrowed to the scope) against the
truth; keyword matches carry the owner's token and join the records they index.

Each search takes the calling thread's reader as a callable and asks for it only
once there is something to look up: a search that cannot match touches no connection.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence

import numpy as np

from graphmem.models.scope import Scope
from graphmem.store.base import OVERFETCH, IndexKind, batched, first_fetch
from graphmem.store.embedded.connection import ID_CHUNK, scope_clause
from graphmem.store.embedded.edges import parse_id
from graphmem.store.embedded.keyword import KeywordRanking, query_terms, term_expression
from graphmem.store.embedded.keyword_statistics import KeywordStatistics
from graphmem.store.embedded.schema import KEYWORD_TABLES, RECORD_TABLES
from graphmem.store.embedded.schema_setup import KEYWORD_COLUMNS
from graphmem.store.embedded.vectors import VectorIndexes

Reader = Callable[[], sqlite3.Connection]
"""Returns the calling thread's read connection."""


def vector_search(
    reader: Reader,
    vectors: VectorIndexes,
    kind: IndexKind,
    scope: Scope,
    vector: Sequence[float],
    k: int,
) -> list[tuple[uuid.UUID, float]]:
    """The ``k`` nearest records of the scope, best first; narrows by agent/run without
    losing results (fetches more from the owner's partition until ``k`` survive)."""
    if k <= 0:
        return []
    conn = reader()
    vectors.catch_up(conn)
    query = np.asarray(vector, dtype=np.float32)

    def nearest(fetch: int) -> list[tuple[int, float]]:
        return vectors.search(kind, scope.owner, query, fetch)

    return _in_scope(conn, kind, scope, k, nearest, vectors.count(kind, scope.owner))


def _in_scope(
    conn: sqlite3.Connection,
    kind: IndexKind,
    scope: Scope,
    k: int,
    best: Callable[[int], list[tuple[int, float]]],
    available: int | None = None,
) -> list[tuple[uuid.UUID, float]]:
    """The first ``k`` hits of an owner's index that ``scope`` may read, as record ids.

    ``best(n)`` returns the index's ``n`` best ``(rowid, score)`` hits, best first.
    Narrowing by agent/run fetches four times as many, and more again, until ``k``
    survive or the index has no more: ``available`` hits when the index knows its
    size, else fewer than were asked for.
    """
    fetch = first_fetch(kind, scope, k)
    if available is not None:
        fetch = min(fetch, available)
    while True:
        hits = best(fetch)
        resolved = _ids_for_rowids(conn, kind, scope, [rowid for rowid, _ in hits])
        results = [(resolved[rowid], score) for rowid, score in hits if rowid in resolved]
        exhausted = fetch >= available if available is not None else len(hits) < fetch
        if len(results) >= k or exhausted:
            return results[:k]
        fetch *= OVERFETCH
        if available is not None:
            fetch = min(fetch, available)


def _ids_for_rowids(
    conn: sqlite3.Connection, kind: IndexKind, scope: Scope, rowids: list[int]
) -> dict[int, uuid.UUID]:
    if not rowids:
        return {}
    table = RECORD_TABLES[kind]
    # The rowids are the lookup; the scope only filters them (see scope_clause).
    where, params = (
        ("+owner = ?", [scope.owner]) if kind == "entity" else scope_clause(scope, use_index=False)
    )
    resolved: dict[int, uuid.UUID] = {}
    for chunk in batched(rowids, ID_CHUNK):
        marks = ",".join("?" * len(chunk))
        for rowid, record_id in conn.execute(
            f"SELECT rowid, id FROM {table} WHERE rowid IN ({marks}) AND {where}",
            [*chunk, *params],
        ):
            resolved[rowid] = parse_id(record_id)
    return resolved


def keyword_search(
    reader: Reader,
    statistics: Callable[[], KeywordStatistics],
    kind: IndexKind,
    scope: Scope,
    query: str,
    k: int,
) -> list[tuple[uuid.UUID, float]]:
    """BM25 over the scope's records of ``kind`` with the owner's own term statistics
    (see :mod:`~graphmem.store.embedded.keyword`); higher scores are better.
    ``statistics`` returns the calling thread's statistics, kept with its reader.

    The owner's token in every match expression already keeps other owners out, so
    only the best matches are resolved against the records.
    """
    terms = query_terms(query)
    if not terms or k <= 0:
        return []
    fts, column = KEYWORD_TABLES[kind], KEYWORD_COLUMNS[kind]
    conn = reader()
    postings = _postings(conn, fts, [term_expression(scope.owner, t, column) for t in terms])
    if not any(len(rowids) for rowids in postings):
        return []
    stats = statistics()
    documents, average_length = stats.of(conn, fts, scope.owner)
    ranking = KeywordRanking(
        postings, documents, average_length, lambda rowids: stats.lengths(conn, fts, rowids)
    )
    return _in_scope(conn, kind, scope, k, ranking.best, len(ranking))


def _postings(conn: sqlite3.Connection, fts: str, expressions: list[str]) -> list[np.ndarray]:
    """The rowids matching each expression, all read by one statement."""
    # One string per expression built by SQLite and parsed by numpy: a row per match
    # through Python cost five times as much for a large owner's common terms.
    each = f"(SELECT group_concat(rowid) FROM {fts} WHERE {fts} MATCH ?)"
    joined = conn.execute(f"SELECT {', '.join([each] * len(expressions))}", expressions)
    return [
        np.empty(0, dtype=np.int64) if rowids is None else np.fromstring(rowids, np.int64, sep=",")
        for rowids in joined.fetchone()
    ]
