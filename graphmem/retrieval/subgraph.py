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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from graphmem.filters import Filter
from graphmem.models.edges import FactEdge
from graphmem.models.records import Fact
from graphmem.models.scope import Scope
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.store.base import GraphStore
from graphmem.temporal.view import TemporalView, Versioned

RELEVANCE_GAIN = 4.0
"""How much more a fully query-relevant fact weighs as an edge than an unrelated one:
in the walk, and in choosing which hop-1 entities to expand."""


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
    """Visible facts around the seeds, as an undirected multigraph of entities.

    Facts and entities are numbered in the order they join, and expansion, paths and
    ranking work on those numbers: a search visits each fact several times, and every
    lookup keyed by a UUID runs ``UUID.__hash__`` in Python.
    """

    edges: list[FactEdge] = field(default_factory=list)
    """The facts, by number."""
    numbers: dict[uuid.UUID, int] = field(default_factory=dict)
    """Fact id -> number."""
    subjects: list[int] = field(default_factory=list)
    """Fact number -> number of its subject."""
    objects: list[int] = field(default_factory=list)
    """Fact number -> number of its object."""
    entity_ids: list[uuid.UUID] = field(default_factory=list)
    """The entities, by number."""
    entity_numbers: dict[uuid.UUID, int] = field(default_factory=dict)
    """Entity id -> number."""
    incident: list[list[int]] = field(default_factory=list)
    """Entity number -> numbers of the facts touching it."""

    def __len__(self) -> int:
        return len(self.edges)

    def __contains__(self, fact_id: object) -> bool:
        return fact_id in self.numbers

    def add(self, facts: Iterable[FactEdge]) -> None:
        """Add facts (each once) as edges between their subjects and objects."""
        # One dict operation per id: hashing a UUID runs Python code.
        numbers, edges, subjects, objects = self.numbers, self.edges, self.subjects, self.objects
        entity_numbers, entity_ids, incident = self.entity_numbers, self.entity_ids, self.incident
        for fact in facts:
            number = len(edges)
            if numbers.setdefault(fact.id, number) != number:
                continue
            edges.append(fact)
            ends = []
            for entity_id in (fact.subject_id, fact.object_id):
                entity = entity_numbers.setdefault(entity_id, len(entity_ids))
                if entity == len(entity_ids):
                    entity_ids.append(entity_id)
                    incident.append([])
                ends.append(entity)
            subject, obj = ends
            subjects.append(subject)
            objects.append(obj)
            incident[subject].append(number)
            if obj != subject:
                incident[obj].append(number)

    def other_end(self, fact: int, entity: int) -> int:
        """The number of the entity at the other end of fact ``fact`` from ``entity``."""
        subject = self.subjects[fact]
        return self.objects[fact] if subject == entity else subject

    def per_entity(self, values: Mapping[uuid.UUID, float]) -> dict[int, float]:
        """``values`` (keyed by entity id) by entity number, for the entities it holds."""
        numbers = self.entity_numbers
        return {numbers[entity_id]: v for entity_id, v in values.items() if entity_id in numbers}

    def per_fact(self, values: Mapping[uuid.UUID, float]) -> list[float]:
        """``values`` (keyed by fact id) by fact number; 0.0 for facts without one."""
        result = [0.0] * len(self.edges)
        numbers = self.numbers
        for fact_id, value in values.items():
            number = numbers.get(fact_id)
            if number is not None:
                result[number] = value
        return result


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
    graph.add(_strongest(first, relevance, settings.max_subgraph_facts))
    if settings.hops < 2 or settings.frontier_limit == 0:
        return graph
    frontier = _frontier(graph, seeds, relevance, settings.frontier_limit)
    if not frontier:
        return graph
    room = settings.max_subgraph_facts - len(graph)
    reached = _edges(store, scope, frontier, view, condition, settings)
    second = [f for f in reached if f.id not in graph]
    graph.add(_strongest(second, relevance, room))
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
    weights = graph.per_entity(seeds)
    fact_relevance = graph.per_fact(relevance)
    reach: dict[int, float] = {}
    for seed, weight in weights.items():
        edges = graph.incident[seed]
        share = weight / len(edges)
        for fact in edges:
            other = graph.other_end(fact, seed)
            if other in weights:
                continue
            gain = share * (1.0 + RELEVANCE_GAIN * fact_relevance[fact])
            reach[other] = reach.get(other, 0.0) + gain
    return [graph.entity_ids[e] for e in sorted(reach, key=lambda e: -reach[e])[:limit]]
