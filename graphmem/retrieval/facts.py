"""Fact ranking: how directly a fact matches the query, and how the walk reaches it.

A fact's relevance blends, each scaled over the query's hits, its similarity to the
query, its keyword score and its similarity to the query without the names it
mentions (the relation asked about, whoever it concerns). Relevance also picks the
seeds of the walk and weighs its edges; a fact's final score adds the PageRank flow
over it, so that a fact two hops from the question's entity can outrank one that
merely repeats the entity's name.
"""

from __future__ import annotations

import uuid
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

from graphmem.models.edges import FactEdge
from graphmem.retrieval.entry_points import EntryPoints
from graphmem.retrieval.expansion import Expansion
from graphmem.retrieval.fusion import by_max, min_max, ranked, ranked_ids, weighted_rrf
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.retrieval.subgraph import Subgraph

FLOW_FLOOR = 0.25
"""Share of the flow a fact unrelated to the query text still gets credit for."""


@dataclass(slots=True)
class FactRanking:
    """Every candidate fact (matched or walked) with a positive score, best first (ties
    in the order found), and the facts each retriever found."""

    ranked: list[tuple[FactEdge, float]]
    retrieved: tuple[tuple[str, AbstractSet[uuid.UUID]], ...]
    """Each retriever's name and the facts it found."""

    def sources(self, fact_id: uuid.UUID) -> list[str]:
        """Names of the retrievers that found a fact (asked only of the facts returned)."""
        return [name for name, found in self.retrieved if fact_id in found]


def relevance_of(
    entry: EntryPoints, direct: dict[uuid.UUID, FactEdge], settings: RetrievalSettings
) -> dict[uuid.UUID, float]:
    """How directly each matched fact answers the query, in [0, 1]: its similarity to the
    query and to the query without the names it mentions, and its keyword score, each
    scaled over the hits, weighted."""
    w_vector, w_keyword, w_residual, _ = settings.fact_weights
    total = (w_vector + w_keyword + w_residual) or 1.0
    similar = min_max({i: s for i, s in entry.fact_vector if i in direct})
    matched = by_max({i: s for i, s in entry.fact_keyword if i in direct})
    residual = min_max({i: s for i, s in entry.fact_residual_vector if i in direct})
    if not entry.fact_residual_vector:  # no names to take out: the query is its own rest
        residual = similar
    return {
        i: (
            w_vector * similar.get(i, 0.0)
            + w_keyword * matched.get(i, 0.0)
            + w_residual * residual.get(i, 0.0)
        )
        / total
        for i in {*similar, *matched, *residual}
    }


def seeds_of(
    entry: EntryPoints,
    direct: dict[uuid.UUID, FactEdge],
    relevance: dict[uuid.UUID, float],
    settings: RetrievalSettings,
) -> dict[uuid.UUID, float]:
    """Personalization weights: named entities, matched entities, ends of matched facts."""
    seeds: dict[uuid.UUID, float] = {}

    def add(entity_id: uuid.UUID, weight: float) -> None:
        seeds[entity_id] = max(seeds.get(entity_id, 0.0), weight)

    w_named, w_matched, w_fact_end = settings.seed_weights
    for entity_id in entry.mentioned:
        add(entity_id, w_named)
    w_vector, w_keyword, _, _ = settings.entity_weights
    matched = weighted_rrf(
        [
            (ranked_ids(entry.entity_vector), w_vector),
            (ranked_ids(entry.entity_keyword), w_keyword),
        ],
        k=settings.rrf_k,
    )
    for entity_id, score in matched.items():
        add(entity_id, w_matched * score)
    for fact_id in ranked(relevance)[: settings.seeding_facts]:
        fact = direct[fact_id]
        add(fact.subject_id, w_fact_end * relevance[fact_id])
        add(fact.object_id, w_fact_end * relevance[fact_id])
    strongest = ranked(seeds)[: settings.seed_limit]
    return {entity_id: seeds[entity_id] for entity_id in strongest}


def anchors(entry: EntryPoints, seeds: dict[uuid.UUID, float]) -> dict[uuid.UUID, float]:
    """Seeds that are entry entities (named or matched by the query), where paths start.

    Ends of directly matched facts also seed the walk, but a path from them would
    only restate the fact that put them there.
    """
    entry_entities = set(entry.mentioned) | set(ranked_ids(entry.entity_vector))
    entry_entities |= set(ranked_ids(entry.entity_keyword))
    return {entity_id: w for entity_id, w in seeds.items() if entity_id in entry_entities}


def rank_facts(
    entry: EntryPoints,
    direct: dict[uuid.UUID, FactEdge],
    relevance: dict[uuid.UUID, float],
    graph: Subgraph,
    expansion: Expansion,
    settings: RetrievalSettings,
) -> FactRanking:
    """A fact's score: how directly it matches the query, plus the PageRank flow over
    it weighted by that relevance (being near the question's entities counts most for
    facts about what is asked: a leaf fact next to a seed draws flow either way)."""
    *_, w_graph = settings.fact_weights
    graph_relevance = np.asarray(graph.per_fact(relevance), dtype=np.float64)
    high = float(expansion.fact_flow.max()) if expansion.walked else 0.0
    walked: AbstractSet[uuid.UUID] = graph.numbers.keys() if high > 0 else frozenset()
    graph_scores = graph_relevance
    if high > 0:
        flow = np.maximum(expansion.fact_flow, 0.0) / high
        graph_scores = graph_relevance + w_graph * flow * (FLOW_FLOOR + graph_relevance)
    # Candidates in the order found: the matched facts, then the rest of the walk.
    edges: list[FactEdge] = []
    direct_scores: list[float] = []
    matched: set[int] = set()
    for fact_id, edge in direct.items():
        number = graph.numbers.get(fact_id)
        if number is None:
            edges.append(edge)
            direct_scores.append(relevance.get(fact_id, 0.0))
        else:
            edges.append(graph.edges[number])
            direct_scores.append(float(graph_scores[number]))
            matched.add(number)
    rest = [n for n in range(len(graph)) if n not in matched]
    edges += [graph.edges[n] for n in rest]
    scores = np.concatenate([np.asarray(direct_scores, dtype=np.float64), graph_scores[rest]])
    values = scores.tolist()
    order = np.argsort(-scores, kind="stable").tolist()
    ranking = [(edges[k], values[k]) for k in order if values[k] > 0]
    vector = {i for i, _ in [*entry.fact_vector, *entry.fact_residual_vector] if i in direct}
    keyword = {i for i, _ in entry.fact_keyword if i in direct}
    retrieved = (("vector", vector), ("keyword", keyword), ("graph", walked))
    return FactRanking(ranked=ranking, retrieved=retrieved)
