"""Where facts are corrected and deleted: update, delete, and undo of an episode."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from graphmem.errors import InvalidInputError, NotFoundError
from graphmem.models.records import AuditAction, AuditEvent, ExpiryReason, Fact
from graphmem.models.scope import Scope
from graphmem.models.time import utcnow
from graphmem.store.base import GraphStore, StoreTransaction
from graphmem.temporal.predicates import PredicateCatalogue
from graphmem.temporal.reconciler import reopen_closed_by


def _check_scope(
    record_scope: tuple[str | None, str | None, str | None], scope: Scope | None, what: str
) -> None:
    if scope is not None and not scope.contains(*record_scope):
        # The same error, worded the same, as a missing id: existence is not disclosed.
        raise NotFoundError(f"no {what}")


class Editor:
    """Corrections and deletions, each one transaction with an audit entry."""

    def __init__(
        self, store: GraphStore, catalogue: PredicateCatalogue, *, embed: Any = None
    ) -> None:
        self._store = store
        self._catalogue = catalogue
        self._embed = embed
        """Optional callable text -> list[float] for re-embedding corrected facts."""

    def update_fact(
        self,
        fact_id: uuid.UUID,
        *,
        scope: Scope | None,
        fact: str | None = None,
        valid_at: datetime | None = None,
        invalid_at: datetime | None = None,
        confidence: float | None = None,
        metadata: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> Fact:
        """Correct a fact: the old version is kept, expired as ``corrected``."""
        now = utcnow()
        with self._store.transaction() as tx:
            old = self._current(tx, fact_id, scope)
            changes: dict[str, Any] = {"id": uuid.uuid4(), "created_at": now}
            if fact is not None:
                changes["fact"] = fact
                if self._embed is not None:
                    changes["embedding"] = self._embed(fact)
            if valid_at is not None:
                changes["valid_at"] = valid_at
            if invalid_at is not None:
                changes["invalid_at"] = invalid_at
            if confidence is not None:
                changes["confidence"] = confidence
            if metadata is not None:
                changes["metadata"] = metadata
            if len(changes) == 2:
                raise InvalidInputError("update needs at least one field to change")
            new = old.model_copy(update=changes)
            if new.valid_at and new.invalid_at and new.invalid_at <= new.valid_at:
                raise InvalidInputError("invalid_at must be after valid_at")
            retired = old.model_copy(
                update={
                    "expired_at": now,
                    "expired_reason": ExpiryReason.CORRECTED,
                    "superseded_by": new.id,
                }
            )
            tx.put_facts([retired, new])
            tx.append_audit(
                [
                    AuditEvent(
                        at=now,
                        action=AuditAction.UPDATE,
                        owner=old.owner,
                        actor=actor,
                        target_ids=[old.id, new.id],
                        detail={
                            "fields": sorted(
                                k for k in changes if k not in ("id", "created_at", "embedding")
                            )
                        },
                    )
                ]
            )
        return new

    @staticmethod
    def _current(tx: StoreTransaction, fact_id: uuid.UUID, scope: Scope | None) -> Fact:
        found = tx.get_facts([fact_id])
        if not found:
            raise NotFoundError(f"no fact {fact_id}")
        fact = found[0]
        _check_scope((fact.user_id, fact.agent_id, fact.run_id), scope, f"fact {fact_id}")
        if fact.expired_at is not None and not (
            fact.expired_reason is not None and fact.expired_reason.closes_interval
        ):
            raise InvalidInputError(
                f"fact {fact_id} was already corrected or retracted; update its newest version "
                f"({fact.superseded_by})"
            )
        return fact

    def delete_fact(self, fact_id: uuid.UUID, *, scope: Scope | None, actor: str | None) -> None:
        """Hard-delete a fact; facts it had superseded become current again."""
        now = utcnow()
        with self._store.transaction() as tx:
            found = tx.get_facts([fact_id])
            if not found:
                raise NotFoundError(f"no fact {fact_id}")
            fact = found[0]
            _check_scope((fact.user_id, fact.agent_id, fact.run_id), scope, f"fact {fact_id}")
            closed = [
                f
                for f in tx.facts_touching(fact.owner, [fact.subject_id], [fact.predicate])
                if f.superseded_by == fact.id and f.expired_reason == ExpiryReason.SUPERSEDED
            ]
            reopened = [_reopen(f) for f in closed]
            tx.delete_facts([fact.id])
            if reopened:
                tx.put_facts(reopened)
            tx.append_audit(
                [
                    AuditEvent(
                        at=now,
                        action=AuditAction.DELETE,
                        owner=fact.owner,
                        actor=actor,
                        target_ids=[fact.id],
                        detail={"kind": "fact", "reopened": len(reopened)},
                    )
                ]
            )

    def delete_episode(
        self, episode_id: uuid.UUID, *, scope: Scope | None, actor: str | None
    ) -> dict[str, int]:
        """Undo an episode: drop facts only it supported, trim provenance, re-open what
        it closed."""
        now = utcnow()
        with self._store.transaction() as tx:
            episodes = self._store.get_episodes([episode_id])
            if not episodes:
                raise NotFoundError(f"no episode {episode_id}")
            episode = episodes[0]
            _check_scope(
                (episode.user_id, episode.agent_id, episode.run_id), scope, f"episode {episode_id}"
            )
            affected = tx.facts_citing_episodes([episode_id])
            only_source = [f for f in affected if f.episode_ids == [episode_id]]
            removed_ids = {f.id for f in only_source}
            trimmed = [
                f.model_copy(update={"episode_ids": [e for e in f.episode_ids if e != episode_id]})
                for f in affected
                if episode_id in f.episode_ids and f.id not in removed_ids
            ]
            # Re-opening must see every version of the affected relations, not only the
            # facts citing the episode, so that versions never overlap afterwards.
            chain = {f.id: f for f in affected}
            for related in tx.facts_touching(
                episode.owner,
                sorted({f.subject_id for f in affected} | {f.object_id for f in affected}),
                sorted({f.predicate for f in affected}),
            ):
                chain.setdefault(related.id, related)
            reopened = reopen_closed_by(
                [f for f in chain.values() if f.id not in removed_ids],
                episode_id,
                catalogue=self._catalogue,
                now=now,
            )
            # A fact both trimmed and re-opened must be written once, with both changes.
            merged: dict[uuid.UUID, Fact] = {f.id: f for f in trimmed}
            for fact in reopened:
                base = merged.get(fact.id)
                merged[fact.id] = (
                    fact
                    if base is None
                    else fact.model_copy(update={"episode_ids": base.episode_ids})
                )
            tx.delete_facts(sorted(removed_ids))
            if merged:
                tx.put_facts(list(merged.values()))
            tx.delete_episodes([episode_id])
            tx.append_audit(
                [
                    AuditEvent(
                        at=now,
                        action=AuditAction.DELETE_EPISODE,
                        owner=episode.owner,
                        actor=actor,
                        target_ids=[episode_id, *removed_ids],
                        detail={
                            "facts_removed": len(removed_ids),
                            "facts_trimmed": len(trimmed),
                            "facts_reopened": len(reopened),
                        },
                    )
                ]
            )
        return {
            "facts_removed": len(removed_ids),
            "facts_trimmed": len(trimmed),
            "facts_reopened": len(reopened),
        }

    def delete_entity(self, entity_id: uuid.UUID, *, actor: str | None) -> None:
        """Hard-delete an entity with its mentions and every fact touching it."""
        entities = self._store.get_entities([entity_id])
        if not entities:
            raise NotFoundError(f"no entity {entity_id}")
        with self._store.transaction() as tx:
            tx.delete_entities([entity_id])
            tx.append_audit(
                [
                    AuditEvent(
                        action=AuditAction.DELETE,
                        owner=entities[0].owner,
                        actor=actor,
                        target_ids=[entity_id],
                        detail={"kind": "entity"},
                    )
                ]
            )


def _reopen(fact: Fact) -> Fact:
    return fact.model_copy(
        update={
            "invalid_at": None,
            "expired_at": None,
            "expired_reason": None,
            "superseded_by": None,
            "closed_by_episode_id": None,
        }
    )
