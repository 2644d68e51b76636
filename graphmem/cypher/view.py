"""A networkx picture of ONE scope's graph, read through the scoped store protocol.

The view holds nothing but what the scope may read: its episodes and facts
(``Scope.contains``) and its owner's entities, loaded with the same scoped calls every
other read uses. A query over the view therefore cannot see another scope, whatever
it says: leakage is impossible by construction, on every backend.

Shape (grand-cypher's conventions): nodes keyed by record id with a ``__labels__`` set
(``{"Entity", "<TypeLabel>"}`` or ``{"Episode"}``); fact edges keyed by fact id with
``__labels__ = {"<RELATIONSHIP_TYPE>"}``; ``MENTIONS`` edges from episodes to entities.
Properties are those stored on Neo4j: times as ISO-8601 UTC text, metadata as JSON text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import networkx as nx

from graphmem.errors import CypherError, InvalidIdentifierError
from graphmem.models.records import Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.models.time import to_storage
from graphmem.store.base import GraphStore
from graphmem.store.neo4j.identifiers import entity_label, relationship_type
from graphmem.temporal.view import TemporalView

R = TypeVar("R", Entity, Episode, Fact)
KIND = "__kind__"
"""Attribute telling nodes from relationships when results are converted."""
PAGE = 2_000
DEFAULT_MAX_RECORDS = 200_000


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def entity_attributes(entity: Entity) -> dict[str, Any]:
    """Node attributes of an entity."""
    labels = {"Entity"}
    label = entity_label(entity.type)
    if label is not None:
        labels.add(label)
    return {
        "__labels__": labels,
        KIND: "node",
        "id": str(entity.id),
        "owner": entity.owner,
        "name": entity.name,
        "normalized_name": entity.normalized_name,
        "aliases": list(entity.aliases),
        "type": entity.type,
        "summary": entity.summary,
        "created_at": to_storage(entity.created_at),
        "updated_at": to_storage(entity.updated_at),
        "metadata": _json(entity.metadata),
    }


def episode_attributes(episode: Episode) -> dict[str, Any]:
    """Node attributes of an episode."""
    return {
        "__labels__": {"Episode"},
        KIND: "node",
        "id": str(episode.id),
        "owner": episode.owner,
        "user_id": episode.user_id,
        "agent_id": episode.agent_id,
        "run_id": episode.run_id,
        "content": episode.content,
        "role": episode.role,
        "name": episode.name,
        "valid_at": to_storage(episode.valid_at),
        "created_at": to_storage(episode.created_at),
        "metadata": _json(episode.metadata),
    }


def fact_type(predicate: str) -> str:
    """The relationship type a fact's edge carries (the raw predicate, upper-cased, when it
    is not a safe identifier: the view is never sent to a server)."""
    try:
        return relationship_type(predicate)
    except InvalidIdentifierError:
        return predicate.upper()


def fact_attributes(fact: Fact) -> dict[str, Any]:
    """Edge attributes of a fact."""
    return {
        "__labels__": {fact_type(fact.predicate)},
        KIND: "relationship",
        "id": str(fact.id),
        "owner": fact.owner,
        "user_id": fact.user_id,
        "agent_id": fact.agent_id,
        "run_id": fact.run_id,
        "predicate": fact.predicate,
        "fact": fact.fact,
        "subject_id": str(fact.subject_id),
        "object_id": str(fact.object_id),
        "subject_name": fact.subject_name,
        "object_name": fact.object_name,
        "confidence": fact.confidence,
        "episode_ids": [str(value) for value in fact.episode_ids],
        "valid_at": to_storage(fact.valid_at),
        "invalid_at": to_storage(fact.invalid_at),
        "created_at": to_storage(fact.created_at),
        "expired_at": to_storage(fact.expired_at),
        "expired_reason": fact.expired_reason.value if fact.expired_reason else None,
        "superseded_by": str(fact.superseded_by) if fact.superseded_by else None,
        "closed_by_episode_id": (
            str(fact.closed_by_episode_id) if fact.closed_by_episode_id else None
        ),
        "metadata": _json(fact.metadata),
    }


def scope_graph(
    store: GraphStore,
    scope: Scope,
    *,
    history: bool = False,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> nx.MultiDiGraph:
    """The scope's graph. Facts are those true now, or every version with ``history``."""
    counts = store.counts(scope)
    size = counts.episodes + counts.entities + (counts.facts if history else counts.current_facts)
    if size > max_records:
        raise CypherError(
            f"the scope holds {size} records, more than the {max_records} Cypher exploration "
            "loads; narrow it with agent_id or run_id"
        )
    graph = nx.MultiDiGraph()
    for entity in _all(lambda offset: store.list_entities(scope, limit=PAGE, offset=offset)):
        graph.add_node(str(entity.id), **entity_attributes(entity))
    episodes = _all(lambda offset: store.list_episodes(scope, limit=PAGE, offset=offset))
    for episode in episodes:
        graph.add_node(str(episode.id), **episode_attributes(episode))
    facts = _all(
        lambda offset: store.list_facts(scope, limit=PAGE, offset=offset, include_expired=history)
    )
    now = TemporalView.at()
    for fact in facts:
        subject, obj = str(fact.subject_id), str(fact.object_id)
        if subject not in graph or obj not in graph or not (history or now.includes(fact)):
            continue
        graph.add_edge(subject, obj, key=str(fact.id), **fact_attributes(fact))
    mentions = store.mentions_of_episodes([episode.id for episode in episodes])
    for episode_id, entity_ids in mentions.items():
        for entity_id in entity_ids:
            source, target = str(episode_id), str(entity_id)
            if target in graph:
                graph.add_edge(
                    source,
                    target,
                    key=f"mentions:{source}:{target}",
                    __labels__={"MENTIONS"},
                    **{KIND: "relationship"},
                )
    return graph


def _all(page: Callable[[int], Sequence[R]]) -> list[R]:
    """Every record of a paged listing, without duplicates if pages shift while read."""
    seen: dict[uuid.UUID, R] = {}
    offset = 0
    while True:
        batch = page(offset)
        for record in batch:
            seen.setdefault(record.id, record)
        if len(batch) < PAGE:
            return list(seen.values())
        offset += PAGE
