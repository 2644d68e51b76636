"""Reading facts as graph edges: the neighbourhood queries of search.

Expansion touches every fact around a query's entities, so this path reads only the
columns an edge needs (no text, metadata or embedding) as plain tuples,
and parses ids through a bounded cache: the same entities recur in every search.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from sys import intern
from typing import Any

from graphmem.models.edges import FactEdge
from graphmem.models.records import ExpiryReason
from graphmem.models.scope import Scope
from graphmem.models.time import from_storage
from graphmem.store.base import batched
from graphmem.store.embedded.connection import ID_CHUNK, rows_by_ids, scope_clause

EDGE_COLUMNS = (
    "id, subject_id, predicate, object_id, subject_name, object_name, confidence, episode_ids, "
    "valid_at, invalid_at, created_at, expired_at, expired_reason, user_id, agent_id, run_id"
)

parse_id = functools.lru_cache(maxsize=1 << 18)(uuid.UUID)
"""``uuid.UUID(text)``, cached: the same entities and episodes recur in every search.
A fact's own id is parsed uncached: each is read once per row and would only push the
recurring ids out."""


@functools.lru_cache(maxsize=1 << 16)
def _episode_ids(text: str) -> tuple[uuid.UUID, ...]:
    # Cached by the JSON text: the facts extracted from one episode share it.
    return tuple(parse_id(i) for i in json.loads(text))


def edge_of_row(row: tuple[Any, ...]) -> FactEdge:
    """The edge of a row of :data:`EDGE_COLUMNS`."""
    (
        fact_id,
        subject_id,
        predicate,
        object_id,
        subject_name,
        object_name,
        confidence,
        episode_ids,
        valid_at,
        invalid_at,
        created_at,
        expired_at,
        reason,
        user_id,
        agent_id,
        run_id,
    ) = row
    # Positional, in field order: a large owner's first search decodes every fact it
    # has, and keyword arguments cost a third of that.
    return FactEdge(
        uuid.UUID(fact_id),
        parse_id(subject_id),
        intern(predicate),
        parse_id(object_id),
        intern(subject_name or ""),
        intern(object_name or ""),
        float(confidence),
        _episode_ids(episode_ids),
        from_storage(valid_at),
        from_storage(invalid_at),
        datetime.fromisoformat(created_at),
        from_storage(expired_at),
        None if reason is None else ExpiryReason(reason),
        _intern_id(user_id),
        _intern_id(agent_id),
        _intern_id(run_id),
    )


def _intern_id(value: str | None) -> str | None:
    # Edges held in memory (the edge cache) repeat their scope ids and names: one copy each.
    return None if value is None else intern(value)


def select_edges_by_ids(conn: sqlite3.Connection, ids: Sequence[uuid.UUID]) -> list[FactEdge]:
    """Edges of the facts with these ids (any version), in no particular order."""
    return [edge_of_row(row) for row in rows_by_ids(conn, "facts", EDGE_COLUMNS, ids, plain=True)]


def select_fact_edges(
    conn: sqlite3.Connection,
    scope: Scope,
    entity_ids: Sequence[uuid.UUID],
    *,
    include_expired: bool,
    per_entity: int | None = None,
) -> list[FactEdge]:
    """Edges of the scope's facts with subject or object among ``entity_ids``; with
    ``per_entity``, at most that many per entity, the most recently learned first."""
    rows = (
        rows_touching(
            conn,
            EDGE_COLUMNS,
            scope,
            entity_ids,
            include_expired=include_expired,
            plain=True,  # plain tuples: no per-row mapping object
        )
        if per_entity is None
        else _newest_touching(conn, scope, entity_ids, include_expired, per_entity)
    )
    return [edge_of_row(row) for row in rows]


def rows_touching(
    conn: sqlite3.Connection,
    columns: str,
    scope: Scope,
    entity_ids: Sequence[uuid.UUID],
    *,
    include_expired: bool,
    plain: bool = False,
) -> Iterator[Any]:
    """``columns`` (the first being ``id``) of each of the scope's facts with subject or
    object among ``entity_ids``, once each; as plain tuples when ``plain``, else as the
    connection's rows."""
    where, params = _visible_clause(scope, include_expired)
    seen: set[str] = set()
    for chunk in batched(list(entity_ids), ID_CHUNK):
        ids = [str(i) for i in chunk]
        marks = ",".join("?" * len(ids))
        for column in ("subject_id", "object_id"):
            cursor = conn.execute(
                f"SELECT {columns} FROM facts WHERE {column} IN ({marks}) AND {where}",
                [*ids, *params],
            )
            if plain:
                cursor.row_factory = None
            for row in cursor:
                if row[0] not in seen:
                    seen.add(row[0])
                    yield row


def _newest_touching(
    conn: sqlite3.Connection,
    scope: Scope,
    entity_ids: Sequence[uuid.UUID],
    include_expired: bool,
    per_entity: int,
) -> Iterator[tuple[Any, ...]]:
    """Rows of :data:`EDGE_COLUMNS` of the newest ``per_entity`` facts touching each
    entity (either end; newest learned first, id breaking ties), once each.

    A hub entity must not pull its whole degree into every search that touches it:
    each end is read newest first along its ``(end, created_at)`` index and stops after
    ``per_entity`` rows, and the two ends are merged here. A fact from an entity to
    itself is read at both ends and counts once.
    """
    where, params = _visible_clause(scope, include_expired)
    seen: set[str] = set()
    for entity_id in dict.fromkeys(str(i) for i in entity_ids):
        newest: dict[str, tuple[Any, ...]] = {}
        for column in ("subject_id", "object_id"):
            cursor = conn.execute(
                f"SELECT created_at, {EDGE_COLUMNS} FROM facts "
                f"WHERE {column} = ? AND {where} ORDER BY created_at DESC, id DESC LIMIT ?",
                [entity_id, *params, per_entity],
            )
            cursor.row_factory = None
            newest.update((row[1], row) for row in cursor)
        ordered = sorted(newest.values(), key=lambda row: (row[0], row[1]), reverse=True)
        for row in ordered[:per_entity]:
            if row[1] not in seen:
                seen.add(row[1])
                yield row[1:]


def _visible_clause(scope: Scope, include_expired: bool) -> tuple[str, list[str]]:
    where, params = scope_clause(scope, use_index=False)  # found by entity, not by owner
    if not include_expired:
        where += " AND expired_at IS NULL"
    return where, params
