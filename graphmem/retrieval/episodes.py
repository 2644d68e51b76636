"""Episode ranking: an episode's own matches plus the graph evidence that points to it.

An episode scores from four ranked lists fused by weighted RRF: its vector rank, its
keyword rank, the facts it is the provenance of (weighted by how well those facts
scored), and the entities it mentions (weighted by how well those entities scored).
Candidates that mention an entity the query names are boosted: a question about
Caroline is most likely answered by what Caroline said or what was said about her.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphmem.models.records import Fact
from graphmem.retrieval.fusion import ranked, ranked_ids, weighted_rrf
from graphmem.retrieval.settings import RetrievalSettings


@dataclass(frozen=True, slots=True)
class EpisodeEvidence:
    """Inputs of episode ranking, all already restricted to the scope and view."""

    vector: Sequence[tuple[uuid.UUID, float]]
    keyword: Sequence[tuple[uuid.UUID, float]]
    facts: Sequence[tuple[Fact, float]]
    """The best facts, best first, with their final scores."""
    entity_scores: Mapping[uuid.UUID, float]
    """Final scores of the best entities."""
    named: frozenset[uuid.UUID]
    """Entities the query names."""


def provenance_scores(facts: Sequence[tuple[Fact, float]]) -> dict[uuid.UUID, float]:
    """Each cited episode's share of the scores of the facts it supports."""
    scores: dict[uuid.UUID, float] = {}
    for fact, score in facts:
        if not fact.episode_ids:
            continue
        share = score / len(fact.episode_ids)
        for episode_id in fact.episode_ids:
            scores[episode_id] = scores.get(episode_id, 0.0) + share
    return scores


def candidate_ids(evidence: EpisodeEvidence) -> list[uuid.UUID]:
    """Every episode some list proposes, in first-seen order."""
    found = dict.fromkeys(ranked_ids(evidence.vector))
    found.update(dict.fromkeys(ranked_ids(evidence.keyword)))
    found.update(dict.fromkeys(ranked(provenance_scores(evidence.facts))))
    return list(found)


def rank_episodes(
    evidence: EpisodeEvidence,
    mentions: Mapping[uuid.UUID, Sequence[uuid.UUID]],
    settings: RetrievalSettings,
) -> tuple[dict[uuid.UUID, float], dict[uuid.UUID, list[str]]]:
    """Fused scores of the candidate episodes and which retrievers found each.

    ``mentions`` maps candidate episodes to the entities they mention.
    """
    mention_scores: dict[uuid.UUID, float] = {}
    for episode_id, entity_ids in mentions.items():
        total = sum(evidence.entity_scores.get(e, 0.0) for e in set(entity_ids))
        if total > 0:
            mention_scores[episode_id] = total
    provenance = provenance_scores(evidence.facts)
    w_vector, w_keyword, w_provenance, w_mentions = settings.episode_weights
    fused = weighted_rrf(
        [
            (ranked_ids(evidence.vector), w_vector),
            (ranked_ids(evidence.keyword), w_keyword),
            (ranked(provenance), w_provenance),
            (ranked(mention_scores), w_mentions),
        ],
        k=settings.rrf_k,
    )
    sources: dict[uuid.UUID, list[str]] = {episode_id: [] for episode_id in fused}
    for name, ids in (
        ("vector", ranked_ids(evidence.vector)),
        ("keyword", ranked_ids(evidence.keyword)),
        ("graph", [*provenance, *mention_scores]),
    ):
        for episode_id in ids:
            if episode_id in sources and name not in sources[episode_id]:
                sources[episode_id].append(name)
    if evidence.named and settings.mention_boost > 0:
        for episode_id, entity_ids in mentions.items():
            if episode_id in fused and evidence.named.intersection(entity_ids):
                fused[episode_id] *= 1.0 + settings.mention_boost
                sources[episode_id].append("mention")
    return fused, sources
