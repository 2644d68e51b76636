"""Entity resolution against the embedded store with the real embedding model.

``embedder`` is the session-wide MiniLM fixture from ``conftest.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.errors import InvalidInputError, LLMError, ScopeViolationError
from graphmem.llm.base import ChatMessage, TextResult, ToolCallResult, ToolSpec
from graphmem.models.records import Entity
from graphmem.models.results import LLMUsage
from graphmem.models.scope import Scope
from graphmem.resolution.names import normalize_name
from graphmem.resolution.outcome import MatchMethod
from graphmem.resolution.resolver import (
    EntityMention,
    EntityResolver,
    compatible_types,
    embedding_text,
)
from graphmem.store.base import EmbedderInfo
from graphmem.store.embedded.store import EmbeddedStore

ALICE = Scope(user_id="alice")
BOB = Scope(user_id="bob")

Seed = Callable[..., list[Entity]]


@pytest.fixture
def store(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(tmp_path / "memory", EmbedderInfo(embedder.model, embedder.dim))
    yield opened
    opened.close()


@pytest.fixture
def seed(store: EmbeddedStore, embedder: SentenceTransformerEmbedder) -> Seed:
    """Store entities ``(name, type, *aliases)`` for a scope's owner, with embeddings."""

    def put(*specs: tuple[str, ...], scope: Scope = ALICE) -> list[Entity]:
        entities = [
            Entity(
                owner=scope.owner,
                name=name,
                normalized_name=normalize_name(name),
                type=type_name,
                aliases=list(aliases),
            )
            for name, type_name, *aliases in specs
        ]
        vectors = embedder.embed([embedding_text(e.name, e.type) for e in entities])
        for entity, vector in zip(entities, vectors, strict=True):
            entity.embedding = vector.tolist()
        with store.transaction() as tx:
            tx.put_entities(entities)
        return entities

    return put


def persist(store: EmbeddedStore, entities: list[Entity]) -> None:
    with store.transaction() as tx:
        tx.put_entities(entities)


class ScriptedLLM:
    """An :class:`~graphmem.llm.base.LLM` whose tool answers come from a function of
    the mentions it is shown (as the JSON payload the resolver sends)."""

    name = "scripted"
    model = "scripted-1"

    def __init__(self, answer: Callable[[list[dict[str, Any]]], list[dict[str, int]]]) -> None:
        self._answer = answer
        self.calls: list[list[dict[str, Any]]] = []

    def call_tool(
        self,
        *,
        system: str,
        messages: list[ChatMessage],
        tool: ToolSpec,
        max_tokens: int | None = None,
    ) -> ToolCallResult:
        payload = messages[0].content.split("\n\n", 1)[1]
        mentions = json.loads(payload)["mentions"]
        self.calls.append(mentions)
        return ToolCallResult(
            arguments={"decisions": self._answer(mentions)},
            usage=LLMUsage(calls=1, input_tokens=100, output_tokens=20),
            stop_reason="tool_use",
            call_id=f"call-{len(self.calls)}",
        )

    def complete(
        self, *, system: str, messages: list[ChatMessage], max_tokens: int = 1024
    ) -> TextResult:
        raise AssertionError("resolution never asks for plain text")


def pick_by_name(choices: dict[str, str | None]) -> Callable[..., list[dict[str, int]]]:
    """Answer each mention with the candidate named in ``choices`` (None: no candidate)."""

    def answer(mentions: list[dict[str, Any]]) -> list[dict[str, int]]:
        decisions = []
        for mention in mentions:
            wanted = choices[mention["name"]]
            number = next((c["candidate"] for c in mention["candidates"] if c["name"] == wanted), 0)
            decisions.append({"mention": mention["mention"], "candidate": number})
        return decisions

    return answer


def resolve(resolver: EntityResolver, *mentions: EntityMention, scope: Scope = ALICE) -> Any:
    return resolver.resolve(scope.owner, list(mentions), scope=scope)


# -- types ---------------------------------------------------------------------------------


def test_compatible_types_thing_matches_everything_and_families_separate() -> None:
    assert compatible_types("Thing", "Person")
    assert compatible_types("Place", "thing")
    assert compatible_types("Person", "person")
    assert compatible_types("City", "Place")
    assert compatible_types("Company", "Organization")
    assert not compatible_types("Person", "Place")
    assert not compatible_types("Organization", "Event")
    assert not compatible_types("Pet", "Person")


# -- exact and alias -----------------------------------------------------------------------


def test_exact_normalized_name_matches_without_adding_an_alias(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    (acme,) = seed(("Acme Corp", "Organization"))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention("  the ACME corp. ", "Organization"))

    assert [e.id for e in result.entities] == [acme.id]
    assert result.is_new == [False]
    assert result.methods == [MatchMethod.EXACT]
    assert result.changed == []
    assert result.entities[0].aliases == []
    assert result.stats.embedded_texts == 0
    assert result.stats.vector_searches == 0


def test_stored_alias_matches_exactly(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    (melanie,) = seed(("Melanie", "Person", "Mel"))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention("Mel", "Person"))

    assert result.entities[0].id == melanie.id
    assert result.methods == [MatchMethod.EXACT]
    assert result.changed == []


def test_alias_shown_in_text_is_recorded_and_then_matches(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    (melanie,) = seed(("Melanie", "Person"))
    resolver = EntityResolver(store, embedder)

    first = resolve(resolver, EntityMention("Melanie", "Person", aliases=("Mel",)))

    assert first.entities[0].id == melanie.id
    assert first.entities[0].aliases == ["Mel"]
    assert [e.id for e in first.changed] == [melanie.id]
    persist(store, first.changed)

    second = resolve(resolver, EntityMention("Mel"))
    assert second.entities[0].id == melanie.id
    assert second.methods == [MatchMethod.EXACT]
    assert second.changed == []


def test_aliases_stop_growing_at_twenty(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    many = tuple(f"Nick{i}" for i in range(20))
    (robert,) = seed(("Robert Paulson", "Person", *many))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention("Robert Paulson", "Person", aliases=("Bob",)))

    assert result.entities[0].id == robert.id
    assert result.entities[0].aliases == list(many)
    assert result.changed == []


# -- fuzzy ---------------------------------------------------------------------------------


def test_fuzzy_accepts_a_typo_and_records_it_as_alias(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    (melanie,) = seed(("Melanie Adams", "Person"))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention("Melanie Addams", "Person"))

    assert result.entities[0].id == melanie.id
    assert result.methods == [MatchMethod.FUZZY]
    assert result.entities[0].aliases == ["Melanie Addams"]
    assert [e.id for e in result.changed] == [melanie.id]


@pytest.mark.parametrize(
    ("stored", "mentioned"),
    [
        ("Joan", "Jon"),  # under four letters: exact or alias only
        ("Hanna", "Anna"),
        ("John Smith", "Jane Smith"),
        ("John Smith", "Jon Smith"),  # 95 % alike, but another first name
        ("Katherine Johnson", "Kathryn Johnson"),
    ],
)
def test_fuzzy_rejects_short_names_and_different_first_names(
    store: EmbeddedStore,
    embedder: SentenceTransformerEmbedder,
    seed: Seed,
    stored: str,
    mentioned: str,
) -> None:
    seed((stored, "Person"))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention(mentioned, "Person"))

    assert result.is_new == [True]
    assert result.methods == [MatchMethod.NEW]
    assert result.entities[0].name == mentioned


def test_names_with_different_numbers_never_merge(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    seed(("iPhone 14", "Product"), ("Windows 10", "Product"))
    resolver = EntityResolver(store, embedder)

    result = resolve(
        resolver, EntityMention("iPhone 15", "Product"), EntityMention("Windows 11", "Product")
    )

    assert result.is_new == [True, True]


def test_lone_first_name_merges_into_the_only_person_with_it(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    melanie, _ = seed(("Melanie Adams", "Person"), ("Melanie Bay", "Place"))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention("Melanie", "Person"))

    assert result.entities[0].id == melanie.id
    assert result.methods == [MatchMethod.FIRST_NAME]
    assert result.entities[0].aliases == ["Melanie"]


def test_lone_first_name_shared_by_two_people_stays_separate_without_llm(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    seed(("Melanie Adams", "Person"), ("Melanie Brown", "Person"))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention("Melanie", "Person"))

    assert result.is_new == [True]


# -- embedding -----------------------------------------------------------------------------


def test_embedding_accepts_an_abbreviation_of_a_close_neighbour(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    (nyc,) = seed(("New York City", "Place"))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention("NYC", "Place"))

    assert result.entities[0].id == nyc.id
    assert result.methods == [MatchMethod.EMBEDDING]
    assert result.entities[0].aliases == ["NYC"]


@pytest.mark.parametrize(
    ("stored", "mentioned", "type_name"),
    [
        ("Netherlands", "Holland", "Place"),  # ~0.90 similar, no shared word
        ("sofa", "couch", "Thing"),
        ("Horizon Sparrow Street", "Horizon Sparrow Park", "Place"),  # a word replaced
        ("Horizon River Festival", "Horizon Raven Festival", "Event"),  # 91 % fuzzy too
        ("Abigail Garcia", "Abigail Gomez", "Person"),  # another surname
    ],
)
def test_close_neighbour_without_lexical_evidence_is_not_merged(
    store: EmbeddedStore,
    embedder: SentenceTransformerEmbedder,
    seed: Seed,
    stored: str,
    mentioned: str,
    type_name: str,
) -> None:
    seed((stored, type_name))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention(mentioned, type_name))

    assert result.is_new == [True]
    assert result.stats.vector_searches == 1


def test_lone_surname_merges_only_when_one_close_person_has_it(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    obama, _, _ = seed(("Barack Obama", "Person"), ("Wei Zhang", "Person"), ("Li Zhang", "Person"))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention("Obama", "Person"), EntityMention("Zhang", "Person"))

    assert result.entities[0].id == obama.id
    assert result.methods == [MatchMethod.EMBEDDING, MatchMethod.NEW]


# -- types block merges --------------------------------------------------------------------


def test_incompatible_type_blocks_every_stage_and_thing_matches(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    jordan, nyc = seed(("Jordan", "Person"), ("New York City", "Place"))
    resolver = EntityResolver(store, embedder)

    blocked = resolve(
        resolver, EntityMention("Jordan", "Place"), EntityMention("NYC", "Organization")
    )
    untyped = resolve(resolver, EntityMention("Jordan"), EntityMention("NYC"))

    assert blocked.is_new == [True, True]
    assert blocked.entities[0].type == "Place"
    assert [e.id for e in untyped.entities] == [jordan.id, nyc.id]
    assert untyped.methods == [MatchMethod.EXACT, MatchMethod.EMBEDDING]


def test_more_specific_type_is_adopted_and_reported(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    (paris,) = seed(("Paris", "Thing"))
    resolver = EntityResolver(store, embedder)

    result = resolve(resolver, EntityMention("Paris", "City"))

    assert result.entities[0].id == paris.id
    assert result.entities[0].type == "City"
    assert [e.id for e in result.changed] == [paris.id]


# -- collapse within one call --------------------------------------------------------------


def test_mentions_of_one_entity_collapse_and_new_entities_are_not_stored(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder
) -> None:
    resolver = EntityResolver(store, embedder)

    result = resolve(
        resolver,
        EntityMention("Mel", "Person"),
        EntityMention("Melanie", "Person", aliases=("Mel",)),
        EntityMention("the melanie"),
        EntityMention("Jordan", "Person"),
        EntityMention("Jordan", "Place"),
    )

    mel, melanie, the_melanie, person, place = result.entities
    assert mel is melanie is the_melanie
    assert person is not place
    assert melanie.name == "Melanie"
    assert melanie.aliases == ["Mel"]
    assert melanie.type == "Person"
    assert melanie.owner == ALICE.owner
    assert melanie.normalized_name == "melanie"
    assert result.is_new == [True] * 5
    assert result.stats.groups == 3
    assert result.stats.embedded_texts == 3
    assert store.counts(ALICE).entities == 0


def test_new_entity_embedding_is_the_embedding_of_its_name(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder
) -> None:
    resolver = EntityResolver(store, embedder)

    (entity,) = resolve(resolver, EntityMention("Lake Tahoe", "Place")).entities

    expected = embedder.embed([embedding_text("Lake Tahoe", "Place")])[0]
    assert entity.embedding is not None
    assert len(entity.embedding) == embedder.dim
    assert entity.embedding == pytest.approx(expected.tolist(), abs=1e-5)


def test_repeated_known_names_cost_no_embedding_or_vector_search(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    names = [f"Project {word}" for word in ["alpha", "beta", "gamma", "delta", "epsilon"]]
    seed(*((name, "Thing") for name in names))
    resolver = EntityResolver(store, embedder)
    mentions = [EntityMention(names[i % 5]) for i in range(1000)]
    mentions += [EntityMention(f"Unknown Thing {i % 3}") for i in range(300)]

    result = resolver.resolve(ALICE.owner, mentions, scope=ALICE)

    assert result.stats.exact == 5
    assert result.stats.new == 3
    assert result.stats.embedded_texts == 3
    assert result.stats.vector_searches == 3
    assert sum(result.is_new) == 300
    assert resolver.stats.mentions == 1300


# -- owners --------------------------------------------------------------------------------


def test_resolution_never_crosses_owners(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    (alices,) = seed(("Melanie Adams", "Person", "Mel"), scope=ALICE)
    (bobs,) = seed(("Melanie Adams", "Person"), scope=BOB)
    resolver = EntityResolver(store, embedder)
    carol = Scope(user_id="carol")

    for_bob = resolve(resolver, EntityMention("Melanie Adams", "Person"), scope=BOB)
    bob_alias = resolve(resolver, EntityMention("Mel", "Person"), scope=BOB)
    for_alice = resolve(resolver, EntityMention("Melanie Addams", "Person"), scope=ALICE)
    for_carol = resolve(
        resolver,
        EntityMention("Melanie Adams", "Person"),
        EntityMention("Melanie Addams", "Person"),
        EntityMention("Melanie", "Person"),
        scope=carol,
    )

    assert for_bob.entities[0].id == bobs.id
    assert for_bob.entities[0].owner == BOB.owner
    assert bob_alias.is_new == [True]
    assert for_alice.entities[0].id == alices.id
    assert for_carol.is_new == [True, True, True]
    assert {e.owner for e in for_carol.entities} == {carol.owner}


def test_scope_of_another_owner_is_refused(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder
) -> None:
    resolver = EntityResolver(store, embedder)

    with pytest.raises(ScopeViolationError):
        resolver.resolve(BOB.owner, [EntityMention("Melanie")], scope=ALICE)


# -- LLM for the ambiguous remainder -------------------------------------------------------


def test_ambiguous_mentions_go_to_the_llm_in_one_call(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    netherlands, microsoft, _, brown = seed(
        ("Netherlands", "Place"),
        ("Microsoft Corp", "Organization"),
        ("Melanie Adams", "Person"),
        ("Melanie Brown", "Person"),
    )
    llm = ScriptedLLM(
        pick_by_name({"Holland": "Netherlands", "Microsoft": None, "Melanie": "Melanie Brown"})
    )
    resolver = EntityResolver(store, embedder, llm=llm)

    result = resolve(
        resolver,
        EntityMention("Holland", "Place"),
        EntityMention("Microsoft", "Organization"),
        EntityMention("Melanie", "Person"),
        EntityMention("Acme Widgets", "Organization"),
    )

    assert len(llm.calls) == 1
    shown = {m["name"]: [c["name"] for c in m["candidates"]] for m in llm.calls[0]}
    assert shown["Holland"][0] == "Netherlands"
    assert shown["Microsoft"][0] == "Microsoft Corp"
    assert sorted(shown["Melanie"]) == ["Melanie Adams", "Melanie Brown"]
    assert "Acme Widgets" not in shown
    assert result.entities[0].id == netherlands.id
    assert result.entities[1].id != microsoft.id
    assert result.is_new[1]
    assert result.entities[2].id == brown.id
    assert result.entities[2].aliases == ["Melanie"]
    assert result.methods == [MatchMethod.LLM, MatchMethod.NEW, MatchMethod.LLM, MatchMethod.NEW]
    assert result.llm_usage.calls == 1
    assert result.stats.llm_calls == 1


def test_equally_exact_candidates_go_to_the_llm_else_the_latest_wins(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    person, band = seed(("Jordan", "Person"))[0], seed(("Jordan", "Organization"))[0]
    llm = ScriptedLLM(
        lambda mentions: [
            {
                "mention": 1,
                "candidate": next(
                    c["candidate"] for c in mentions[0]["candidates"] if c["type"] == "Person"
                ),
            }
        ]
    )

    without_llm = resolve(EntityResolver(store, embedder), EntityMention("Jordan"))
    with_llm = resolve(EntityResolver(store, embedder, llm=llm), EntityMention("Jordan"))

    assert without_llm.entities[0].id == band.id  # the most recently updated
    assert without_llm.methods == [MatchMethod.EXACT]
    assert [c["type"] for c in llm.calls[0][0]["candidates"]] == ["Organization", "Person"]
    assert with_llm.entities[0].id == person.id
    assert with_llm.methods == [MatchMethod.LLM]


def test_invalid_llm_answer_is_repaired_once(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    (netherlands,) = seed(("Netherlands", "Place"))
    answers = iter([[{"mention": 1, "candidate": 9}], [{"mention": 1, "candidate": 1}]])
    llm = ScriptedLLM(lambda mentions: next(answers))
    resolver = EntityResolver(store, embedder, llm=llm)

    result = resolve(resolver, EntityMention("Holland", "Place"))

    assert len(llm.calls) == 2
    assert result.entities[0].id == netherlands.id
    assert result.llm_usage.calls == 2


def test_llm_failure_falls_back_to_new_entities(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    seed(("Netherlands", "Place"))

    def fail(mentions: list[dict[str, Any]]) -> list[dict[str, int]]:
        raise LLMError("provider unavailable")

    resolver = EntityResolver(store, embedder, llm=ScriptedLLM(fail))

    result = resolve(resolver, EntityMention("Holland", "Place"))

    assert result.is_new == [True]
    assert result.stats.llm_failures == 1


# -- name cache ----------------------------------------------------------------------------


def test_name_cache_follows_own_creations_and_can_be_invalidated(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder, seed: Seed
) -> None:
    resolver = EntityResolver(store, embedder)
    created = resolve(resolver, EntityMention("Zanzibar Trading Company", "Organization"))
    persist(store, created.new_entities)

    typo = resolve(resolver, EntityMention("Zanzibar Trading Compnay", "Organization"))
    assert typo.entities[0].id == created.entities[0].id
    assert typo.methods == [MatchMethod.FUZZY]

    (outside,) = seed(("Quillfeather Analytics Group", "Organization"))
    resolver.invalidate_names(ALICE.owner)
    late = resolve(resolver, EntityMention("Quillfeather Analytcs Group", "Organization"))
    assert late.entities[0].id == outside.id
    assert late.methods == [MatchMethod.FUZZY]


# -- bad input -----------------------------------------------------------------------------


def test_bad_mentions_and_settings_are_rejected(
    store: EmbeddedStore, embedder: SentenceTransformerEmbedder
) -> None:
    resolver = EntityResolver(store, embedder)

    with pytest.raises(InvalidInputError, match="no usable name"):
        resolver.resolve(ALICE.owner, [EntityMention(" ... ")], scope=ALICE)
    with pytest.raises(InvalidInputError, match="longer than"):
        resolver.resolve(ALICE.owner, [EntityMention("x" * 501)], scope=ALICE)
    with pytest.raises(InvalidInputError, match="empty type"):
        resolver.resolve(ALICE.owner, [EntityMention("Melanie", " ")], scope=ALICE)
    with pytest.raises(InvalidInputError, match="ambiguous_band"):
        EntityResolver(store, embedder, ambiguous_band=(0.9, 0.8))
    with pytest.raises(InvalidInputError, match="fuzzy_threshold"):
        EntityResolver(store, embedder, fuzzy_threshold=0)
    empty = resolver.resolve(ALICE.owner, [], scope=ALICE)
    assert empty.entities == []
    assert empty.is_new == []
    assert empty.changed == []
