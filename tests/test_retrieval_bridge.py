"""Bridging: episodes sharing a specific entity with the best episode join the ranking."""

from __future__ import annotations

import uuid

from retrieval_fixtures import add_passages

from graphmem import Memory
from graphmem.filters import parse_filter
from graphmem.models.scope import Scope
from graphmem.resolution.names import normalize_name
from graphmem.retrieval import RetrievalSettings, Retriever
from graphmem.retrieval.bridge import bridge_scores

SCOPE = Scope.of(user_id="docs")
TWO_HOP_QUESTION = "Who was the first president of the publisher of the Journal of Quiet Studies?"


def _links(memory: Memory, episode_id: uuid.UUID) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
    mentions = memory.store.mentions_of_episodes([episode_id])
    return {episode_id: frozenset(mentions.get(episode_id, []))}


def _entity(memory: Memory, name: str) -> uuid.UUID:
    found = memory.store.entities_by_names(SCOPE.owner, [normalize_name(name)])
    assert found, name
    return found[0].id


def _bridge(
    memory: Memory,
    source: uuid.UUID,
    *,
    named: frozenset[uuid.UUID] = frozenset(),
    hub_limit: int = 20,
) -> dict[uuid.UUID, float]:
    return bridge_scores(
        memory.store,
        SCOPE,
        {source: 2.0},
        _links(memory, source),
        named,
        memory.embedder.embed_query("Who was its first president?"),
        hub_limit=hub_limit,
        candidates=50,
    )


def test_an_episode_sharing_an_entity_with_the_best_one_is_bridged(memory: Memory) -> None:
    ids = {title: uuid.UUID(i) for title, i in add_passages(memory, "docs").items()}
    bridged = _bridge(memory, ids["Journal of Quiet Studies"])
    assert set(bridged) == {ids["Society for Silence"]}
    # At best a bridged episode ties with its source; it never outranks it.
    assert 0.0 < bridged[ids["Society for Silence"]] <= 2.0


def test_entities_the_query_names_do_not_bridge(memory: Memory) -> None:
    ids = {title: uuid.UUID(i) for title, i in add_passages(memory, "docs").items()}
    named = frozenset({_entity(memory, "Society for Silence")})
    assert _bridge(memory, ids["Journal of Quiet Studies"], named=named) == {}


def test_entities_shared_by_more_episodes_than_the_hub_limit_do_not_bridge(
    memory: Memory,
) -> None:
    ids = {title: uuid.UUID(i) for title, i in add_passages(memory, "docs").items()}
    # "Society for Silence" is mentioned by two episodes: a hub when only one is allowed.
    assert _bridge(memory, ids["Journal of Quiet Studies"], hub_limit=1) == {}


def test_search_returns_the_bridged_episode_and_says_so(memory: Memory) -> None:
    ids = add_passages(memory, "docs")
    retriever = Retriever(memory.store, memory.embedder, settings=RetrievalSettings())
    result = retriever.search(
        TWO_HOP_QUESTION,
        SCOPE,
        limit=3,
    )
    by_id = {str(e.episode.id): e for e in result.episodes}
    assert ids["Society for Silence"] in by_id
    assert by_id[ids["Society for Silence"]].sources[-1] == "bridge"
    off = Retriever(memory.store, memory.embedder, settings=RetrievalSettings(bridge_sources=0))
    plain = off.search(
        TWO_HOP_QUESTION,
        SCOPE,
        limit=3,
    )
    assert all("bridge" not in e.sources for e in plain.episodes)


def test_bridging_respects_metadata_filters(memory: Memory) -> None:
    ids = add_passages(memory, "docs")
    retriever = Retriever(memory.store, memory.embedder)
    result = retriever.search(
        TWO_HOP_QUESTION,
        SCOPE,
        limit=5,
        filters=parse_filter({"title": {"ne": "Society for Silence"}}),
    )
    assert ids["Society for Silence"] not in {str(e.episode.id) for e in result.episodes}


def test_bridging_never_leaves_the_scope(memory: Memory) -> None:
    add_passages(memory, "docs")
    theirs = add_passages(memory, "other")
    retriever = Retriever(memory.store, memory.embedder)
    result = retriever.search(
        TWO_HOP_QUESTION,
        SCOPE,
        limit=10,
    )
    assert not {str(e.episode.id) for e in result.episodes} & set(theirs.values())
