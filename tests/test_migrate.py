"""Migration between stores: every record, embedding and time field arrives, verified."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from graphmem.errors import EmbedderMismatchError, InvalidInputError
from graphmem.models.records import (
    AuditAction,
    AuditEvent,
    Entity,
    Episode,
    ExpiryReason,
    Fact,
)
from graphmem.models.scope import Scope
from graphmem.store.base import EmbedderInfo
from graphmem.store.embedded.store import EmbeddedStore
from graphmem.store.migrate import MigrationCounts, migrate

EMBEDDER = EmbedderInfo("test-embedder", 8)
T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
SCOPES = [
    Scope.of(user_id="alice"),
    Scope.of(user_id="alice", agent_id="coach", run_id="r1"),
    Scope.of(user_id="bob"),
    Scope.of(agent_id="support-bot"),
]


def unit(rng: np.random.Generator) -> list[float]:
    vector = rng.normal(size=8)
    return [float(x) for x in vector / np.linalg.norm(vector)]


@dataclass
class Written:
    """What :func:`fill` wrote."""

    episodes: list[Episode] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)


def by_id(records: Sequence[Episode | Entity | Fact]) -> dict[object, object]:
    return {record.id: record for record in records}


def fill(store: EmbeddedStore) -> Written:
    """Records of every kind, for several scopes, with every optional field set somewhere."""
    rng = np.random.default_rng(11)
    written = Written()
    for number, scope in enumerate(SCOPES):
        people = [
            Entity(
                owner=scope.owner, name=f"Person {number}-{i}",
                normalized_name=f"person {number}-{i}", aliases=[f"P{number}{i}"],
                type="Person", summary=f"summary {i}",
                created_at=T0, updated_at=T0 + timedelta(hours=i), metadata={"rank": i},
                embedding=unit(rng),
            )
            for i in range(3)
        ]  # fmt: skip
        episodes = [
            Episode(
                content=f"Episode {i} of scope {number} about Person {number}-{i}",
                role="user" if i % 2 else "assistant", name=f"speaker {i}",
                valid_at=T0 + timedelta(days=i), created_at=T0 + timedelta(days=i, minutes=1),
                metadata={"i": i, "tags": ["a", "b"]}, embedding=unit(rng),
            )
            for i in range(3)
        ]  # fmt: skip
        old = Fact(
            subject_id=people[0].id, predicate="works_at", object_id=people[1].id,
            fact=f"Person {number}-0 worked with Person {number}-1", confidence=0.7,
            episode_ids=[episodes[0].id], valid_at=T0, invalid_at=T0 + timedelta(days=2),
            created_at=T0, expired_at=T0 + timedelta(days=2),
            expired_reason=ExpiryReason.SUPERSEDED, closed_by_episode_id=episodes[2].id,
            metadata={"from": "test"}, embedding=unit(rng),
        )  # fmt: skip
        new = Fact(
            subject_id=people[0].id, predicate="works_at", object_id=people[2].id,
            fact=f"Person {number}-0 works with Person {number}-2",
            episode_ids=[episodes[2].id, episodes[1].id], valid_at=T0 + timedelta(days=2),
            created_at=T0 + timedelta(days=2), embedding=unit(rng),
        )  # fmt: skip
        old.superseded_by = new.id
        for record in [*episodes, old, new]:
            record.stamp(scope)
        mentions = [
            (episode.id, person.id) for episode, person in zip(episodes, people, strict=True)
        ]
        with store.transaction() as tx:
            tx.put_entities(people)
            tx.put_episodes(episodes)
            tx.put_facts([old, new])
            tx.put_mentions(mentions)
            tx.append_audit(
                [
                    AuditEvent(
                        action=AuditAction.ADD, owner=scope.owner, actor=f"actor {number}",
                        at=T0 + timedelta(seconds=number), target_ids=[new.id],
                        detail={"episodes": 3},
                    ),
                    AuditEvent(
                        action=AuditAction.SUPERSEDE, owner=scope.owner,
                        at=T0 + timedelta(seconds=number), target_ids=[old.id, new.id],
                    ),
                ]
            )  # fmt: skip
        written.episodes += episodes
        written.entities += people
        written.facts += [old, new]
    return written


@pytest.fixture
def source(tmp_path: Path) -> Iterator[EmbeddedStore]:
    with EmbeddedStore(tmp_path / "source", EMBEDDER) as store:
        yield store


@pytest.fixture
def target(tmp_path: Path) -> Iterator[EmbeddedStore]:
    with EmbeddedStore(tmp_path / "target", EMBEDDER) as store:
        yield store


def test_every_record_is_copied_with_embeddings_and_times(
    source: EmbeddedStore, target: EmbeddedStore
) -> None:
    written = fill(source)
    calls: list[tuple[str, int, int]] = []
    counts = migrate(source, target, lambda *call: calls.append(call), batch=2)

    assert counts == MigrationCounts(episodes=12, entities=12, facts=8, mentions=12, audit_events=8)
    assert target.counts() == source.counts()
    for scope in SCOPES:
        assert target.counts(scope) == source.counts(scope)

    episode_ids = [episode.id for episode in written.episodes]
    entity_ids = [entity.id for entity in written.entities]
    fact_ids = [fact.id for fact in written.facts]
    assert by_id(target.get_episodes(episode_ids)) == by_id(source.get_episodes(episode_ids))
    assert by_id(target.get_entities(entity_ids)) == by_id(source.get_entities(entity_ids))
    copied_facts = target.get_facts(fact_ids)
    assert by_id(copied_facts) == by_id(source.get_facts(fact_ids))
    superseded = [f for f in copied_facts if f.expired_reason is ExpiryReason.SUPERSEDED]
    assert len(superseded) == 4
    assert all(
        f.invalid_at and f.expired_at and f.superseded_by and f.closed_by_episode_id
        for f in superseded
    )
    assert target.mentions_of_episodes(episode_ids) == source.mentions_of_episodes(episode_ids)
    assert target.audit_log(None, limit=100) == source.audit_log(None, limit=100)

    # Embeddings arrived: vector search answers the same in both stores.
    rng = np.random.default_rng(5)
    for scope in SCOPES:
        for kind in ("entity", "episode", "fact"):
            query = unit(rng)
            copied, original = (
                store.vector_search(kind, scope, query, 3) for store in (target, source)
            )
            assert [record_id for record_id, _ in copied] == [i for i, _ in original]
            assert [score for _, score in copied] == pytest.approx([s for _, s in original])
        assert target.keyword_search("episode", scope, "Episode Person", 5) == (
            source.keyword_search("episode", scope, "Episode Person", 5)
        )

    stages = [stage for stage, _, _ in calls]
    assert stages[0] == "entities"
    assert stages[-1] == "audit"
    final = {stage: (done, total) for stage, done, total in calls}
    assert final == {
        "entities": (12, 12), "episodes": (12, 12), "facts": (8, 8), "mentions": (12, 12),
        "audit": (8, 8),
    }  # fmt: skip


def test_an_empty_store_migrates_to_an_empty_store(
    source: EmbeddedStore, target: EmbeddedStore
) -> None:
    assert migrate(source, target) == MigrationCounts(0, 0, 0, 0, 0)


def test_a_target_that_holds_records_is_refused_and_left_alone(
    source: EmbeddedStore, target: EmbeddedStore
) -> None:
    fill(source)
    scope = Scope.of(user_id="carol")
    episode = Episode(content="mine", embedding=unit(np.random.default_rng(1)))
    episode.stamp(scope)
    with target.transaction() as tx:
        tx.put_episodes([episode])
    before = target.counts()
    with pytest.raises(InvalidInputError, match="already holds records"):
        migrate(source, target)
    assert target.counts() == before


def test_stores_of_different_embedders_are_refused(source: EmbeddedStore, tmp_path: Path) -> None:
    fill(source)
    with EmbeddedStore(tmp_path / "other", EmbedderInfo("other-model", 8)) as other:
        with pytest.raises(EmbedderMismatchError, match="other-model"):
            migrate(source, other)
        assert other.counts().episodes == 0


def test_a_store_cannot_migrate_into_itself(source: EmbeddedStore) -> None:
    with pytest.raises(InvalidInputError, match="must differ"):
        migrate(source, source)


def test_batch_size_must_be_positive(source: EmbeddedStore, target: EmbeddedStore) -> None:
    with pytest.raises(InvalidInputError, match="batch"):
        migrate(source, target, batch=0)
