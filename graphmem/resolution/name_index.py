"""In-memory index of one owner's entity names, for fuzzy and first-name matching.

Loading an owner's names is one store query; matching a batch against them is a
rapidfuzz matrix computation. The index is cached per owner and kept current with the
entities the resolver itself creates or renames; :meth:`NameIndexCache.invalidate`
drops it when something else changed the store (deletes, ``forget``, other writers).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable

from graphmem.resolution.lexical import fuzzy_key, person_tokens
from graphmem.resolution.names import normalize_name
from graphmem.resolution.store_reads import EntityLookup


class OwnerNameIndex:
    """Every name and alias of one owner's entities, in rapidfuzz-ready form."""

    def __init__(self) -> None:
        self.choices: list[str] = []
        """Fuzzy keys of names and aliases (parallel to :attr:`entity_ids`)."""
        self.entity_ids: list[uuid.UUID] = []
        self._seen: set[tuple[uuid.UUID, str]] = set()
        self._by_first_name: dict[str, set[uuid.UUID]] = {}

    def __len__(self) -> int:
        return len(self.choices)

    def add(self, entity_id: uuid.UUID, name: str, aliases: Iterable[str] = ()) -> None:
        """Index an entity's name and aliases (already indexed forms are skipped)."""
        tokens = person_tokens(normalize_name(name))
        if len(tokens) >= 2:
            self._by_first_name.setdefault(tokens[0], set()).add(entity_id)
        for form in (name, *aliases):
            key = fuzzy_key(normalize_name(form))
            if key and (entity_id, key) not in self._seen:
                self._seen.add((entity_id, key))
                self.choices.append(key)
                self.entity_ids.append(entity_id)

    def full_names_starting_with(self, first_name: str) -> set[uuid.UUID]:
        """Entities whose (multi-word) name begins with this normalized first word."""
        return set(self._by_first_name.get(first_name, ()))


class NameIndexCache:
    """Owner -> :class:`OwnerNameIndex`, least recently used owners evicted first.

    Thread-safe: callers hold :attr:`lock` while they read or update an index.
    """

    def __init__(self, store: EntityLookup, *, max_owners: int = 64) -> None:
        self._store = store
        self._max_owners = max_owners
        self._indexes: OrderedDict[str, OwnerNameIndex] = OrderedDict()
        self.lock = threading.RLock()

    def get(self, owner: str) -> OwnerNameIndex:
        """The owner's index, loaded from the store on first use (hold :attr:`lock`)."""
        index = self._indexes.get(owner)
        if index is not None:
            self._indexes.move_to_end(owner)
            return index
        index = OwnerNameIndex()
        for entity_id, name, aliases in self._store.entity_names(owner):
            index.add(entity_id, name, aliases)
        self._indexes[owner] = index
        while len(self._indexes) > self._max_owners:
            self._indexes.popitem(last=False)
        return index

    def loaded(self, owner: str) -> OwnerNameIndex | None:
        """The owner's index if it is cached, without loading it."""
        return self._indexes.get(owner)

    def invalidate(self, owner: str | None = None) -> None:
        """Forget one owner's cached names (or every owner's); the next use reloads."""
        with self.lock:
            if owner is None:
                self._indexes.clear()
            else:
                self._indexes.pop(owner, None)
