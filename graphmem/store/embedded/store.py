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
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from graphmem.errors import StoreError
from graphmem.models.edges import FactEdge
from graphmem.models.headers import EpisodeHeader
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.store.base import (
    CheckReport,
    EmbedderInfo,
    IndexKind,
    ProgressCallback,
    ScopeCounts,
    Vector,
)
from graphmem.store.embedded import index_search, record_reads
from graphmem.store.embedded.connection import connect, translate
from graphmem.store.embedded.edge_cache import EdgeCache, compact_fact_log
from graphmem.store.embedded.edges import select_edges_by_ids, select_fact_edges
from graphmem.store.embedded.erasure import count_records, erase_everything, erase_scope
from graphmem.store.embedded.integrity import check_store, repair_references
from graphmem.store.embedded.keyword_statistics import KeywordStatistics
from graphmem.store.embedded.schema_setup import initialize_schema, rebuild_keyword_tables
from graphmem.store.embedded.transaction import (
    EmbeddedTransaction,
    select_entities_by_names,
    select_facts,
)
from graphmem.store.embedded.vectors import KINDS, VectorIndexes

logger = logging.getLogger(__name__)

DATABASE_FILE = "graph.sqlite3"
VECTOR_DIR = "vectors"
_COMPACT_EVERY = 1_000
"""Write transactions between compactions of the fact change log."""


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
        edge_cache_facts: int = 500_000,
        edge_cache_gc_freeze: bool = False,
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
        self._edges = EdgeCache(edge_cache_facts, gc_freeze=edge_cache_gc_freeze)
        self._commits = 0
        self._writer = connect(
            self._path, busy_timeout=busy_timeout, synchronous=self._synchronous, memory_map=False
        )
        initialize_schema(self._writer, self._path, embedder)
        self._vectors = VectorIndexes(
            self._directory / VECTOR_DIR, embedder.dim, exact_threshold=exact_threshold
        )
        self._vectors.open(self._reader(), progress)
        self._save_vectors()

    # -- connections -----------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection."""
        self._ensure_open()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(
                self._path, busy_timeout=self._busy_timeout, synchronous=self._synchronous
            )
            self._local.conn = conn
            self._local.keyword_statistics = KeywordStatistics()
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
                self._commits += 1
                if self._commits % _COMPACT_EVERY == 0:
                    compact_fact_log(conn)
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
        return record_reads.select_episodes(self._reader(), ids)

    def get_episode_headers(self, ids: Sequence[uuid.UUID]) -> list[EpisodeHeader]:
        """Episodes by id as slim headers; unknown ids are skipped."""
        return record_reads.select_episode_headers(self._reader(), ids)

    def episode_vectors(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Vector]:
        """Stored embeddings of these episodes; unknown and unembedded ones are skipped."""
        return record_reads.episode_vectors(self._reader(), ids)

    def get_entities(self, ids: Sequence[uuid.UUID]) -> list[Entity]:
        """Entities by id."""
        return record_reads.select_entities(self._reader(), ids)

    def get_facts(self, ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts by id (any version)."""
        return select_facts(self._reader(), ids)

    # -- scoped reads ----------------------------------------------------------------------
    def list_episodes(self, scope: Scope, *, limit: int, offset: int = 0) -> list[Episode]:
        """The scope's episodes, newest first."""
        return record_reads.list_episodes(self._reader(), scope, limit=limit, offset=offset)

    def recent_episodes(self, scope: Scope, *, limit: int) -> list[Episode]:
        """The scope's last ``limit`` episodes, oldest first."""
        return list(reversed(self.list_episodes(scope, limit=limit)))

    def list_entities(self, scope: Scope, *, limit: int, offset: int = 0) -> list[Entity]:
        """The owner's entities, most recently updated first."""
        return record_reads.list_entities(self._reader(), scope, limit=limit, offset=offset)

    def list_facts(
        self, scope: Scope, *, limit: int, offset: int = 0, include_expired: bool = False
    ) -> list[Fact]:
        """The scope's facts, newest first."""
        return record_reads.list_facts(
            self._reader(), scope, limit=limit, offset=offset, include_expired=include_expired
        )

    def facts_of_entities(
        self, scope: Scope, entity_ids: Sequence[uuid.UUID], *, include_expired: bool = False
    ) -> list[Fact]:
        """Facts in the scope touching any of the entities."""
        return record_reads.facts_of_entities(
            self._reader(), scope, entity_ids, include_expired=include_expired
        )

    def get_fact_edges(self, ids: Sequence[uuid.UUID]) -> list[FactEdge]:
        """Facts by id (any version) as slim edges; unknown ids are skipped."""
        reader = self._reader()
        cached, missing = self._edges.edges_by_ids(reader, ids)
        return cached + select_edges_by_ids(reader, missing) if missing else cached

    def fact_edges_of_entities(
        self,
        scope: Scope,
        entity_ids: Sequence[uuid.UUID],
        *,
        include_expired: bool = False,
        per_entity: int | None = None,
    ) -> list[FactEdge]:
        """Facts in the scope touching any of the entities, as slim edges (from memory
        when the owner fits the edge cache)."""
        reader = self._reader()
        cached = self._edges.edges_of_entities(
            reader, scope, entity_ids, include_expired=include_expired, per_entity=per_entity
        )
        if cached is not None:
            return cached
        return select_fact_edges(
            reader,
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
        return record_reads.mentions_of_episodes(self._reader(), episode_ids)

    def episodes_mentioning(
        self, scope: Scope, entity_ids: Sequence[uuid.UUID], *, per_entity: int
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Up to ``per_entity`` ids of the scope's episodes mentioning each entity."""
        if not entity_ids or per_entity <= 0:  # nothing to look up: no connection needed
            return {}
        return record_reads.episodes_mentioning(
            self._reader(), scope, entity_ids, per_entity=per_entity
        )

    def entity_names(self, owner: str) -> list[tuple[uuid.UUID, str, list[str]]]:
        """``(id, name, aliases)`` of the owner's entities."""
        return record_reads.entity_names(self._reader(), owner)

    def entities_by_names(self, owner: str, normalized_names: Sequence[str]) -> list[Entity]:
        """Entities of ``owner`` with one of these normalized names or aliases."""
        return select_entities_by_names(self._reader(), owner, normalized_names)

    # -- indexes ---------------------------------------------------------------------------
    def vector_search(
        self, kind: IndexKind, scope: Scope, vector: Sequence[float], k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """Nearest records in the scope; narrows by agent/run without losing results."""
        return index_search.vector_search(self._reader, self._vectors, kind, scope, vector, k)

    def keyword_search(
        self, kind: IndexKind, scope: Scope, query: str, k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """BM25 over the scope's records of ``kind``; higher scores are better."""
        return index_search.keyword_search(
            self._reader, self._keyword_statistics, kind, scope, query, k
        )

    def _keyword_statistics(self) -> KeywordStatistics:
        """This thread's keyword statistics, made with (and kept as long as) its reader."""
        self._reader()
        statistics: KeywordStatistics = self._local.keyword_statistics
        return statistics

    # -- administration --------------------------------------------------------------------
    def counts(self, scope: Scope | None = None) -> ScopeCounts:
        """Record counts, for one scope or the whole store."""
        return count_records(self._reader(), scope)

    def audit_log(self, owner: str | None, *, limit: int) -> list[AuditEvent]:
        """Newest audit events first."""
        return record_reads.audit_log(self._reader(), owner, limit=limit)

    def forget(self, scope: Scope) -> ScopeCounts:
        """Hard-delete the scope's episodes and facts; a whole owner loses its entities too.

        Narrowed scopes (with agent_id or run_id) also delete entities that nothing
        of the owner refers to any more, so no name survives its last mention.
        Audit entries of the owner that could hold content are deleted; one
        content-free deletion record is written.
        """
        before = self.counts(scope)
        with self.transaction() as tx:
            return erase_scope(tx, scope, before)

    def reset(self) -> None:
        """Delete every record of every scope (keeps the embedder identity)."""
        with self.transaction() as tx:
            erase_everything(tx)
        self._save_vectors()

    def reindex(self, progress: ProgressCallback | None = None) -> None:
        """Rebuild the keyword and vector indexes from the truth."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                rebuild_keyword_tables(conn, progress)
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


__all__ = ["KINDS", "EmbeddedStore"]
