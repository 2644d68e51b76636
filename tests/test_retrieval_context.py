"""The prompt context: sections in order, dates, superseded marking, the token budget."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from retrieval_fixtures import add_moves

from graphmem import InvalidInputError, Memory
from graphmem.models.records import Episode, ExpiryReason, Fact
from graphmem.models.results import ScoredEpisode, ScoredFact, SearchResult
from graphmem.models.scope import Scope
from graphmem.retrieval import Retriever, approximate_tokens, build_context

DANA, BOSTON, DENVER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def at(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


def fact(text: str, obj: uuid.UUID, valid: int, invalid: int | None = None) -> Fact:
    return Fact(
        subject_id=DANA,
        predicate="lives_in",
        object_id=obj,
        fact=text,
        subject_name="Dana",
        object_name=text.split()[-1].rstrip("."),
        valid_at=at(valid),
        invalid_at=at(invalid) if invalid else None,
        expired_at=at(invalid) if invalid else None,
        expired_reason=ExpiryReason.SUPERSEDED if invalid else None,
        user_id="u1",
    )


def sample_result(episodes: int = 3, long_text: str = "") -> SearchResult:
    current = ScoredFact(fact=fact("Dana lives in Denver.", DENVER, 2023), score=0.9)
    old = ScoredFact(fact=fact("Dana lives in Boston.", BOSTON, 2015, 2023), score=0.4, valid=False)
    unrelated_old = ScoredFact(
        fact=Fact(
            subject_id=uuid.uuid4(),
            predicate="works_at",
            object_id=uuid.uuid4(),
            fact="Eve works at Initech.",
            valid_at=at(2010),
            invalid_at=at(2012),
            user_id="u1",
        ),
        score=0.3,
        valid=False,
    )
    turns = [
        ScoredEpisode(
            episode=Episode(
                content=long_text or f"Turn {i}: I moved to Denver with my dog.",
                name="Dana",
                valid_at=at(2023),
                user_id="u1",
            ),
            score=1.0 / (i + 1),
        )
        for i in range(episodes)
    ]
    return SearchResult(
        query="where does Dana live?", facts=[current, old, unrelated_old], episodes=turns
    )


def test_sections_come_in_order_with_dates_and_superseded_marked() -> None:
    text = build_context(sample_result(), max_tokens=1000)
    lines = text.splitlines()
    assert lines[0] == "Facts valid now:"
    assert lines[1] == "- Dana lives in Denver. (since 2023-01-01)"
    assert lines[2] == "Superseded facts:"
    assert lines[3] == "- Dana lives in Boston. (superseded, valid 2015-01-01 to 2023-01-01)"
    assert lines[4] == "Supporting episodes:"
    assert lines[5] == "- [2023-01-01] Dana: Turn 0: I moved to Denver with my dog."
    # History of a subject and predicate nothing current is about stays out.
    assert "Initech" not in text


@pytest.mark.parametrize("budget", [1, 5, 12, 20, 33, 50, 80, 120, 400])
def test_the_budget_is_never_exceeded(budget: int) -> None:
    result = sample_result(episodes=20, long_text="word " * 400)
    text = build_context(result, max_tokens=budget, counter=approximate_tokens)
    assert approximate_tokens(text) <= budget
    if "Superseded facts:" in text:
        assert text.index("Facts valid now:") < text.index("Superseded facts:")


def test_a_long_episode_is_cut_to_fit_rather_than_dropped() -> None:
    result = sample_result(episodes=1, long_text="the quick brown fox " * 200)
    text = build_context(result, max_tokens=120, counter=approximate_tokens)
    assert approximate_tokens(text) <= 120
    assert text.splitlines()[-1].endswith("…")
    assert "Supporting episodes:" in text


def test_an_exact_counter_is_respected_too() -> None:
    def words(text: str) -> int:
        return len(text.split())

    text = build_context(sample_result(episodes=10), max_tokens=25, counter=words)
    assert words(text) <= 25
    assert text.startswith("Facts valid now:")


def test_as_of_results_say_when() -> None:
    result = sample_result().model_copy(update={"as_of": at(2016)})
    assert build_context(result).startswith("Facts valid at 2016-01-01:")


def test_bad_budgets_are_rejected() -> None:
    with pytest.raises(InvalidInputError):
        build_context(sample_result(), max_tokens=0)
    with pytest.raises(InvalidInputError):
        build_context(sample_result(), max_tokens=True)


def test_context_from_a_real_search_lists_the_old_city_after_the_new(memory: Memory) -> None:
    add_moves(memory, "u1")
    result = Retriever(memory.store, memory.embedder).search(
        "Where does Dana live?", Scope.of("u1"), include_history=True
    )
    text = build_context(result, max_tokens=300)
    assert approximate_tokens(text) <= 300
    assert "- Dana lives in Denver. (since 2023-01-01)" in text
    assert "- Dana lives in Boston. (superseded, valid 2015-01-01 to 2023-01-01)" in text
    assert text.index("Dana lives in Denver.") < text.index("Dana lives in Boston.")
    assert "Supporting episodes:" in text
