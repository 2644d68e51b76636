"""Episode ranking: an episode's own matches plus the graph evidence that points to it.

An episode's score is a weighted sum of five signals, each scaled to [0, 1] over the
candidates of one query: its similarity to the query vector, its keyword score, its
keyword score for the query without the names it mentions, the scores of the facts
it is the provenance of, and the scores of the entities it mentions. Scores rather
than ranks are summed because a clear winner in one list should stay a clear winner.

Candidates spoken by a person the query names, or mentioning an entity it names, are
then boosted: a question about Caroline is most likely answered by what Caroline
said, or else by what was said about her.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphmem.models.records import Fact
from graphmem.retrieval.fusion import ranked, ranked_ids
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.retrieval.text import name_tokens

Hits = Sequence[tuple[uuid.UUID, float]]


@dataclass(frozen=True, slots=True)
class EpisodeEvidence:
    """Inputs of episode ranking, all already restricted to the scope and view."""

    vector: Hits
    keyword: Hits
    residual: Hits
    """Keyword hits of the query without its mentioned names (empty if it names none)."""
    residual_vector: Hits
    """Vector hits of the query without its mentioned names (empty if it names none)."""
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
    found.update(dict.fromkeys(ranked_ids(evidence.residual_vector)))
    found.update(dict.fromkeys(ranked(provenance_scores(evidence.facts))))
    return list(found)


def rank_episodes(
    evidence: EpisodeEvidence,
    mentions: Mapping[uuid.UUID, Sequence[uuid.UUID]],
    speakers: Mapping[uuid.UUID, str | None],
    settings: RetrievalSettings,
) -> tuple[dict[uuid.UUID, float], dict[uuid.UUID, list[str]]]:
    """Scores of the candidates in ``speakers`` and which retrievers found each.

    ``mentions`` maps candidates to the entities they mention; ``speakers`` maps every
    candidate that may be returned to its speaker's name (others are dropped).
    """
    mention_scores: dict[uuid.UUID, float] = {}
    for episode_id, entity_ids in mentions.items():
        total = sum(
            evidence.entity_scores.get(e, 0.0) for e in set(entity_ids) if e not in evidence.named
        )
        if total > 0:
            mention_scores[episode_id] = total
    w_vector, w_keyword, w_residual, w_residual_vector, w_provenance, w_mentions = (
        settings.episode_weights
    )
    residual, residual_vector = evidence.residual, evidence.residual_vector
    if not residual and not residual_vector:  # no names taken out: the whole query is
        residual, residual_vector = evidence.keyword, evidence.vector  # what is asked
    signals = (
        ("vector", w_vector, _min_max(dict(evidence.vector))),
        ("keyword", w_keyword, _by_max(dict(evidence.keyword))),
        ("keyword", w_residual, _by_max(dict(residual))),
        ("vector", w_residual_vector, _min_max(dict(residual_vector))),
        ("graph", w_provenance, _by_max(provenance_scores(evidence.facts))),
        ("graph", w_mentions, _by_max(mention_scores)),
    )
    scores: dict[uuid.UUID, float] = {}
    sources: dict[uuid.UUID, list[str]] = {}
    for label, weight, values in signals:
        if weight <= 0:
            continue
        for episode_id, value in values.items():
            if episode_id not in speakers:
                continue
            scores[episode_id] = scores.get(episode_id, 0.0) + weight * value
            found_by = sources.setdefault(episode_id, [])
            if label not in found_by:
                found_by.append(label)
    for episode_id in scores:
        speaker = speakers.get(episode_id)
        if speaker is not None and name_tokens(speaker) in evidence.named_tokens:
            scores[episode_id] *= 1.0 + settings.speaker_boost
            sources[episode_id].append("mention")
        elif evidence.named.intersection(mentions.get(episode_id, ())):
            scores[episode_id] *= 1.0 + settings.mention_boost
            sources[episode_id].append("mention")
    return scores, sources


def _by_max(values: Mapping[uuid.UUID, float]) -> dict[uuid.UUID, float]:
    """Scale non-negative scores so that the best is 1."""
    high = max(values.values(), default=0.0)
    if high <= 0:
        return {}
    return {key: max(value, 0.0) / high for key, value in values.items()}


def _min_max(values: Mapping[uuid.UUID, float]) -> dict[uuid.UUID, float]:
    """Scale similarities to [0, 1] over the hits: cosines of unrelated texts are not 0."""
    if not values:
        return {}
    high, low = max(values.values()), min(values.values())
    if high <= low:
        return dict.fromkeys(values, 1.0)
    return {key: (value - low) / (high - low) for key, value in values.items()}
