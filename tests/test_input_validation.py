"""Input validation: every bad input is a typed error raised before anything is written."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from graphmem.errors import InvalidInputError, ScopeRequiredError
from graphmem.models.scope import Scope, owner_of
from graphmem.writing.messages import (
    check_metadata,
    check_timestamp,
    parse_messages,
)
from graphmem.writing.triples import parse_triples

MAX = 1000


def test_a_string_is_one_user_message() -> None:
    [message] = parse_messages("I live in Paris", max_chars=MAX)
    assert (message.role, message.content, message.name) == ("user", "I live in Paris", None)


def test_openai_style_messages_keep_roles_and_names() -> None:
    parsed = parse_messages(
        [{"role": "user", "content": "hi", "name": "Maya"}, {"role": "assistant", "content": "yo"}],
        max_chars=MAX,
    )
    assert [(m.role, m.content, m.name) for m in parsed] == [
        ("user", "hi", "Maya"),
        ("assistant", "yo", None),
    ]


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ([], "empty list"),
        ("x" * (MAX + 1), "limit"),
        ("nul\x00byte", "NUL"),
        ("lone \ud800 surrogate", "surrogate"),
        (42, "must be a string"),
        (b"bytes", "must be a string"),
        ([{"role": "pirate", "content": "arr"}], "role"),
        ([{"role": "user"}], "content must be a string"),
        ([{"role": "user", "content": "x", "extra": 1}], "unknown keys"),
        (["not a dict"], "must be a dict"),
        ([{"role": "user", "content": "x", "name": 7}], "name must be a string"),
    ],
)
def test_bad_messages_are_rejected(messages: object, fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        parse_messages(messages, max_chars=MAX)


def test_metadata_must_be_json() -> None:
    assert check_metadata({"a": [1, 2.5, None, {"b": True}]}) == {"a": [1, 2.5, None, {"b": True}]}
    assert check_metadata(None) == {}
    for bad in (
        {"a": object()},
        {"a": float("nan")},
        ["not", "a", "dict"],
        {"a": "\ud800"},
        {"a": "\x00"},
    ):
        with pytest.raises(InvalidInputError):
            check_metadata(bad)


def test_timestamps_must_be_aware_and_in_range() -> None:
    aware = datetime(2026, 3, 2, 12, tzinfo=timezone(timedelta(hours=2)))
    assert check_timestamp(aware) == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert check_timestamp("2026-03-02T10:00:00+00:00") == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert check_timestamp(0) == datetime(1970, 1, 1, tzinfo=UTC)
    for bad in (
        datetime(2026, 3, 2),
        "2026-03-02T10:00:00",
        "yesterday",
        True,
        datetime(9999, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        float("inf"),
        1e20,
    ):
        with pytest.raises(InvalidInputError):
            check_timestamp(bad)


def test_scope_needs_an_id_and_clean_values() -> None:
    with pytest.raises(ScopeRequiredError):
        Scope.of()
    for bad in (
        {"user_id": ""},
        {"user_id": " alice"},
        {"user_id": "a\x00b"},
        {"user_id": "x" * 300},
        {"agent_id": 5},
    ):
        with pytest.raises(InvalidInputError):
            Scope.of(**bad)  # type: ignore[arg-type]


def test_scope_owner_is_user_then_agent_then_run() -> None:
    assert Scope.of(user_id="u", agent_id="a", run_id="r").owner == "user:u"
    assert Scope.of(agent_id="a", run_id="r").owner == "agent:a"
    assert Scope.of(run_id="r").owner == "run:r"


def test_an_optional_scope_is_none_without_ids_and_checked_with_them() -> None:
    assert Scope.optional() is None
    assert Scope.optional(agent_id="bot") == Scope.of(agent_id="bot")
    with pytest.raises(InvalidInputError):
        Scope.optional(user_id=" alice")


def test_the_scope_of_an_owner_reads_that_owner_partition_whole() -> None:
    for scope in (Scope.of("alice"), Scope.of(agent_id="bot"), Scope.of(run_id="r1")):
        whole = Scope.of_owner(scope.owner)
        assert whole == scope and whole.owner == scope.owner
    # A narrowed scope's owner is the whole partition, not the narrowing.
    assert Scope.of_owner(Scope.of("alice", "bot", "r1").owner) == Scope.of("alice")
    assert Scope.of_owner("user:a:b").user_id == "a:b"  # only the first colon separates


def test_scope_visibility_is_owner_then_narrowing() -> None:
    alice = Scope.of(user_id="alice")
    alice_run = Scope.of(user_id="alice", run_id="r1")
    assert alice.contains("alice", None, "r1")
    assert alice.contains("alice", "bot", None)
    assert not alice.contains("bob", None, None)
    assert not alice.contains(None, "alice", None)  # an agent named alice is another owner
    assert alice_run.contains("alice", None, "r1")
    assert not alice_run.contains("alice", None, "r2")
    assert not Scope.of(agent_id="bot").contains("alice", "bot", None)


def test_scope_visibility_is_the_owner_rule_exactly() -> None:
    """``contains`` equals its definition (same owner, then the scope's narrowing ids)
    for every combination of ids, including one id used as a user, agent and run."""
    ids = (None, "alice", "bot", "r1")
    combinations = [c for c in itertools.product(ids, repeat=3) if c != (None, None, None)]
    for scope_ids in combinations:
        scope = Scope.of(*scope_ids)
        for user_id, agent_id, run_id in combinations:
            expected = (
                owner_of(user_id, agent_id, run_id) == scope.owner
                and (scope.agent_id is None or agent_id == scope.agent_id)
                and (scope.run_id is None or run_id == scope.run_id)
            )
            assert scope.contains(user_id, agent_id, run_id) == expected, (scope, user_id)


def test_triples_accept_tuples_and_dicts() -> None:
    parsed = parse_triples(
        [
            ("Ada", "works with", "Babbage"),
            {
                "subject": "Ada",
                "predicate": "born_in",
                "object": "London",
                "valid_at": "1815-12-10T00:00:00+00:00",
                "confidence": 0.9,
            },
        ],
        max_chars=MAX,
    )
    assert [(t.subject, t.predicate, t.object) for t in parsed] == [
        ("Ada", "works with", "Babbage"),
        ("Ada", "born_in", "London"),
    ]
    assert parsed[1].valid_at == datetime(1815, 12, 10, tzinfo=UTC)
    assert parsed[1].confidence == 0.9


@pytest.mark.parametrize(
    "triples",
    [
        [],
        "s p o",
        [("only", "two")],
        [("a", "b", "c", "d", "e", "f")],
        [{"subject": "a", "predicate": "b"}],
        [{"subject": "a", "predicate": "b", "object": "c", "colour": "red"}],
        [("a", "", "c")],
        [{"subject": "a", "predicate": "b", "object": "c", "confidence": 2}],
        [
            {
                "subject": "a",
                "predicate": "b",
                "object": "c",
                "valid_at": "2020-01-02T00:00:00+00:00",
                "invalid_at": "2020-01-01T00:00:00+00:00",
            }
        ],
    ],
)
def test_bad_triples_are_rejected(triples: object) -> None:
    with pytest.raises(InvalidInputError):
        parse_triples(triples, max_chars=MAX)
