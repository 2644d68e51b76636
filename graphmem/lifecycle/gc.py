"""Garbage collection: purge what expired or outlived its scope's retention policy.

An expired episode is removed the way ``delete_episode`` removes one: facts only it
stated go, facts it shared lose it from their provenance, facts it closed re-open.
Facts that expired on their own (``add_facts`` with an expiry on a lasting source)
are deleted like ``delete``. Entities nothing refers to afterwards are deleted too,
so no name outlives its last mention. Each owner that lost records gets one
content-free ``purge`` audit event: the proof that the erasure happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from graphmem.errors import NotFoundError
from graphmem.lifecycle.backend import LifecycleBackend
from graphmem.lifecycle.policy import RetentionPolicy
from graphmem.models.records import AuditAction, AuditEvent
from graphmem.models.scope import Scope
from graphmem.models.time import utcnow
from graphmem.store.base import GraphStore, ProgressCallback
from graphmem.writing.edits import Editor

_PAGE = 1000


@dataclass(slots=True)
class OwnerPurge:
    """What gc removed from one owner partition."""

    episodes_expired: int = 0
    episodes_retention: int = 0
    facts_removed: int = 0
    facts_expired: int = 0
    entities: int = 0

    @property
    def total(self) -> int:
        """Records removed in all."""
        return (
            self.episodes_expired
            + self.episodes_retention
            + self.facts_removed
            + self.facts_expired
            + self.entities
        )


@dataclass(slots=True)
class GcReport:
    """The outcome of one gc run (or, with ``dry_run``, what it would remove)."""

    now: datetime
    dry_run: bool
    owners: dict[str, OwnerPurge] = field(default_factory=dict)
    policies: int = 0

    @property
    def episodes(self) -> int:
        """Episodes purged, expired or past their retention."""
        return sum(p.episodes_expired + p.episodes_retention for p in self.owners.values())

    @property
    def facts(self) -> int:
        """Fact versions purged (with their episodes, or on their own)."""
        return sum(p.facts_removed + p.facts_expired for p in self.owners.values())

    @property
    def entities(self) -> int:
        """Entities left without any mention or fact, and deleted."""
        return sum(p.entities for p in self.owners.values())


def collect_garbage(
    store: GraphStore,
    backend: LifecycleBackend,
    editor: Editor,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> GcReport:
    """Purge expired records and records past their scope's retention policy."""
    moment = now or utcnow()
    policies = backend.policies(None)
    report = GcReport(now=moment, dry_run=dry_run, policies=len(policies))
    doomed = _doomed_episodes(backend, policies, moment)
    episodes = store.get_episodes(list(doomed))
    total = len(episodes)
    for done, episode in enumerate(episodes, start=1):
        purge = report.owners.setdefault(episode.owner, OwnerPurge())
        if doomed[episode.id] == "expired":
            purge.episodes_expired += 1
        else:
            purge.episodes_retention += 1
        if not dry_run:
            try:
                changes = editor.delete_episode(episode.id, scope=None, actor="gc")
            except NotFoundError:  # deleted meanwhile by someone else: nothing left to do
                continue
            purge.facts_removed += changes["facts_removed"]
        if progress is not None:
            progress("episodes", done, total)
    _purge_expired_facts(store, backend, editor, report, moment, progress)
    if not dry_run:
        for owner, purge in report.owners.items():
            purge.entities = backend.delete_unreferenced_entities(owner)
        _record(store, report, policies)
    return report


def _doomed_episodes(
    backend: LifecycleBackend, policies: list[RetentionPolicy], now: datetime
) -> dict[uuid.UUID, str]:
    """Episode ids to purge, each with why: ``expired`` or ``retention``."""
    doomed: dict[uuid.UUID, str] = {}
    for episode_id in _all_pages(lambda limit: backend.expired_episodes(now, limit)):
        doomed[episode_id] = "expired"
    for policy in policies:
        for episode_id in _all_pages(_created_before(backend, policy, now)):
            doomed.setdefault(episode_id, "retention")
    return doomed


def _created_before(
    backend: LifecycleBackend, policy: RetentionPolicy, now: datetime
) -> Callable[[int], list[uuid.UUID]]:
    scope, cutoff = policy.scope, policy.cutoff(now)
    return lambda limit: backend.episodes_created_before(scope, cutoff, limit)


def _all_pages(fetch: Callable[[int], list[uuid.UUID]]) -> list[uuid.UUID]:
    """Every id a limit-only query returns, asking for more until it returns fewer.

    The queries have no offset: gc reads them before deleting anything, so asking
    again with a larger limit simply returns a longer prefix.
    """
    limit = _PAGE
    while True:
        ids = fetch(limit)
        if len(ids) < limit:
            return ids
        limit *= 4


def _purge_expired_facts(
    store: GraphStore,
    backend: LifecycleBackend,
    editor: Editor,
    report: GcReport,
    now: datetime,
    progress: ProgressCallback | None,
) -> None:
    """Facts that expired while their sources did not (or not yet) get deleted alone."""
    fact_ids = _all_pages(lambda limit: backend.expired_facts(now, limit))
    facts = store.get_facts(fact_ids)
    for done, fact in enumerate(facts, start=1):
        purge = report.owners.setdefault(fact.owner, OwnerPurge())
        purge.facts_expired += 1
        if not report.dry_run:
            try:
                editor.delete_fact(fact.id, scope=None, actor="gc")
            except NotFoundError:  # removed with its episode a moment ago
                purge.facts_expired -= 1
        if progress is not None:
            progress("facts", done, len(facts))


def _record(store: GraphStore, report: GcReport, policies: list[RetentionPolicy]) -> None:
    """One content-free deletion record per owner that lost records."""
    events = []
    for owner, purge in report.owners.items():
        if purge.total == 0:
            continue
        applied = [
            {
                "scope": p.scope.model_dump(exclude_none=True),
                "max_age_seconds": p.max_age.total_seconds(),
            }
            for p in policies
            if p.scope.owner == owner
        ]
        reasons = []
        if purge.episodes_expired or purge.facts_expired:
            reasons.append("expired")
        if purge.episodes_retention:
            reasons.append("retention")
        events.append(
            AuditEvent(
                at=utcnow(),
                action=AuditAction.PURGE,
                owner=owner,
                actor="gc",
                detail={
                    "reason": "+".join(reasons),
                    "scope": Scope.of_owner(owner).model_dump(exclude_none=True),
                    "now": report.now.isoformat(),
                    "episodes": purge.episodes_expired + purge.episodes_retention,
                    "facts": purge.facts_removed + purge.facts_expired,
                    "entities": purge.entities,
                    "policies": applied,
                },
            )
        )
    if events:
        with store.transaction() as tx:
            tx.append_audit(events)
