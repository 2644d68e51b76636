"""The store reads entity resolution needs, as a protocol of their own.

Every :class:`~graphmem.store.base.GraphStore` backend provides these; naming only
them keeps resolution testable against any object that answers the four reads, and
documents that resolution never writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from graphmem.models.records import Entity
from graphmem.models.scope import Scope
from graphmem.store.base import IndexKind


class EntityLookup(Protocol):
    """Read access to an owner's entities by name, by id, and by vector."""

    def entities_by_names(self, owner: str, normalized_names: Sequence[str]) -> list[Entity]:
        """Entities of ``owner`` whose normalized name or an alias matches one given."""
        ...

    def entity_names(self, owner: str) -> list[tuple[uuid.UUID, str, list[str]]]:
        """``(id, name, aliases)`` of every entity of ``owner``."""
        ...

    def get_entities(self, ids: Sequence[uuid.UUID]) -> list[Entity]:
        """Entities by id (unscoped: the caller checks the owner)."""
        ...

    def vector_search(
        self, kind: IndexKind, scope: Scope, vector: Sequence[float], k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """Nearest records of ``kind`` in the scope by cosine similarity, best first."""
        ...
