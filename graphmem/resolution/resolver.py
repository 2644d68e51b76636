"""Entity resolution: which stored entity, if any, each extracted mention refers to.

Stages, cheapest first; each sees only what the previous ones left open:

1. collapse: mentions of one batch with the same name (or aliasing each other);
2. exact: a stored entity with that normalized name or alias (one store query);
3. fuzzy: the same words with one typo among the owner's names (rapidfuzz, batched);
4. first name: "Melanie" for the only stored person whose full name starts with it;
5. embedding: a close neighbour in the owner's entity vector index whose name contains
   the mention's words or abbreviates to it (the names' vectors come from one
   embedding call, shared with the rest of the write when it uses begin/finish, and
   names embedded before are not embedded again);
6. LLM (optional): the ambiguous remainder, many mentions per call;
7. otherwise a new entity.

Every stage compares only entities of the given owner and of compatible types.
Resolution never merges across owners: it queries the store for that owner only and
drops anything else a backend might return. It never writes: new entities and
entities that gained aliases are returned for the caller to store in its transaction.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

from graphmem.embedding.base import Embedder
from graphmem.embedding.batch import EmbeddingBatch
from graphmem.embedding.cache import VectorCache
from graphmem.errors import InvalidInputError, ScopeViolationError
from graphmem.llm.base import LLM
from graphmem.models.records import Entity
from graphmem.models.results import LLMUsage
from graphmem.models.scope import Scope
from graphmem.models.time import utcnow
from graphmem.resolution.adjudication import adjudicate
from graphmem.resolution.entity_types import compatible_types, sharper_type
from graphmem.resolution.mentions import MAX_ALIASES, EntityMention, collapse_mentions
from graphmem.resolution.name_index import NameIndexCache
from graphmem.resolution.names import normalize_name
from graphmem.resolution.outcome import MatchMethod, Resolution, ResolutionStats
from graphmem.resolution.run import PendingResolution, ResolutionRun, ResolverSettings
from graphmem.resolution.stages import (
    match_embeddings,
    match_exact,
    match_first_names,
    match_fuzzy,
)
from graphmem.resolution.store_reads import EntityLookup

__all__ = [
    "EntityMention",
    "EntityResolver",
    "MatchMethod",
    "PendingResolution",
    "Resolution",
    "ResolutionStats",
    "compatible_types",
    "embedding_text",
]


def embedding_text(name: str, type_name: str = "Thing") -> str:
    """The text an entity's embedding is computed from: its name alone.

    The type word is left out on purpose: with all-MiniLM-L6-v2, appending it lifts
    every pair of same-typed names toward each other ("dog"/"puppy" 0.80 -> 0.86,
    "Big Apple"/"New York City" 0.30 -> 0.48), which blurs the thresholds; types are
    compared exactly instead. ``type_name`` is accepted so that callers state both.
    """
    del type_name
    return name


class EntityResolver:
    """Resolves extracted entity mentions to an owner's stored entities or new ones."""

    def __init__(
        self,
        store: EntityLookup,
        embedder: Embedder,
        *,
        llm: LLM | None = None,
        fuzzy_threshold: float = 90.0,
        embedding_threshold: float = 0.85,
        ambiguous_band: tuple[float, float] = (0.70, 0.85),
        candidates_per_mention: int = 5,
        llm_batch_size: int = 40,
        max_cached_owners: int = 64,
        vector_cache: VectorCache | None = None,
    ) -> None:
        """Configure the thresholds; nothing is loaded until the first call.

        ``fuzzy_threshold`` is a rapidfuzz ``fuzz.ratio`` (0-100) that pre-selects
        spellings; ``embedding_threshold`` and ``ambiguous_band`` are cosine
        similarities. A best embedding candidate inside ``[low, high)`` (or above the
        threshold but without lexical evidence) is ambiguous and goes to ``llm`` when one
        is given, in batches of ``llm_batch_size``; otherwise it becomes a new entity.
        ``vector_cache`` remembers the vectors of names embedded before (a private one
        by default; writers that embed through :meth:`begin`/:meth:`finish` share it).
        """
        low, high = ambiguous_band
        if not 0.0 < fuzzy_threshold <= 100.0:
            raise InvalidInputError(f"fuzzy_threshold must be in (0, 100], got {fuzzy_threshold}")
        if not 0.0 < embedding_threshold <= 1.0:
            raise InvalidInputError(
                f"embedding_threshold must be in (0, 1], got {embedding_threshold}"
            )
        if not 0.0 < low <= high <= 1.0:
            raise InvalidInputError(
                "ambiguous_band must be (low, high) with 0 < low <= high <= 1, "
                f"got {ambiguous_band}"
            )
        for name, value in (
            ("candidates_per_mention", candidates_per_mention),
            ("llm_batch_size", llm_batch_size),
            ("max_cached_owners", max_cached_owners),
        ):
            if value < 1:
                raise InvalidInputError(f"{name} must be at least 1, got {value}")
        self._store = store
        self._embedder = embedder
        self._llm = llm
        self._settings = ResolverSettings(
            fuzzy_threshold=fuzzy_threshold,
            embedding_threshold=embedding_threshold,
            ambiguous_low=low,
            ambiguous_high=high,
            candidates_per_mention=candidates_per_mention,
        )
        self._llm_batch_size = llm_batch_size
        self._names = NameIndexCache(store, max_owners=max_cached_owners)
        self._vector_cache = vector_cache if vector_cache is not None else VectorCache()
        self._stats_lock = threading.Lock()
        self.stats = ResolutionStats()
        """Counters summed over every call (for benchmarks and monitoring)."""

    @property
    def vector_cache(self) -> VectorCache:
        """The cache of name (and, for writers sharing it, fact-sentence) vectors."""
        return self._vector_cache

    def invalidate_names(self, owner: str | None = None) -> None:
        """Drop cached entity names of one owner (or all) after outside changes.

        The resolver keeps its cache current with the entities it creates and renames;
        call this after deletes, ``forget``, or writes by another process. Cached
        vectors are dropped too, of every owner: they are not kept per owner, and the
        texts of deleted memories must not linger in the process.
        """
        self._names.invalidate(owner)
        self._vector_cache.clear()

    def resolve(self, owner: str, mentions: Sequence[EntityMention], *, scope: Scope) -> Resolution:
        """Resolve ``mentions`` against ``owner``'s entities (``scope`` must belong to it).

        Raises :class:`InvalidInputError` for malformed mentions and
        :class:`ScopeViolationError` if ``scope`` belongs to another owner.
        """
        pending = self.begin(owner, mentions, scope=scope)
        batch = EmbeddingBatch(self._vector_cache)
        names = batch.add(pending.texts, reuse=True)
        batch.run(self._embedder)
        return self.finish(pending, batch.vectors(names))

    def begin(
        self, owner: str, mentions: Sequence[EntityMention], *, scope: Scope
    ) -> PendingResolution:
        """Run the stages that need no vectors; the rest waits for :meth:`finish`.

        The caller embeds ``pending.texts`` together with whatever else its write has
        to embed (one model call in all) and hands their vectors to :meth:`finish`.
        Raises like :meth:`resolve`.
        """
        if not isinstance(scope, Scope):
            raise InvalidInputError(f"scope must be a Scope, got {type(scope).__name__}")
        if not isinstance(owner, str) or not scope.contains_entity(owner):
            raise ScopeViolationError(
                f"cannot resolve entities of {owner!r} in the scope of {scope.owner!r}"
            )
        groups, assignment = collapse_mentions(mentions)
        run = ResolutionRun(owner, groups, len(mentions))
        pending = PendingResolution(run=run, assignment=assignment, scope=scope)
        if groups:
            match_exact(run, self._store, self._settings)
            match_fuzzy(run, self._store, self._names, self._settings)
            match_first_names(run, self._store, self._names, self._settings)
            # Any group still unmatched may become a new entity, which needs a vector.
            pending.embed_groups = run.unmatched_groups()
            pending.texts = [
                embedding_text(groups[i].name, groups[i].type) for i in pending.embed_groups
            ]
        return pending

    def finish(self, pending: PendingResolution, vectors: Sequence[Sequence[float]]) -> Resolution:
        """Complete a resolution begun with :meth:`begin`, given the vectors of its texts.

        Raises :class:`InvalidInputError` if the vectors do not match ``pending.texts``
        or the resolution was already finished.
        """
        if pending.finished:
            raise InvalidInputError("this resolution has already been finished")
        if len(vectors) != len(pending.texts):
            raise InvalidInputError(
                f"expected {len(pending.texts)} vectors for the pending names, got {len(vectors)}"
            )
        pending.finished = True
        run = pending.run
        usage = LLMUsage()
        if run.groups:
            run.stats.embedded_texts += len(pending.texts)
            for index, vector in zip(pending.embed_groups, vectors, strict=True):
                run.vectors[index] = list(vector)
            match_embeddings(run, self._store, pending.scope, self._settings)
            usage = self._settle_ambiguities(run)
        new_entities = self._create_new_entities(run)
        changed = self._record_aliases_and_types(run)
        self._remember_names(run.owner, [*new_entities, *changed])
        with self._stats_lock:
            self.stats.merge(run.stats)
        entities = [run.settled(group) for group in pending.assignment]
        new_ids = {entity.id for entity in new_entities}
        return Resolution(
            entities=entities,
            is_new=[entity.id in new_ids for entity in entities],
            changed=changed,
            methods=[run.methods[group] for group in pending.assignment],
            stats=run.stats,
            llm_usage=usage,
        )

    def _settle_ambiguities(self, run: ResolutionRun) -> LLMUsage:
        """Ask the LLM about every ambiguous group (batched); fallbacks where it has no say."""
        ambiguities = list(run.ambiguities.values())
        if not ambiguities:
            return LLMUsage()
        if self._llm is None:
            for ambiguity in ambiguities:
                if ambiguity.fallback is not None:
                    run.match(ambiguity.group, ambiguity.fallback, ambiguity.fallback_method)
            return LLMUsage()
        outcome = adjudicate(self._llm, ambiguities, batch_size=self._llm_batch_size)
        run.stats.llm_calls += outcome.calls
        run.stats.llm_failures += outcome.failures
        for ambiguity, choice, answered in zip(
            ambiguities, outcome.choices, outcome.answered, strict=True
        ):
            if choice is not None:
                method = MatchMethod.LLM if answered else ambiguity.fallback_method
                run.match(ambiguity.group, choice, method)
        return outcome.usage

    def _create_new_entities(self, run: ResolutionRun) -> list[Entity]:
        created: list[Entity] = []
        for index in run.unmatched_groups():
            group = run.groups[index]
            entity = Entity(
                owner=run.owner,
                name=group.name,
                normalized_name=group.key,
                aliases=group.alias_forms,
                type=group.type,
                embedding=run.vectors[index],
            )
            run.match(index, entity, MatchMethod.NEW)
            created.append(entity)
        return created

    def _record_aliases_and_types(self, run: ResolutionRun) -> list[Entity]:
        """Add the surface forms a stored entity was not yet known by, and sharper types."""
        changed: dict[uuid.UUID, Entity] = {}
        for index, method in enumerate(run.methods):
            entity = run.settled(index)
            if method is MatchMethod.NEW:
                continue
            group = run.groups[index]
            known = {entity.normalized_name, *(normalize_name(a) for a in entity.aliases)}
            additions = [surface for key, surface in group.forms.items() if key not in known][
                : max(0, MAX_ALIASES - len(entity.aliases))
            ]
            sharper = sharper_type(entity.type, group.type)
            if additions:
                entity.aliases = [*entity.aliases, *additions]
            if sharper is not None:
                entity.type = sharper
            if additions or sharper is not None:
                entity.updated_at = utcnow()
                changed.setdefault(entity.id, entity)
        return list(changed.values())

    def _remember_names(self, owner: str, entities: list[Entity]) -> None:
        """Keep a cached name index current with what this call created or renamed."""
        with self._names.lock:
            index = self._names.loaded(owner)
            if index is not None:
                for entity in entities:
                    index.add(entity.id, entity.name, entity.aliases)
