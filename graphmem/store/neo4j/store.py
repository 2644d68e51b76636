"""The Neo4j store: the same model and protocol as the embedded store, on Neo4j 5.15+.

Graph layout:

* ``(:Episode)`` and ``(:Entity:<Type>)`` nodes; the entity type is an extra label
  when it can be one (:func:`.identifiers.entity_label`);
* a fact is a relationship ``(subject)-[:WORKS_AT {...}]->(object)`` typed by its
  canonical predicate, plus a ``(:FactRecord)`` node with the same properties and the
  embedding. Relationship properties cannot be indexed or searched across types, so
  the record serves lookups by id, scope and provenance and the fact vector and
  full-text indexes, while the relationship serves traversal and exploration;
* ``(:FactSource {fact_id, episode_id})`` provenance entries (indexed by episode);
* ``(:Episode)-[:MENTIONS]->(:Entity)``; ``(:AuditEvent)``; one ``(:GraphmemMeta)``
  holding the embedder the store was built with.

Every statement is parameterized; writes of one unit of work are one Neo4j
transaction. Reads outside transactions use the driver's read routing with causal
bookmarks, so they see every committed write of this process.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import neo4j
import numpy as np

from graphmem.config import Neo4jSettings
from graphmem.errors import EmbedderMismatchError, StoreError
from graphmem.models.edges import FactEdge
from graphmem.models.headers import EpisodeHeader
from graphmem.models.records import AuditAction, AuditEvent, Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.store.base import (
    OVERFETCH,
    CheckReport,
    EmbedderInfo,
    IndexKind,
    ProgressCallback,
    ScopeCounts,
    Vector,
    first_fetch,
)
from graphmem.store.neo4j import admin, reads, schema, search
from graphmem.store.neo4j.connection import (
    open_driver,
    resolve_settings,
    server_version,
    translated,
)
from graphmem.store.neo4j.export import Neo4jExport
from graphmem.store.neo4j.integrity import check_store, repair_references
from graphmem.store.neo4j.records import (
    audit_from,
    edge_from,
    entity_from,
    episode_from,
    fact_from,
    normalized,
)
from graphmem.store.neo4j.statements import Statement, id_list
from graphmem.store.neo4j.transaction import BATCH, Neo4jTransaction


class Neo4jStore:
    """A graph store on a Neo4j server; see the module docstring for its layout."""

    def __init__(
        self,
        settings: Neo4jSettings | None,
        embedder: EmbedderInfo,
        *,
        connection_timeout: float = 10.0,
        exact_threshold: int = 5_000,
        max_fetch: int = 4_096,
    ) -> None:
        self._settings = resolve_settings(settings)
        self._embedder = embedder
        self._database = self._settings.database
        self._exact_threshold = exact_threshold
        self._max_fetch = max_fetch
        self._driver = open_driver(self._settings, connection_timeout=connection_timeout)
        self._closed = False
        try:
            self._version = server_version(self._driver, self._database)
            self._native_cosine = schema.has_native_cosine(self._version)
            for statement in schema.schema_statements(embedder.dim):
                self._write(statement)
            self._check_embedder()
        except BaseException:
            self._driver.close()
            raise

    def _check_embedder(self) -> None:
        rows = self._write(schema.write_identity(self._embedder.model, self._embedder.dim))
        stored = EmbedderInfo(str(rows[0]["embedder_model"]), int(rows[0]["embedder_dim"]))
        if stored != self._embedder:
            raise EmbedderMismatchError(
                f"the Neo4j database {self._database!r} at {self._settings.uri} was built with "
                f"embedder {stored.model!r} (dimension {stored.dim}); it cannot be used with "
                f"{self._embedder.model!r} (dimension {self._embedder.dim}). Use the same "
                "embedder, or migrate into a new database."
            )

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        """``neo4j``."""
        return "neo4j"

    @property
    def embedder_info(self) -> EmbedderInfo:
        """The embedder this store was built with."""
        return self._embedder

    @property
    def server_version(self) -> tuple[int, int]:
        """``(major, minor)`` of the connected Neo4j server."""
        return self._version

    def read(self, statement: Statement) -> list[dict[str, Any]]:
        """Run one read-only statement with read routing."""
        return self._execute(statement, neo4j.RoutingControl.READ)

    def _write(self, statement: Statement) -> list[dict[str, Any]]:
        return self._execute(statement, neo4j.RoutingControl.WRITE)

    def _execute(self, statement: Statement, routing: neo4j.RoutingControl) -> list[dict[str, Any]]:
        self._ensure_open()
        with translated(f"database {self._database!r}"):
            result = self._driver.execute_query(
                statement.text,
                statement.params,
                database_=self._database,
                routing_=routing,
            )
        return [record.data() for record in result.records]

    def _ensure_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Neo4jTransaction]:
        """One Neo4j transaction; it commits when the block exits without error."""
        self._ensure_open()
        where = f"database {self._database!r}"
        with translated(where):
            session = self._driver.session(
                database=self._database,
                default_access_mode=neo4j.WRITE_ACCESS,
                bookmark_manager=self._driver.execute_query_bookmark_manager,
            )
        try:
            with translated(where):
                tx = session.begin_transaction()
            try:
                with translated(where):
                    yield Neo4jTransaction(tx, self._embedder.dim)
                    tx.commit()
            finally:
                if not tx.closed():
                    with contextlib.suppress(*_DRIVER_ERRORS):
                        tx.rollback()
        finally:
            session.close()

    # -- reads by id -------------------------------------------------------------------------
    def get_episodes(self, ids: Sequence[uuid.UUID]) -> list[Episode]:
        """Episodes by id; unknown ids are skipped."""
        return [
            episode_from(row["props"])
            for chunk in _chunks(id_list(ids))
            for row in self.read(reads.episodes_by_ids(chunk))
        ]

    def get_episode_headers(self, ids: Sequence[uuid.UUID]) -> list[EpisodeHeader]:
        """Episodes by id as slim headers; unknown ids are skipped."""
        return [
            EpisodeHeader(
                uuid.UUID(row["id"]), row["user_id"], row["agent_id"], row["run_id"], row["name"]
            )
            for chunk in _chunks(id_list(ids))
            for row in self.read(reads.episode_headers_by_ids(chunk))
        ]

    def episode_vectors(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Vector]:
        """Stored embeddings of these episodes; unknown and unembedded ones are skipped."""
        return {
            uuid.UUID(row["id"]): np.asarray(row["embedding"], dtype=np.float32)
            for chunk in _chunks(id_list(ids))
            for row in self.read(reads.episode_vectors_by_ids(chunk))
        }

    def get_entities(self, ids: Sequence[uuid.UUID]) -> list[Entity]:
        """Entities by id; unknown ids are skipped."""
        return [
            entity_from(row["props"])
            for chunk in _chunks(id_list(ids))
            for row in self.read(reads.entities_by_ids(chunk))
        ]

    def get_facts(self, ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts by id (any version); unknown ids are skipped."""
        return [
            fact_from(row["props"])
            for chunk in _chunks(id_list(ids))
            for row in self.read(reads.facts_by_ids(chunk))
        ]

    def get_fact_edges(self, ids: Sequence[uuid.UUID]) -> list[FactEdge]:
        """Facts by id (any version) as slim edges; unknown ids are skipped."""
        return [
            edge_from(row["props"])
            for chunk in _chunks(id_list(ids))
            for row in self.read(reads.fact_edges_by_ids(chunk))
        ]

    # -- scoped reads ------------------------------------------------------------------------
    def list_episodes(self, scope: Scope, *, limit: int, offset: int = 0) -> list[Episode]:
        """The scope's episodes, newest ``valid_at`` first."""
        rows = self.read(reads.list_episodes(scope, limit, offset))
        return [episode_from(row["props"]) for row in rows]

    def recent_episodes(self, scope: Scope, *, limit: int) -> list[Episode]:
        """The scope's last ``limit`` episodes, oldest first."""
        return list(reversed(self.list_episodes(scope, limit=limit)))

    def list_entities(self, scope: Scope, *, limit: int, offset: int = 0) -> list[Entity]:
        """The owner's entities, most recently updated first."""
        rows = self.read(reads.list_entities(scope, limit, offset))
        return [entity_from(row["props"]) for row in rows]

    def list_facts(
        self, scope: Scope, *, limit: int, offset: int = 0, include_expired: bool = False
    ) -> list[Fact]:
        """The scope's facts, newest first; expired versions only when asked."""
        rows = self.read(reads.list_facts(scope, limit, offset, include_expired))
        return [fact_from(row["props"]) for row in rows]

    def facts_of_entities(
        self, scope: Scope, entity_ids: Sequence[uuid.UUID], *, include_expired: bool = False
    ) -> list[Fact]:
        """Facts in the scope touching any of the entities, by relationship expansion."""
        found: dict[uuid.UUID, Fact] = {}
        for chunk in _chunks(id_list(entity_ids)):
            for row in self.read(reads.facts_of_entities(scope, chunk, include_expired)):
                fact = fact_from(row["props"])
                found.setdefault(fact.id, fact)
        return list(found.values())

    def fact_edges_of_entities(
        self,
        scope: Scope,
        entity_ids: Sequence[uuid.UUID],
        *,
        include_expired: bool = False,
        per_entity: int | None = None,
    ) -> list[FactEdge]:
        """Facts in the scope touching any of the entities, as slim edges."""
        found: dict[uuid.UUID, FactEdge] = {}
        for chunk in _chunks(id_list(entity_ids)):
            statement = reads.fact_edges_of_entities(scope, chunk, include_expired, per_entity)
            for row in self.read(statement):
                edge = edge_from(row["props"])
                found.setdefault(edge.id, edge)
        return list(found.values())

    def entity_history(self, scope: Scope, entity_id: uuid.UUID) -> list[Fact]:
        """Every version of every fact touching the entity, in the scope."""
        return self.facts_of_entities(scope, [entity_id], include_expired=True)

    def mentions_of_episodes(
        self, episode_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Entity ids each episode mentions."""
        result: dict[uuid.UUID, list[uuid.UUID]] = {}
        for chunk in _chunks(id_list(episode_ids)):
            for row in self.read(reads.mentions_of_episodes(chunk)):
                result.setdefault(uuid.UUID(row["episode_id"]), []).append(
                    uuid.UUID(row["entity_id"])
                )
        return result

    def episodes_mentioning(
        self, scope: Scope, entity_ids: Sequence[uuid.UUID], *, per_entity: int
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Up to ``per_entity`` ids of the scope's episodes mentioning each entity."""
        if not entity_ids or per_entity <= 0:
            return {}
        rows = self.read(reads.episodes_mentioning(scope, id_list(entity_ids), per_entity))
        return {
            uuid.UUID(row["entity_id"]): [uuid.UUID(i) for i in row["episode_ids"]]
            for row in rows
            if row["episode_ids"]
        }

    def entity_names(self, owner: str) -> list[tuple[uuid.UUID, str, list[str]]]:
        """``(id, name, aliases)`` of every entity of ``owner``."""
        rows = self.read(reads.entity_names(owner))
        return [(uuid.UUID(row["id"]), row["name"], list(row["aliases"] or [])) for row in rows]

    def entities_by_names(self, owner: str, normalized_names: Sequence[str]) -> list[Entity]:
        """Entities of ``owner`` with one of these normalized names or aliases."""
        if not normalized_names:
            return []
        rows = self.read(reads.entities_by_names(owner, normalized_names))
        return [entity_from(row["props"]) for row in rows]

    # -- indexes -----------------------------------------------------------------------------
    def vector_search(
        self, kind: IndexKind, scope: Scope, vector: Sequence[float], k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """Nearest records in the scope; the strategy is described in :mod:`.search`."""
        if k <= 0:
            return []
        query = normalized(vector, self._embedder.dim, "query vector")
        size = int(self.read(search.scope_vector_count(kind, scope))[0]["total"])
        if size == 0:
            return []
        if size > self._exact_threshold:
            fetch = k * OVERFETCH
            while fetch <= self._max_fetch:
                rows = self.read(search.vector_candidates(kind, query, fetch))
                hits = [
                    (uuid.UUID(row["id"]), search.neo4j_cosine(row["score"]))
                    for row in rows
                    if search.visible(kind, scope, row)
                ]
                if len(hits) >= k or len(rows) < fetch:
                    return hits[:k]
                fetch *= OVERFETCH
        statement = search.exact_vector_scan(
            kind, scope, query, k, native_cosine=self._native_cosine
        )
        convert = search.neo4j_cosine if self._native_cosine else _clamp
        return [(uuid.UUID(row["id"]), convert(row["similarity"])) for row in self.read(statement)]

    def keyword_search(
        self, kind: IndexKind, scope: Scope, query: str, k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """Full-text matches of ``kind`` in the scope, best first."""
        lucene = search.lucene_query(kind, scope, query)
        if lucene is None or k <= 0:
            return []
        fetch = first_fetch(kind, scope, k)
        while True:
            rows = self.read(search.keyword_query(kind, lucene, fetch))
            hits = sorted(
                (
                    (uuid.UUID(row["id"]), float(row["score"]))
                    for row in rows
                    if search.visible(kind, scope, row)
                ),
                key=lambda hit: (-hit[1], str(hit[0])),
            )
            if len(hits) >= k or len(rows) < fetch:
                return hits[:k]
            fetch *= OVERFETCH

    # -- administration ----------------------------------------------------------------------
    def counts(self, scope: Scope | None = None) -> ScopeCounts:
        """Record counts for a scope, or for the whole store."""
        row = self.read(reads.counts(scope))[0]
        return ScopeCounts(
            episodes=int(row["episodes"]),
            entities=int(row["entities"]),
            facts=int(row["facts"]),
            current_facts=int(row["current_facts"]),
        )

    def audit_log(self, owner: str | None, *, limit: int) -> list[AuditEvent]:
        """The newest audit events (of one owner, or all)."""
        return [audit_from(row["props"]) for row in self.read(reads.audit_log(owner, limit))]

    def forget(self, scope: Scope) -> ScopeCounts:
        """Hard-delete everything visible to ``scope`` (and entities, if a whole owner).

        Same rules as the embedded store: a narrowed scope also deletes the owner's
        entities nothing refers to any more; the owner's audit entries are replaced by
        one content-free deletion record. One transaction: all of it or none.
        """
        whole_owner = scope.agent_id is None and scope.run_id is None
        before = self.counts(scope)
        with self.transaction() as tx:
            fact_ids = [uuid.UUID(row["id"]) for row in tx.run(admin.scope_fact_ids(scope))]
            tx.delete_facts(fact_ids)
            tx.run(admin.delete_scope_episodes(scope))
            if whole_owner:
                tx.run(admin.delete_owner_entities(scope.owner))
            else:
                tx.run(admin.delete_unreferenced_entities(scope.owner))
            tx.run(admin.delete_owner_audit(scope.owner))
            counts = ScopeCounts(
                episodes=before.episodes,
                entities=before.entities if whole_owner else 0,
                facts=before.facts,
                current_facts=before.current_facts,
            )
            detail = {
                "scope": scope.model_dump(exclude_none=True),
                "episodes": counts.episodes,
                "facts": counts.facts,
                "entities": counts.entities,
            }
            event = AuditEvent(action=AuditAction.FORGET, owner=scope.owner, detail=detail)
            tx.append_audit([event])
        return counts

    def reset(self) -> None:
        """Delete every graphmem record (the store keeps its embedder identity).

        Deletes in batches of separate transactions so that a large database does not
        need one huge transaction; an interrupted reset is finished by running it again.
        """
        for label in admin.RECORD_LABELS:
            while self._write(admin.delete_label_batch(label, BATCH * 5))[0]["deleted"]:
                pass

    def reindex(self, progress: ProgressCallback | None = None) -> None:
        """Rebuild the search indexes and every fact relationship from the records."""
        total = len(admin.SEARCH_INDEXES)
        for done, name in enumerate(admin.SEARCH_INDEXES, start=1):
            self._write(admin.drop_search_index(name))
            if progress is not None:
                progress(f"dropped:{name}", done, total)
        for statement in schema.schema_statements(self._embedder.dim):
            self._write(statement)
        with self.transaction() as tx:
            repair_references(tx)
        self._write(admin.AWAIT_INDEXES)
        if progress is not None:
            progress("indexes", total, total)

    def check(self, *, repair: bool = False) -> CheckReport:
        """Compare fact records with their relationships, references and index states."""
        report = check_store(self.read)
        if repair and report.problems:
            for statement in schema.schema_statements(self._embedder.dim):
                self._write(statement)
            with self.transaction() as tx:
                repair_references(tx)
            self._write(admin.AWAIT_INDEXES)
            report.repaired = list(report.problems)
        return report

    # -- export (for migration) --------------------------------------------------------------
    @contextlib.contextmanager
    def export(self) -> Iterator[Neo4jExport]:
        """Every record with its embedding, in pages (see ``graphmem.store.migrate``)."""
        self._ensure_open()
        yield Neo4jExport(self.read)

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the driver and its connections. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(*_DRIVER_ERRORS, OSError):
            self._driver.close()

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_DRIVER_ERRORS = (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError)


def _chunks(ids: list[str], size: int = BATCH) -> list[list[str]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, float(value)))


__all__ = ["Neo4jStore"]
