"""The embedded default store: one directory, SQLite truth, derived vector/keyword indexes.

Concurrency model: any number of threads and processes may read; one writer at a
time, serialized by SQLite's write lock (``BEGIN IMMEDIATE``, waiting up to
``busy_timeout`` and then failing with :class:`~graphmem.errors.StoreLockedError`).
Within a process, writes are also serialized by a lock so that threads never share
the write connection concurrently; each thread reads through its own connection.

Durability: SQLite in WAL mode; an acknowledged write survives SIGKILL of the process
(``synchronous=NORMAL``) and, with ``durability="full"``, power loss too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from graphmem.errors import EmbedderMismatchError, StoreCorruptedError, StoreError
from graphmem.models.edges import FactEdge
from graphmem.models.records import AuditAction, AuditEvent, Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.store.base import (
    CheckReport,
    EmbedderInfo,
    IndexKind,
    ProgressCallback,
    ScopeCounts,
    batched,
)
from graphmem.store.embedded import codec
from graphmem.store.embedded.connection import connect, scope_clause, translate
from graphmem.store.embedded.edges import parse_id, select_edges_by_ids, select_fact_edges
from graphmem.store.embedded.integrity import check_store, repair_references
from graphmem.store.embedded.keyword import match_expression
from graphmem.store.embedded.schema import (
    KEYWORD_INDEX,
    KEYWORD_SOURCES,
    KEYWORD_TABLES,
    RECORD_TABLES,
    SCHEMA_VERSION,
    TABLES,
    VECTOR_LOG,
    migrate_schema,
)
from graphmem.store.embedded.transaction import (
    EmbeddedTransaction,
    select_entities_by_names,
    select_facts,
)
from graphmem.store.embedded.vectors import KINDS, VectorIndexes

logger = logging.getLogger(__name__)

KEPT_AUDIT_ACTIONS = (
    AuditAction.FORGET.value,
    AuditAction.PURGE.value,
    AuditAction.RETENTION.value,
)
"""Content-free audit actions that ``forget`` keeps: they prove earlier erasures."""

DATABASE_FILE = "graph.sqlite3"
VECTOR_DIR = "vectors"
_KEYWORD_COLUMN = {"episode": "content", "entity": "names", "fact": "fact"}


class EmbeddedStore:
    """A graph store in one directory; see the module docstring for its guarantees."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        embedder: EmbedderInfo,
        *,
        busy_timeout: float = 30.0,
        durability: str = "normal",
        exact_threshold: int = 20_000,
        progress: ProgressCallback | None = None,
    ) -> None:
        self._directory = Path(directory).expanduser()
        self._embedder = embedder
        self._busy_timeout = busy_timeout
        if durability not in ("normal", "full"):
            raise ValueError("durability must be 'normal' or 'full'")
        self._synchronous = durability.upper()
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise translate(exc, self._directory) from exc
        self._path = self._directory / DATABASE_FILE
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._writer = connect(self._path, busy_timeout=busy_timeout, synchronous=self._synchronous)
        self._initialize_schema()
        self._vectors = VectorIndexes(
            self._directory / VECTOR_DIR, embedder.dim, exact_threshold=exact_threshold
        )
        self._vectors.open(self._reader(), progress)
        self._save_vectors()

    # -- setup -----------------------------------------------------------------------------
    def _initialize_schema(self) -> None:
        conn = self._writer
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(TABLES):
                conn.execute(statement)
            migrate_schema(conn)
            missing_keyword = self._missing_keyword_tables(conn)
            for statement in _statements(KEYWORD_INDEX + VECTOR_LOG):
                conn.execute(statement)
            for table in missing_keyword:
                conn.execute(
                    f"INSERT INTO {table} (rowid, scope, {_column_of(table)}) "
                    f"{KEYWORD_SOURCES[table]}"
                )
            self._check_embedder(conn)
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise StoreCorruptedError(
                    f"{self._path} is not a readable graphmem store: {exc}"
                ) from exc
            raise translate(exc, self._path) from exc

    @staticmethod
    def _missing_keyword_tables(conn: sqlite3.Connection) -> list[str]:
        existing = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        return [table for table in KEYWORD_TABLES.values() if table not in existing]

    def _check_embedder(self, conn: sqlite3.Connection) -> None:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if "embedder_model" not in meta:
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("embedder_model", self._embedder.model),
                    ("embedder_dim", str(self._embedder.dim)),
                ],
            )
            return
        stored = EmbedderInfo(meta["embedder_model"], int(meta["embedder_dim"]))
        if stored != self._embedder:
            raise EmbedderMismatchError(
                f"the store at {self._directory} was built with embedder {stored.model!r} "
                f"(dimension {stored.dim}); it cannot be opened with {self._embedder.model!r} "
                f"(dimension {self._embedder.dim}). Open it with the same embedder, or export "
                "it and import it into a new store."
            )

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection."""
        self._ensure_open()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(
                self._path, busy_timeout=self._busy_timeout, synchronous=self._synchronous
            )
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _ensure_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    @property
    def backend(self) -> str:
        """``embedded``."""
        return "embedded"

    @property
    def directory(self) -> Path:
        """The store's directory."""
        return self._directory

    @property
    def embedder_info(self) -> EmbedderInfo:
        """The embedder this store was built with."""
        return self._embedder

    # -- writes ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[EmbeddedTransaction]:
        """One atomic write; vector indexes catch up right after it commits."""
        self._ensure_open()
        with self._write_lock:
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise translate(exc, self._path) from exc
            try:
                yield EmbeddedTransaction(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise translate(exc, self._path) from exc
                raise
            self._vectors.catch_up(self._reader())
            if self._vectors.snapshot_due:
                self._save_vectors()

    def _save_vectors(self) -> None:
        with self._write_lock:
            try:
                self._vectors.save(self._writer)
            # Snapshot writes report failures as StoreError. A read-only or full disk
            # must not fail the caller's write: the truth is committed, the log remains.
            except (OSError, StoreError) as exc:
                logger.warning("vector snapshot not saved: %s", exc)

    # -- reads by id -----------------------------------------------------------------------
    def get_episodes(self, ids: Sequence[uuid.UUID]) -> list[Episode]:
        """Episodes by id."""
        return [
            codec.row_episode(row)
            for row in self._select_by_ids("episodes", codec.EPISODE_COLUMNS, ids)
        ]

    def get_entities(self, ids: Sequence[uuid.UUID]) -> list[Entity]:
        """Entities by id."""
        return [
            codec.row_entity(row)
            for row in self._select_by_ids("entities", codec.ENTITY_COLUMNS, ids)
        ]

    def get_facts(self, ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts by id (any version)."""
        return select_facts(self._reader(), ids)

    def _select_by_ids(
        self, table: str, columns: str, ids: Sequence[uuid.UUID]
    ) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = []
        conn = self._reader()
        for chunk in batched(list(ids), 400):
            marks = ",".join("?" * len(chunk))
            rows.extend(
                conn.execute(
                    f"SELECT {columns} FROM {table} WHERE id IN ({marks})", [str(i) for i in chunk]
                ).fetchall()
            )
        return rows

    # -- scoped reads ----------------------------------------------------------------------
    def list_episodes(self, scope: Scope, *, limit: int, offset: int = 0) -> list[Episode]:
        """The scope's episodes, newest first."""
        where, params = scope_clause(scope)
        rows = self._reader().execute(
            f"SELECT {codec.EPISODE_COLUMNS} FROM episodes WHERE {where} "
            "ORDER BY valid_at DESC, rowid DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [codec.row_episode(row) for row in rows]

    def recent_episodes(self, scope: Scope, *, limit: int) -> list[Episode]:
        """The scope's last ``limit`` episodes, oldest first."""
        return list(reversed(self.list_episodes(scope, limit=limit)))

    def list_entities(self, scope: Scope, *, limit: int, offset: int = 0) -> list[Entity]:
        """The owner's entities, most recently updated first."""
        rows = self._reader().execute(
            f"SELECT {codec.ENTITY_COLUMNS} FROM entities WHERE owner = ? "
            "ORDER BY updated_at DESC, rowid DESC LIMIT ? OFFSET ?",
            [scope.owner, limit, offset],
        )
        return [codec.row_entity(row) for row in rows]

    def list_facts(
        self, scope: Scope, *, limit: int, offset: int = 0, include_expired: bool = False
    ) -> list[Fact]:
        """The scope's facts, newest first."""
        where, params = scope_clause(scope)
        if not include_expired:
            where += " AND expired_at IS NULL"
        rows = self._reader().execute(
            f"SELECT {codec.FACT_COLUMNS} FROM facts WHERE {where} "
            "ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [codec.row_fact(row) for row in rows]

    def facts_of_entities(
        self, scope: Scope, entity_ids: Sequence[uuid.UUID], *, include_expired: bool = False
    ) -> list[Fact]:
        """Facts in the scope touching any of the entities."""
        where, params = scope_clause(scope)
        if not include_expired:
            where += " AND expired_at IS NULL"
        conn = self._reader()
        found: dict[str, Fact] = {}
        for chunk in batched(list(entity_ids), 400):
            ids = [str(i) for i in chunk]
            marks = ",".join("?" * len(ids))
            for column in ("subject_id", "object_id"):
                rows = conn.execute(
                    f"SELECT {codec.FACT_COLUMNS} FROM facts "
                    f"WHERE {column} IN ({marks}) AND {where}",
                    [*ids, *params],
                )
                for row in rows:
                    if row["id"] not in found:
                        found[row["id"]] = codec.row_fact(row)
        return list(found.values())

    def get_fact_edges(self, ids: Sequence[uuid.UUID]) -> list[FactEdge]:
        """Facts by id (any version) as slim edges; unknown ids are skipped."""
        return select_edges_by_ids(self._reader(), ids)

    def fact_edges_of_entities(
        self,
        scope: Scope,
        entity_ids: Sequence[uuid.UUID],
        *,
        include_expired: bool = False,
        per_entity: int | None = None,
    ) -> list[FactEdge]:
        """Facts in the scope touching any of the entities, as slim edges."""
        return select_fact_edges(
            self._reader(),
            scope,
            entity_ids,
            include_expired=include_expired,
            per_entity=per_entity,
        )

    def entity_history(self, scope: Scope, entity_id: uuid.UUID) -> list[Fact]:
        """Every version of every fact touching the entity."""
        return self.facts_of_entities(scope, [entity_id], include_expired=True)

    def mentions_of_episodes(
        self, episode_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Entity ids mentioned by each episode."""
        result: dict[uuid.UUID, list[uuid.UUID]] = {}
        conn = self._reader()
        for chunk in batched(list(episode_ids), 400):
            marks = ",".join("?" * len(chunk))
            for episode_id, entity_id in conn.execute(
                f"SELECT episode_id, entity_id FROM mentions WHERE episode_id IN ({marks})",
                [str(i) for i in chunk],
            ):
                result.setdefault(parse_id(episode_id), []).append(parse_id(entity_id))
        return result

    def episodes_mentioning(
        self, scope: Scope, entity_ids: Sequence[uuid.UUID], *, limit: int
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """``(episode_id, entity_id)`` pairs, newest episodes first."""
        if not entity_ids:
            return []
        where, params = scope_clause(scope, "e")
        ids = [str(i) for i in entity_ids[:400]]
        marks = ",".join("?" * len(ids))
        rows = self._reader().execute(
            "SELECT m.episode_id, m.entity_id FROM mentions m "
            "JOIN episodes e ON e.id = m.episode_id "
            f"WHERE m.entity_id IN ({marks}) AND {where} ORDER BY e.valid_at DESC LIMIT ?",
            [*ids, *params, limit],
        )
        return [(parse_id(a), parse_id(b)) for a, b in rows]

    def entity_names(self, owner: str) -> list[tuple[uuid.UUID, str, list[str]]]:
        """``(id, name, aliases)`` of the owner's entities."""
        rows = self._reader().execute(
            "SELECT id, name, aliases FROM entities WHERE owner = ?", [owner]
        )
        return [(uuid.UUID(i), name, json.loads(aliases)) for i, name, aliases in rows]

    def entities_by_names(self, owner: str, normalized_names: Sequence[str]) -> list[Entity]:
        """Entities of ``owner`` with one of these normalized names or aliases."""
        return select_entities_by_names(self._reader(), owner, normalized_names)

    # -- indexes ---------------------------------------------------------------------------
    def vector_search(
        self, kind: IndexKind, scope: Scope, vector: Sequence[float], k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """Nearest records in the scope; narrows by agent/run without losing results."""
        if k <= 0:
            return []
        conn = self._reader()
        self._vectors.catch_up(conn)
        query = np.asarray(vector, dtype=np.float32)
        partition = self._vectors.count(kind, scope.owner)
        narrowed = kind != "entity" and (scope.agent_id is not None or scope.run_id is not None)
        fetch = min(partition, k * 4 if narrowed else k)
        while True:
            hits = self._vectors.search(kind, scope.owner, query, fetch)
            resolved = self._ids_for_rowids(kind, scope, [rowid for rowid, _ in hits])
            results = [(resolved[rowid], score) for rowid, score in hits if rowid in resolved]
            if len(results) >= k or fetch >= partition:
                return results[:k]
            fetch = min(partition, fetch * 4)

    def _ids_for_rowids(
        self, kind: IndexKind, scope: Scope, rowids: list[int]
    ) -> dict[int, uuid.UUID]:
        if not rowids:
            return {}
        table = RECORD_TABLES[kind]
        where, params = ("owner = ?", [scope.owner]) if kind == "entity" else scope_clause(scope)
        resolved: dict[int, uuid.UUID] = {}
        for start in range(0, len(rowids), 400):
            chunk = rowids[start : start + 400]
            marks = ",".join("?" * len(chunk))
            for rowid, record_id in self._reader().execute(
                f"SELECT rowid, id FROM {table} WHERE rowid IN ({marks}) AND {where}",
                [*chunk, *params],
            ):
                resolved[rowid] = parse_id(record_id)
        return resolved

    def keyword_search(
        self, kind: IndexKind, scope: Scope, query: str, k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """BM25 over the scope's records of ``kind``; higher scores are better."""
        fts = KEYWORD_TABLES[kind]
        expression = match_expression(scope.owner, query, _KEYWORD_COLUMN[kind])
        if expression is None or k <= 0:
            return []
        table = RECORD_TABLES[kind]
        where, params = (
            ("r.owner = ?", [scope.owner]) if kind == "entity" else scope_clause(scope, "r")
        )
        rows = self._reader().execute(
            f"SELECT r.id, -bm25({fts}, 0.0, 1.0) AS score FROM {fts} "
            f"JOIN {table} r ON r.rowid = {fts}.rowid "
            f"WHERE {fts} MATCH ? AND {where} ORDER BY bm25({fts}, 0.0, 1.0) LIMIT ?",
            [expression, *params, k],
        )
        return [(parse_id(record_id), float(score)) for record_id, score in rows]

    # -- administration --------------------------------------------------------------------
    def counts(self, scope: Scope | None = None) -> ScopeCounts:
        """Record counts, for one scope or the whole store."""
        conn = self._reader()
        params: list[str]
        owner_params: list[str]
        if scope is None:
            where, params, owner_where, owner_params = "1", [], "1", []
        else:
            where, params = scope_clause(scope)
            owner_where, owner_params = "owner = ?", [scope.owner]
        (episodes,) = conn.execute(
            f"SELECT count(*) FROM episodes WHERE {where}", params
        ).fetchone()
        (entities,) = conn.execute(
            f"SELECT count(*) FROM entities WHERE {owner_where}", owner_params
        ).fetchone()
        facts, current = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE expired_at IS NULL AND invalid_at IS NULL) "
            f"FROM facts WHERE {where}",
            params,
        ).fetchone()
        return ScopeCounts(episodes=episodes, entities=entities, facts=facts, current_facts=current)

    def audit_log(self, owner: str | None, *, limit: int) -> list[AuditEvent]:
        """Newest audit events first."""
        if owner is None:
            rows = self._reader().execute(
                "SELECT * FROM audit ORDER BY rowid DESC LIMIT ?", [limit]
            )
        else:
            rows = self._reader().execute(
                "SELECT * FROM audit WHERE owner = ? ORDER BY rowid DESC LIMIT ?", [owner, limit]
            )
        return [codec.row_audit(row) for row in rows]

    def forget(self, scope: Scope) -> ScopeCounts:
        """Hard-delete the scope's episodes and facts; a whole owner loses its entities too.

        Narrowed scopes (with agent_id or run_id) also delete entities that nothing
        of the owner refers to any more, so no name survives its last mention.
        Audit entries of the owner that could hold content are deleted; one
        content-free deletion record is written.
        """
        whole_owner = scope.agent_id is None and scope.run_id is None
        before = self.counts(scope)
        where, params = scope_clause(scope)
        with self.transaction() as tx:
            conn = tx._conn
            conn.execute(f"DELETE FROM facts WHERE {where}", params)
            conn.execute(f"DELETE FROM episodes WHERE {where}", params)
            if whole_owner:
                conn.execute("DELETE FROM entities WHERE owner = ?", [scope.owner])
            else:
                conn.execute(
                    "DELETE FROM entities WHERE owner = ? "
                    "AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id = entities.id) "
                    "AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.subject_id = entities.id "
                    "OR f.object_id = entities.id)",
                    [scope.owner],
                )
            # Deletion records hold no content and prove earlier erasures: they stay.
            conn.execute(
                "DELETE FROM audit WHERE owner = ? AND action NOT IN (?, ?, ?)",
                [scope.owner, *KEPT_AUDIT_ACTIONS],
            )
            counts = ScopeCounts(
                episodes=before.episodes,
                entities=before.entities if whole_owner else 0,
                facts=before.facts,
                current_facts=before.current_facts,
            )
            tx.append_audit(
                [
                    AuditEvent(
                        action=AuditAction.FORGET,
                        owner=scope.owner,
                        detail={
                            "scope": scope.model_dump(exclude_none=True),
                            "episodes": counts.episodes,
                            "facts": counts.facts,
                            "entities": counts.entities,
                        },
                    )
                ]
            )
        return counts

    def reset(self) -> None:
        """Delete every record of every scope (keeps the embedder identity)."""
        with self.transaction() as tx:
            conn = tx._conn
            for table in (
                "mentions",
                "fact_sources",
                "entity_names",
                "facts",
                "episodes",
                "entities",
                "audit",
            ):
                conn.execute(f"DELETE FROM {table}")
        self._save_vectors()

    def reindex(self, progress: ProgressCallback | None = None) -> None:
        """Rebuild the keyword and vector indexes from the truth."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Dropped, not emptied: deleting rows leaves damaged index pages in place.
                for fts in KEYWORD_TABLES.values():
                    conn.execute(f"DROP TABLE IF EXISTS {fts}")
                for statement in _statements(KEYWORD_INDEX):
                    conn.execute(statement)
                for fts in KEYWORD_TABLES.values():
                    conn.execute(
                        f"INSERT INTO {fts} (rowid, scope, {_column_of(fts)}) "
                        f"{KEYWORD_SOURCES[fts]}"
                    )
                    if progress is not None:
                        progress(f"keywords:{fts}", 1, 1)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._vectors.rebuild(self._reader(), progress)
            self._save_vectors()

    def check(self, *, repair: bool = False) -> CheckReport:
        """Compare truth with the keyword and vector indexes and the graph's references."""
        report = check_store(self._reader(), self._vectors)
        if repair and report.problems:
            self.reindex()
            with self.transaction() as tx:
                repair_references(tx._conn)
            # Only what a second look no longer finds counts as repaired.
            remaining = check_store(self._reader(), self._vectors).problems
            report.repaired = [p for p in report.problems if p not in remaining]
            report.problems += [p for p in remaining if p not in report.problems]
        return report

    def close(self) -> None:
        """Save vector snapshots and close every connection. Idempotent."""
        if self._closed:
            return
        with contextlib.suppress(StoreError, sqlite3.Error):
            self._save_vectors()
        self._closed = True
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
        with contextlib.suppress(sqlite3.Error):
            self._writer.close()

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _statements(script: str) -> list[str]:
    """Split a DDL script into statements (triggers contain inner semicolons)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    return statements


def _column_of(fts_table: str) -> str:
    kind = next(kind for kind, table in KEYWORD_TABLES.items() if table == fts_table)
    return _KEYWORD_COLUMN[kind]


__all__ = ["KINDS", "EmbeddedStore"]
