"""The search pipeline: entry points -> expansion -> fusion -> rerank/MMR -> result.

All scoring happens here, above the store protocol, so every backend ranks alike.
A search makes a fixed number of store round trips whatever the size of the graph:
six index queries (vector and keyword, over entities, episodes and facts), three
more when the query names entities (the name-less rest of the query, by keyword over
episodes and by vector over episodes and facts), four or five record loads, at most
two neighbourhood fetches and one mentions lookup (plus one for ``include_history``).
Every fan-out is bounded by :class:`RetrievalSettings`; nothing runs per candidate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from graphmem.embedding.base import Embedder
from graphmem.errors import InvalidInputError
from graphmem.filters import Filter
from graphmem.models.edges import FactEdge
from graphmem.models.headers import EpisodeHeader
from graphmem.models.records import Episode, Fact
from graphmem.models.results import (
    ResultKind,
    ScoredEntity,
    ScoredEpisode,
    ScoredFact,
    SearchResult,
)
from graphmem.models.scope import Scope
from graphmem.retrieval.bridge import bridge_scores
from graphmem.retrieval.entities import rank_entities
from graphmem.retrieval.entry_points import EntryPoints, find_entry_points
from graphmem.retrieval.episodes import (
    EntityLinks,
    EpisodeEvidence,
    EpisodeRanking,
    candidate_ids,
    rank_episodes,
)
from graphmem.retrieval.expansion import Expansion, expand, trace_paths
from graphmem.retrieval.facts import (
    FactRanking,
    anchors,
    rank_facts,
    relevance_of,
    seeds_of,
)
from graphmem.retrieval.fusion import mmr, ranked, ranked_ids
from graphmem.retrieval.history import superseded_versions
from graphmem.retrieval.query_vectors import QueryVectors
from graphmem.retrieval.rerank import Reranker, apply_reranker
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.retrieval.subgraph import Subgraph, fetch_subgraph, in_view, visible
from graphmem.retrieval.text import name_tokens
from graphmem.store.base import GraphStore
from graphmem.temporal.view import TemporalView

QueryVector = Sequence[float] | npt.NDArray[np.floating]


class Retriever:
    """Ranks a scope's facts, entities and episodes for a natural-language query.

    ``reranker`` (optional) rescores the best candidates, for example a
    :class:`~graphmem.retrieval.rerank.CrossEncoderReranker`.
    """

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        *,
        settings: RetrievalSettings | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.reranker = reranker

    def search(
        self,
        query: str,
        scope: Scope,
        *,
        limit: int = 10,
        view: TemporalView | None = None,
        filters: Filter | None = None,
        query_vector: QueryVector | None = None,
        include_history: bool = False,
        include: Iterable[str] | None = None,
    ) -> SearchResult:
        """The ``limit`` best facts, entities and episodes of ``scope`` for ``query``.

        ``view`` says which facts are visible (default: valid now). ``filters`` keeps
        only facts and episodes whose metadata match. ``query_vector`` skips embedding
        the query (it must come from the same embedder). With ``include_history``,
        superseded versions of the returned facts follow them, marked ``valid=False``.
        ``include`` names the kinds to return (``"facts"``, ``"entities"``,
        ``"episodes"``; default all); the others come back empty and cost nothing.
        Leaving out episodes skips their indexes and ranking; the facts and entities
        returned are the same either way.
        """
        if not isinstance(query, str) or not query.strip():
            raise InvalidInputError("query must be a non-empty string")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError("limit must be a positive integer")
        kinds = ResultKind.parse(include)
        view = view or TemporalView.at()
        settings = self.settings
        vectors = QueryVectors(
            self._embedder,
            query,
            self._checked_vector(query_vector),
            residual=settings.residual_vectors,
        )
        entry = find_entry_points(
            self._store, scope, query, settings, vectors, episodes=ResultKind.EPISODES in kinds
        )
        vector = vectors.query()

        direct = self._direct_facts(entry, scope, view, filters)
        relevance = relevance_of(entry, direct, settings)
        seeds = seeds_of(entry, direct, relevance, settings)
        graph = fetch_subgraph(self._store, scope, seeds, view, filters, relevance, settings)
        expansion = expand(graph, seeds, relevance, settings)
        facts = rank_facts(entry, direct, relevance, graph, expansion, settings)

        scored_facts: list[ScoredFact] = []
        if ResultKind.FACTS in kinds:
            scored_facts = self._scored_facts(
                query, entry, facts, graph, relevance, seeds, scope, view, filters, limit
            )
            if include_history and scored_facts:
                scored_facts += superseded_versions(self._store, scope, scored_facts, view, filters)
        entities: list[ScoredEntity] = []
        if ResultKind.ENTITIES in kinds:
            entities = rank_entities(self._store, entry, expansion, scope, limit, settings)
        episodes: list[ScoredEpisode] = []
        if ResultKind.EPISODES in kinds:
            episodes = self._rank_episodes(
                query, vector, entry, facts, graph, expansion, scope, filters, limit
            )
        return SearchResult(
            query=query,
            as_of=None if view.is_now else view.as_of,
            known_at=None if view.is_now else view.known_at,
            facts=scored_facts,
            entities=entities,
            episodes=episodes,
        )

    # -- steps ---------------------------------------------------------------------------
    def _checked_vector(self, given: QueryVector | None) -> list[float] | None:
        if given is None:
            return None
        vector = np.asarray(given, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self._embedder.dim or not np.all(np.isfinite(vector)):
            raise InvalidInputError(
                f"query_vector must hold {self._embedder.dim} finite numbers "
                "(a vector of the store's embedder)"
            )
        return [float(x) for x in vector]

    def _scored_facts(
        self,
        query: str,
        entry: EntryPoints,
        facts: FactRanking,
        graph: Subgraph,
        relevance: dict[uuid.UUID, float],
        seeds: dict[uuid.UUID, float],
        scope: Scope,
        view: TemporalView,
        filters: Filter | None,
        limit: int,
    ) -> list[ScoredFact]:
        """The ``limit`` best facts as full records, with the paths that reached them."""
        depth = self._depth(limit)
        best = {fact.id: score for fact, score in facts.ranked[:depth]}
        records = self._fact_records(list(best), scope, view, filters)
        # A fact closed by a concurrent write since it was ranked has no record: skip it.
        order = [i for i in best if i in records]
        returned = self._finish(query, order, best, lambda i: records[i].fact, depth)[:limit]
        paths = trace_paths(
            graph,
            anchors(entry, seeds),
            relevance,
            [i for i, _ in returned],
            self.settings.max_paths,
        )
        return [
            ScoredFact(
                fact=records[i],
                score=score,
                paths=paths.get(i, []),
                sources=facts.sources(i),
            )
            for i, score in returned
        ]

    def _direct_facts(
        self, entry: EntryPoints, scope: Scope, view: TemporalView, filters: Filter | None
    ) -> dict[uuid.UUID, FactEdge]:
        """Facts the fact indexes matched, restricted to what this read may see (as edges;
        a metadata filter needs the full records)."""
        hits = [*entry.fact_vector, *entry.fact_keyword, *entry.fact_residual_vector]
        wanted = list(dict.fromkeys(ranked_ids(hits)))
        if filters is not None:
            facts = self._store.get_facts(wanted)
            return {f.id: FactEdge.of(f) for f in facts if visible(f, scope, view, filters)}
        edges = self._store.get_fact_edges(wanted)
        return {e.id: e for e in edges if in_view(e, scope, view)}

    def _fact_records(
        self,
        ids: list[uuid.UUID],
        scope: Scope,
        view: TemporalView,
        filters: Filter | None,
    ) -> dict[uuid.UUID, Fact]:
        """Full records of the best facts; ranking only read their edges. A fact changed
        since then is checked again (and left out if this read may no longer see it)."""
        loaded = self._store.get_facts(ids) if ids else []
        return {f.id: f for f in loaded if visible(f, scope, view, filters)}

    def _depth(self, limit: int) -> int:
        """How many candidates the final steps look at to return ``limit``."""
        reorders = self.reranker is not None or self.settings.mmr_lambda is not None
        return max(limit, self.settings.final_depth) if reorders else limit

    def _finish(
        self,
        query: str,
        order: list[uuid.UUID],
        scores: dict[uuid.UUID, float],
        text: Callable[[uuid.UUID], str],
        depth: int,
    ) -> list[tuple[uuid.UUID, float]]:
        """Apply the reranker and MMR (when configured) to a best-first candidate list."""
        pairs = [(i, scores[i]) for i in order]
        if self.reranker is not None:
            pairs = apply_reranker(self.reranker, query, order[:depth], text) + pairs[depth:]
        if self.settings.mmr_lambda is not None:
            best = dict(pairs)
            chosen = mmr(
                [i for i, _ in pairs[:depth]],
                best.__getitem__,
                text,
                lam=self.settings.mmr_lambda,
                limit=depth,
            )
            pairs = [(i, best[i]) for i in chosen] + pairs[depth:]
        return pairs

    def _rank_episodes(
        self,
        query: str,
        query_vector: list[float],
        entry: EntryPoints,
        facts: FactRanking,
        graph: Subgraph,
        expansion: Expansion,
        scope: Scope,
        filters: Filter | None,
        limit: int,
    ) -> list[ScoredEpisode]:
        settings = self.settings
        named = frozenset(entry.mentioned)
        evidence = EpisodeEvidence(
            vector=entry.episode_vector,
            keyword=entry.episode_keyword,
            residual=entry.episode_residual,
            residual_vector=entry.episode_residual_vector,
            facts=facts.ranked[: settings.provenance_facts],
            links=EntityLinks.of(graph, expansion, named),
            named=named,
            named_tokens=frozenset(
                tokens
                for entity_id in named
                for name in (entry.entities[entity_id].name, *entry.entities[entity_id].aliases)
                if (tokens := name_tokens(name))
            ),
        )
        candidates = candidate_ids(evidence, settings.linked_episodes)
        if not candidates:
            return []
        visible = self._visible_episodes(candidates, scope, filters)
        mentions = self._store.mentions_of_episodes(list(visible))
        speakers = {i: e.name for i, e in visible.items()}
        ranking = rank_episodes(evidence, mentions, speakers, settings)
        scores = ranking.scores
        depth = self._depth(limit)
        if settings.bridge_sources and scores:
            self._bridge(ranking, visible, evidence, mentions, scope, filters, depth, query_vector)
        order = ranked(scores)[:depth]
        records = self._episode_records(order, visible, scope, filters)
        order = [i for i in order if i in records]  # deleted since it was ranked
        finished = self._finish(query, order, scores, lambda i: records[i].content, depth)
        return [
            ScoredEpisode(episode=records[i], score=score, sources=ranking.sources(i))
            for i, score in finished[:limit]
        ]

    def _bridge(
        self,
        ranking: EpisodeRanking,
        visible: dict[uuid.UUID, Episode | EpisodeHeader],
        evidence: EpisodeEvidence,
        mentions: Mapping[uuid.UUID, Sequence[uuid.UUID]],
        scope: Scope,
        filters: Filter | None,
        depth: int,
        query_vector: list[float],
    ) -> None:
        """Raise the episodes bridged from the best ones (see :mod:`.bridge`), in place."""
        settings = self.settings
        scores = ranking.scores
        order = ranked(scores)
        best = {i: scores[i] for i in order[: settings.bridge_sources]}
        bridged = bridge_scores(
            self._store,
            scope,
            best,
            {i: evidence.links.entity_ids(i, mentions.get(i)) for i in best},
            evidence.named,
            query_vector,
            hub_limit=settings.bridge_hub_limit,
            candidates=settings.bridge_candidates,
        )
        # Only a bridged episode that would make the cut matters.
        cut = scores[order[depth - 1]] if len(order) >= depth else 0.0
        bridged = {i: value for i, value in bridged.items() if value > max(cut, scores.get(i, 0.0))}
        visible.update(
            self._visible_episodes([i for i in bridged if i not in visible], scope, filters)
        )
        for i, value in bridged.items():
            if i in visible:
                scores[i] = value
                ranking.bridged.add(i)

    def _visible_episodes(
        self, ids: list[uuid.UUID], scope: Scope, filters: Filter | None
    ) -> dict[uuid.UUID, Episode | EpisodeHeader]:
        """The candidates this read may see: as headers, or as full records when a
        metadata filter needs them (ranking reads only ids, scope and speaker)."""
        if filters is None:
            return {
                e.id: e
                for e in self._store.get_episode_headers(ids)
                if scope.contains(e.user_id, e.agent_id, e.run_id)
            }
        return {
            e.id: e
            for e in self._store.get_episodes(ids)
            if scope.contains(e.user_id, e.agent_id, e.run_id) and filters.matches(e.metadata)
        }

    def _episode_records(
        self,
        order: list[uuid.UUID],
        visible: dict[uuid.UUID, Episode | EpisodeHeader],
        scope: Scope,
        filters: Filter | None,
    ) -> dict[uuid.UUID, Episode]:
        """Full records of the best episodes: those a filter already loaded, the rest
        read now (and checked again: one may have changed since it was ranked)."""
        records = {i: e for i in order if isinstance(e := visible.get(i), Episode)}
        missing = [i for i in order if i not in records]
        records.update(
            {
                e.id: e
                for e in self._store.get_episodes(missing)
                if scope.contains(e.user_id, e.agent_id, e.run_id)
                and (filters is None or filters.matches(e.metadata))
            }
        )
        return records
