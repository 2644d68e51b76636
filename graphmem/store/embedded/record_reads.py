"""Reading whole records of the embedded store: by id, by scope, and through mentions.

Every function reads through the connection it is given (the calling thread's
reader) and, where a scope is given, sees only the records that scope may read.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter

import numpy as np

from graphmem.models.headers import EpisodeHeader
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.store.base import Vector, batched
from graphmem.store.embedded import codec
from graphmem.store.embedded.connection import ID_CHUNK, rows_by_ids, scope_clause
from graphmem.store.embedded.edges import parse_id, rows_touching


def select_episodes(conn: sqlite3.Connection, ids: Sequence[uuid.UUID]) -> list[Episode]:
    """Episodes with these ids; unknown ids are skipped."""
    return [
        codec.row_episode(row) for row in rows_by_ids(conn, "episodes", codec.EPISODE_COLUMNS, ids)
    ]


def select_episode_headers(
    conn: sqlite3.Connection, ids: Sequence[uuid.UUID]
) -> list[EpisodeHeader]:
    """Headers of the episodes with these ids; unknown ids are skipped."""
    rows = rows_by_ids(conn, "episodes", "id, user_id, agent_id, run_id, name", ids, plain=True)
    return [
        EpisodeHeader(parse_id(i), user_id, agent_id, run_id, name)
        for i, user_id, agent_id, run_id, name in rows
    ]


def episode_vectors(conn: sqlite3.Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Vector]:
    """Stored embeddings of these episodes; unknown or unembedded ones are skipped."""
    rows = rows_by_ids(
        conn, "episodes", "id, embedding", ids, condition="embedding IS NOT NULL", plain=True
    )
    return {parse_id(i): np.frombuffer(blob, dtype=np.float32) for i, blob in rows}


def select_entities(conn: sqlite3.Connection, ids: Sequence[uuid.UUID]) -> list[Entity]:
    """Entities with these ids; unknown ids are skipped."""
    return [
        codec.row_entity(row) for row in rows_by_ids(conn, "entities", codec.ENTITY_COLUMNS, ids)
    ]


def list_episodes(
    conn: sqlite3.Connection, scope: Scope, *, limit: int, offset: int = 0
) -> list[Episode]:
    """The scope's episodes, newest first."""
    where, params = scope_clause(scope)
    rows = _page(conn, "episodes", codec.EPISODE_COLUMNS, where, params, "valid_at", limit, offset)
    return [codec.row_episode(row) for row in rows]


def list_entities(
    conn: sqlite3.Connection, scope: Scope, *, limit: int, offset: int = 0
) -> list[Entity]:
    """The scope owner's entities, most recently updated first."""
    rows = _page(
        conn,
        "entities",
        codec.ENTITY_COLUMNS,
        "owner = ?",
        [scope.owner],
        "updated_at",
        limit,
        offset,
    )
    return [codec.row_entity(row) for row in rows]


def list_facts(
    conn: sqlite3.Connection,
    scope: Scope,
    *,
    limit: int,
    offset: int = 0,
    include_expired: bool = False,
) -> list[Fact]:
    """The scope's facts, newest first."""
    where, params = scope_clause(scope)
    if not include_expired:
        where += " AND expired_at IS NULL"
    rows = _page(conn, "facts", codec.FACT_COLUMNS, where, params, "created_at", limit, offset)
    return [codec.row_fact(row) for row in rows]


def _page(
    conn: sqlite3.Connection,
    table: str,
    columns: str,
    where: str,
    params: list[str],
    newest_by: str,
    limit: int,
    offset: int,
) -> sqlite3.Cursor:
    # rowid breaks ties, so pages of records with equal times neither overlap nor skip.
    return conn.execute(
        f"SELECT {columns} FROM {table} WHERE {where} "
        f"ORDER BY {newest_by} DESC, rowid DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )


def facts_of_entities(
    conn: sqlite3.Connection,
    scope: Scope,
    entity_ids: Sequence[uuid.UUID],
    *,
    include_expired: bool = False,
) -> list[Fact]:
    """Facts in the scope with subject or object among ``entity_ids``."""
    rows = rows_touching(
        conn, codec.FACT_COLUMNS, scope, entity_ids, include_expired=include_expired
    )
    return [codec.row_fact(row) for row in rows]


def mentions_of_episodes(
    conn: sqlite3.Connection, episode_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Entity ids mentioned by each of these episodes."""
    result: dict[uuid.UUID, list[uuid.UUID]] = {}
    for chunk in batched(list(episode_ids), ID_CHUNK):
        marks = ",".join("?" * len(chunk))
        # In primary-key order, so each episode's rows come together (no sort needed).
        rows = conn.execute(
            "SELECT episode_id, entity_id FROM mentions "
            f"WHERE episode_id IN ({marks}) ORDER BY episode_id",
            [str(i) for i in chunk],
        )
        for episode_id, group in groupby(rows, key=itemgetter(0)):
            result[parse_id(episode_id)] = [parse_id(entity_id) for _, entity_id in group]
    return result


def episodes_mentioning(
    conn: sqlite3.Connection, scope: Scope, entity_ids: Sequence[uuid.UUID], *, per_entity: int
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Up to ``per_entity`` ids of the scope's episodes mentioning each entity, smallest
    id first.

    One statement per entity: the ``mentions_by_entity`` index yields an entity's
    episodes in id order, so the ``LIMIT`` stops a hub's scan after ``per_entity`` rows
    instead of reading (and sorting) every episode that mentions it.
    """
    where, params = scope_clause(scope, "e", use_index=False)  # found through the mentions
    statement = (
        "SELECT m.episode_id FROM mentions m JOIN episodes e ON e.id = m.episode_id "
        f"WHERE m.entity_id = ? AND {where} ORDER BY m.episode_id LIMIT ?"
    )
    result: dict[uuid.UUID, list[uuid.UUID]] = {}
    for entity_id in dict.fromkeys(entity_ids):
        rows = conn.execute(statement, [str(entity_id), *params, per_entity]).fetchall()
        if rows:
            result[entity_id] = [parse_id(episode_id) for (episode_id,) in rows]
    return result


def entity_names(conn: sqlite3.Connection, owner: str) -> list[tuple[uuid.UUID, str, list[str]]]:
    """``(id, name, aliases)`` of every entity of ``owner``."""
    rows = conn.execute("SELECT id, name, aliases FROM entities WHERE owner = ?", [owner])
    return [(uuid.UUID(i), name, json.loads(aliases)) for i, name, aliases in rows]


def audit_log(conn: sqlite3.Connection, owner: str | None, *, limit: int) -> list[AuditEvent]:
    """The newest ``limit`` audit events (of ``owner``, or of the whole store), newest first."""
    if owner is None:
        rows = conn.execute("SELECT * FROM audit ORDER BY rowid DESC LIMIT ?", [limit])
    else:
        rows = conn.execute(
            "SELECT * FROM audit WHERE owner = ? ORDER BY rowid DESC LIMIT ?", [owner, limit]
        )
    return [codec.row_audit(row) for row in rows]
