"""Entry points of a search: where in the graph the query lands.

Three kinds of evidence, all scope-filtered by the store: nearest neighbours of the
query vector (entities, episodes, facts), BM25 matches of the query text (entity
names, episode text, fact sentences), and entities whose name or alias occurs
verbatim in the query. Mentions are found without loading every name of the owner:
the entity keyword index proposes candidates sharing a word with the query, and a
candidate counts as mentioned only if one of its names occurs as a whole phrase.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from graphmem.models.records import Entity
from graphmem.models.scope import Scope
from graphmem.retrieval.fusion import ranked_ids
from graphmem.retrieval.query_vectors import QueryVectors
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.retrieval.text import STOPWORDS, find_spans, name_tokens, tokens
from graphmem.store.base import GraphStore

Hits = list[tuple[uuid.UUID, float]]


@dataclass(slots=True)
class EntryPoints:
    """Ranked candidates from every index, best first, plus the entities they name."""

    entity_vector: Hits = field(default_factory=list)
    entity_keyword: Hits = field(default_factory=list)
    mentioned: list[uuid.UUID] = field(default_factory=list)
    """Entities named in the query, longest (most specific) mention first."""
    episode_vector: Hits = field(default_factory=list)
    episode_keyword: Hits = field(default_factory=list)
    fact_vector: Hits = field(default_factory=list)
    fact_keyword: Hits = field(default_factory=list)
    episode_residual: Hits = field(default_factory=list)
    """Keyword matches of the query without the names it mentions: what is asked about
    a person, rather than everything that names them."""
    episode_residual_vector: Hits = field(default_factory=list)
    """Nearest episodes to the embedding of that same name-less query."""
    fact_residual_vector: Hits = field(default_factory=list)
    """Nearest facts to it: the relation asked about, whoever it is about."""
    entities: dict[uuid.UUID, Entity] = field(default_factory=dict)
    """Records of every entity above (scope-checked)."""


def find_entry_points(
    store: GraphStore,
    scope: Scope,
    query: str,
    settings: RetrievalSettings,
    vectors: QueryVectors,
    *,
    episodes: bool = True,
) -> EntryPoints:
    """Query every index of the scope once and detect the entities the query names.

    When the query names entities, the episode indexes are also asked for the query
    without those names. The names are found first, so that ``vectors`` can embed the
    query and that residual together while the other keyword indexes are searched.
    Without ``episodes``, the episode indexes are left alone (facts and entities rank
    without them).
    """
    entry = EntryPoints(
        entity_keyword=store.keyword_search("entity", scope, query, settings.entity_k)
    )
    named = _entities_in_scope(store, scope, ranked_ids(entry.entity_keyword))
    entry.entity_keyword = [h for h in entry.entity_keyword if h[0] in named]
    entry.mentioned, spans = mentions_in(query, [named[i] for i, _ in entry.entity_keyword])
    residual = residual_query(query, spans) if settings.residual_k else ""
    vectors.start(residual)

    if episodes:
        entry.episode_keyword = store.keyword_search("episode", scope, query, settings.episode_k)
    entry.fact_keyword = store.keyword_search("fact", scope, query, settings.fact_k)
    if residual and episodes:
        entry.episode_residual = store.keyword_search(
            "episode", scope, residual, settings.residual_k
        )

    vector = vectors.query()
    entry.entity_vector = store.vector_search("entity", scope, vector, settings.entity_k)
    if episodes:
        entry.episode_vector = store.vector_search("episode", scope, vector, settings.episode_k)
    entry.fact_vector = store.vector_search("fact", scope, vector, settings.fact_k)
    residual_vector = vectors.residual()
    if residual_vector is not None:
        if episodes:
            entry.episode_residual_vector = store.vector_search(
                "episode", scope, residual_vector, settings.residual_k
            )
        entry.fact_residual_vector = store.vector_search(
            "fact", scope, residual_vector, settings.fact_k
        )
    unread = [i for i in ranked_ids(entry.entity_vector) if i not in named]
    named.update(_entities_in_scope(store, scope, unread))
    entry.entity_vector = [h for h in entry.entity_vector if h[0] in named]
    wanted = dict.fromkeys(ranked_ids([*entry.entity_vector, *entry.entity_keyword]))
    entry.entities = {i: named[i] for i in wanted}
    return entry


def _entities_in_scope(
    store: GraphStore, scope: Scope, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Entity]:
    """Records of the entities ``ids`` that belong to ``scope``.

    Defensive: a backend bug must never surface another owner's entity.
    """
    if not ids:
        return {}
    return {e.id: e for e in store.get_entities(list(ids)) if scope.contains_entity(e.owner)}


def residual_query(query: str, spans: Sequence[tuple[int, int]]) -> str:
    """The query's words outside the mention spans; empty if no name was mentioned or
    nothing but stopwords would remain."""
    if not spans:
        return ""
    covered = {i for start, end in spans for i in range(start, end)}
    words = [w for i, w in enumerate(tokens(query)) if i not in covered]
    if all(w in STOPWORDS for w in words):
        return ""
    return " ".join(words)


def mentioned_entities(query: str, candidates: Sequence[Entity]) -> list[uuid.UUID]:
    """Candidates whose name or an alias occurs as a whole phrase in ``query``.

    When one mention lies inside a longer one ("York" in "New York"), only the entity
    of the longer mention counts. The result is ordered longest mention first.
    """
    return mentions_in(query, candidates)[0]


def mentions_in(
    query: str, candidates: Sequence[Entity]
) -> tuple[list[uuid.UUID], list[tuple[int, int]]]:
    """:func:`mentioned_entities` and the token spans of the query they occupy."""
    query_tokens = tokens(query)
    matches: list[tuple[int, int, uuid.UUID]] = []
    for entity in candidates:
        best: tuple[int, int] | None = None
        for name in (entity.name, *entity.aliases):
            for span in find_spans(query_tokens, name_tokens(name)):
                if best is None or span[1] - span[0] > best[1] - best[0]:
                    best = span
        if best is not None:
            matches.append((best[0], best[1], entity.id))
    kept = [
        (start, end, entity_id)
        for start, end, entity_id in matches
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in matches)
    ]
    kept.sort(key=lambda m: -(m[1] - m[0]))
    return list(dict.fromkeys(entity_id for _, _, entity_id in kept)), [
        (start, end) for start, end, _ in kept
    ]
