"""Scope isolation is a security property: nothing of one user reaches another's reads."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.errors import NotFoundError

USERS = ["alice", "bob", "carol"]
NAMES = ["Anna", "Denver", "Acme", "Pixel", "Sam"]  # shared names: the tempting leak

operation = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(USERS), st.sampled_from(NAMES)),
    st.tuples(st.just("add_facts"), st.sampled_from(USERS), st.sampled_from(NAMES)),
    st.tuples(st.just("search"), st.sampled_from(USERS), st.sampled_from(NAMES)),
    st.tuples(st.just("get_all"), st.sampled_from(USERS), st.just("")),
    st.tuples(st.just("delete"), st.sampled_from(USERS), st.just("")),
    st.tuples(st.just("forget"), st.sampled_from(USERS), st.just("")),
)


def _owned_by(record: Any, user: str) -> bool:
    owner = getattr(record, "owner", None)
    return owner == f"user:{user}"


def _check_reads(memory: Memory, user: str, name: str, tokens: dict[str, set[str]]) -> None:
    foreign = set().union(*(t for u, t in tokens.items() if u != user))
    result = memory.search(f"{name} secret", user_id=user, limit=20)
    records = (
        [h.fact for h in result.facts]
        + [h.entity for h in result.entities]
        + [h.episode for h in result.episodes]
    )
    for record in records:
        assert _owned_by(record, user), (user, record)
    text = " ".join(h.episode.content for h in result.episodes) + " ".join(
        h.fact.fact for h in result.facts
    )
    assert not any(token in text for token in foreign)
    snapshot = memory.get_all(user_id=user, limit=1000)
    for record in [*snapshot.facts, *snapshot.entities, *snapshot.episodes]:
        assert _owned_by(record, user), (user, record)
    context = memory.context(f"{name} secret", user_id=user, max_tokens=2000)
    assert not any(token in context for token in foreign)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(operation, min_size=3, max_size=10))
def test_no_read_path_crosses_users(
    embedder: SentenceTransformerEmbedder, operations: list[tuple[str, str, str]]
) -> None:
    tokens: dict[str, set[str]] = {user: set() for user in USERS}
    ids: dict[str, list[str]] = {user: [] for user in USERS}
    with (
        tempfile.TemporaryDirectory() as tmp,
        Memory(MemoryConfig(path=Path(tmp), use_llm=False), embedder=embedder) as memory,
    ):
        for step, (kind, user, name) in enumerate(operations):
            token = f"secret{user}{step}"
            if kind == "add":
                result = memory.add(f"I visited {name} with my friend {token}.", user_id=user)
                tokens[user].add(token)
                ids[user] += [str(e.id) for e in result.episodes]
            elif kind == "add_facts":
                result = memory.add_facts([(name, "likes", token)], user_id=user)
                tokens[user].add(token)
                ids[user] += [str(f.id) for f in result.facts_added]
            elif kind in ("search", "get_all"):
                _check_reads(memory, user, name or "Anna", tokens)
            elif kind == "delete":
                for other in USERS:
                    if other != user and ids[other]:
                        try:
                            memory.delete(ids[other][0], user_id=user)
                        except NotFoundError:
                            pass
                        else:
                            raise AssertionError(f"{user} deleted a record of {other}")
            elif kind == "forget":
                memory.forget(user_id=user)
                tokens[user].clear()
                ids[user].clear()
        for user in USERS:
            _check_reads(memory, user, "Anna", tokens)
            for other in USERS:
                for record_id in ids[other] if other != user else []:
                    try:
                        memory.get(record_id, user_id=user)
                    except NotFoundError:
                        continue
                    raise AssertionError(f"{user} read a record of {other}")
