"""Entity ranking: the entry points' entity lists and the walk's PageRank, fused."""

from __future__ import annotations

from graphmem.models.results import ScoredEntity
from graphmem.models.scope import Scope
from graphmem.retrieval.entry_points import EntryPoints
from graphmem.retrieval.expansion import Expansion
from graphmem.retrieval.fusion import ranked, ranked_ids, weighted_rrf
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.store.base import GraphStore


def rank_entities(
    store: GraphStore,
    entry: EntryPoints,
    expansion: Expansion,
    scope: Scope,
    limit: int,
    settings: RetrievalSettings,
) -> list[ScoredEntity]:
    """The ``limit`` best entities by weighted RRF over the vector, keyword, mention and
    PageRank lists; records the entry points did not load are read (scope-checked)."""
    graph_order = expansion.best_entities(settings.entity_k * 4)
    w_vector, w_keyword, w_mention, w_graph = settings.entity_weights
    scores = weighted_rrf(
        [
            (ranked_ids(entry.entity_vector), w_vector),
            (ranked_ids(entry.entity_keyword), w_keyword),
            (entry.mentioned, w_mention),
            (graph_order, w_graph),
        ],
        k=settings.rrf_k,
    )
    order = ranked(scores)[:limit]
    missing = [i for i in order if i not in entry.entities]
    loaded = dict(entry.entities)
    loaded.update({e.id: e for e in store.get_entities(missing)})
    lists = (
        ("vector", set(ranked_ids(entry.entity_vector))),
        ("keyword", set(ranked_ids(entry.entity_keyword))),
        ("mention", set(entry.mentioned)),
        ("graph", set(graph_order)),
    )
    return [
        ScoredEntity(
            entity=loaded[i],
            score=scores[i],
            sources=[name for name, members in lists if i in members],
        )
        for i in order
        if i in loaded and scope.contains_entity(loaded[i].owner)
    ]
