"""Copying every record of one store into another (embedded <-> Neo4j, or between two
directories), in batches, verified by counts.

The source is read through an *export*: pages of records with their embeddings, in a
stable order. A store provides one with an ``export()`` context manager (the Neo4j
store does); the embedded store is read from one SQLite snapshot. The target is
written through the ordinary store protocol, one transaction per batch, in reference
order: entities, episodes, facts, mentions, then the audit log (oldest first, so
its newest-first order survives). Embeddings are copied, never recomputed, so both
stores must use the same embedder.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from graphmem.errors import EmbedderMismatchError, InvalidInputError, StoreError
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.store.base import GraphStore, ProgressCallback, ScopeCounts, StoreTransaction
from graphmem.store.embedded import codec
from graphmem.store.embedded.store import DATABASE_FILE, EmbeddedStore

DEFAULT_BATCH = 500
T = TypeVar("T")


class RecordExport(Protocol):
    """Every record of a store, in pages, embeddings included."""

    def totals(self) -> dict[str, int]:
        """Counts under the keys ``episodes``, ``entities``, ``facts``, ``mentions``, ``audit``."""
        ...

    def episodes(self, batch: int) -> Iterator[list[Episode]]:
        """Every episode with its embedding."""
        ...

    def entities(self, batch: int) -> Iterator[list[Entity]]:
        """Every entity with its embedding."""
        ...

    def facts(self, batch: int) -> Iterator[list[Fact]]:
        """Every fact version with its embedding."""
        ...

    def mentions(self, batch: int) -> Iterator[list[tuple[uuid.UUID, uuid.UUID]]]:
        """Every ``(episode_id, entity_id)`` MENTIONS edge."""
        ...

    def audit(self, batch: int) -> Iterator[list[AuditEvent]]:
        """Every audit event, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class MigrationCounts:
    """How many records of each kind were copied."""

    episodes: int
    entities: int
    facts: int
    mentions: int
    audit_events: int


def open_export(store: GraphStore) -> AbstractContextManager[RecordExport]:
    """The store's export: its own ``export()``, or a snapshot read of an embedded store."""
    export = getattr(store, "export", None)
    if callable(export):
        opened: AbstractContextManager[RecordExport] = export()
        return opened
    if isinstance(store, EmbeddedStore):
        return _embedded_export(store)
    raise InvalidInputError(f"cannot export every record of a {store.backend!r} store")


def migrate(
    source: GraphStore,
    target: GraphStore,
    progress: ProgressCallback | None = None,
    *,
    batch: int = DEFAULT_BATCH,
) -> MigrationCounts:
    """Copy every record of ``source`` into the empty store ``target`` and verify it.

    Raises :class:`InvalidInputError` if the target already holds records,
    :class:`EmbedderMismatchError` if the stores use different embedders, and
    :class:`StoreError` if the copy's counts differ from the source's afterwards.
    Do not write to the source while it is copied.
    """
    if source is target:
        raise InvalidInputError("the source and the target of a migration must differ")
    if batch <= 0:
        raise InvalidInputError(f"batch must be positive, got {batch}")
    _check_embedders(source, target)
    if target.counts() != ScopeCounts():
        raise InvalidInputError("the target store already holds records; migrate into an empty one")
    report = progress or (lambda stage, done, total: None)
    with open_export(source) as export:
        totals = export.totals()
        copied = {
            "entities": _copy(
                export.entities(batch), target, _put_entities, "entities", totals, report
            ),
            "episodes": _copy(
                export.episodes(batch), target, _put_episodes, "episodes", totals, report
            ),
            "facts": _copy(export.facts(batch), target, _put_facts, "facts", totals, report),
            "mentions": _copy(
                export.mentions(batch), target, _put_mentions, "mentions", totals, report
            ),
            "audit": _copy(export.audit(batch), target, _put_audit, "audit", totals, report),
        }
    _verify(source, target, totals, copied)
    return MigrationCounts(
        episodes=copied["episodes"],
        entities=copied["entities"],
        facts=copied["facts"],
        mentions=copied["mentions"],
        audit_events=copied["audit"],
    )


def _check_embedders(source: GraphStore, target: GraphStore) -> None:
    source_embedder = getattr(source, "embedder_info", None)
    target_embedder = getattr(target, "embedder_info", None)
    if (
        source_embedder is not None
        and target_embedder is not None
        and source_embedder != target_embedder
    ):
        raise EmbedderMismatchError(
            f"the source store uses embedder {source_embedder.model!r} (dimension "
            f"{source_embedder.dim}) and the target {target_embedder.model!r} (dimension "
            f"{target_embedder.dim}); embeddings can only be copied between stores of one embedder"
        )


def _put_entities(tx: StoreTransaction, page: Sequence[Entity]) -> None:
    tx.put_entities(page)


def _put_episodes(tx: StoreTransaction, page: Sequence[Episode]) -> None:
    tx.put_episodes(page)


def _put_facts(tx: StoreTransaction, page: Sequence[Fact]) -> None:
    tx.put_facts(page)


def _put_mentions(tx: StoreTransaction, page: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
    tx.put_mentions(page)


def _put_audit(tx: StoreTransaction, page: Sequence[AuditEvent]) -> None:
    tx.append_audit(page)


def _copy(
    pages: Iterator[list[T]],
    target: GraphStore,
    put: Callable[[StoreTransaction, Sequence[T]], None],
    stage: str,
    totals: dict[str, int],
    progress: ProgressCallback,
) -> int:
    done = 0
    total = totals.get(stage, 0)
    progress(stage, 0, total)
    for page in pages:
        if not page:
            continue
        with target.transaction() as tx:
            put(tx, page)
        done += len(page)
        progress(stage, done, max(total, done))
    return done


def _verify(
    source: GraphStore, target: GraphStore, totals: dict[str, int], copied: dict[str, int]
) -> None:
    problems = [
        f"{kind}: {copied[kind]} copied of {totals[kind]}"
        for kind in copied
        if kind in totals and copied[kind] != totals[kind]
    ]
    before, after = source.counts(), target.counts()
    if before != after:
        problems.append(f"store counts differ: source {before}, target {after}")
    if problems:
        raise StoreError("migration verification failed: " + "; ".join(problems))


# -- the embedded store's export ----------------------------------------------------------------
class _SqliteExport:
    """Reads an embedded store's SQLite truth inside one read transaction (one snapshot)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def totals(self) -> dict[str, int]:
        tables = {"episodes": "episodes", "entities": "entities", "facts": "facts",
                  "mentions": "mentions", "audit": "audit"}  # fmt: skip
        return {
            key: int(self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for key, table in tables.items()
        }

    def _pages(
        self, sql: str, batch: int, convert: Callable[[sqlite3.Row], T]
    ) -> Iterator[list[T]]:
        cursor = self._conn.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield [convert(row) for row in rows]

    def episodes(self, batch: int) -> Iterator[list[Episode]]:
        sql = f"SELECT {codec.EPISODE_COLUMNS} FROM episodes ORDER BY rowid"
        return self._pages(sql, batch, lambda row: codec.row_episode(row, with_embedding=True))

    def entities(self, batch: int) -> Iterator[list[Entity]]:
        sql = f"SELECT {codec.ENTITY_COLUMNS} FROM entities ORDER BY rowid"
        return self._pages(sql, batch, lambda row: codec.row_entity(row, with_embedding=True))

    def facts(self, batch: int) -> Iterator[list[Fact]]:
        sql = f"SELECT {codec.FACT_COLUMNS} FROM facts ORDER BY rowid"
        return self._pages(sql, batch, lambda row: codec.row_fact(row, with_embedding=True))

    def mentions(self, batch: int) -> Iterator[list[tuple[uuid.UUID, uuid.UUID]]]:
        sql = "SELECT episode_id, entity_id FROM mentions ORDER BY episode_id, entity_id"
        return self._pages(sql, batch, lambda row: (uuid.UUID(row[0]), uuid.UUID(row[1])))

    def audit(self, batch: int) -> Iterator[list[AuditEvent]]:
        return self._pages("SELECT * FROM audit ORDER BY rowid", batch, codec.row_audit)


@contextlib.contextmanager
def _embedded_export(store: EmbeddedStore) -> Iterator[RecordExport]:
    conn = sqlite3.connect(store.directory / DATABASE_FILE, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("BEGIN")  # every page below reads the same snapshot
        yield _SqliteExport(conn)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the embedded store at {store.directory}: {exc}") from exc
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        conn.close()
