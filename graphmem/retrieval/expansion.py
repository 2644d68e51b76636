"""Scored multi-hop expansion: personalized PageRank over the seeds' neighbourhood.

The walk is undirected (a question about "who works at Acme" must reach Alice from
Acme as easily as Acme from Alice) and restarts at the seeds with probability
``ppr_restart``, so mass decays with every hop away from the query's entry points.
Edges that matched the query directly carry more weight, which steers the walk
along relations the question is about. A fact's graph score is the PageRank mass
that flows over it; the facts returned also get the best paths that connect them to
the entities the query landed on.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from graphmem.models.edges import FactEdge
from graphmem.models.results import PathHop
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.retrieval.subgraph import Subgraph

RELEVANCE_GAIN = 4.0
"""How much more a fully query-relevant fact weighs as an edge than an unrelated one."""


@dataclass(slots=True)
class Expansion:
    """What the walk found: the PageRank of entities and the flow over facts."""

    entity_scores: dict[uuid.UUID, float] = field(default_factory=dict)
    fact_scores: dict[uuid.UUID, float] = field(default_factory=dict)


def expand(
    graph: Subgraph,
    seeds: Mapping[uuid.UUID, float],
    relevance: Mapping[uuid.UUID, float],
    settings: RetrievalSettings,
) -> Expansion:
    """Run personalized PageRank from ``seeds`` over ``graph`` and trace paths."""
    if not graph.facts or not seeds:
        return Expansion()
    nodes = list(graph.adjacency)
    index = {node: i for i, node in enumerate(nodes)}
    facts = list(graph.facts.values())
    weights = np.array(
        [f.confidence * (1.0 + RELEVANCE_GAIN * relevance.get(f.id, 0.0)) for f in facts],
        dtype=np.float64,
    )
    weights = np.maximum(weights, 1e-6)
    subjects = np.array([index[f.subject_id] for f in facts], dtype=np.int64)
    objects = np.array([index[f.object_id] for f in facts], dtype=np.int64)
    # Undirected: every fact is an edge both ways.
    sources = np.concatenate([subjects, objects])
    targets = np.concatenate([objects, subjects])
    edge_weights = np.concatenate([weights, weights])
    out_weight = np.bincount(sources, weights=edge_weights, minlength=len(nodes))
    transition = edge_weights / out_weight[sources]

    personal = np.zeros(len(nodes), dtype=np.float64)
    for seed, weight in seeds.items():
        if seed in index:
            personal[index[seed]] += weight
    if personal.sum() <= 0:
        return Expansion()
    personal /= personal.sum()
    restart = settings.ppr_restart
    rank = personal.copy()
    for _ in range(settings.ppr_iterations):
        spread = np.bincount(targets, weights=rank[sources] * transition, minlength=len(nodes))
        updated = restart * personal + (1.0 - restart) * spread
        if float(np.abs(updated - rank).sum()) < 1e-9:
            rank = updated
            break
        rank = updated

    flow = weights * (rank[subjects] / out_weight[subjects] + rank[objects] / out_weight[objects])
    result = Expansion(
        entity_scores={node: float(rank[i]) for i, node in enumerate(nodes)},
        fact_scores={f.id: float(flow[i]) for i, f in enumerate(facts)},
    )
    return result


Step = tuple[uuid.UUID, uuid.UUID]
"""One hop of a route: (fact id, the entity it leaves from)."""


@dataclass(slots=True)
class _Route:
    score: float
    steps: tuple[Step, ...]


MAX_ROUTE_HOPS = 3


def trace_paths(
    graph: Subgraph,
    anchors: Mapping[uuid.UUID, float],
    relevance: Mapping[uuid.UUID, float],
    fact_ids: Sequence[uuid.UUID],
    max_paths: int,
) -> dict[uuid.UUID, list[list[PathHop]]]:
    """For each of ``fact_ids``, up to ``max_paths`` best paths from an anchor through it.

    A path's score starts at its anchor's weight and is multiplied, per hop, by a
    factor in (0, 1] that favours query-relevant facts; best-first search (Dijkstra on
    the product) finds each entity's best route, stopping once every endpoint of the
    wanted facts is settled. A fact's paths extend its endpoints' routes by the fact.
    Facts no anchor reaches get no path.
    """
    targets = {
        end
        for i in fact_ids
        if i in graph.facts
        for end in (graph.facts[i].subject_id, graph.facts[i].object_id)
    }
    routes = _best_routes(graph, anchors, relevance, targets)
    paths: dict[uuid.UUID, list[list[PathHop]]] = {}
    for fact_id in fact_ids:
        fact = graph.facts.get(fact_id)
        if fact is None:
            continue
        options: list[_Route] = []
        for start in dict.fromkeys((fact.subject_id, fact.object_id)):
            origin = routes.get(start)
            if origin is None or any(step[0] == fact_id for step in origin.steps):
                continue
            score = origin.score * _decay(relevance.get(fact_id, 0.0))
            options.append(_Route(score, (*origin.steps, (fact_id, start))))
        options.sort(key=lambda r: -r.score)
        distinct: dict[frozenset[uuid.UUID], tuple[Step, ...]] = {}
        for option in options:  # a fact between two anchors is one path, not two
            distinct.setdefault(frozenset(step[0] for step in option.steps), option.steps)
        paths[fact_id] = [
            [_hop(graph.facts[hop_fact], hop_start) for hop_fact, hop_start in steps]
            for steps in list(distinct.values())[:max_paths]
        ]
    return paths


def _decay(relevance: float) -> float:
    """Per-hop factor of a path score: halved, unless the fact matched the query."""
    return 0.5 * (1.0 + min(relevance, 1.0))


def _best_routes(
    graph: Subgraph,
    anchors: Mapping[uuid.UUID, float],
    relevance: Mapping[uuid.UUID, float],
    targets: set[uuid.UUID],
) -> dict[uuid.UUID, _Route]:
    best: dict[uuid.UUID, _Route] = {}
    heap: list[tuple[float, int, uuid.UUID]] = []
    order = 0  # tie-breaker: heap entries never compare ids
    for anchor, weight in anchors.items():
        if anchor in graph.adjacency and weight > 0:
            best[anchor] = _Route(weight, ())
            heap.append((-weight, order, anchor))
            order += 1
    heapq.heapify(heap)
    settled: set[uuid.UUID] = set()
    remaining = set(targets)
    while heap and remaining:
        negative, _, entity = heapq.heappop(heap)
        if entity in settled:
            continue
        settled.add(entity)
        remaining.discard(entity)
        route = best[entity]
        if len(route.steps) >= MAX_ROUTE_HOPS:
            continue
        for fact_id in graph.adjacency.get(entity, []):
            fact = graph.facts[fact_id]
            other = _other_end(fact, entity)
            if other in settled:
                continue
            score = -negative * _decay(relevance.get(fact_id, 0.0))
            known = best.get(other)
            if known is None or score > known.score:
                best[other] = _Route(score, (*route.steps, (fact_id, entity)))
                heapq.heappush(heap, (-score, order, other))
                order += 1
    return {entity: best[entity] for entity in settled}


def _other_end(fact: FactEdge, entity: uuid.UUID) -> uuid.UUID:
    return fact.object_id if fact.subject_id == entity else fact.subject_id


def _hop(fact: FactEdge, start: uuid.UUID) -> PathHop:
    """The step over ``fact`` leaving from ``start`` (either end: the walk is undirected)."""
    forward = fact.subject_id == start
    return PathHop(
        from_entity=fact.subject_name if forward else fact.object_name,
        fact_id=fact.id,
        predicate=fact.predicate,
        to_entity=fact.object_name if forward else fact.subject_name,
    )
