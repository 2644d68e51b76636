"""A fact's versions in the order they took effect, each with where it stands now."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from graphmem.models.records import ExpiryReason, Fact
from graphmem.models.results import HistoryEntry, VersionStatus
from graphmem.models.time import ensure_utc

_STATUS_BY_REASON = {
    ExpiryReason.SUPERSEDED: VersionStatus.SUPERSEDED,
    ExpiryReason.ENDED: VersionStatus.ENDED,
    ExpiryReason.ARRIVED_CLOSED: VersionStatus.ARRIVED_CLOSED,
    ExpiryReason.CORRECTED: VersionStatus.CORRECTED,
    ExpiryReason.RETRACTED: VersionStatus.RETRACTED,
}


def version_status(fact: Fact, *, now: datetime) -> VersionStatus:
    """Where ``fact`` stands at ``now``.

    A fact retired by ``now`` reports why (superseded, ended, arrived closed,
    corrected, retracted; retired without a recorded reason counts as retracted).
    Otherwise it is ``FUTURE`` before its ``valid_at``, ``ENDED`` once a stated
    ``invalid_at`` has passed, and ``CURRENT`` in between.
    """
    now = ensure_utc(now, field="now")
    if fact.expired_at is not None and fact.expired_at <= now:
        if fact.expired_reason is None:
            return VersionStatus.RETRACTED
        return _STATUS_BY_REASON[fact.expired_reason]
    if fact.valid_at is not None and fact.valid_at > now:
        return VersionStatus.FUTURE
    if fact.invalid_at is not None and fact.invalid_at <= now:
        return VersionStatus.ENDED
    return VersionStatus.CURRENT


def order_history(facts: Sequence[Fact], *, now: datetime) -> list[HistoryEntry]:
    """Every version, in the order the versions took effect.

    Versions sort by ``valid_at`` (``created_at`` when the start is unknown), then by
    ``created_at``, then by input order. ``supersedes`` lists the versions whose
    ``superseded_by`` names the entry. A fact given twice (same id) appears once.
    """
    now = ensure_utc(now, field="now")
    unique: dict[uuid.UUID, Fact] = {}
    for fact in facts:
        unique.setdefault(fact.id, fact)
    ordered = sorted(
        enumerate(unique.values()),
        key=lambda item: (
            item[1].valid_at if item[1].valid_at is not None else item[1].created_at,
            item[1].created_at,
            item[0],
        ),
    )
    replaced: dict[uuid.UUID, list[uuid.UUID]] = {}
    for _, fact in ordered:
        if fact.superseded_by is not None:
            replaced.setdefault(fact.superseded_by, []).append(fact.id)
    return [
        HistoryEntry(
            fact=fact,
            status=version_status(fact, now=now),
            supersedes=replaced.get(fact.id, []),
        )
        for _, fact in ordered
    ]
