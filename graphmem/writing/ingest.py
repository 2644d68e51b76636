"""Where facts are written: episodes -> extraction -> resolution -> reconciliation -> one commit.

The :class:`Ingestor` turns each kind of input into a :class:`~graphmem.writing.draft.WriteDraft`
(messages through the extractor, :mod:`~graphmem.writing.extraction_draft`; triples
directly, :mod:`~graphmem.writing.triple_draft`) and hands it to the
:class:`~graphmem.writing.commit.DraftCommitter`, which embeds and writes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graphmem.embedding.base import Embedder
from graphmem.embedding.cache import VectorCache
from graphmem.extraction.base import ExtractionRequest, Extractor, KnownEntity
from graphmem.models.records import AuditAction, Episode
from graphmem.models.results import AddResult
from graphmem.models.scope import Scope
from graphmem.models.time import utcnow
from graphmem.resolution.resolver import EntityResolver
from graphmem.store.base import GraphStore
from graphmem.temporal.predicates import PredicateCatalogue
from graphmem.writing.commit import DraftCommitter
from graphmem.writing.draft import WriteDraft
from graphmem.writing.extraction_draft import draft_extraction
from graphmem.writing.messages import EXTRACTED_ROLES, Message
from graphmem.writing.triple_draft import TripleDefaults, TripleInput, draft_triples

# TripleInput is re-exported: the triple validation builds it from here.
__all__ = ["MAX_KNOWN_ENTITIES", "Ingestor", "TripleInput"]

MAX_KNOWN_ENTITIES = 300
"""How many of the owner's most recently updated entities a write offers the extractor."""


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
        self._extractor = extractor
        self._catalogue = catalogue
        self._recent_window = recent_window
        self._committer = DraftCommitter(
            store,
            embedder,
            resolver,
            catalogue,
            embed_facts=embed_facts,
            vector_cache=vector_cache if vector_cache is not None else resolver.vector_cache,
        )

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
        draft = WriteDraft(scope, episodes, [], [], [], [], AuditAction.ADD)
        if infer:
            extractable = [e for e in episodes if e.role in EXTRACTED_ROLES]
            if extractable:
                outcome = self._extractor.extract(self._request(scope, extractable))
                draft.usage = outcome.usage
                positions = [episodes.index(e) for e in extractable]
                draft_extraction(draft, outcome.extraction, positions, metadata, self._catalogue)
        return self._committer.commit(draft)

    def _request(self, scope: Scope, episodes: list[Episode]) -> ExtractionRequest:
        recent = self._store.recent_episodes(scope, limit=self._recent_window)
        # The newest entities only: reading every name of a large owner on each write
        # would cost more than the rest of the write.
        newest = self._store.list_entities(scope, limit=MAX_KNOWN_ENTITIES)
        known = [
            KnownEntity(name=e.name, type=e.type, aliases=tuple(e.aliases))
            for e in reversed(newest)
        ]
        speakers = list(dict.fromkeys(e.name for e in [*recent, *episodes] if e.name is not None))
        return ExtractionRequest(
            episodes=episodes,
            recent=recent,
            known_entities=known,
            speakers=speakers,
            user_name=scope.user_id,
        )

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

        The keyword arguments apply to every triple (see :class:`TripleDefaults`).
        """
        defaults = TripleDefaults(default_source, timestamp, metadata, expires_at)
        return self._committer.commit(draft_triples(self._store, triples, scope, defaults))


def _episode_metadata(metadata: dict[str, Any], message: Message) -> dict[str, Any]:
    """The caller's metadata, the message's own, and references to its images (never
    their data)."""
    merged = {**metadata, **(message.metadata or {})}
    if message.images:
        merged["images"] = [image.reference() for image in message.images]
    return merged
