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
import numpy.typing as npt

from graphmem.models.results import PathHop
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.retrieval.subgraph import RELEVANCE_GAIN, Subgraph


@dataclass(slots=True)
class Expansion:
    """What the walk found: the PageRank of entities and the flow over facts, by the
    subgraph's entity and fact numbers (both empty when nothing was walked)."""

    graph: Subgraph
    entity_rank: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    fact_flow: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @property
    def walked(self) -> bool:
        """Whether the walk ran (it needs facts and a seed among their ends)."""
        return len(self.entity_rank) > 0

    def best_entities(self, limit: int) -> list[uuid.UUID]:
        """The ``limit`` entities of highest PageRank (ties in subgraph order)."""
        order = np.argsort(-self.entity_rank, kind="stable")[:limit]
        return [self.graph.entity_ids[i] for i in order.tolist()]


def expand(
    graph: Subgraph,
    seeds: Mapping[uuid.UUID, float],
    relevance: Mapping[uuid.UUID, float],
    settings: RetrievalSettings,
) -> Expansion:
    """Run personalized PageRank from ``seeds`` over ``graph``."""
    if not len(graph) or not seeds:
        return Expansion(graph)
    node_count = len(graph.entity_ids)
    confidence = np.fromiter((f.confidence for f in graph.edges), np.float64, len(graph))
    fact_relevance = np.asarray(graph.per_fact(relevance), dtype=np.float64)
    weights = np.maximum(confidence * (1.0 + RELEVANCE_GAIN * fact_relevance), 1e-6)
    subjects = np.asarray(graph.subjects, dtype=np.int64)
    objects = np.asarray(graph.objects, dtype=np.int64)
    # Undirected: every fact is an edge both ways.
    sources = np.concatenate([subjects, objects])
    targets = np.concatenate([objects, subjects])
    edge_weights = np.concatenate([weights, weights])
    out_weight = np.bincount(sources, weights=edge_weights, minlength=node_count)
    transition = edge_weights / out_weight[sources]

    personal = np.zeros(node_count, dtype=np.float64)
    for number, weight in graph.per_entity(seeds).items():
        personal[number] = weight
    if personal.sum() <= 0:
        return Expansion(graph)
    personal /= personal.sum()
    restart = settings.ppr_restart
    rank = personal.copy()
    for _ in range(settings.ppr_iterations):
        spread = np.bincount(targets, weights=rank[sources] * transition, minlength=node_count)
        updated = restart * personal + (1.0 - restart) * spread
        if float(np.abs(updated - rank).sum()) < 1e-9:
            rank = updated
            break
        rank = updated

    flow = weights * (rank[subjects] / out_weight[subjects] + rank[objects] / out_weight[objects])
    return Expansion(graph, entity_rank=rank, fact_flow=flow)


MAX_ROUTE_HOPS = 3


@dataclass(slots=True)
class _Routes:
    """The best route found to each entity, by entity number: its score, and the hop
    that reached it. Lists rather than an object per entity: the search may settle
    every entity of the subgraph."""

    score: list[float]
    fact: list[int]
    """Number of the fact of the last hop (-1 at an anchor)."""
    previous: list[int]
    """Number of the entity that hop leaves from."""
    settled: bytearray
    """1 for the entities whose best route is final."""

    def steps(self, entity: int) -> list[tuple[int, int]]:
        """The (fact, entity it leaves from) hops of the route to ``entity``, anchor
        first."""
        steps: list[tuple[int, int]] = []
        fact, previous = self.fact, self.previous
        while fact[entity] >= 0:
            steps.append((fact[entity], previous[entity]))
            entity = previous[entity]
        steps.reverse()
        return steps


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
    wanted = [(i, graph.numbers.get(i)) for i in fact_ids]
    targets = {end for _, n in wanted if n is not None for end in _ends(graph, n)}
    # Per hop, halved unless the fact matched the query.
    decay = [0.5 * (1.0 + min(r, 1.0)) for r in graph.per_fact(relevance)]
    starts = {number: w for number, w in graph.per_entity(anchors).items() if w > 0}
    routes = _best_routes(graph, starts, decay, targets)
    paths: dict[uuid.UUID, list[list[PathHop]]] = {}
    for fact_id, fact in wanted:
        if fact is None:
            continue
        options: list[tuple[float, list[tuple[int, int]]]] = []
        for start in dict.fromkeys(_ends(graph, fact)):
            if not routes.settled[start]:
                continue
            steps = routes.steps(start)
            if any(step_fact == fact for step_fact, _ in steps):
                continue
            options.append((routes.score[start] * decay[fact], [*steps, (fact, start)]))
        options.sort(key=lambda option: -option[0])
        distinct: dict[frozenset[int], list[tuple[int, int]]] = {}
        for _, steps in options:  # a fact between two anchors is one path, not two
            distinct.setdefault(frozenset(step_fact for step_fact, _ in steps), steps)
        paths[fact_id] = [
            [_hop(graph, step_fact, step_start) for step_fact, step_start in steps]
            for steps in list(distinct.values())[:max_paths]
        ]
    return paths


def _ends(graph: Subgraph, fact: int) -> tuple[int, int]:
    return graph.subjects[fact], graph.objects[fact]


def _best_routes(
    graph: Subgraph, starts: Mapping[int, float], decay: Sequence[float], targets: set[int]
) -> _Routes:
    """The best route to every entity settled before all ``targets`` were."""
    count = len(graph.entity_ids)
    routes = _Routes([0.0] * count, [-1] * count, [-1] * count, bytearray(count))
    score, via_fact, via_entity, settled = (
        routes.score,
        routes.fact,
        routes.previous,
        routes.settled,
    )
    hops = [0] * count
    reached = bytearray(count)
    heap: list[tuple[float, int, int]] = []
    order = 0  # tie-breaker, so that equal scores pop in the order they were pushed
    for start, weight in starts.items():
        score[start] = weight
        reached[start] = 1
        heap.append((-weight, order, start))
        order += 1
    heapq.heapify(heap)
    remaining = set(targets)
    subjects, objects, incident = graph.subjects, graph.objects, graph.incident
    while heap and remaining:
        negative, _, entity = heapq.heappop(heap)
        if settled[entity]:
            continue
        settled[entity] = 1
        remaining.discard(entity)
        next_hops = hops[entity] + 1
        if next_hops > MAX_ROUTE_HOPS:
            continue
        for fact in incident[entity]:
            other = subjects[fact]
            if other == entity:
                other = objects[fact]
            if settled[other]:
                continue
            candidate = -negative * decay[fact]
            if not reached[other] or candidate > score[other]:
                reached[other] = 1
                score[other] = candidate
                hops[other] = next_hops
                via_fact[other] = fact
                via_entity[other] = entity
                heapq.heappush(heap, (-candidate, order, other))
                order += 1
    return routes


def _hop(graph: Subgraph, fact: int, start: int) -> PathHop:
    """The step over fact ``fact`` leaving from entity ``start`` (either end: the walk is
    undirected)."""
    edge = graph.edges[fact]
    forward = graph.subjects[fact] == start
    return PathHop(
        from_entity=edge.subject_name if forward else edge.object_name,
        fact_id=edge.id,
        predicate=edge.predicate,
        to_entity=edge.object_name if forward else edge.subject_name,
    )
