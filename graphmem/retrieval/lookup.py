"""Reading records without a query: one record by id, a scope's records, a history.

Every read is scope-checked like search. A record of another scope is reported
exactly as a missing one, so that an id's existence elsewhere is not disclosed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from graphmem.errors import InvalidInputError, NotFoundError
from graphmem.filters import Filter
from graphmem.lifecycle import collect_live, is_expired
from graphmem.models.records import Entity, Episode, Fact
from graphmem.models.results import HistoryEntry, MemorySnapshot
from graphmem.models.scope import Scope
from graphmem.store.base import GraphStore
from graphmem.temporal.history import order_history
from graphmem.temporal.view import TemporalView

MAX_LISTED_FACTS = 10_000
"""Facts read for a listing before the view, expiry and filter are applied."""


def get_record(
    store: GraphStore, record_id: uuid.UUID, scope: Scope | None
) -> Fact | Entity | Episode:
    """The fact, episode or entity ``record_id``; with a scope, only if it belongs to it.

    Raises :class:`NotFoundError` otherwise.
    """
    for fact in store.get_facts([record_id]):
        _require(scope, fact.user_id, fact.agent_id, fact.run_id, record_id)
        return fact
    for episode in store.get_episodes([record_id]):
        _require(scope, episode.user_id, episode.agent_id, episode.run_id, record_id)
        return episode
    for entity in store.get_entities([record_id]):
        if scope is not None and not scope.contains_entity(entity.owner):
            raise NotFoundError(f"no record {record_id} in scope {scope.describe()}")
        return entity
    where = f" in scope {scope.describe()}" if scope is not None else ""
    raise NotFoundError(f"no record {record_id}{where}")  # worded as for another scope's id


def snapshot_of(
    store: GraphStore,
    scope: Scope,
    *,
    limit: int,
    condition: Filter | None,
    view: TemporalView,
    now: datetime,
) -> MemorySnapshot:
    """The scope's facts (those ``view`` sees), entities and episodes, newest first.

    Expired facts and episodes are left out; ``condition`` applies to facts' and
    episodes' metadata.
    """
    facts = [
        f
        for f in store.list_facts(scope, limit=MAX_LISTED_FACTS, include_expired=not view.is_now)
        if view.includes(f)
        and not is_expired(f, now)
        and (condition is None or condition.matches(f.metadata))
    ][:limit]
    episodes = collect_live(
        lambda offset, size: store.list_episodes(scope, limit=size, offset=offset),
        lambda e: not is_expired(e, now) and (condition is None or condition.matches(e.metadata)),
        limit,
    )
    entities = store.list_entities(scope, limit=limit)
    return MemorySnapshot(facts=facts, entities=entities, episodes=episodes)


def history_of(
    store: GraphStore, record: Fact | Entity | Episode, scope: Scope | None, now: datetime
) -> list[HistoryEntry]:
    """Every version of a fact (same subject and predicate), or of every fact of an
    entity, oldest first. ``record`` must already have passed the scope check."""
    # Versions written under other agents or runs of the owner stay hidden from a
    # narrowed scope, as on every other read path.
    if isinstance(record, Fact):
        versions = [
            f
            for f in store.entity_history(scope or Scope.of_owner(record.owner), record.subject_id)
            if f.subject_id == record.subject_id and f.predicate == record.predicate
        ]
        return order_history(versions, now=now)
    if isinstance(record, Entity):
        return order_history(
            store.entity_history(scope or Scope.of_owner(record.owner), record.id), now=now
        )
    raise InvalidInputError("history() takes a fact id or an entity id, not an episode id")


def _require(
    scope: Scope | None,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    record_id: uuid.UUID,
) -> None:
    if scope is not None and not scope.contains(user_id, agent_id, run_id):
        # Same error as a missing id: existence in another scope is not disclosed.
        raise NotFoundError(f"no record {record_id} in scope {scope.describe()}")
