"""The embedded store's write transaction (one SQLite ``BEGIN IMMEDIATE`` ... ``COMMIT``)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence

from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.resolution.names import lookup_keys
from graphmem.store.base import batched
from graphmem.store.embedded import codec
from graphmem.store.embedded.connection import rows_by_ids


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _ids(values: Sequence[uuid.UUID]) -> list[str]:
    return [str(value) for value in values]


def _upsert(table: str, columns: str) -> str:
    names = [name.strip() for name in columns.split(",")]
    # An incoming record without an embedding keeps the stored one (records read back
    # from the store do not carry their vectors).
    updates = ", ".join(
        f"{name} = coalesce(excluded.{name}, {table}.{name})"
        if name == "embedding"
        else f"{name} = excluded.{name}"
        for name in names
        if name != "id"
    )
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({_marks(len(names))}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


_UPSERT_EPISODE = _upsert("episodes", codec.EPISODE_COLUMNS)
_UPSERT_ENTITY = _upsert("entities", codec.ENTITY_COLUMNS)
_UPSERT_FACT = _upsert("facts", codec.FACT_COLUMNS)


class EmbeddedTransaction:
    """Reads and writes inside one SQLite write transaction (see ``StoreTransaction``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # -- reads -----------------------------------------------------------------------------
    def entities_by_names(self, owner: str, normalized_names: Sequence[str]) -> list[Entity]:
        """Entities of ``owner`` with one of these normalized names or aliases."""
        return select_entities_by_names(self._conn, owner, normalized_names)

    def facts_touching(
        self, owner: str, entity_ids: Sequence[uuid.UUID], predicates: Sequence[str]
    ) -> list[Fact]:
        """All versions of ``owner``'s facts with these predicates touching the entities."""
        if not entity_ids or not predicates:
            return []
        found: dict[str, Fact] = {}
        predicate_list = list(dict.fromkeys(predicates))
        for chunk in batched(list(entity_ids), 400):
            ids = _ids(chunk)
            params = [owner, *ids, *predicate_list]
            for column in ("subject_id", "object_id"):
                rows = self._conn.execute(
                    # "+owner": look the facts up by entity; SQLite would otherwise
                    # walk the owner index, every fact of the owner.
                    f"SELECT {codec.FACT_COLUMNS} FROM facts WHERE +owner = ? "
                    f"AND {column} IN ({_marks(len(ids))}) "
                    f"AND predicate IN ({_marks(len(predicate_list))})",
                    params,
                ).fetchall()
                for row in rows:
                    found[row["id"]] = codec.row_fact(row)
        return list(found.values())

    def get_facts(self, ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts by id."""
        return select_facts(self._conn, ids)

    def facts_citing_episodes(self, episode_ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts whose provenance or closure refers to one of the episodes."""
        found: dict[str, Fact] = {}
        for chunk in batched(list(episode_ids), 400):
            ids = _ids(chunk)
            rows = self._conn.execute(
                f"SELECT {codec.FACT_COLUMNS} FROM facts WHERE id IN ("
                f"SELECT fact_id FROM fact_sources WHERE episode_id IN ({_marks(len(ids))})) "
                f"OR closed_by_episode_id IN ({_marks(len(ids))})",
                [*ids, *ids],
            ).fetchall()
            for row in rows:
                found[row["id"]] = codec.row_fact(row)
        return list(found.values())

    # -- writes ----------------------------------------------------------------------------
    def put_episodes(self, episodes: Sequence[Episode]) -> None:
        """Insert or replace episodes."""
        self._conn.executemany(_UPSERT_EPISODE, [codec.episode_row(e) for e in episodes])

    def put_entities(self, entities: Sequence[Entity]) -> None:
        """Insert or replace entities and their name lookup rows."""
        self._conn.executemany(_UPSERT_ENTITY, [codec.entity_row(e) for e in entities])
        ids = [str(entity.id) for entity in entities]
        for chunk in batched(ids, 400):
            self._conn.execute(
                f"DELETE FROM entity_names WHERE entity_id IN ({_marks(len(chunk))})", chunk
            )
        names = {
            (entity.owner, normalized, str(entity.id))
            for entity in entities
            for normalized in lookup_keys(entity)
        }
        self._conn.executemany(
            "INSERT OR IGNORE INTO entity_names (owner, normalized, entity_id) VALUES (?, ?, ?)",
            sorted(names),
        )

    def put_facts(self, facts: Sequence[Fact]) -> None:
        """Insert or replace facts and their provenance rows."""
        self._conn.executemany(_UPSERT_FACT, [codec.fact_row(f) for f in facts])
        ids = [str(fact.id) for fact in facts]
        for chunk in batched(ids, 400):
            self._conn.execute(
                f"DELETE FROM fact_sources WHERE fact_id IN ({_marks(len(chunk))})", chunk
            )
        self._conn.executemany(
            "INSERT OR IGNORE INTO fact_sources (episode_id, fact_id) VALUES (?, ?)",
            [(str(episode_id), str(fact.id)) for fact in facts for episode_id in fact.episode_ids],
        )

    def put_mentions(self, mentions: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Record MENTIONS edges."""
        self._conn.executemany(
            "INSERT OR IGNORE INTO mentions (episode_id, entity_id) VALUES (?, ?)",
            [(str(episode_id), str(entity_id)) for episode_id, entity_id in mentions],
        )

    def delete_facts(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete facts (provenance rows cascade)."""
        for chunk in batched(list(ids), 400):
            self._conn.execute(f"DELETE FROM facts WHERE id IN ({_marks(len(chunk))})", _ids(chunk))

    def delete_episodes(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete episodes (mentions cascade)."""
        for chunk in batched(list(ids), 400):
            self._conn.execute(
                f"DELETE FROM episodes WHERE id IN ({_marks(len(chunk))})", _ids(chunk)
            )

    def delete_entities(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete entities, their mentions and every fact touching them."""
        for chunk in batched(list(ids), 400):
            values = _ids(chunk)
            marks = _marks(len(values))
            self._conn.execute(
                f"DELETE FROM facts WHERE subject_id IN ({marks}) OR object_id IN ({marks})",
                [*values, *values],
            )
            self._conn.execute(f"DELETE FROM entities WHERE id IN ({marks})", values)

    def append_audit(self, events: Sequence[AuditEvent]) -> None:
        """Append audit entries."""
        self._conn.executemany(
            "INSERT INTO audit (id, at, action, owner, actor, target_ids, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [codec.audit_row(event) for event in events],
        )


def select_entities_by_names(
    conn: sqlite3.Connection, owner: str, normalized_names: Sequence[str]
) -> list[Entity]:
    """Entities of ``owner`` whose name or an alias normalizes to one of the names given."""
    found: dict[str, Entity] = {}
    names = list(dict.fromkeys(normalized_names))
    for start in range(0, len(names), 400):
        chunk = names[start : start + 400]
        rows = conn.execute(
            f"SELECT {codec.ENTITY_COLUMNS} FROM entities WHERE id IN ("
            f"SELECT entity_id FROM entity_names WHERE owner = ? "
            f"AND normalized IN ({_marks(len(chunk))}))",
            [owner, *chunk],
        ).fetchall()
        for row in rows:
            found[row["id"]] = codec.row_entity(row)
    return list(found.values())


def select_facts(conn: sqlite3.Connection, ids: Sequence[uuid.UUID]) -> list[Fact]:
    """Facts by id, any version."""
    return [codec.row_fact(row) for row in rows_by_ids(conn, "facts", codec.FACT_COLUMNS, ids)]
