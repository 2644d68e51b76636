"""Episode ranking: an episode's own matches plus the graph evidence that points to it.

An episode scores from four ranked lists fused by weighted RRF: its vector rank, its
keyword rank, the facts it is the provenance of (weighted by how well those facts
scored), and the entities it mentions (weighted by how well those entities scored).
Candidates spoken by a person the query names, or mentioning an entity it names, are
boosted: a question about Caroline is most likely answered by what Caroline said, or
else by what was said about her.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphmem.models.records import Fact
from graphmem.retrieval.fusion import ranked, ranked_ids, weighted_rrf
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.retrieval.text import name_tokens


@dataclass(frozen=True, slots=True)
class EpisodeEvidence:
    """Inputs of episode ranking, all already restricted to the scope and view."""

    vector: Sequence[tuple[uuid.UUID, float]]
    keyword: Sequence[tuple[uuid.UUID, float]]
    residual: Sequence[tuple[uuid.UUID, float]]
    facts: Sequence[tuple[Fact, float]]
    """The best facts, best first, with their final scores."""
    entity_scores: Mapping[uuid.UUID, float]
    """Final scores of the best entities."""
    named: frozenset[uuid.UUID]
    """Entities the query names."""
    named_tokens: frozenset[tuple[str, ...]] = frozenset()
    """Name and alias tokens of the entities the query names (to recognize speakers)."""


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
    found.update(dict.fromkeys(ranked_ids(evidence.residual)))
    found.update(dict.fromkeys(ranked(provenance_scores(evidence.facts))))
    return list(found)


def rank_episodes(
    evidence: EpisodeEvidence,
    mentions: Mapping[uuid.UUID, Sequence[uuid.UUID]],
    speakers: Mapping[uuid.UUID, str | None],
    settings: RetrievalSettings,
) -> tuple[dict[uuid.UUID, float], dict[uuid.UUID, list[str]]]:
    """Fused scores of the candidate episodes in ``speakers`` and which retrievers found each.

    ``mentions`` maps candidates to the entities they mention; ``speakers`` maps every
    candidate that may be returned to its speaker's name (others are dropped).
    """
    mention_scores: dict[uuid.UUID, float] = {}
    for episode_id, entity_ids in mentions.items():
        total = sum(evidence.entity_scores.get(e, 0.0) for e in set(entity_ids))
        if total > 0:
            mention_scores[episode_id] = total
    provenance = provenance_scores(evidence.facts)
    lists = {
        "vector": ranked_ids(evidence.vector),
        "keyword": ranked_ids(evidence.keyword),
        "provenance": ranked(provenance),
        "mentions": ranked(mention_scores),
        "keyword ": ranked_ids(evidence.residual),
    }
    lists = {name: [i for i in ids if i in speakers] for name, ids in lists.items()}
    fused = weighted_rrf(
        zip(lists.values(), settings.episode_weights, strict=True), k=settings.rrf_k
    )
    sources: dict[uuid.UUID, list[str]] = {episode_id: [] for episode_id in fused}
    for name, ids in lists.items():
        label = "graph" if name in ("provenance", "mentions") else name.strip()
        for episode_id in ids:
            found_by = sources.get(episode_id)  # absent when the list's weight is zero
            if found_by is not None and label not in found_by:
                found_by.append(label)
    for episode_id in fused:
        speaker = speakers.get(episode_id)
        if speaker is not None and name_tokens(speaker) in evidence.named_tokens:
            fused[episode_id] *= 1.0 + settings.speaker_boost
            sources[episode_id].append("mention")
        elif evidence.named.intersection(mentions.get(episode_id, ())):
            fused[episode_id] *= 1.0 + settings.mention_boost
            sources[episode_id].append("mention")
    return fused, sources
