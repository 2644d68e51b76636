"""Where facts are written: episodes -> extraction -> resolution -> reconciliation -> one commit.

Slow work (embedding, extraction, LLM calls, fuzzy resolution) happens before the
write transaction; inside it, graphmem only re-checks names that another writer may
have created meanwhile, reconciles against the current facts, and writes.

Everything one write embeds (its new episodes, the names of entities that may be new,
its fact sentences) goes to the embedder in a single call: on a CPU the fixed cost of
a call dominates short texts. Names and fact sentences embedded before come from a
:class:`~graphmem.embedding.cache.VectorCache` instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphmem.embedding.base import Embedder
from graphmem.embedding.batch import EmbeddingBatch
from graphmem.embedding.cache import VectorCache
from graphmem.errors import InvalidIdentifierError, NotFoundError
from graphmem.extraction.base import ExtractionRequest, Extractor, KnownEntity
from graphmem.extraction.models import ExtractedEntity, Extraction
from graphmem.lifecycle.expiry import stamp_fact_expiry
from graphmem.models.records import AuditAction, AuditEvent, Entity, Episode, Fact
from graphmem.models.results import AddResult, LLMUsage
from graphmem.models.scope import Scope
from graphmem.models.time import utcnow
from graphmem.resolution.names import normalize_name
from graphmem.resolution.resolver import EntityMention, EntityResolver
from graphmem.store.base import GraphStore, StoreTransaction
from graphmem.temporal.predicates import PredicateCatalogue
from graphmem.temporal.reconciler import Ending, ReconcilePlan, reconcile
from graphmem.writing.messages import EXTRACTED_ROLES, Message

MAX_KNOWN_ENTITIES = 300
"""Names of stored entities offered to the extractor as context."""


@dataclass(slots=True)
class TripleInput:
    """A validated pre-extracted triple (see ``Memory.add_facts``)."""

    subject: str
    predicate: str
    object: str
    fact: str | None = None
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    confidence: float = 1.0
    source: uuid.UUID | str | None = None
    subject_type: str = "Thing"
    object_type: str = "Thing"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Draft:
    """What one write will commit, assembled before the transaction."""

    scope: Scope
    episodes: list[Episode]
    mentions: list[EntityMention]
    mention_episodes: list[list[int]]
    facts: list[
        tuple[int, int, str, str, datetime | None, datetime | None, float, int, dict[str, Any]]
    ]
    """(subject mention, object mention, predicate, sentence, valid_at, invalid_at,
    confidence, episode position, metadata)."""
    endings: list[tuple[int, str, int | None, datetime | None, int]]
    """(subject mention, predicate, object mention or None, ended_at, episode position)."""
    action: AuditAction
    usage: LLMUsage = field(default_factory=LLMUsage)
    fact_expiry: datetime | None = None
    """An expiry for this write's facts that overrides their episodes' (add_facts)."""


class Ingestor:
    """Writes conversation turns and triples into a store, keeping every invariant."""

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        extractor: Extractor,
        resolver: EntityResolver,
        catalogue: PredicateCatalogue,
        *,
        recent_window: int = 6,
        embed_facts: bool = True,
        vector_cache: VectorCache | None = None,
    ) -> None:
        """``vector_cache`` remembers name and fact-sentence vectors across writes; by
        default the resolver's, which it clears when entities are deleted or forgotten."""
        self._store = store
        self._embedder = embedder
        self._extractor = extractor
        self._resolver = resolver
        self._catalogue = catalogue
        self._recent_window = recent_window
        self._embed_facts = embed_facts
        self._vector_cache = vector_cache if vector_cache is not None else resolver.vector_cache

    # -- conversation turns --------------------------------------------------------------
    def add_messages(
        self,
        messages: Sequence[Message],
        scope: Scope,
        *,
        metadata: dict[str, Any],
        timestamp: datetime | None,
        infer: bool = True,
        expires_at: datetime | None = None,
    ) -> AddResult:
        """Store one episode per message and, with ``infer``, what the extractor finds.

        ``expires_at`` stamps the episodes and every fact they state (see
        :mod:`graphmem.lifecycle`); images of multimodal messages are referenced in
        their episode's ``metadata["images"]``.
        """
        now = utcnow()
        episodes = [
            Episode(
                content=message.content,
                role=message.role,
                name=message.name,
                valid_at=timestamp or now,
                created_at=now,
                metadata=_episode_metadata(metadata, message),
                user_id=scope.user_id,
                agent_id=scope.agent_id,
                run_id=scope.run_id,
                expires_at=expires_at,
            )
            for message in messages
        ]
        draft = _Draft(scope, episodes, [], [], [], [], AuditAction.ADD)
        if infer:
            extractable = [e for e in episodes if e.role in EXTRACTED_ROLES]
            if extractable:
                outcome = self._extractor.extract(self._request(scope, extractable))
                draft.usage = outcome.usage
                positions = [episodes.index(e) for e in extractable]
                self._add_extraction(draft, outcome.extraction, positions, metadata)
        return self._commit(draft)

    def _request(self, scope: Scope, episodes: list[Episode]) -> ExtractionRequest:
        recent = self._store.recent_episodes(scope, limit=self._recent_window)
        known = [
            KnownEntity(name=name, type="Thing", aliases=tuple(aliases))
            for _, name, aliases in self._store.entity_names(scope.owner)[-MAX_KNOWN_ENTITIES:]
        ]
        speakers = list(dict.fromkeys(e.name for e in [*recent, *episodes] if e.name is not None))
        return ExtractionRequest(
            episodes=episodes,
            recent=recent,
            known_entities=known,
            speakers=speakers,
            user_name=scope.user_id,
        )

    def _add_extraction(
        self,
        draft: _Draft,
        extraction: Extraction,
        positions: list[int],
        metadata: dict[str, Any],
    ) -> None:
        """Translate an extraction (positions relative to the extracted episodes)."""
        index: dict[str, int] = {}

        def mention(name: str, entity: ExtractedEntity | None = None) -> int:
            key = normalize_name(name)
            if key in index:
                return index[key]
            index[key] = len(draft.mentions)
            draft.mentions.append(
                EntityMention(
                    name=name.strip(),
                    type=entity.type if entity else "Thing",
                    aliases=tuple(entity.aliases) if entity else (),
                )
            )
            draft.mention_episodes.append([])
            return index[key]

        def episode_at(position: int) -> int:
            return positions[min(position, len(positions) - 1)]

        for entity in extraction.entities:
            if not normalize_name(entity.name):
                continue
            slot = mention(entity.name, entity)
            where = entity.episodes or list(range(len(positions)))
            draft.mention_episodes[slot].extend(episode_at(p) for p in where)
        for fact in extraction.facts:
            if not normalize_name(fact.subject) or not normalize_name(fact.object):
                continue
            if not self._usable_predicate(fact.predicate):
                continue
            if fact.valid_at and fact.invalid_at and fact.invalid_at <= fact.valid_at:
                continue  # an extractor's impossible interval is dropped, not stored
            subject, obj = mention(fact.subject), mention(fact.object)
            position = episode_at(fact.episode)
            draft.mention_episodes[subject].append(position)
            draft.mention_episodes[obj].append(position)
            draft.facts.append(
                (
                    subject,
                    obj,
                    fact.predicate,
                    fact.fact,
                    fact.valid_at,
                    fact.invalid_at,
                    fact.confidence,
                    position,
                    dict(metadata),
                )
            )
        for ending in extraction.endings:
            if not normalize_name(ending.subject) or not self._usable_predicate(ending.predicate):
                continue
            obj_slot = (
                mention(ending.object)
                if ending.object is not None and normalize_name(ending.object)
                else None
            )
            draft.endings.append(
                (
                    mention(ending.subject),
                    ending.predicate,
                    obj_slot,
                    ending.ended_at,
                    episode_at(ending.episode),
                )
            )

    def _usable_predicate(self, predicate: str) -> bool:
        """Extractor output with a predicate that is no safe identifier is skipped."""
        try:
            self._catalogue.canonical(predicate)
        except InvalidIdentifierError:
            return False
        return True

    # -- pre-extracted triples -----------------------------------------------------------
    def add_triples(
        self,
        triples: Sequence[TripleInput],
        scope: Scope,
        *,
        default_source: uuid.UUID | str | None,
        timestamp: datetime | None,
        metadata: dict[str, Any],
        expires_at: datetime | None = None,
    ) -> AddResult:
        """Write triples with provenance; no extractor runs.

        ``expires_at`` stamps new source episodes and the triples' facts (also those
        citing a stored episode that does not expire).
        """
        now = utcnow()
        episodes: list[Episode] = []
        by_source: dict[uuid.UUID | str | None, int] = {}
        existing = self._existing_sources(triples, default_source, scope)
        draft = _Draft(
            scope, episodes, [], [], [], [], AuditAction.ADD_FACTS, fact_expiry=expires_at
        )
        index: dict[str, int] = {}

        def mention(name: str, entity_type: str) -> int:
            key = normalize_name(name)
            if key not in index:
                index[key] = len(draft.mentions)
                draft.mentions.append(EntityMention(name=name.strip(), type=entity_type))
                draft.mention_episodes.append([])
            return index[key]

        def episode_for(triple: TripleInput) -> int:
            source = triple.source if triple.source is not None else default_source
            if source not in by_source:
                by_source[source] = len(episodes)
                episodes.append(
                    existing.get(source)
                    or self._source_episode(
                        source, triples, scope, timestamp or now, now, metadata, expires_at
                    )
                )
            return by_source[source]

        for triple in triples:
            position = episode_for(triple)
            subject = mention(triple.subject, triple.subject_type)
            obj = mention(triple.object, triple.object_type)
            sentence = (
                triple.fact
                or f"{triple.subject} {triple.predicate.replace('_', ' ')} {triple.object}."
            )
            draft.facts.append(
                (
                    subject,
                    obj,
                    triple.predicate,
                    sentence,
                    triple.valid_at,
                    triple.invalid_at,
                    triple.confidence,
                    position,
                    {**metadata, **triple.metadata},
                )
            )
        stored = {episode.id for episode in existing.values()}
        return self._commit(draft, already_stored=stored)

    def _existing_sources(
        self,
        triples: Sequence[TripleInput],
        default_source: uuid.UUID | str | None,
        scope: Scope,
    ) -> dict[uuid.UUID | str | None, Episode]:
        """Sources that name stored episodes of this scope."""
        candidates = {t.source for t in triples if isinstance(t.source, uuid.UUID)}
        if isinstance(default_source, uuid.UUID):
            candidates.add(default_source)
        found = {e.id: e for e in self._store.get_episodes(list(candidates))} if candidates else {}
        for source in candidates:
            episode = found.get(source)
            if episode is None or not scope.contains(
                episode.user_id, episode.agent_id, episode.run_id
            ):
                raise NotFoundError(f"no episode {source} in scope {scope.describe()}")
        return {source: found[source] for source in candidates}

    @staticmethod
    def _source_episode(
        source: uuid.UUID | str | None,
        triples: Sequence[TripleInput],
        scope: Scope,
        valid_at: datetime,
        now: datetime,
        metadata: dict[str, Any],
        expires_at: datetime | None = None,
    ) -> Episode:
        if isinstance(source, str):
            content = source
        else:  # no source given: the triples themselves are the raw input
            content = "\n".join(
                f"{t.subject} | {t.predicate} | {t.object}" for t in triples if t.source is None
            )
        return Episode(
            content=content,
            role="document",
            valid_at=valid_at,
            created_at=now,
            metadata=dict(metadata),
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            expires_at=expires_at,
        )

    # -- the write -----------------------------------------------------------------------
    def _commit(self, draft: _Draft, already_stored: set[uuid.UUID] | None = None) -> AddResult:
        scope = draft.scope
        owner = scope.owner
        stored = already_stored or set()
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
        self, draft: _Draft, entities: list[Entity], vectors: list[list[float]] | None
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
        draft: _Draft, plan: ReconcilePlan, new_entities: dict[uuid.UUID, Entity], now: datetime
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


def _episode_metadata(metadata: dict[str, Any], message: Message) -> dict[str, Any]:
    """The caller's metadata, the message's own, and references to its images (never
    their data)."""
    merged = {**metadata, **(message.metadata or {})}
    if message.images:
        merged["images"] = [image.reference() for image in message.images]
    return merged
