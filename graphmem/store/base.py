"""The store protocol: what every backend (embedded SQLite, Neo4j) provides.

Stores hold records and answer structural queries; they contain no memory logic.
Entity resolution, temporal reconciliation, filtering by time and ranking all live
above this protocol, in one implementation shared by every backend.

Scope rules for implementers: every method that takes a ``scope`` returns only
records visible to it (:meth:`graphmem.models.scope.Scope.contains` for episodes and
facts, owner equality for entities). Methods that take bare ids are unscoped; their
callers check scope on the returned records.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

from graphmem.models.edges import FactEdge
from graphmem.models.headers import EpisodeHeader
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.models.scope import Scope

Vector = npt.NDArray[np.float32]
"""One stored embedding, as read for scoring."""

T = TypeVar("T")
IndexKind = Literal["entity", "episode", "fact"]
ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` during long operations."""


@dataclass(frozen=True, slots=True)
class EmbedderInfo:
    """Identity of the embedder a store was built with; a store refuses any other."""

    model: str
    dim: int


@dataclass(slots=True)
class ScopeCounts:
    """How many records of each kind a scope (or the whole store) holds."""

    episodes: int = 0
    entities: int = 0
    facts: int = 0
    current_facts: int = 0


@dataclass(slots=True)
class CheckReport:
    """Outcome of an integrity check of truth against derived indexes."""

    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem is left unrepaired."""
        return len(self.problems) == len(self.repaired)


class StoreTransaction(Protocol):
    """One atomic unit of work. Reads see the transaction's own writes.

    The write path reads what it needs (entities by name, facts to reconcile
    against), decides in Python, then writes; all of it commits or none of it does.
    """

    def entities_by_names(self, owner: str, normalized_names: Sequence[str]) -> list[Entity]:
        """Entities of ``owner`` whose normalized name or an alias matches one given."""
        ...

    def facts_touching(
        self, owner: str, entity_ids: Sequence[uuid.UUID], predicates: Sequence[str]
    ) -> list[Fact]:
        """All versions of ``owner``'s facts with one of ``predicates`` whose subject
        or object is among ``entity_ids`` (any agent or run)."""
        ...

    def get_facts(self, ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts by id, in no particular order; unknown ids are skipped."""
        ...

    def facts_citing_episodes(self, episode_ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts whose provenance, or whose closure, refers to one of the episodes."""
        ...

    def put_episodes(self, episodes: Sequence[Episode]) -> None:
        """Insert episodes (with their embeddings, which every episode must carry)."""
        ...

    def put_entities(self, entities: Sequence[Entity]) -> None:
        """Insert or replace entities by id; a record whose embedding is None keeps the
        stored embedding (the same holds for episodes and facts)."""
        ...

    def put_facts(self, facts: Sequence[Fact]) -> None:
        """Insert or replace facts by id."""
        ...

    def put_mentions(self, mentions: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Record ``(episode_id, entity_id)`` MENTIONS edges; duplicates are ignored."""
        ...

    def delete_facts(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete facts."""
        ...

    def delete_episodes(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete episodes and their MENTIONS edges."""
        ...

    def delete_entities(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete entities, their MENTIONS edges and every fact touching them."""
        ...

    def append_audit(self, events: Sequence[AuditEvent]) -> None:
        """Append entries to the audit log."""
        ...


@runtime_checkable
class GraphStore(Protocol):
    """A property-graph store of episodes, entities, facts, mentions and audit events."""

    @property
    def backend(self) -> str:
        """Short backend name: ``embedded`` or ``neo4j``."""
        ...

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """Begin a write transaction; it commits when the block exits without error."""
        ...

    # -- reads by id (unscoped; callers check scope) -----------------------------------
    def get_episodes(self, ids: Sequence[uuid.UUID]) -> list[Episode]:
        """Episodes by id; unknown ids are skipped."""
        ...

    def get_entities(self, ids: Sequence[uuid.UUID]) -> list[Entity]:
        """Entities by id; unknown ids are skipped."""
        ...

    def get_facts(self, ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts by id (any version); unknown ids are skipped."""
        ...

    # -- scoped reads --------------------------------------------------------------------
    def list_episodes(self, scope: Scope, *, limit: int, offset: int = 0) -> list[Episode]:
        """The scope's episodes, newest ``valid_at`` first."""
        ...

    def list_entities(self, scope: Scope, *, limit: int, offset: int = 0) -> list[Entity]:
        """The scope owner's entities, most recently updated first."""
        ...

    def list_facts(
        self, scope: Scope, *, limit: int, offset: int = 0, include_expired: bool = False
    ) -> list[Fact]:
        """The scope's facts, newest first; expired versions only when asked."""
        ...

    def facts_of_entities(
        self, scope: Scope, entity_ids: Sequence[uuid.UUID], *, include_expired: bool = False
    ) -> list[Fact]:
        """Facts in the scope with subject or object among ``entity_ids`` (undirected)."""
        ...

    def get_fact_edges(self, ids: Sequence[uuid.UUID]) -> list[FactEdge]:
        """:meth:`get_facts` as slim :class:`FactEdge` rows (unscoped, like it)."""
        ...

    def get_episode_headers(self, ids: Sequence[uuid.UUID]) -> list[EpisodeHeader]:
        """:meth:`get_episodes` as slim :class:`EpisodeHeader` rows (unscoped, like it)."""
        ...

    def episode_vectors(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Vector]:
        """Stored embeddings of these episodes (unscoped, like :meth:`get_episodes`);
        unknown and unembedded episodes are skipped."""
        ...

    def fact_edges_of_entities(
        self,
        scope: Scope,
        entity_ids: Sequence[uuid.UUID],
        *,
        include_expired: bool = False,
        per_entity: int | None = None,
    ) -> list[FactEdge]:
        """The same facts as :meth:`facts_of_entities`, as slim :class:`FactEdge` rows
        (what graph expansion reads; it touches many more facts than a search returns).
        With ``per_entity``, at most that many facts per entity (either end), the most
        recently created first."""
        ...

    def entity_history(self, scope: Scope, entity_id: uuid.UUID) -> list[Fact]:
        """Every version of every fact touching the entity, in the scope."""
        ...

    def mentions_of_episodes(
        self, episode_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Entity ids each episode mentions."""
        ...

    def episodes_mentioning(
        self, scope: Scope, entity_ids: Sequence[uuid.UUID], *, per_entity: int
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Ids of the scope's episodes mentioning each entity: at most ``per_entity`` of
        them per entity, smallest id first; entities no such episode mentions are absent.

        The bound is per entity so that a hub (mentioned everywhere) costs no more than
        ``per_entity`` rows and cannot crowd out the other entities.
        """
        ...

    def entity_names(self, owner: str) -> list[tuple[uuid.UUID, str, list[str]]]:
        """``(id, name, aliases)`` of every entity of ``owner`` (for mention matching)."""
        ...

    def entities_by_names(self, owner: str, normalized_names: Sequence[str]) -> list[Entity]:
        """Entities of ``owner`` whose normalized name or an alias matches one given."""
        ...

    def recent_episodes(self, scope: Scope, *, limit: int) -> list[Episode]:
        """The scope's last ``limit`` episodes in chronological order (extraction context)."""
        ...

    # -- indexes ---------------------------------------------------------------------------
    def vector_search(
        self, kind: IndexKind, scope: Scope, vector: Sequence[float], k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """Nearest records of ``kind`` in the scope by cosine similarity, best first."""
        ...

    def keyword_search(
        self, kind: IndexKind, scope: Scope, query: str, k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """BM25 matches of ``kind`` in the scope, best first (higher score is better)."""
        ...

    # -- administration ----------------------------------------------------------------------
    def counts(self, scope: Scope | None = None) -> ScopeCounts:
        """Record counts for a scope, or for the whole store."""
        ...

    def audit_log(self, owner: str | None, *, limit: int) -> list[AuditEvent]:
        """The newest audit events (of one owner, or all)."""
        ...

    def forget(self, scope: Scope) -> ScopeCounts:
        """Hard-delete everything visible to ``scope`` (and entities, if it is a whole owner)."""
        ...

    def reset(self) -> None:
        """Delete every record of every scope."""
        ...

    def reindex(self, progress: ProgressCallback | None = None) -> None:
        """Rebuild every derived index from the source of truth."""
        ...

    def check(self, *, repair: bool = False) -> CheckReport:
        """Compare truth with derived indexes; with ``repair``, rebuild what is wrong."""
        ...

    def close(self) -> None:
        """Flush derived indexes and release resources. Idempotent."""
        ...


def batched(items: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """Split id lists so that backends stay under parameter-count limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


OVERFETCH = 4
"""How many times as many hits an index search asks for when the scope may drop some."""


def first_fetch(kind: IndexKind, scope: Scope, k: int) -> int:
    """How many of an owner's best index hits to ask for first to return ``k`` in
    ``scope``: ``k``, or ``OVERFETCH`` times as many when an agent or run narrows the
    owner's episodes and facts (entities belong to the owner alone)."""
    narrowed = kind != "entity" and (scope.agent_id is not None or scope.run_id is not None)
    return k * OVERFETCH if narrowed else k
