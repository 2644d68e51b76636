"""``graphmem.Memory``: the front door. Add conversation turns, search what is true.

Close to Mem0's API so its users can switch::

    from graphmem import Memory

    with Memory() as memory:
        memory.add("I moved to Denver last month", user_id="alice")
        result = memory.search("where does alice live?", user_id="alice")
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from graphmem.answering import Answer, answer_question
from graphmem.config import MemoryConfig
from graphmem.cypher import run_cypher
from graphmem.embedding.base import Embedder
from graphmem.errors import InvalidInputError, LLMNotConfiguredError
from graphmem.extraction.base import Extractor
from graphmem.filters import parse_filter
from graphmem.lifecycle import (
    DELETION_ACTIONS,
    DeletionRecord,
    GcReport,
    RetentionPolicy,
    collect_garbage,
    lifecycle_backend,
    parse_expiration,
    set_retention,
    without_expired,
)
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.models.results import (
    AddResult,
    HistoryEntry,
    MemorySnapshot,
    ResultKind,
    SearchResult,
)
from graphmem.models.scope import Scope
from graphmem.models.time import utcnow
from graphmem.resolution.resolver import EntityResolver
from graphmem.retrieval import Retriever, build_context
from graphmem.retrieval.lookup import get_record, history_of, snapshot_of
from graphmem.setup import build_components
from graphmem.store.base import CheckReport, GraphStore, ProgressCallback, ScopeCounts
from graphmem.temporal.predicates import PredicateCatalogue
from graphmem.temporal.view import TemporalView
from graphmem.writing.content import describe_images
from graphmem.writing.edits import Editor
from graphmem.writing.ingest import Ingestor
from graphmem.writing.messages import (
    check_metadata,
    check_text,
    check_timestamp,
    parse_messages,
)
from graphmem.writing.triples import parse_source, parse_triples

if TYPE_CHECKING:
    from graphmem.llm.base import LLM
    from graphmem.transfer import TransferCounts


def _uuid(value: uuid.UUID | str, what: str = "id") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a UUID or a string, got {type(value).__name__}")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInputError(f"{what} {value!r} is not a valid UUID") from None


def _limit(value: object, name: str = "limit") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise InvalidInputError(f"{name} must be an integer between 1 and 10000")
    return value


class Memory:
    """Long-term graph memory for one application.

    Construct with no arguments for the embedded store in ``$GRAPHMEM_HOME`` (default
    ``~/.graphmem``), the bundled MiniLM embedder and the offline rules extractor (or
    Claude / an OpenAI-compatible model when their API keys are set). Every part can
    be replaced: pass ``config=``, ``path=``, ``store=``, ``embedder=`` or ``extractor=``.
    """

    def __init__(
        self,
        config: MemoryConfig | None = None,
        *,
        path: str | Path | None = None,
        store: GraphStore | None = None,
        embedder: Embedder | None = None,
        extractor: Extractor | None = None,
        progress: ProgressCallback | None = None,
        llm: LLM | None = None,
    ) -> None:
        config = config or MemoryConfig()
        if path is not None:
            config = config.model_copy(update={"path": Path(path)})
        if llm is not None and extractor is None:
            from graphmem.extraction.llm_extractor import LLMExtractor

            extractor = LLMExtractor(llm, instructions=config.extraction_instructions)
        parts = build_components(
            config, store=store, embedder=embedder, extractor=extractor, progress=progress
        )
        self.config = config
        self._store: GraphStore = parts.store
        self._embedder: Embedder = parts.embedder
        self._extractor: Extractor = parts.extractor
        self._llm = llm if llm is not None else parts.llm
        self._catalogue: PredicateCatalogue = parts.catalogue
        self._resolver = EntityResolver(self._store, self._embedder, llm=self._llm)
        self._ingestor = Ingestor(
            self._store,
            self._embedder,
            self._extractor,
            self._resolver,
            self._catalogue,
            recent_window=config.recent_window,
            embed_facts=config.embed_facts,
        )
        self._editor = Editor(
            self._store,
            self._catalogue,
            embed=lambda text: self._embedder.embed([text])[0].tolist(),
        )
        self._retriever = Retriever(self._store, self._embedder)

    # -- parts -------------------------------------------------------------------------
    @property
    def store(self) -> GraphStore:
        """The backing graph store."""
        return self._store

    @property
    def embedder(self) -> Embedder:
        """The embedder in use."""
        return self._embedder

    @property
    def extractor(self) -> Extractor:
        """The extractor in use (``rules`` when no LLM is configured)."""
        return self._extractor

    @property
    def catalogue(self) -> PredicateCatalogue:
        """The predicate catalogue (cardinalities, synonyms)."""
        return self._catalogue

    # -- writing -----------------------------------------------------------------------
    def add(
        self,
        messages: str | Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: datetime | str | float | None = None,
        infer: bool = True,
        expiration_date: datetime | date | str | timedelta | None = None,
        memory_type: str | None = None,
    ) -> AddResult:
        """Remember conversation turns.

        ``messages`` is a string (one user turn), an OpenAI-style ``{"role", "content",
        "name"?}`` dict, or a list of them; ``content`` may be a list of ``text`` and
        ``image_url`` parts (images are described by the LLM, or stored with their
        ``caption``/``alt`` offline). Each message becomes an episode; with ``infer``
        (the default) the extractor turns them into entities and facts, reconciled with
        what the scope already knows. ``timestamp`` is when the turns were said.

        ``expiration_date`` (a datetime, a date or ``YYYY-MM-DD`` kept through that
        day, or a timedelta from now) makes the episodes, and the facts they state,
        leave default reads then; ``gc`` purges them. ``memory_type="procedural"``
        with an ``agent_id`` stores an LLM-written summary of how the agent did the
        task (see :mod:`graphmem.procedural`).
        """
        from graphmem import procedural

        scope = Scope.of(user_id, agent_id, run_id)
        kind = procedural.memory_type(memory_type)
        parsed = parse_messages(messages, max_chars=self.config.max_message_chars)
        checked_metadata = check_metadata(metadata)
        checked_timestamp = check_timestamp(timestamp)
        expires_at = parse_expiration(expiration_date)
        if kind == procedural.PROCEDURAL:
            llm = procedural.check_procedural_call(agent_id, self._llm)
            summary, usage = procedural.summarize_procedure(llm, parsed)
            assert agent_id is not None  # checked above
            result = self._ingestor.add_messages(
                procedural.procedural_messages(parsed, summary, agent_id),
                scope,
                metadata=checked_metadata,
                timestamp=checked_timestamp,
                infer=False,
                expires_at=expires_at,
            )
            return result.model_copy(update={"usage": result.usage + usage})
        parsed, image_usage = describe_images(parsed, self._llm)
        result = self._ingestor.add_messages(
            parsed,
            scope,
            metadata=checked_metadata,
            timestamp=checked_timestamp,
            infer=bool(infer),
            expires_at=expires_at,
        )
        if image_usage.calls:
            result = result.model_copy(update={"usage": result.usage + image_usage})
        return result

    def add_facts(
        self,
        triples: Sequence[Any],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        source: uuid.UUID | str | None = None,
        timestamp: datetime | str | float | None = None,
        metadata: Mapping[str, Any] | None = None,
        expiration_date: datetime | date | str | timedelta | None = None,
    ) -> AddResult:
        """Remember pre-extracted triples without any LLM.

        Each triple is ``(subject, predicate, object[, fact[, valid_at]])`` or a dict with
        those keys (plus ``invalid_at``, ``confidence``, ``source``, ``subject_type``,
        ``object_type``, ``metadata``). ``source`` is the provenance: the id of a stored
        episode, or a text that is stored as a new episode (default: the triples).
        """
        scope = Scope.of(user_id, agent_id, run_id)
        parsed = parse_triples(triples, max_chars=self.config.max_message_chars)
        default_source = parse_source(source, max_chars=self.config.max_message_chars)
        return self._ingestor.add_triples(
            parsed,
            scope,
            default_source=default_source,
            timestamp=check_timestamp(timestamp),
            metadata=check_metadata(metadata),
            expires_at=parse_expiration(expiration_date),
        )

    # -- reading -----------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 10,
        filters: Mapping[str, Any] | None = None,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        include: Iterable[ResultKind | str] | None = None,
    ) -> SearchResult:
        """Facts, entities and episodes relevant to ``query``, best first.

        Facts are those valid now, or at event time ``as_of`` as known at system time
        ``known_at``; each carries its score, validity, provenance and the graph paths
        that connect it to the query's entry points.

        ``include`` picks what to return: any of ``"facts"``, ``"entities"`` and
        ``"episodes"`` (default: all three). The kinds left out come back as empty
        lists and cost nothing: ``include=["facts"]`` returns the same facts as a full
        search without reading the episode indexes or ranking episodes.
        """
        scope = Scope.of(user_id, agent_id, run_id)
        if not isinstance(query, str) or not query.strip():
            raise InvalidInputError("query must be a non-empty string")
        kinds = ResultKind.parse(include)
        view = TemporalView.at(as_of, known_at)
        result = self._retriever.search(
            query,
            scope,
            limit=_limit(limit),
            view=view,
            filters=parse_filter(filters),
            include=kinds,
        )
        return without_expired(result)

    def context(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        max_tokens: int = 1000,
        as_of: datetime | None = None,
    ) -> str:
        """A prompt-ready block of what memory knows about ``query``, within ``max_tokens``."""
        result = self._context_search(query, user_id, agent_id, run_id, as_of)
        return build_context(result, max_tokens=_limit(max_tokens, "max_tokens"))

    def answer(
        self,
        question: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        as_of: datetime | None = None,
        max_context_tokens: int = 2000,
    ) -> Answer:
        """Answer a question from memory with the configured LLM, citing fact ids.

        Raises :class:`~graphmem.errors.LLMNotConfiguredError` when no LLM is set up.
        """
        if self._llm is None:
            raise LLMNotConfiguredError(
                "answer() needs an LLM: set ANTHROPIC_API_KEY or OPENAI_API_KEY, or pass "
                "MemoryConfig(llm=LLMConfig(...))"
            )
        result = self._context_search(question, user_id, agent_id, run_id, as_of)
        context = build_context(result, max_tokens=max_context_tokens, cite_ids=True)
        allowed = {hit.fact.id for hit in result.facts}
        return answer_question(self._llm, question, context, allowed)

    def _context_search(
        self,
        query: str,
        user_id: str | None,
        agent_id: str | None,
        run_id: str | None,
        as_of: datetime | None,
    ) -> SearchResult:
        """What a context block is written from: the best 30 facts and episodes (it
        lists no entities)."""
        return self.search(
            query,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            limit=30,
            as_of=as_of,
            include=(ResultKind.FACTS, ResultKind.EPISODES),
        )

    def get(
        self,
        record_id: uuid.UUID | str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Fact | Entity | Episode:
        """A fact, entity or episode by id; with a scope, only if it belongs to it."""
        return get_record(self._store, _uuid(record_id), Scope.optional(user_id, agent_id, run_id))

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
        filters: Mapping[str, Any] | None = None,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
    ) -> MemorySnapshot:
        """The scope's facts (valid at ``as_of`` as known at ``known_at``), entities and
        episodes, newest first; ``filters`` apply to facts' and episodes' metadata."""
        return snapshot_of(
            self._store,
            Scope.of(user_id, agent_id, run_id),
            limit=_limit(limit),
            condition=parse_filter(filters),
            view=TemporalView.at(as_of, known_at),
            now=utcnow(),
        )

    def history(
        self,
        record_id: uuid.UUID | str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryEntry]:
        """Every version of a fact (or of every fact of an entity), oldest first."""
        record = self.get(record_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
        return history_of(
            self._store, record, Scope.optional(user_id, agent_id, run_id), now=utcnow()
        )

    def audit_log(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """The scope owner's newest audit events."""
        scope = Scope.of(user_id, agent_id, run_id)
        return self._store.audit_log(scope.owner, limit=_limit(limit))

    def cypher(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        history: bool = False,
    ) -> list[dict[str, Any]]:
        """Run a read-only Cypher query over one scope's graph (see :mod:`graphmem.cypher`).

        Only the scope's records are visible, whatever the query says; writes,
        procedure calls and administration are rejected with a ``CypherError``.
        Fact relationships are those true now, or every version with ``history``.
        """
        if not isinstance(query, str) or not query.strip():
            raise InvalidInputError("query must be a non-empty string")
        if params is not None and not isinstance(params, Mapping):
            raise InvalidInputError(f"params must be a dict, got {type(params).__name__}")
        scope = Scope.of(user_id, agent_id, run_id)
        return run_cypher(self._store, query, params, scope, history=history)

    # -- changing and deleting ---------------------------------------------------------
    def update(
        self,
        fact_id: uuid.UUID | str,
        *,
        fact: str | None = None,
        valid_at: datetime | str | None = None,
        invalid_at: datetime | str | None = None,
        confidence: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Fact:
        """Correct a fact. The old version stays in history, marked ``corrected``."""
        scope = Scope.optional(user_id, agent_id, run_id)
        if fact is not None:  # the same rules as any stored text: length, NUL, Unicode
            fact = check_text(fact, field="fact", max_chars=self.config.max_message_chars)
        if confidence is not None and not (
            isinstance(confidence, int | float) and 0 <= confidence <= 1
        ):
            raise InvalidInputError("confidence must be a number between 0 and 1")
        return self._editor.update_fact(
            _uuid(fact_id, "fact_id"),
            scope=scope,
            fact=fact,
            valid_at=check_timestamp(valid_at, field="valid_at"),
            invalid_at=check_timestamp(invalid_at, field="invalid_at"),
            confidence=float(confidence) if confidence is not None else None,
            metadata=check_metadata(metadata) if metadata is not None else None,
        )

    def delete(
        self,
        record_id: uuid.UUID | str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> None:
        """Hard-delete a fact, an episode (undoing what it caused) or an entity."""
        scope = Scope.optional(user_id, agent_id, run_id)
        record = self.get(record_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
        if isinstance(record, Fact):
            self._editor.delete_fact(record.id, scope=scope, actor=None)
        elif isinstance(record, Episode):
            self._editor.delete_episode(record.id, scope=scope, actor=None)
        else:
            self._editor.delete_entity(record.id, actor=None)
            self._resolver.invalidate_names(record.owner)

    def delete_episode(
        self,
        episode_id: uuid.UUID | str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> dict[str, int]:
        """Remove an episode and undo its effects; returns counts of what changed."""
        scope = Scope.optional(user_id, agent_id, run_id)
        return self._editor.delete_episode(_uuid(episode_id, "episode_id"), scope=scope, actor=None)

    def forget(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> ScopeCounts:
        """Hard-delete everything of a scope, across the graph and every index."""
        scope = Scope.of(user_id, agent_id, run_id)
        try:
            return self._store.forget(scope)
        finally:
            self._resolver.invalidate_names(scope.owner)

    def reset(self) -> None:
        """Delete every memory of every scope. There is no undo."""
        try:
            self._store.reset()
        finally:
            self._resolver.invalidate_names()

    # -- administration ----------------------------------------------------------------
    def stats(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> ScopeCounts:
        """Record counts of one scope, or of the whole store when no id is given."""
        return self._store.counts(Scope.optional(user_id, agent_id, run_id))

    def reindex(self, progress: ProgressCallback | None = None) -> None:
        """Rebuild the vector and keyword indexes from the source of truth."""
        self._store.reindex(progress)

    def check(self, *, repair: bool = False) -> CheckReport:
        """Check the store's integrity; with ``repair``, rebuild derived data."""
        return self._store.check(repair=repair)

    # -- lifecycle ---------------------------------------------------------------------
    def set_retention(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        max_age: timedelta | float | None,
    ) -> RetentionPolicy | None:
        """Keep the scope's records for ``max_age`` (a timedelta, or days) from when they
        were stored; ``gc`` purges older ones. ``max_age=None`` removes the policy.

        The policy is stored in the store (and audited); it returns the new policy, or
        None when one was removed.
        """
        scope = Scope.of(user_id, agent_id, run_id)
        return set_retention(lifecycle_backend(self._store), scope, max_age)

    def retention_policies(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[RetentionPolicy]:
        """The retention policies of a scope's owner, or of every owner."""
        scope = Scope.optional(user_id, agent_id, run_id)
        return lifecycle_backend(self._store).policies(scope.owner if scope else None)

    def gc(
        self,
        *,
        dry_run: bool = False,
        now: datetime | None = None,
        progress: ProgressCallback | None = None,
    ) -> GcReport:
        """Purge expired records and those past their scope's retention policy.

        Each purged episode is undone like ``delete_episode``; entities left without
        any mention or fact go too; each owner gets a content-free ``purge`` deletion
        record. ``dry_run`` only counts; ``now`` evaluates expiry at another time.
        """
        moment = check_timestamp(now, field="now") or utcnow()
        try:
            return collect_garbage(
                self._store,
                lifecycle_backend(self._store),
                self._editor,
                now=moment,
                dry_run=dry_run,
                progress=progress,
            )
        finally:
            self._resolver.invalidate_names()

    def deletion_records(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
    ) -> list[DeletionRecord]:
        """Content-free records of erasures (forget, gc purges, deletes), newest first:
        what scope, when, how many records, why. Of one owner, or of every owner."""
        scope = Scope.optional(user_id, agent_id, run_id)
        events = lifecycle_backend(self._store).audit_events(
            scope.owner if scope else None, DELETION_ACTIONS, _limit(limit)
        )
        return [DeletionRecord.from_event(event) for event in events]

    # -- export and import -------------------------------------------------------------
    def export(
        self,
        destination: str | Path | IO[str],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        embeddings: bool = True,
        progress: ProgressCallback | None = None,
    ) -> TransferCounts:
        """Write the whole store, or one scope, as a graphmem export (JSON Lines; a path
        ending in ``.gz`` is compressed). ``embeddings`` (default on) keeps the vectors
        so that an import into a store of the same embedder is exact."""
        from graphmem.transfer import export_records, open_text

        scope = Scope.optional(user_id, agent_id, run_id)
        if isinstance(destination, str | Path):
            with open_text(Path(destination), "w") as handle:
                return export_records(
                    self._store, handle, scope=scope, embeddings=embeddings, progress=progress
                )
        return export_records(
            self._store, destination, scope=scope, embeddings=embeddings, progress=progress
        )

    def import_from(
        self,
        source: str | Path | IO[str],
        *,
        reembed: bool = False,
        progress: ProgressCallback | None = None,
    ) -> TransferCounts:
        """Read a graphmem export into this store (see :mod:`graphmem.transfer`).

        The file is validated completely before anything is written; its owners must
        hold no records here. Vectors of another embedder are refused unless
        ``reembed``, which embeds every text with this memory's embedder.
        """
        from graphmem.transfer import import_records

        counts = import_records(
            self._store, source, embedder=self._embedder, reembed=reembed, progress=progress
        )
        for owner in counts.owners:
            self._resolver.invalidate_names(owner)
        return counts

    def close(self) -> None:
        """Flush indexes and release the store. Idempotent."""
        self._store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = ["Memory", "MemorySnapshot"]
