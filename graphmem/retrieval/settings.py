"""Tuning knobs of the search pipeline, with defaults chosen on the dev benchmarks.

Every fan-out is bounded here, so a search costs a fixed number of store round trips
and a bounded amount of Python work whatever the size of the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from graphmem.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class RetrievalSettings:
    """Fan-outs, expansion bounds and fusion weights of :class:`Retriever`."""

    # -- entry points ------------------------------------------------------------------
    entity_k: int = 20
    """Entities fetched from each of the entity vector and keyword indexes."""
    episode_k: int = 100
    """Episodes fetched from each of the episode vector and keyword indexes."""
    fact_k: int = 60
    """Facts fetched from each of the fact vector and keyword indexes."""
    residual_k: int = 100
    """Episodes fetched by keyword and by vector for the query without the names it
    mentions (0: off)."""
    residual_vectors: bool = True
    """Embed the query without its mentioned names (one more, cached, embedding)."""

    # -- graph expansion -----------------------------------------------------------------
    seed_limit: int = 12
    """Entry entities the expansion starts from (the strongest ones)."""
    seed_weights: tuple[float, float, float] = (1.0, 0.3, 0.5)
    """Starting weight of an entity the query names, of one the entity indexes match
    (times its match score), and of an end of a matched fact (times its relevance)."""
    seeding_facts: int = 10
    """Best directly matched facts whose ends seed the expansion."""
    hops: int = 2
    """Expansion depth in facts from the seeds (1 or 2)."""
    frontier_limit: int = 8
    """Entities reached at hop 1 whose own facts are fetched for hop 2."""
    facts_per_entity: int = 100
    """Facts read around each entity the expansion visits, the most recently learned
    first (0: all of them); a hub entity must not pull its whole degree into every
    search. Facts the query matches directly are always considered."""
    max_subgraph_facts: int = 1500
    """Facts kept in the expansion subgraph; beyond it, the weakest are dropped."""
    ppr_restart: float = 0.5
    """Personalized PageRank restart probability (higher stays closer to the seeds)."""
    ppr_iterations: int = 30
    max_paths: int = 2
    """Paths kept per fact (one through each endpoint at most)."""

    # -- fusion --------------------------------------------------------------------------
    rrf_k: int = 60
    fact_weights: tuple[float, float, float, float] = (1.0, 0.6, 2.0, 2.0)
    """Weights of a fact's similarity to the query, keyword score, similarity to the
    query without the names it mentions (together: its relevance, in [0, 1]), and of
    the PageRank flow over it."""
    entity_weights: tuple[float, float, float, float] = (0.6, 0.6, 1.5, 1.0)
    """RRF weights of the entity lists: (vector, keyword, mention, graph)."""
    episode_weights: tuple[float, float, float, float, float, float] = (
        1.0,
        0.5,
        1.0,
        2.0,
        1.0,
        2.0,
    )
    """Weights of the episode signals: vector, keyword, keyword and vector of the query
    without the names it mentions (used when the query names a speaker), fact
    provenance, PageRank mass of linked entities."""
    provenance_facts: int = 60
    """Best facts whose provenance episodes are scored."""
    linked_episodes: int = 30
    """Episodes proposed by the PageRank of the entities they are linked to."""
    bridge_sources: int = 1
    """Best episodes whose specific entities bridge to further episodes (0: off)."""
    bridge_hub_limit: int = 20
    """Entities mentioned by more episodes than this do not bridge."""
    bridge_candidates: int = 50
    """Bridged episodes scored (the most specifically linked), each by its vector."""
    speaker_boost: float = 6.0
    """Relative boost of a candidate episode spoken by a person the query names."""
    mention_boost: float = 0.0
    """Relative boost of a candidate episode that mentions an entity the query names."""

    # -- final steps ---------------------------------------------------------------------
    final_depth: int = 30
    """Candidates of each kind the reranker and the MMR step reorder (when enabled)."""
    mmr_lambda: float | None = None
    """MMR trade-off (1.0: relevance only); None disables the diversity step."""

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, bool) != (spec.type in ("bool", bool)):
                raise InvalidInputError(f"RetrievalSettings.{spec.name} has the wrong type")
            if isinstance(value, int | float) and value < 0:
                raise InvalidInputError(f"RetrievalSettings.{spec.name} must not be negative")
            if isinstance(value, tuple) and any(w < 0 for w in value):
                raise InvalidInputError(f"RetrievalSettings.{spec.name} must not be negative")
        if self.hops not in (1, 2):
            raise InvalidInputError("RetrievalSettings.hops must be 1 or 2")
        if not 0.0 < self.ppr_restart < 1.0:
            raise InvalidInputError("RetrievalSettings.ppr_restart must be between 0 and 1")
        if self.mmr_lambda is not None and not 0.0 <= self.mmr_lambda <= 1.0:
            raise InvalidInputError("RetrievalSettings.mmr_lambda must be between 0 and 1")
        if self.rrf_k < 1:
            raise InvalidInputError("RetrievalSettings.rrf_k must be at least 1")
