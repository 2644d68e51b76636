"""Temporal reconciliation: what newly stated facts do to the versions already stored.

Pure logic, no I/O. The write path resolves names to entity ids, builds candidate facts
(canonical predicate, one stating episode, ``valid_at`` = the stated time or else the
episode time, but None for a fact stated as already over without a start), loads every
version of the owner's facts that touch the candidates' subjects with the candidates'
predicates (for symmetric predicates, facts where those entities are the object too),
and writes the returned plan in one transaction.

Facts are compared per *slot*: one owner, one predicate, one entity on the subject side
(for a symmetric predicate, either side: ``A married_to B`` occupies A's and B's slots).
Within a slot, the versions of a ``one``-valued predicate form one chain in event time,
each version ending where the next begins; a ``many``-valued predicate has one chain
per object. A candidate lands in its chains at its ``valid_at``:

* the version covering that time has the same object: the candidate restates it
  (provenance merged, confidence raised, no new fact);
* the next version has the same object: the candidate restates it from earlier on
  (its ``valid_at`` moves back);
* otherwise the candidate is a new version: the version covering its time is closed
  (superseded), and if a newer version already exists the candidate is stored closed
  where that one begins (it arrived out of order).

A candidate with a stated end (``invalid_at``) is stored closed in event time but not
expired; it still supersedes the version it lands in, and nothing is assumed to resume
after its end. One with a stated end and an unknown start (``valid_at`` None: "I used
to live in Paris") restates an overlapping version of the same relation, or is stored
ending no later than the first known version of its chain; it never supersedes, and
two such facts may overlap each other, since their order is unknown.
Explicit endings close current versions without a successor.

A restatement folds into the version it restates, which keeps a single start time.
So if a different object later arrives whose time falls inside such a version, the
version ends there even when one of its restatements was dated after that time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from graphmem.errors import InvalidIdentifierError, InvalidInputError, ScopeViolationError
from graphmem.models.records import ExpiryReason, Fact
from graphmem.models.time import LATEST_SUPPORTED, ensure_utc, utcnow
from graphmem.temporal.predicates import PredicateCatalogue, normalize_predicate
from graphmem.temporal.versions import VersionIndex, fact_owner, version_start
from graphmem.temporal.view import TemporalView

# Believed at the end of system time: everything except corrected or retracted facts.
_LATEST_BELIEF = TemporalView(as_of=LATEST_SUPPORTED, known_at=LATEST_SUPPORTED)


@dataclass(frozen=True, slots=True)
class Ending:
    """A statement that a relation no longer holds ("I no longer work at Acme").

    ``predicate`` may be canonical or an ending phrasing ("quit"); ``object_id`` None
    ends every current object of the predicate.
    """

    subject_id: uuid.UUID
    predicate: str
    object_id: uuid.UUID | None
    ended_at: datetime
    episode_id: uuid.UUID | None = None


@dataclass(slots=True)
class ReconcilePlan:
    """What to write: every list holds final states, sharing objects across lists."""

    inserts: list[Fact] = field(default_factory=list)
    """New facts (possibly already closed, when they arrived out of order)."""
    updates: list[Fact] = field(default_factory=list)
    """Stored facts this plan changed (provenance merged, ``valid_at`` moved, closed)."""
    closed: list[Fact] = field(default_factory=list)
    """Facts of ``inserts`` and ``updates`` whose event-time end this plan set or moved."""
    reinforced: list[Fact] = field(default_factory=list)
    """Stored facts restated by a candidate (a subset of ``updates``)."""

    @property
    def is_empty(self) -> bool:
        """True when nothing needs writing."""
        return not (self.inserts or self.updates)


def reconcile(
    candidates: Sequence[Fact],
    existing: Sequence[Fact],
    endings: Sequence[Ending],
    catalogue: PredicateCatalogue,
    *,
    now: datetime,
) -> ReconcilePlan:
    """Decide how candidate facts and endings change the stored versions of one owner.

    Events apply in event-time order (ties: endings without an object, then
    candidates in input order, then endings naming an object). Stored facts that were
    corrected or retracted are ignored; inputs are never mutated.

    Raises :class:`~graphmem.errors.ScopeViolationError` if the facts belong to more
    than one owner, and :class:`~graphmem.errors.InvalidInputError` for a candidate
    with neither ``valid_at`` nor ``invalid_at``, with ``invalid_at`` not after
    ``valid_at``, with a non-canonical predicate, or with an id already in use.
    """
    now = ensure_utc(now, field="now")
    owners = {fact_owner(fact) for fact in (*candidates, *existing)}
    if len(owners) > 1:
        raise ScopeViolationError(f"reconcile compares one owner's facts, got {sorted(owners)}")
    run = _Reconciliation(catalogue, now)
    for fact in existing:
        if _LATEST_BELIEF.believed(fact) and fact.id not in run.versions.facts:
            run.versions.add(fact)
    events: list[tuple[datetime, int, int, Fact | Ending]] = []
    seen_ids = {fact.id for fact in existing}
    for index, candidate in enumerate(candidates):
        start = _check_candidate(candidate, seen_ids)
        events.append((start, 1, index, candidate))
    for index, ending in enumerate(endings):
        ended_at = ensure_utc(ending.ended_at, field="ended_at")
        events.append((ended_at, 0 if ending.object_id is None else 2, index, ending))
    events.sort(key=lambda event: event[:3])
    owner = next(iter(owners), None)
    for _, _, _, item in events:
        if isinstance(item, Fact):
            run.apply_candidate(item)
        elif owner is not None:
            run.apply_ending(item, owner)
    return run.plan()


def reopen_closed_by(
    facts: Sequence[Fact],
    episode_id: uuid.UUID,
    *,
    catalogue: PredicateCatalogue | None = None,
    now: datetime | None = None,
) -> list[Fact]:
    """Undo the closures an episode caused, for deleting that episode.

    ``facts`` should hold every version of the slots the episode touched (the facts
    citing it, the facts it closed, and the other versions of their subjects and
    predicates). The caller deletes the facts whose only provenance is the episode,
    removes the episode from the provenance of the others, and writes the facts
    returned here: copies of the facts closed by the episode, or superseded by a fact
    that goes away, re-opened. A re-opened fact that a surviving newer version of its
    chain follows is closed again where that version begins, so no two versions of a
    one-valued slot overlap. Event times an episode moved (an earlier ``valid_at``
    from a restatement) are not restored.
    """
    now = ensure_utc(now, field="now") if now is not None else utcnow()
    going = {f.id for f in facts if f.episode_ids and set(f.episode_ids) <= {episode_id}}
    versions = VersionIndex(catalogue or PredicateCatalogue.default())
    for fact in facts:
        if fact.id in going or fact.id in versions.facts or not _LATEST_BELIEF.believed(fact):
            continue
        versions.add(fact)
    reopened: list[Fact] = []
    for original in list(versions.facts.values()):
        if original.closed_by_episode_id != episode_id and original.superseded_by not in going:
            continue
        fact = versions.facts[original.id] = original.model_copy()
        fact.invalid_at = fact.expired_at = fact.expired_reason = None
        fact.superseded_by = fact.closed_by_episode_id = None
        follower = versions.next_version(fact, version_start(fact))
        if follower is not None:
            _close_before(fact, follower, original, now=now, undone=episode_id)
        if fact != original:
            reopened.append(fact)
    return reopened


def _close_before(
    fact: Fact, follower: Fact, original: Fact, *, now: datetime, undone: uuid.UUID
) -> None:
    """Close a re-opened ``fact`` where ``follower`` begins, keeping an unchanged closure."""
    fact.invalid_at = version_start(follower)
    fact.superseded_by = follower.id
    fact.closed_by_episode_id = _first_episode(follower, other_than=undone)
    kept = (original.superseded_by, original.invalid_at) == (follower.id, fact.invalid_at)
    if kept and original.expired_at is not None and original.expired_reason is not None:
        fact.expired_at, fact.expired_reason = original.expired_at, original.expired_reason
    else:
        fact.expired_at, fact.expired_reason = now, ExpiryReason.SUPERSEDED


def _covers(fact: Fact, moment: datetime) -> bool:
    return version_start(fact) <= moment and (fact.invalid_at is None or moment < fact.invalid_at)


def _first_episode(fact: Fact, other_than: uuid.UUID | None = None) -> uuid.UUID | None:
    return next((e for e in fact.episode_ids if e != other_than), None)


def _check_candidate(candidate: Fact, seen_ids: set[uuid.UUID]) -> datetime:
    if candidate.valid_at is None and candidate.invalid_at is None:
        raise InvalidInputError(f"candidate fact {candidate.id} needs valid_at or invalid_at")
    if candidate.invalid_at is not None and candidate.invalid_at <= version_start(candidate):
        raise InvalidInputError(f"candidate fact {candidate.id} ends before it begins")
    if normalize_predicate(candidate.predicate) != candidate.predicate:
        raise InvalidIdentifierError(
            f"candidate predicate {candidate.predicate!r} is not canonical snake_case"
        )
    if candidate.id in seen_ids:
        raise InvalidInputError(f"candidate fact id {candidate.id} is already in use")
    seen_ids.add(candidate.id)
    return version_start(candidate)


class _Reconciliation:
    """The working state of one :func:`reconcile` call."""

    def __init__(self, catalogue: PredicateCatalogue, now: datetime) -> None:
        self.versions = VersionIndex(catalogue)
        self.now = now
        self._originals: dict[uuid.UUID, Fact] = {}
        self._inserted: dict[uuid.UUID, None] = {}
        self._closed: dict[uuid.UUID, None] = {}
        self._restated: dict[uuid.UUID, None] = {}

    def apply_candidate(self, candidate: Fact) -> None:
        start = version_start(candidate)
        chains = self.versions.chains(candidate)
        if candidate.valid_at is None and candidate.invalid_at is not None:
            # Ended at a known time, started at an unknown one: it restates a version of
            # the same relation it overlaps, and it cannot supersede anything.
            end = candidate.invalid_at
            covering: list[Fact] = []
            restated = [
                v
                for chain in chains
                for v in chain
                if version_start(v) < end and self.versions.same_relation(v, candidate)
            ]
        else:
            covering = list(
                {v.id: v for chain in chains for v in chain if _covers(v, start)}.values()
            )
            restated = [v for v in covering if self.versions.same_relation(v, candidate)]
        if restated:
            self._restate(max(restated, key=version_start), candidate)
            return
        followers = [
            min((v for v in chain if version_start(v) > start), key=version_start, default=None)
            for chain in chains
        ]
        target = followers[0]
        if (
            target is not None
            and all(follower is target for follower in followers)
            and self.versions.same_relation(target, candidate)
            and (candidate.invalid_at is None or candidate.invalid_at >= version_start(target))
        ):
            for version in covering:
                self._supersede(version, start, target, candidate)
            self._restate(target, candidate)
            return
        self._insert(candidate.model_copy(), covering, followers)

    def apply_ending(self, ending: Ending, owner: str) -> None:
        predicate = self.versions.catalogue.resolve_ending(ending.predicate)
        ended_at = ensure_utc(ending.ended_at, field="ended_at")
        for version in self.versions.in_slot((owner, predicate, ending.subject_id)):
            partner = self.versions.partner(version, ending.subject_id)
            if ending.object_id is not None and partner != ending.object_id:
                continue
            if version.expired_at is not None or (
                version.invalid_at is not None and version.invalid_at <= ended_at
            ):
                continue
            version = self._writable(version)
            version.invalid_at = max(ended_at, version_start(version))
            version.expired_at = self.now
            version.expired_reason = ExpiryReason.ENDED
            version.closed_by_episode_id = ending.episode_id
            self._closed[version.id] = None

    def plan(self) -> ReconcilePlan:
        facts = self.versions.facts
        updated = [
            fact_id for fact_id, original in self._originals.items() if facts[fact_id] != original
        ]
        written = {*updated, *self._inserted}
        return ReconcilePlan(
            inserts=[facts[fact_id] for fact_id in self._inserted],
            updates=[facts[fact_id] for fact_id in updated],
            closed=[facts[fact_id] for fact_id in self._closed if fact_id in written],
            reinforced=[facts[fact_id] for fact_id in self._restated if fact_id in updated],
        )

    def _writable(self, fact: Fact) -> Fact:
        """The working copy of ``fact``; stored facts are copied on their first change."""
        if fact.id not in self._inserted and fact.id not in self._originals:
            self._originals[fact.id] = fact
            # Shallow is enough: fields are only ever reassigned, never changed in place.
            self.versions.facts[fact.id] = fact.model_copy()
        return self.versions.facts[fact.id]

    def _insert(self, new: Fact, covering: list[Fact], followers: list[Fact | None]) -> None:
        start = version_start(new)
        for version in covering:
            self._supersede(version, start, new, new)
        later = [follower for follower in followers if follower is not None]
        if later:
            follower = min(later, key=version_start)
            if new.invalid_at is None or new.invalid_at > version_start(follower):
                new.invalid_at = version_start(follower)
                new.expired_at = self.now
                new.expired_reason = ExpiryReason.ARRIVED_CLOSED
                new.superseded_by = follower.id
                # The follower's statement is what closes it: undoing that re-opens it.
                new.closed_by_episode_id = _first_episode(follower)
                self._closed[new.id] = None
        self._inserted[new.id] = None
        self.versions.add(new)

    def _restate(self, target: Fact, candidate: Fact) -> None:
        target = self._writable(target)
        old_start = version_start(target)
        target.episode_ids = list(dict.fromkeys((*target.episode_ids, *candidate.episode_ids)))
        target.confidence = max(target.confidence, candidate.confidence)
        if candidate.valid_at is not None and candidate.valid_at < old_start:
            target.valid_at = candidate.valid_at
        stated_end = candidate.invalid_at
        if (
            stated_end is not None
            and stated_end > old_start
            and target.invalid_at is None
            and target.expired_at is None
        ):
            target.invalid_at = stated_end
            target.closed_by_episode_id = _first_episode(candidate)
            self._closed[target.id] = None
        self._restated[target.id] = None

    def _supersede(self, version: Fact, at: datetime, successor: Fact, cause: Fact) -> None:
        """End ``version`` at ``at``: ``successor`` holds from then on."""
        version = self._writable(version)
        version.invalid_at = max(at, version_start(version))
        version.superseded_by = successor.id
        if version.expired_at is None:
            version.expired_at = self.now
            version.expired_reason = ExpiryReason.SUPERSEDED
            version.closed_by_episode_id = _first_episode(cause)
        elif version.expired_reason is ExpiryReason.ENDED:
            version.expired_reason = ExpiryReason.SUPERSEDED
        self._closed[version.id] = None
