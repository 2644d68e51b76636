"""The data of a graph view: a scope's entities, current and superseded facts, provenance.

What is shown follows the read rules: only the scope's records, facts visible at
``as_of`` (now by default) as current edges, facts whose interval closed before
``as_of`` as superseded edges with their dates (corrected and retracted versions were
never true and are left out), and nothing that has expired. ``around`` limits the
view to the entities within ``hops`` facts of the named entity.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from graphmem.errors import InvalidInputError, NotFoundError
from graphmem.lifecycle.visibility import is_expired
from graphmem.models.records import Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.models.time import utcnow
from graphmem.resolution.names import normalize_name
from graphmem.temporal.view import TemporalView

if TYPE_CHECKING:
    from graphmem.store.base import GraphStore

MAX_FACTS = 5000
MAX_NODES = 1500
MAX_HOPS = 6
SNIPPET_CHARS = 280
EdgeStatus = Literal["current", "superseded"]


@dataclass(slots=True)
class ViewGraph:
    """Nodes, edges and provenance, ready to be serialized for the page."""

    scope: dict[str, str]
    as_of: datetime | None
    around: str | None
    hops: int
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    episodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        """The JSON document the page reads."""
        return {
            "scope": self.scope,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "around": self.around,
            "hops": self.hops,
            "nodes": self.nodes,
            "edges": self.edges,
            "episodes": self.episodes,
            "truncated": self.truncated,
        }


def build_view_graph(
    store: GraphStore,
    scope: Scope,
    *,
    as_of: datetime | None = None,
    around: str | None = None,
    hops: int = 2,
) -> ViewGraph:
    """Select what the view shows (see the module docstring)."""
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= MAX_HOPS:
        raise InvalidInputError(f"hops must be an integer between 0 and {MAX_HOPS}")
    now = utcnow()
    view = TemporalView.at(as_of)
    moment = as_of or now
    shown: list[tuple[Fact, EdgeStatus]] = []
    facts = store.list_facts(scope, limit=MAX_FACTS, include_expired=True)
    truncated = len(facts) >= MAX_FACTS
    for fact in facts:
        if is_expired(fact, now):
            continue
        status = _status(fact, view, moment)
        if status is not None:
            shown.append((fact, status))
    if around is not None:
        centre = _named(store, scope, around)
        keep = _within(centre, shown, hops)
        shown = [(f, s) for f, s in shown if f.subject_id in keep and f.object_id in keep]
        wanted = keep
    else:
        # Entities appear through the facts shown, so a name known only from expired
        # or never-true records is not drawn.
        wanted = {f.subject_id for f, _ in shown} | {f.object_id for f, _ in shown}
    entities: dict[uuid.UUID, Entity] = {
        e.id: e for e in store.get_entities(list(wanted)) if scope.contains_entity(e.owner)
    }
    if len(entities) > MAX_NODES:
        truncated = True
        keep_ids = set(sorted(entities, key=lambda i: entities[i].updated_at)[-MAX_NODES:])
        entities = {i: e for i, e in entities.items() if i in keep_ids}
    shown = [(f, s) for f, s in shown if f.subject_id in entities and f.object_id in entities]
    graph = ViewGraph(
        scope=scope.model_dump(exclude_none=True),
        as_of=as_of,
        around=around,
        hops=hops,
        truncated=truncated,
    )
    graph.nodes = [_node(entity) for entity in entities.values()]
    graph.edges = [_edge(fact, status) for fact, status in shown]
    graph.episodes = _provenance(store, scope, (f for f, _ in shown), now)
    return graph


def _status(fact: Fact, view: TemporalView, moment: datetime) -> EdgeStatus | None:
    """How a fact appears at ``moment``: current, superseded, or not at all."""
    if view.includes(fact):
        return "current"
    reason = fact.expired_reason
    if reason is not None and not reason.closes_interval:
        return None  # corrected or retracted: it was never true
    closed_before = fact.invalid_at is not None and fact.invalid_at <= moment
    started_before = fact.valid_at is None or fact.valid_at < moment
    return "superseded" if closed_before and started_before else None


def _named(store: GraphStore, scope: Scope, name: str) -> set[uuid.UUID]:
    if not isinstance(name, str) or not normalize_name(name):
        raise InvalidInputError("around must name an entity")
    found = [
        e
        for e in store.entities_by_names(scope.owner, [normalize_name(name)])
        if scope.contains_entity(e.owner)
    ]
    if not found:
        raise NotFoundError(f"no entity named {name!r} in scope {scope.describe()}")
    return {e.id for e in found}


def _within(
    centre: set[uuid.UUID], shown: list[tuple[Fact, EdgeStatus]], hops: int
) -> set[uuid.UUID]:
    """Entities at most ``hops`` shown facts away from the centre (either direction)."""
    neighbours: dict[uuid.UUID, set[uuid.UUID]] = {}
    for fact, _ in shown:
        neighbours.setdefault(fact.subject_id, set()).add(fact.object_id)
        neighbours.setdefault(fact.object_id, set()).add(fact.subject_id)
    reached = set(centre)
    frontier = set(centre)
    for _ in range(hops):
        frontier = {n for e in frontier for n in neighbours.get(e, ())} - reached
        if not frontier:
            break
        reached |= frontier
    return reached


def _node(entity: Entity) -> dict[str, Any]:
    return {
        "id": str(entity.id),
        "name": entity.name,
        "type": entity.type,
        "aliases": list(entity.aliases),
        "summary": entity.summary,
    }


def _day(value: datetime | None) -> str | None:
    return value.date().isoformat() if value is not None else None


def _edge(fact: Fact, status: EdgeStatus) -> dict[str, Any]:
    return {
        "id": str(fact.id),
        "source": str(fact.subject_id),
        "target": str(fact.object_id),
        "predicate": fact.predicate.replace("_", " "),
        "fact": fact.fact,
        "status": status,
        "valid_at": _day(fact.valid_at),
        "invalid_at": _day(fact.invalid_at),
        "reason": fact.expired_reason.value if fact.expired_reason else None,
        "confidence": fact.confidence,
        "episodes": [str(i) for i in fact.episode_ids],
    }


def _provenance(
    store: GraphStore, scope: Scope, facts: Iterable[Fact], now: datetime
) -> dict[str, dict[str, Any]]:
    """The source episodes of the shown facts, as short snippets."""
    ids = list(dict.fromkeys(i for fact in facts for i in fact.episode_ids))
    episodes: list[Episode] = [
        e
        for e in store.get_episodes(ids)
        if scope.contains(e.user_id, e.agent_id, e.run_id) and not is_expired(e, now)
    ]
    return {
        str(e.id): {
            "said_at": e.valid_at.isoformat(timespec="minutes"),
            "role": e.role,
            "name": e.name,
            "text": e.content
            if len(e.content) <= SNIPPET_CHARS
            else e.content[:SNIPPET_CHARS] + "…",
        }
        for e in episodes
    }
