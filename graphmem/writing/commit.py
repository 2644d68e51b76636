"""Committing a write draft: one batched embedding call, then one transaction.

Slow work (embedding, fuzzy resolution) happens before the write transaction; inside
it, graphmem only re-checks names that another writer may have created meanwhile,
reconciles against the current facts, and writes.

Everything one write embeds (its new episodes, the names of entities that may be new,
its fact sentences) goes to the embedder in a single call: on a CPU the fixed cost of
a call dominates short texts. Names and fact sentences embedded before come from a
:class:`~graphmem.embedding.cache.VectorCache` instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from graphmem.embedding.base import Embedder
from graphmem.embedding.batch import EmbeddingBatch
from graphmem.embedding.cache import VectorCache
from graphmem.lifecycle.expiry import stamp_fact_expiry
from graphmem.models.records import AuditAction, AuditEvent, Entity, Fact
from graphmem.models.results import AddResult
from graphmem.models.time import utcnow
from graphmem.resolution.resolver import EntityResolver
from graphmem.store.base import GraphStore, StoreTransaction
from graphmem.temporal.predicates import PredicateCatalogue
from graphmem.temporal.reconciler import Ending, ReconcilePlan, reconcile
from graphmem.writing.draft import WriteDraft
from graphmem.writing.name_parts import part_mentions


class DraftCommitter:
    """Resolves, embeds, reconciles and writes drafts into one store."""

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        resolver: EntityResolver,
        catalogue: PredicateCatalogue,
        *,
        embed_facts: bool,
        vector_cache: VectorCache,
    ) -> None:
        """``embed_facts`` False stores facts without sentence vectors."""
        self._store = store
        self._embedder = embedder
        self._resolver = resolver
        self._catalogue = catalogue
        self._embed_facts = embed_facts
        self._vector_cache = vector_cache

    def commit(self, draft: WriteDraft) -> AddResult:
        """Write ``draft`` in one transaction and say what it added, restated and closed."""
        scope = draft.scope
        owner = scope.owner
        stored = draft.stored_episode_ids
        pending = self._resolver.begin(owner, draft.mentions, scope=scope)
        new_episodes = [e for e in draft.episodes if e.id not in stored]
        batch = EmbeddingBatch(self._vector_cache)
        episode_part = batch.add([e.content for e in new_episodes])
        name_part = batch.add(pending.texts, reuse=True)
        fact_part = batch.add([f[3] for f in draft.facts] if self._embed_facts else [], reuse=True)
        batch.run(self._embedder)
        for episode, vector in zip(new_episodes, batch.vectors(episode_part), strict=True):
            episode.embedding = vector
        resolution = self._resolver.finish(pending, batch.vectors(name_part))
        entities = list(resolution.entities)
        fact_vectors = batch.vectors(fact_part) if self._embed_facts else None
        candidates = self._candidate_facts(draft, entities, fact_vectors)
        endings = [
            Ending(
                subject_id=entities[subject].id,
                predicate=self._catalogue.resolve_ending(predicate),
                object_id=entities[obj].id if obj is not None else None,
                ended_at=ended_at or draft.episodes[position].valid_at,
                episode_id=draft.episodes[position].id,
            )
            for subject, predicate, obj, ended_at, position in draft.endings
        ]
        now = utcnow()
        with self._store.transaction() as tx:
            self._adopt_concurrent_entities(tx, owner, entities, resolution.is_new, candidates)
            new_entities = {
                e.id: e for e, new in zip(entities, resolution.is_new, strict=True) if new
            }
            tx.put_episodes([e for e in draft.episodes if e.id not in stored])
            if new_entities or resolution.changed:
                tx.put_entities([*new_entities.values(), *resolution.changed])
            plan = self._reconcile(tx, owner, candidates, endings, now)
            stamp_fact_expiry(plan.inserts, plan.updates, draft.episodes, draft.fact_expiry)
            changed_facts = [*plan.inserts, *plan.updates]
            if changed_facts:
                tx.put_facts(changed_facts)
            mentions = {
                (draft.episodes[position].id, entities[slot].id)
                for slot, positions in enumerate(draft.mention_episodes)
                for position in positions
            }
            mentions |= part_mentions(tx, owner, draft, entities)
            if mentions:
                tx.put_mentions(sorted(mentions))
            tx.append_audit(self._audit(draft, plan, new_entities, now))
        return AddResult(
            episodes=draft.episodes,
            entities=list({e.id: e for e in entities}.values()),
            facts_added=plan.inserts,
            facts_reinforced=plan.reinforced,
            facts_closed=plan.closed,
            usage=draft.usage,
        )

    def _candidate_facts(
        self, draft: WriteDraft, entities: list[Entity], vectors: list[list[float]] | None
    ) -> list[Fact]:
        """One fact per drafted fact; ``vectors`` are their sentences' (None: unembedded)."""
        scope = draft.scope
        facts: list[Fact] = []
        for (
            subject,
            obj,
            predicate,
            sentence,
            valid_at,
            invalid_at,
            confidence,
            position,
            meta,
        ) in draft.facts:
            episode = draft.episodes[position]
            facts.append(
                Fact(
                    subject_id=entities[subject].id,
                    predicate=self._catalogue.canonical(predicate),
                    object_id=entities[obj].id,
                    fact=sentence,
                    subject_name=entities[subject].name,
                    object_name=entities[obj].name,
                    confidence=confidence,
                    episode_ids=[episode.id],
                    # A stated end with no stated start ("I used to live in Boston"):
                    # the start is unknown, not the episode's time.
                    valid_at=valid_at
                    if valid_at is not None or invalid_at is not None
                    else episode.valid_at,
                    invalid_at=invalid_at,
                    metadata=meta,
                    user_id=scope.user_id,
                    agent_id=scope.agent_id,
                    run_id=scope.run_id,
                )
            )
        if vectors is not None:
            for fact, vector in zip(facts, vectors, strict=True):
                fact.embedding = vector
        return facts

    @staticmethod
    def _adopt_concurrent_entities(
        tx: StoreTransaction,
        owner: str,
        entities: list[Entity],
        is_new: list[bool],
        candidates: list[Fact],
    ) -> None:
        """Another writer may have created the same names since resolution: reuse theirs."""
        fresh = {e.normalized_name: e for e, new in zip(entities, is_new, strict=True) if new}
        if not fresh:
            return
        replacements: dict[uuid.UUID, Entity] = {}
        for stored in tx.entities_by_names(owner, list(fresh)):
            mine = fresh.get(stored.normalized_name)
            if mine is not None and mine.id != stored.id:
                replacements[mine.id] = stored
        if not replacements:
            return
        for slot, entity in enumerate(entities):
            if entity.id in replacements:
                entities[slot] = replacements[entity.id]
                is_new[slot] = False
        for fact in candidates:
            if fact.subject_id in replacements:
                fact.subject_id = replacements[fact.subject_id].id
            if fact.object_id in replacements:
                fact.object_id = replacements[fact.object_id].id

    def _reconcile(
        self,
        tx: StoreTransaction,
        owner: str,
        candidates: list[Fact],
        endings: list[Ending],
        now: datetime,
    ) -> ReconcilePlan:
        entity_ids = {f.subject_id for f in candidates} | {f.object_id for f in candidates}
        entity_ids |= {e.subject_id for e in endings}
        entity_ids |= {e.object_id for e in endings if e.object_id is not None}
        predicates = {f.predicate for f in candidates} | {e.predicate for e in endings}
        existing = tx.facts_touching(owner, sorted(entity_ids), sorted(predicates))
        return reconcile(candidates, existing, endings, self._catalogue, now=now)

    @staticmethod
    def _audit(
        draft: WriteDraft, plan: ReconcilePlan, new_entities: dict[uuid.UUID, Entity], now: datetime
    ) -> list[AuditEvent]:
        owner = draft.scope.owner
        events = [
            AuditEvent(
                at=now,
                action=draft.action,
                owner=owner,
                target_ids=[e.id for e in draft.episodes] + [f.id for f in plan.inserts],
                detail={
                    "episodes": len(draft.episodes),
                    "entities_created": len(new_entities),
                    "facts_added": len(plan.inserts),
                    "facts_reinforced": len(plan.reinforced),
                    "llm_calls": draft.usage.calls,
                },
            )
        ]
        for fact in plan.closed:
            action = AuditAction.END if fact.superseded_by is None else AuditAction.SUPERSEDE
            events.append(
                AuditEvent(
                    at=now,
                    action=action,
                    owner=owner,
                    target_ids=[fact.id] + ([fact.superseded_by] if fact.superseded_by else []),
                    detail={"predicate": fact.predicate, "reason": str(fact.expired_reason)},
                )
            )
        return events
