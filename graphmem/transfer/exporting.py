"""Writing a whole store, or one scope, as a graphmem export (see :mod:`.format`).

Records are read through the store's export (:func:`graphmem.store.migrate.open_export`:
one SQLite snapshot for the embedded store, id-ordered pages for Neo4j) and filtered
by scope here. A scope narrowed by agent or run exports the owner's entities its
facts and mentions refer to, and no audit events (those belong to the whole owner).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TypeVar

from graphmem.lifecycle.backend import lifecycle_backend
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.store.base import GraphStore, ProgressCallback
from graphmem.store.migrate import DEFAULT_BATCH, RecordExport, open_export
from graphmem.transfer.format import (
    EmbedderIdentity,
    Header,
    RecordKind,
    encode,
    encode_mention,
)

T = TypeVar("T")


@dataclass(slots=True)
class TransferCounts:
    """How many records of each kind an export wrote or an import read."""

    policies: int = 0
    entities: int = 0
    episodes: int = 0
    facts: int = 0
    mentions: int = 0
    audit: int = 0
    reembedded: int = 0
    """Texts embedded anew on import (0 when the exported vectors were used)."""
    owners: list[str] = field(default_factory=list)
    """Owner partitions the records belong to."""

    def as_dict(self) -> dict[str, int]:
        """The record counts by kind (the ``end`` line of an export)."""
        return {
            "policy": self.policies,
            "entity": self.entities,
            "episode": self.episodes,
            "fact": self.facts,
            "mention": self.mentions,
            "audit": self.audit,
        }

    def add(self, kind: RecordKind, count: int = 1) -> None:
        """Count ``count`` more records of ``kind``."""
        name = {"policy": "policies", "entity": "entities", "episode": "episodes",
                "fact": "facts", "mention": "mentions", "audit": "audit"}[kind]  # fmt: skip
        setattr(self, name, getattr(self, name) + count)


def export_records(
    store: GraphStore,
    handle: IO[str],
    *,
    scope: Scope | None = None,
    embeddings: bool = True,
    progress: ProgressCallback | None = None,
    batch: int = DEFAULT_BATCH,
) -> TransferCounts:
    """Write the store's records (or the scope's) to ``handle`` as JSON Lines.

    Do not write to the store while it is exported from Neo4j (its pages are separate
    reads); the embedded store is read from one snapshot.
    """
    report = progress or (lambda stage, done, total: None)
    counts = TransferCounts()
    owners: dict[str, None] = {}
    identity = getattr(store, "embedder_info", None)
    header = Header(
        backend=store.backend,
        embedder=EmbedderIdentity(model=identity.model, dim=identity.dim) if identity else None,
        embeddings=embeddings,
        scope=scope.model_dump(exclude_none=True) if scope is not None else None,
    )
    handle.write(header.model_dump_json() + "\n")

    def emit(kind: RecordKind, line: str) -> None:
        handle.write(line + "\n")
        counts.add(kind)

    policies = lifecycle_backend(store).policies(scope.owner if scope else None)
    for policy in policies:
        if scope is None or scope.contains(policy.user_id, policy.agent_id, policy.run_id):
            emit("policy", encode("policy", policy, embeddings=False))
    with open_export(store) as export:
        totals = export.totals()
        wanted = _referenced_entities(export, scope, batch) if _narrowed(scope) else None
        for entity in _stage(export.entities(batch), "entities", totals, report):
            if _keep_entity(entity, scope, wanted):
                owners.setdefault(entity.owner)
                emit("entity", encode("entity", entity, embeddings=embeddings))
        exported: set[uuid.UUID] = set()
        for episode in _stage(export.episodes(batch), "episodes", totals, report):
            if _in_scope(episode, scope):
                exported.add(episode.id)
                owners.setdefault(episode.owner)
                emit("episode", encode("episode", episode, embeddings=embeddings))
        for fact in _stage(export.facts(batch), "facts", totals, report):
            if _in_scope(fact, scope):
                emit("fact", encode("fact", fact, embeddings=embeddings))
        for episode_id, entity_id in _stage(export.mentions(batch), "mentions", totals, report):
            if scope is None or episode_id in exported:
                emit("mention", encode_mention(str(episode_id), str(entity_id)))
        if not _narrowed(scope):
            for event in _stage(export.audit(batch), "audit", totals, report):
                if _keep_event(event, scope):
                    emit("audit", encode("audit", event, embeddings=False))
    counts.owners = list(owners)
    handle.write(_end_line(counts))
    return counts


def _end_line(counts: TransferCounts) -> str:
    return json.dumps({"type": "end", "counts": counts.as_dict()}) + "\n"


def _narrowed(scope: Scope | None) -> bool:
    return scope is not None and (scope.agent_id is not None or scope.run_id is not None)


def _in_scope(record: Episode | Fact, scope: Scope | None) -> bool:
    return scope is None or scope.contains(record.user_id, record.agent_id, record.run_id)


def _keep_entity(entity: Entity, scope: Scope | None, wanted: set[uuid.UUID] | None) -> bool:
    if scope is None:
        return True
    if wanted is not None:
        return entity.id in wanted
    return scope.contains_entity(entity.owner)


def _keep_event(event: AuditEvent, scope: Scope | None) -> bool:
    return scope is None or event.owner == scope.owner


def _referenced_entities(export: RecordExport, scope: Scope | None, batch: int) -> set[uuid.UUID]:
    """Entities a narrowed scope's facts and episodes refer to (a first pass)."""
    episodes = {e.id for page in export.episodes(batch) for e in page if _in_scope(e, scope)}
    wanted: set[uuid.UUID] = set()
    for page in export.facts(batch):
        for fact in page:
            if _in_scope(fact, scope):
                wanted.update((fact.subject_id, fact.object_id))
    for pairs in export.mentions(batch):
        wanted.update(entity_id for episode_id, entity_id in pairs if episode_id in episodes)
    return wanted


def _stage(
    pages: Iterable[list[T]],
    stage: str,
    totals: dict[str, int],
    progress: Callable[[str, int, int], None],
) -> Iterator[T]:
    """The items of ``pages``, reporting progress per page against the store's total."""
    total = totals.get(stage, 0)
    done = 0
    progress(stage, 0, total)
    for page in pages:
        yield from page
        done += len(page)
        progress(stage, done, max(total, done))
