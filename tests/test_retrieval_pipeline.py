"""Ranking behaviour of the search pipeline on small graphs with known answers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from retrieval_fixtures import add_employers, add_moves, add_passages, day

from graphmem import InvalidInputError, Memory
from graphmem.filters import parse_filter
from graphmem.models.scope import Scope
from graphmem.retrieval import RetrievalSettings, Retriever
from graphmem.temporal.view import TemporalView


def retriever(memory: Memory, **settings: object) -> Retriever:
    return Retriever(memory.store, memory.embedder, settings=RetrievalSettings(**settings))  # type: ignore[arg-type]


def sentences(result_facts: Sequence[object]) -> list[str]:
    return [f.fact.fact for f in result_facts]  # type: ignore[attr-defined]


def test_two_hop_answer_is_found_through_the_graph_and_carries_its_path(memory: Memory) -> None:
    add_employers(memory, "u1")
    result = retriever(memory).search(
        "In which city is Alice's employer headquartered?", Scope.of("u1"), limit=5
    )
    top3 = result.facts[:3]
    answer = next(f for f in top3 if f.fact.fact == "Acme Corp is headquartered in Berlin.")
    assert "graph" in answer.sources
    hops = [(h.from_entity, h.predicate, h.to_entity) for h in answer.paths[0]]
    assert hops == [
        ("Alice", "works_at", "Acme Corp"),
        ("Acme Corp", answer.fact.predicate, "Berlin"),
    ]
    # The other companies' headquarters match the question's words just as well;
    # only the path from Alice tells them apart.
    ranks = sentences(result.facts)
    for other in ("Globex is headquartered in Paris.", "Initech is headquartered in Lisbon."):
        if other in ranks:
            assert ranks.index(other) > ranks.index(answer.fact.fact)
    assert result.entities[0].entity.name == "Alice"
    assert "mention" in result.entities[0].sources


def test_every_fact_carries_score_validity_and_provenance(memory: Memory) -> None:
    add_employers(memory, "u1")
    result = retriever(memory).search("Where does Bob work?", Scope.of("u1"), limit=10)
    assert result.facts[0].fact.fact == "Bob works at Globex."
    scores = [f.score for f in result.facts]
    assert scores == sorted(scores, reverse=True)
    for scored in result.facts:
        assert scored.valid
        assert scored.fact.episode_ids
        assert scored.score > 0


def test_episodes_are_reached_through_the_facts_they_support(memory: Memory) -> None:
    ids = add_passages(memory, "docs")
    result = retriever(memory).search(
        "Who was the first president of the organization that publishes the Journal of "
        "Quiet Studies?",
        Scope.of("docs"),
        limit=6,
    )
    top = [str(e.episode.id) for e in result.episodes[:3]]
    # The answer passage never names the journal: the hop over "published by" is
    # what ties it to the question.
    assert ids["Society for Silence"] in top
    assert ids["Journal of Quiet Studies"] in top
    answer = next(e for e in result.episodes if str(e.episode.id) == ids["Society for Silence"])
    assert "graph" in answer.sources
    # Two facts match "first president" equally; the one the graph connects to the
    # journal wins, and says how it is connected.
    texts = sentences(result.facts)
    answer_fact = texts.index("Society for Silence first president Edith Marlow.")
    assert answer_fact < texts.index("Guild of Pilots first president Tomas Berg.")
    hops = [(h.from_entity, h.to_entity) for h in result.facts[answer_fact].paths[0]]
    assert hops == [
        ("Journal of Quiet Studies", "Society for Silence"),
        ("Society for Silence", "Edith Marlow"),
    ]


def test_as_of_returns_the_city_valid_then(memory: Memory) -> None:
    add_moves(memory, "u1")
    search = retriever(memory).search
    now = search("Where does Dana live?", Scope.of("u1"), limit=5)
    assert "Dana lives in Denver." in sentences(now.facts)
    assert "Dana lives in Boston." not in sentences(now.facts)
    then = search(
        "Where does Dana live?", Scope.of("u1"), limit=5, view=TemporalView.at(as_of=day(2020))
    )
    assert "Dana lives in Boston." in sentences(then.facts)
    assert "Dana lives in Denver." not in sentences(then.facts)
    assert then.as_of == day(2020)
    before = search(
        "Where does Dana live?", Scope.of("u1"), limit=5, view=TemporalView.at(as_of=day(2010))
    )
    assert not {"Dana lives in Boston.", "Dana lives in Denver."} & set(sentences(before.facts))


def test_superseded_facts_are_excluded_unless_history_is_asked_for(memory: Memory) -> None:
    add_moves(memory, "u1")
    search = retriever(memory).search
    default = search("Where does Dana live?", Scope.of("u1"), limit=10)
    assert all(f.valid for f in default.facts)
    assert all(f.fact.expired_at is None for f in default.facts)
    with_history = search("Where does Dana live?", Scope.of("u1"), limit=10, include_history=True)
    texts = sentences(with_history.facts)
    old = with_history.facts[texts.index("Dana lives in Boston.")]
    assert not old.valid
    assert old.fact.invalid_at == day(2023)
    assert texts.index("Dana lives in Denver.") < texts.index("Dana lives in Boston.")
    assert all(f.valid for f in with_history.facts[: texts.index("Dana lives in Boston.")])


def test_identical_content_in_two_scopes_never_crosses(memory: Memory) -> None:
    add_employers(memory, "u1")
    add_employers(memory, "u2")
    search = retriever(memory).search
    first = search("Where does Alice work?", Scope.of("u1"), limit=20)
    second = search("Where does Alice work?", Scope.of("u2"), limit=20)
    assert first.facts and second.facts and first.episodes and first.entities
    assert {f.fact.user_id for f in first.facts} == {"u1"}
    assert {e.episode.user_id for e in first.episodes} == {"u1"}
    assert {e.entity.owner for e in first.entities} == {"user:u1"}
    assert {e.entity.owner for e in second.entities} == {"user:u2"}
    assert not {f.fact.id for f in first.facts} & {f.fact.id for f in second.facts}
    assert not {e.episode.id for e in first.episodes} & {e.episode.id for e in second.episodes}
    ids_of_u1 = {f.fact.id for f in first.facts}
    for fact in second.facts:
        for path in fact.paths:
            assert not {hop.fact_id for hop in path} & ids_of_u1


def test_run_scope_narrows_to_its_own_records(memory: Memory) -> None:
    memory.add_facts([("Eve", "likes", "tea", "Eve likes tea.")], user_id="u1", run_id="r1")
    memory.add_facts([("Eve", "likes", "coffee", "Eve likes coffee.")], user_id="u1", run_id="r2")
    result = retriever(memory).search("What does Eve like?", Scope.of("u1", run_id="r1"))
    assert sentences(result.facts) == ["Eve likes tea."]
    assert {e.episode.run_id for e in result.episodes} == {"r1"}


def test_metadata_filters_apply_to_facts_and_episodes(memory: Memory) -> None:
    memory.add_facts(
        [("Alice", "likes", "chess", "Alice likes chess.")],
        user_id="u1",
        metadata={"topic": "hobby"},
    )
    memory.add_facts(
        [("Alice", "works_at", "Acme Corp", "Alice works at Acme Corp.")],
        user_id="u1",
        metadata={"topic": "work"},
    )
    search = retriever(memory).search
    work = search("What about Alice?", Scope.of("u1"), filters=parse_filter({"topic": "work"}))
    assert sentences(work.facts) == ["Alice works at Acme Corp."]
    assert work.episodes and all(e.episode.metadata["topic"] == "work" for e in work.episodes)
    neither = search("What about Alice?", Scope.of("u1"), filters=parse_filter({"topic": "x"}))
    assert neither.facts == [] and neither.episodes == []


def test_mmr_thins_out_near_duplicate_facts(memory: Memory) -> None:
    memory.add_facts(
        [
            ("Alice", "likes", "green tea", "Alice likes green tea."),
            ("Alice", "enjoys", "green tea", "Alice enjoys green tea."),
            ("Alice", "loves", "green tea", "Alice loves green tea."),
            ("Alice", "likes", "hiking", "Alice likes hiking in the Alps."),
        ],
        user_id="u1",
    )
    query = "What does Alice like to drink, green tea?"
    plain = retriever(memory).search(query, Scope.of("u1"), limit=2)
    assert all("green tea" in text for text in sentences(plain.facts))
    diverse = retriever(memory, mmr_lambda=0.3).search(query, Scope.of("u1"), limit=2)
    texts = sentences(diverse.facts)
    assert "green tea" in texts[0]
    assert texts[1] == "Alice likes hiking in the Alps."


class PreferWord:
    """A reranker that puts texts containing one word first, in reverse input order."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.calls = 0

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        self.calls += 1
        return [(10.0 if self.word in t else 0.0) + i / 100 for i, t in enumerate(texts)]


def test_reranker_hook_reorders_facts_and_episodes(memory: Memory) -> None:
    add_employers(memory, "u1")
    plain = retriever(memory).search("Where does Alice work?", Scope.of("u1"), limit=3)
    assert "sailing" not in plain.facts[0].fact.fact
    reranker = PreferWord("sailing")
    rerun = Retriever(memory.store, memory.embedder, reranker=reranker)
    result = rerun.search("Where does Alice work?", Scope.of("u1"), limit=3)
    assert result.facts[0].fact.fact == "Bob likes sailing."
    assert result.facts[0].score >= 10.0
    assert result.episodes[0].episode.content.count("sailing") == 1
    assert reranker.calls == 2  # once for facts, once for episodes


def test_a_precomputed_query_vector_gives_the_same_ranking(memory: Memory) -> None:
    add_employers(memory, "u1")
    query = "Which company does Carol work for?"
    search = retriever(memory).search
    embedded = search(query, Scope.of("u1"))
    vector = memory.embedder.embed_query(query)
    given = search(query, Scope.of("u1"), query_vector=vector)
    assert [f.fact.id for f in given.facts] == [f.fact.id for f in embedded.facts]
    assert [e.episode.id for e in given.episodes] == [e.episode.id for e in embedded.episodes]


def test_bad_input_gets_typed_errors(memory: Memory) -> None:
    search = retriever(memory).search
    with pytest.raises(InvalidInputError, match="query"):
        search("   ", Scope.of("u1"))
    with pytest.raises(InvalidInputError, match="limit"):
        search("anything", Scope.of("u1"), limit=0)
    with pytest.raises(InvalidInputError, match="query_vector"):
        search("anything", Scope.of("u1"), query_vector=[0.1, 0.2])
    with pytest.raises(InvalidInputError, match="hops"):
        RetrievalSettings(hops=3)


def test_an_empty_scope_returns_an_empty_result(memory: Memory) -> None:
    add_employers(memory, "u1")
    result = retriever(memory).search("Where does Alice work?", Scope.of("nobody"))
    assert result.facts == [] and result.entities == [] and result.episodes == []


def test_memory_search_goes_through_the_pipeline(memory: Memory) -> None:
    add_employers(memory, "u1")
    result = memory.search("Where is Acme Corp headquartered?", user_id="u1", limit=3)
    assert result.facts[0].fact.fact == "Acme Corp is headquartered in Berlin."
    assert isinstance(result.facts[0].fact.id, uuid.UUID)


def test_what_a_named_person_said_outranks_what_others_said_to_them(memory: Memory) -> None:
    turns = [
        ("Melanie", "Hey Caroline, how was your week? Did you research anything new?"),
        ("Caroline", "Researching adoption agencies, it has been a dream to have a family."),
        ("Melanie", "Caroline, that sounds wonderful! I went camping with my kids."),
        ("Caroline", "I love painting sunsets when I have a quiet evening."),
        ("Melanie", "Research on pottery classes took me hours, Caroline."),
    ]
    for speaker, text in turns:
        memory.add(
            {"role": "user", "content": text, "name": speaker},
            user_id="conv",
            timestamp=day(2023, 5, 8),
        )
    result = retriever(memory).search("What did Caroline research?", Scope.of("conv"), limit=3)
    top = result.episodes[0]
    assert top.episode.content.startswith("Researching adoption agencies")
    assert "mention" in top.sources
    assert result.episodes[0].score > result.episodes[1].score


class _ClosesOneFactBeforeLoading:
    """A store whose full-record reads no longer see one fact: it was closed by another
    writer between ranking (which reads edges) and loading the returned records."""

    def __init__(self, inner: object, closed: uuid.UUID) -> None:
        self._inner = inner
        self._closed = closed

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def get_facts(self, ids: Sequence[uuid.UUID]) -> list[object]:
        facts: list[object] = self._inner.get_facts(ids)  # type: ignore[attr-defined]
        return [f for f in facts if f.id != self._closed]  # type: ignore[attr-defined]


def test_a_fact_closed_while_searching_is_left_out_not_an_error(memory: Memory) -> None:
    add_employers(memory, "u1")
    query = "Where does Bob work?"
    before = retriever(memory).search(query, Scope.of("u1"), limit=3)
    closed = before.facts[0].fact.id
    racing = Retriever(
        _ClosesOneFactBeforeLoading(memory.store, closed),  # type: ignore[arg-type]
        memory.embedder,
    )
    after = racing.search(query, Scope.of("u1"), limit=3)
    assert closed not in {f.fact.id for f in after.facts}
    remaining = [f.fact.id for f in before.facts[1:]]
    assert [f.fact.id for f in after.facts] == remaining[: len(after.facts)]
