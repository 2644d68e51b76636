"""The bounded neighbourhood of the seed entities that expansion walks over.

Two store round trips at most: the facts touching the seeds, then the facts touching
the most promising entities those reached. Only facts the temporal view includes, the
scope contains and the metadata filter accepts become edges, so a walk can never pass
through a superseded relation or a record the caller may not see.

Facts are read as slim :class:`FactEdge` rows; only a metadata filter needs the full
records (the edges do not carry metadata).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from graphmem.filters import Filter
from graphmem.models.edges import FactEdge
from graphmem.models.records import Fact
from graphmem.models.scope import Scope
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.store.base import GraphStore
from graphmem.temporal.view import TemporalView, Versioned


class ScopedVersion(Versioned, Protocol):
    """A fact or an edge: its scope ids and its two time axes."""

    @property
    def user_id(self) -> str | None: ...
    @property
    def agent_id(self) -> str | None: ...
    @property
    def run_id(self) -> str | None: ...


@dataclass(slots=True)
class Subgraph:
    """Visible facts around the seeds, as an undirected multigraph of entities."""

    facts: dict[uuid.UUID, FactEdge] = field(default_factory=dict)
    adjacency: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    """Entity id -> ids of the facts touching it."""

    def add(self, fact: FactEdge) -> None:
        """Add a fact (once) as an edge between its subject and object."""
        if fact.id in self.facts:
            return
        self.facts[fact.id] = fact
        self.adjacency.setdefault(fact.subject_id, []).append(fact.id)
        if fact.object_id != fact.subject_id:
            self.adjacency.setdefault(fact.object_id, []).append(fact.id)


def visible(fact: Fact, scope: Scope, view: TemporalView, condition: Filter | None) -> bool:
    """Whether a fact may be used by this read at all."""
    return in_view(fact, scope, view) and (condition is None or condition.matches(fact.metadata))


def in_view(fact: ScopedVersion, scope: Scope, view: TemporalView) -> bool:
    """Whether a fact or edge lies in the scope and the temporal view."""
    return scope.contains(fact.user_id, fact.agent_id, fact.run_id) and view.includes(fact)


def fetch_subgraph(
    store: GraphStore,
    scope: Scope,
    seeds: Mapping[uuid.UUID, float],
    view: TemporalView,
    condition: Filter | None,
    relevance: Mapping[uuid.UUID, float],
    settings: RetrievalSettings,
) -> Subgraph:
    """Facts within ``settings.hops`` of the seeds, best-first where bounds bite.

    Hop-2 entities are chosen by a one-step spread of the seed weights over hop-1
    facts (favouring query-relevant facts), not by arrival order.
    """
    graph = Subgraph()
    if not seeds:
        return graph
    first = _edges(store, scope, list(seeds), view, condition, settings)
    for fact in _strongest(first, relevance, settings.max_subgraph_facts):
        graph.add(fact)
    if settings.hops < 2 or settings.frontier_limit == 0:
        return graph
    frontier = _frontier(graph, seeds, relevance, settings.frontier_limit)
    if not frontier:
        return graph
    room = settings.max_subgraph_facts - len(graph.facts)
    second = [
        f
        for f in _edges(store, scope, frontier, view, condition, settings)
        if f.id not in graph.facts
    ]
    for fact in _strongest(second, relevance, room):
        graph.add(fact)
    return graph


def _edges(
    store: GraphStore,
    scope: Scope,
    entity_ids: list[uuid.UUID],
    view: TemporalView,
    condition: Filter | None,
    settings: RetrievalSettings,
) -> list[FactEdge]:
    """The visible facts touching the entities, as edges (a metadata filter needs the
    full records; with one, the per-entity bound does not apply)."""
    include_expired = not view.is_now
    if condition is not None:
        facts = store.facts_of_entities(scope, entity_ids, include_expired=include_expired)
        return [FactEdge.of(f) for f in facts if visible(f, scope, view, condition)]
    edges = store.fact_edges_of_entities(
        scope,
        entity_ids,
        include_expired=include_expired,
        per_entity=settings.facts_per_entity or None,
    )
    return [e for e in edges if in_view(e, scope, view)]


def _strongest(
    facts: list[FactEdge], relevance: Mapping[uuid.UUID, float], room: int
) -> list[FactEdge]:
    if len(facts) <= room:
        return facts
    ordered = sorted(facts, key=lambda f: -(relevance.get(f.id, 0.0) + 1e-3 * f.confidence))
    return ordered[: max(room, 0)]


def _frontier(
    graph: Subgraph,
    seeds: Mapping[uuid.UUID, float],
    relevance: Mapping[uuid.UUID, float],
    limit: int,
) -> list[uuid.UUID]:
    """Hop-1 entities ranked by the seed weight that flows to them in one step."""
    reach: dict[uuid.UUID, float] = {}
    for seed, weight in seeds.items():
        edges = graph.adjacency.get(seed, [])
        if not edges:
            continue
        share = weight / len(edges)
        for fact_id in edges:
            fact = graph.facts[fact_id]
            other = fact.object_id if fact.subject_id == seed else fact.subject_id
            if other in seeds:
                continue
            gain = share * (1.0 + 4.0 * relevance.get(fact_id, 0.0))
            reach[other] = reach.get(other, 0.0) + gain
    return sorted(reach, key=lambda e: -reach[e])[:limit]
