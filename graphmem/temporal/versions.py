"""The versions of facts a reconciliation works on, indexed by the slots they occupy.

A slot is one owner, one predicate and one entity on the subject side; a fact of a
symmetric predicate occupies the slots of both its ends. See
:mod:`graphmem.temporal.reconciler` for how versions within a slot are chained.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import lru_cache

from graphmem.models.records import Fact
from graphmem.models.scope import Scope
from graphmem.temporal.predicates import PredicateCatalogue, PredicateSpec

_BEGINNING = datetime.min.replace(tzinfo=UTC)

SlotKey = tuple[str, str, uuid.UUID]
"""(owner, predicate, entity on the subject side)."""


@lru_cache(maxsize=4096)
def _owner_of(user_id: str | None, agent_id: str | None, run_id: str | None) -> str:
    return Scope.model_construct(user_id=user_id, agent_id=agent_id, run_id=run_id).owner


def fact_owner(fact: Fact) -> str:
    """``fact.owner``, memoized: building it per fact dominated reconciling large slots."""
    return _owner_of(fact.user_id, fact.agent_id, fact.run_id)


def version_start(fact: Fact) -> datetime:
    """Where ``fact`` begins in event time; an unknown start sorts before every other."""
    return fact.valid_at if fact.valid_at is not None else _BEGINNING


class VersionIndex:
    """Believed fact versions, indexed by the slots they occupy."""

    def __init__(self, catalogue: PredicateCatalogue) -> None:
        self.catalogue = catalogue
        self.facts: dict[uuid.UUID, Fact] = {}
        self._slots: dict[SlotKey, list[uuid.UUID]] = {}
        self._specs: dict[str, PredicateSpec] = {}

    def spec(self, predicate: str) -> PredicateSpec:
        """The catalogue's spec of a canonical predicate, looked up once per predicate."""
        if predicate not in self._specs:
            self._specs[predicate] = self.catalogue.spec(predicate)
        return self._specs[predicate]

    def slot_keys(self, fact: Fact) -> list[SlotKey]:
        """The slots ``fact`` occupies: its subject's, and its object's if symmetric."""
        owner = fact_owner(fact)
        keys = [(owner, fact.predicate, fact.subject_id)]
        if self.spec(fact.predicate).symmetric and fact.object_id != fact.subject_id:
            keys.append((owner, fact.predicate, fact.object_id))
        return keys

    def add(self, fact: Fact) -> None:
        """Index ``fact`` under every slot it occupies."""
        self.facts[fact.id] = fact
        for key in self.slot_keys(fact):
            self._slots.setdefault(key, []).append(fact.id)

    def in_slot(self, key: SlotKey) -> list[Fact]:
        """The current state of every version in a slot, in the order they were added."""
        return [self.facts[fact_id] for fact_id in self._slots.get(key, [])]

    @staticmethod
    def partner(fact: Fact, entity: uuid.UUID) -> uuid.UUID:
        """The other end of ``fact`` as seen from ``entity``."""
        return fact.object_id if fact.subject_id == entity else fact.subject_id

    def same_relation(self, a: Fact, b: Fact) -> bool:
        """True when ``a`` and ``b`` state the same relation (either way if symmetric)."""
        if (fact_owner(a), a.predicate) != (fact_owner(b), b.predicate):
            return False
        if (a.subject_id, a.object_id) == (b.subject_id, b.object_id):
            return True
        swapped = (a.subject_id, a.object_id) == (b.object_id, b.subject_id)
        return swapped and self.spec(a.predicate).symmetric

    def chains(self, fact: Fact) -> list[list[Fact]]:
        """The versions ``fact`` competes with, one list per slot it occupies."""
        one_valued = self.spec(fact.predicate).one_valued
        chains = []
        for key in self.slot_keys(fact):
            partner = self.partner(fact, key[2])
            chains.append(
                [
                    version
                    for version in self.in_slot(key)
                    if one_valued or self.partner(version, key[2]) == partner
                ]
            )
        return chains

    def next_version(self, fact: Fact, moment: datetime) -> Fact | None:
        """The earliest version starting after ``moment`` in any of ``fact``'s chains."""
        later = [v for chain in self.chains(fact) for v in chain if version_start(v) > moment]
        return min(later, key=version_start) if later else None
