"""Episode ranking: an episode's own matches plus the graph evidence that points to it.

An episode's score is a weighted sum of five signals, each scaled to [0, 1] over the
candidates of one query: its similarity to the query vector, its keyword score, its
keyword score and similarity for the query without the names it mentions, the scores
of the facts it is the provenance of, and the PageRank of the entities it is linked to
(that it mentions, or that the facts citing it connect). Scores rather
than ranks are summed because a clear winner in one list should stay a clear winner.

Candidates spoken by a person the query names, or mentioning an entity it names, are
then boosted: a question about Caroline is most likely answered by what Caroline
said, or else by what was said about her.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from graphmem.models.edges import FactEdge
from graphmem.retrieval.expansion import Expansion
from graphmem.retrieval.fusion import by_max, min_max, ranked, ranked_ids
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.retrieval.subgraph import Subgraph
from graphmem.retrieval.text import name_tokens

Hits = Sequence[tuple[uuid.UUID, float]]
_NOTHING: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class EntityLinks:
    """The entities each episode is linked to, by the subgraph's entity numbers, and
    what each weighs. An episode is linked to the ends of the walked facts citing it
    and to the entities it mentions (given per call: mentions are read only for the
    candidates)."""

    graph: Subgraph
    by_facts: Mapping[uuid.UUID, set[int]]
    """Episode -> the ends of the walked facts citing it (its passage's entities)."""
    weights: Sequence[float]
    """PageRank by entity number, and 0 for the entities the query names: those single
    out the episodes about them through the speaker and mention boosts instead."""

    @classmethod
    def of(cls, graph: Subgraph, expansion: Expansion, named: Iterable[uuid.UUID]) -> EntityLinks:
        """The links of every episode the walked facts cite."""
        by_facts: dict[uuid.UUID, set[int]] = {}
        for number, fact in enumerate(graph.edges):
            ends = (graph.subjects[number], graph.objects[number])
            for episode_id in fact.episode_ids:
                by_facts.setdefault(episode_id, set()).update(ends)
        weights = (
            expansion.entity_rank.tolist() if expansion.walked else [0.0] * len(graph.entity_ids)
        )
        for entity_id in named:
            if entity_id in graph.entity_numbers:
                weights[graph.entity_numbers[entity_id]] = 0.0
        return cls(graph, by_facts, weights)

    def weight(self, episode_id: uuid.UUID, mentioned: Sequence[uuid.UUID] | None) -> float:
        """PageRank mass of the entities an episode is linked to, given the entities it
        mentions (each entity counted once)."""
        linked = self.by_facts.get(episode_id, _NOTHING)
        if mentioned:
            numbers = self.graph.entity_numbers
            linked = linked.union(n for e in mentioned if (n := numbers.get(e)) is not None)
        weights = self.weights
        return sum(weights[n] for n in linked)

    def entity_ids(
        self, episode_id: uuid.UUID, mentioned: Sequence[uuid.UUID] | None
    ) -> frozenset[uuid.UUID]:
        """Every entity an episode is linked to, by id, walked or not."""
        ids = self.graph.entity_ids
        linked = frozenset(ids[n] for n in self.by_facts.get(episode_id, _NOTHING))
        return linked.union(mentioned) if mentioned else linked


@dataclass(frozen=True, slots=True)
class EpisodeEvidence:
    """Inputs of episode ranking, all already restricted to the scope and view."""

    vector: Hits
    keyword: Hits
    residual: Hits
    """Keyword hits of the query without its mentioned names (empty if it names none)."""
    residual_vector: Hits
    """Vector hits of the query without its mentioned names (empty if it names none)."""
    facts: Sequence[tuple[FactEdge, float]]
    """The best facts, best first, with their final scores."""
    links: EntityLinks
    """The entities linked to each episode, weighted by the walk."""
    named: frozenset[uuid.UUID]
    """Entities the query names."""
    named_tokens: frozenset[tuple[str, ...]] = frozenset()
    """Name and alias tokens of the entities the query names (to recognize speakers)."""


def provenance_scores(facts: Sequence[tuple[FactEdge, float]]) -> dict[uuid.UUID, float]:
    """Each cited episode's share of the scores of the facts it supports."""
    scores: dict[uuid.UUID, float] = {}
    for fact, score in facts:
        if not fact.episode_ids:
            continue
        share = score / len(fact.episode_ids)
        for episode_id in fact.episode_ids:
            scores[episode_id] = scores.get(episode_id, 0.0) + share
    return scores


def candidate_ids(evidence: EpisodeEvidence, linked_limit: int) -> list[uuid.UUID]:
    """Every episode some list proposes (the ``linked_limit`` best by linked entities),
    in first-seen order."""
    found = dict.fromkeys(ranked_ids(evidence.vector))
    found.update(dict.fromkeys(ranked_ids(evidence.keyword)))
    found.update(dict.fromkeys(ranked_ids(evidence.residual)))
    found.update(dict.fromkeys(ranked_ids(evidence.residual_vector)))
    found.update(dict.fromkeys(ranked(provenance_scores(evidence.facts))))
    linked = entity_link_scores(evidence, {})
    found.update(dict.fromkeys(ranked(linked)[:linked_limit]))
    return list(found)


def entity_link_scores(
    evidence: EpisodeEvidence,
    mentions: Mapping[uuid.UUID, Sequence[uuid.UUID]],
    only: Iterable[uuid.UUID] | None = None,
) -> dict[uuid.UUID, float]:
    """PageRank mass of the entities each episode is linked to (by MENTIONS edges or by
    the facts citing it), leaving out the entities the query names.

    Scores every linked episode, or only the episodes in ``only``.
    """
    links = evidence.links
    scores: dict[uuid.UUID, float] = {}
    for episode_id in {*links.by_facts, *mentions} if only is None else only:
        total = links.weight(episode_id, mentions.get(episode_id))
        if total > 0:
            scores[episode_id] = total
    return scores


@dataclass(slots=True)
class EpisodeRanking:
    """Scores of the candidate episodes, and what found each one."""

    scores: dict[uuid.UUID, float]
    candidates: AbstractSet[uuid.UUID]
    """The episodes the signals were counted for (those the read may see)."""
    found: tuple[tuple[str, AbstractSet[uuid.UUID]], ...]
    """Each signal's label and the episodes it scored (candidates or not)."""
    boosted: set[uuid.UUID]
    """Candidates boosted because they were spoken by or mention an entity the query names."""
    bridged: set[uuid.UUID] = field(default_factory=set)
    """Episodes raised by bridging (see :mod:`.bridge`)."""

    def sources(self, episode_id: uuid.UUID) -> list[str]:
        """Which retrievers found an episode (asked only of the episodes returned)."""
        labels: list[str] = []
        if episode_id in self.candidates:
            for label, found in self.found:
                if episode_id in found and label not in labels:
                    labels.append(label)
            if episode_id in self.boosted:
                labels.append("mention")
        if episode_id in self.bridged:
            labels.append("bridge")
        return labels


def rank_episodes(
    evidence: EpisodeEvidence,
    mentions: Mapping[uuid.UUID, Sequence[uuid.UUID]],
    speakers: Mapping[uuid.UUID, str | None],
    settings: RetrievalSettings,
) -> EpisodeRanking:
    """Scores of the candidates in ``speakers`` and which retrievers found each.

    ``mentions`` maps candidates to the entities they mention; ``speakers`` maps every
    candidate that may be returned to its speaker's name (others are dropped).
    """
    linked = entity_link_scores(evidence, mentions, only=speakers)
    w_vector, w_keyword, w_residual, w_residual_vector, w_provenance, w_entities = (
        settings.episode_weights
    )
    residual, residual_vector = evidence.residual, evidence.residual_vector
    spoken = {
        episode_id
        for episode_id, speaker in speakers.items()
        if speaker is not None and name_tokens(speaker) in evidence.named_tokens
    }
    if not spoken:
        # The query names no one who speaks here: the names are part of what is asked
        # (a passage about them), so the whole query stands for its name-less rest.
        residual, residual_vector = evidence.keyword, evidence.vector
    signals = (
        ("vector", w_vector, min_max(dict(evidence.vector))),
        ("keyword", w_keyword, by_max(dict(evidence.keyword))),
        ("keyword", w_residual, by_max(dict(residual))),
        ("vector", w_residual_vector, min_max(dict(residual_vector))),
        ("graph", w_provenance, by_max(provenance_scores(evidence.facts))),
        # PageRank mass is a probability already: comparable across queries as it is.
        ("graph", w_entities, linked),
    )
    used = tuple((label, weight, values) for label, weight, values in signals if weight > 0)
    scores: dict[uuid.UUID, float] = {}
    score = scores.get
    for _, weight, values in used:
        for episode_id, value in values.items():
            if episode_id in speakers:
                scores[episode_id] = score(episode_id, 0.0) + weight * value
    boosted: set[uuid.UUID] = set()
    named = evidence.named
    for episode_id in scores:
        if episode_id in spoken:
            scores[episode_id] *= 1.0 + settings.speaker_boost
            boosted.add(episode_id)
        elif named and not named.isdisjoint(mentions.get(episode_id, ())):
            scores[episode_id] *= 1.0 + settings.mention_boost
            boosted.add(episode_id)
    found = tuple((label, values.keys()) for label, _, values in used)
    return EpisodeRanking(scores, speakers.keys(), found, boosted)
