"""Scope isolation across users, agents and runs, on every read path (property-based).

One store holds memories written in many scopes: users, a user narrowed by an agent or
a run, an agent alone, a run alone. Every record carries a token unique to the scope
that wrote it, and metadata that *claims* other scopes. Hypothesis then reads with
arbitrary scopes, queries and metadata filters through search, get_all, get, history,
cypher, context, export, audit_log and stats, and checks that nothing outside the read
scope comes back, not even as text inside another record, and that filters only ever
narrow what a scope returns.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem import Memory, MemoryConfig
from graphmem.cli.importing import export_jsonl
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.errors import NotFoundError
from graphmem.models.scope import Scope


class WriteIds(TypedDict, total=False):
    """The ids a record is written with."""

    user_id: str
    agent_id: str
    run_id: str


class ReadIds(TypedDict):
    """The ids a read is made with."""

    user_id: str | None
    agent_id: str | None
    run_id: str | None


WRITE_SCOPES: list[WriteIds] = [
    {"user_id": "alice"},
    {"user_id": "alice", "agent_id": "helper"},
    {"user_id": "alice", "run_id": "r1"},
    {"user_id": "alice", "agent_id": "helper", "run_id": "r2"},
    {"user_id": "bob"},
    {"user_id": "bob", "run_id": "r1"},
    {"agent_id": "helper"},
    {"agent_id": "helper", "run_id": "r1"},
    {"run_id": "r1"},
]
USERS = [None, "alice", "bob", "mallory"]
AGENTS = [None, "helper", "planner"]
RUNS = [None, "r1", "r2"]
QUERIES = ["Anna", "Where does Anna live?", "Lisbon", "zq003f", "zq005a zq007g", "helper r1"]
CYPHER = [
    "MATCH (n) RETURN n",
    "MATCH (a)-[r]->(b) RETURN a, r, b",
    "MATCH (e:Episode) RETURN e.content AS content, e.metadata AS metadata",
    "MATCH (e:Entity) RETURN count(e) AS n",
    "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.name AS a, r.fact AS fact, b.name AS b",
]
PROPERTY_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def token(index: int, kind: str) -> str:
    """A marker unique to one write scope and record kind (never a prefix of another)."""
    return f"zq{index:03d}{kind}"


@dataclass
class Population:
    """The shared store and what each scope wrote into it."""

    memory: Memory
    episodes: dict[str, int]  # record id -> index of the write scope
    facts: dict[str, int]

    def scope_of(self, index: int) -> tuple[str | None, str | None, str | None]:
        ids = WRITE_SCOPES[index]
        return ids.get("user_id"), ids.get("agent_id"), ids.get("run_id")

    def foreign_tokens(self, reader: Scope) -> list[str]:
        """Tokens of every scope the reader may not see."""
        return [
            token(index, kind)
            for index in range(len(WRITE_SCOPES))
            if not reader.contains(*self.scope_of(index))
            for kind in "amfg"
        ]


@pytest.fixture(scope="module")
def population(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Population]:
    path: Path = tmp_path_factory.mktemp("isolation") / "store"
    episodes: dict[str, int] = {}
    facts: dict[str, int] = {}
    with Memory(MemoryConfig(path=path, use_llm=False), embedder=embedder) as memory:
        for index, ids in enumerate(WRITE_SCOPES):
            claims = {"user_id": "bob", "agent_id": "planner", "run_id": "r2", "owner": "user:bob"}
            said = memory.add(
                f"I visited Lisbon with Anna, note {token(index, 'a')}.",
                metadata={"tag": token(index, "m"), **claims},
                **ids,
            )
            given_facts = memory.add_facts(
                [
                    ("Anna", "lives_in", f"City{index}", f"Anna lives in {token(index, 'f')}."),
                    ("Anna", "likes", f"Thing{index}", f"Anna likes {token(index, 'g')}."),
                ],
                metadata={"tag": token(index, "m"), **claims},
                **ids,
            )
            for result in (said, given_facts):
                episodes.update({str(e.id): index for e in result.episodes})
                facts.update({str(f.id): index for f in result.facts_added})
        yield Population(memory, episodes, facts)


read_scopes = st.tuples(
    st.sampled_from(USERS), st.sampled_from(AGENTS), st.sampled_from(RUNS)
).filter(lambda ids: any(v is not None for v in ids))

filter_keys = st.sampled_from(["tag", "user_id", "agent_id", "run_id", "owner"])
filter_values = st.sampled_from(
    ["bob", "alice", "helper", "planner", "r1", "r2", "user:bob", "*", token(4, "m")]
)
conditions = st.one_of(
    st.builds(lambda k, v: {k: v}, filter_keys, filter_values),
    st.builds(
        lambda k, op, v: {k: {op: v}},
        filter_keys,
        st.sampled_from(["eq", "ne", "contains"]),
        filter_values,
    ),
    st.builds(lambda k, vs: {k: {"nin": vs}}, filter_keys, st.lists(filter_values, max_size=3)),
)
filters = st.recursive(
    conditions,
    lambda inner: st.one_of(
        st.builds(lambda fs: {"OR": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda fs: {"AND": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda f: {"NOT": f}, inner),
    ),
    max_leaves=5,
)


def _kwargs(ids: tuple[str | None, str | None, str | None]) -> ReadIds:
    return {"user_id": ids[0], "agent_id": ids[1], "run_id": ids[2]}


def _visible(reader: Scope, record: Any) -> bool:
    if hasattr(record, "run_id"):  # facts and episodes carry the full scope
        return reader.contains(record.user_id, record.agent_id, record.run_id)
    return reader.contains_entity(record.owner)


def _assert_no_foreign_text(text: str, population: Population, reader: Scope) -> None:
    leaked = [t for t in population.foreign_tokens(reader) if t in text]
    assert not leaked, (reader, leaked)


def _dump(records: list[Any]) -> str:
    return json.dumps([r.model_dump(mode="json") for r in records])


@PROPERTY_SETTINGS
@given(ids=read_scopes, query=st.sampled_from(QUERIES), spec=st.none() | filters)
def test_search_and_context_stay_in_scope(
    population: Population,
    ids: tuple[str | None, str | None, str | None],
    query: str,
    spec: dict[str, Any] | None,
) -> None:
    memory, reader = population.memory, Scope.of(*ids)
    result = memory.search(query, limit=50, filters=spec, **_kwargs(ids))
    records: list[Any] = [h.fact for h in result.facts] + [h.entity for h in result.entities]
    records += [h.episode for h in result.episodes]
    assert all(_visible(reader, r) for r in records), reader
    # The query itself is echoed back; it may name tokens on purpose.
    _assert_no_foreign_text(result.model_dump_json(exclude={"query"}), population, reader)
    context = memory.context(query, max_tokens=4000, **_kwargs(ids))
    _assert_no_foreign_text(context, population, reader)


@PROPERTY_SETTINGS
@given(ids=read_scopes, spec=filters)
def test_get_all_filters_only_narrow_a_scope(
    population: Population,
    ids: tuple[str | None, str | None, str | None],
    spec: dict[str, Any],
) -> None:
    memory, reader = population.memory, Scope.of(*ids)
    everything = memory.get_all(limit=1000, **_kwargs(ids))
    filtered = memory.get_all(limit=1000, filters=spec, **_kwargs(ids))
    for snapshot in (everything, filtered):
        records = [*snapshot.facts, *snapshot.entities, *snapshot.episodes]
        assert all(_visible(reader, r) for r in records)
        _assert_no_foreign_text(snapshot.model_dump_json(), population, reader)
    assert {f.id for f in filtered.facts} <= {f.id for f in everything.facts}
    assert {e.id for e in filtered.episodes} <= {e.id for e in everything.episodes}
    expected = {rid for rid, i in population.episodes.items()
                if reader.contains(*population.scope_of(i))}  # fmt: skip
    assert {str(e.id) for e in everything.episodes} == expected


@PROPERTY_SETTINGS
@given(ids=read_scopes, query=st.sampled_from(CYPHER), history=st.booleans())
def test_cypher_sees_only_the_scope(
    population: Population,
    ids: tuple[str | None, str | None, str | None],
    query: str,
    history: bool,
) -> None:
    reader = Scope.of(*ids)
    rows = population.memory.cypher(query, history=history, **_kwargs(ids))
    text = json.dumps(rows, default=str)
    _assert_no_foreign_text(text, population, reader)
    owners = {value.get("owner") for row in rows for value in row.values()
              if isinstance(value, dict)}  # fmt: skip
    assert owners <= {reader.owner, None}


@PROPERTY_SETTINGS
@given(ids=read_scopes)
def test_ids_history_export_audit_and_stats_stay_in_scope(
    population: Population, ids: tuple[str | None, str | None, str | None]
) -> None:
    memory, reader = population.memory, Scope.of(*ids)
    for record_id, index in [*population.episodes.items(), *population.facts.items()]:
        visible = reader.contains(*population.scope_of(index))
        try:
            memory.get(record_id, **_kwargs(ids))
        except NotFoundError:
            assert not visible, record_id
        else:
            assert visible, record_id
        if record_id in population.facts and visible:
            versions = memory.history(record_id, **_kwargs(ids))
            assert all(_visible(reader, entry.fact) for entry in versions), record_id
            _assert_no_foreign_text(_dump(versions), population, reader)

    buffer = io.StringIO()
    export_jsonl(memory, buffer, scope={"user_id": ids[0], "agent_id": ids[1], "run_id": ids[2]})
    _assert_no_foreign_text(buffer.getvalue(), population, reader)
    for line in buffer.getvalue().splitlines():
        row = json.loads(line)
        record = row["record"]
        if row["kind"] == "entity":
            assert reader.contains_entity(record["owner"])
        else:
            assert reader.contains(record["user_id"], record["agent_id"], record["run_id"])

    assert all(
        event.owner == reader.owner for event in memory.audit_log(limit=1000, **_kwargs(ids))
    )
    counts = memory.stats(**_kwargs(ids))
    visible_episodes = sum(reader.contains(*population.scope_of(i))
                           for i in population.episodes.values())  # fmt: skip
    assert counts.episodes == visible_episodes


def test_a_random_id_and_an_id_of_another_owner_look_the_same(population: Population) -> None:
    memory = population.memory
    bob_fact = next(rid for rid, i in population.facts.items() if WRITE_SCOPES[i] == {
        "user_id": "bob"})  # fmt: skip
    errors = []
    for record_id in (bob_fact, str(uuid.uuid4())):
        with pytest.raises(NotFoundError) as raised:
            memory.get(record_id, user_id="alice")
        errors.append(str(raised.value).replace(record_id, "ID"))
    assert errors[0] == errors[1]


def test_changing_another_scopes_record_looks_like_a_missing_id(population: Population) -> None:
    memory = population.memory
    bob_fact = next(rid for rid, i in population.facts.items() if WRITE_SCOPES[i] == {
        "user_id": "bob"})  # fmt: skip
    bob_episode = next(rid for rid, i in population.episodes.items() if WRITE_SCOPES[i] == {
        "user_id": "bob"})  # fmt: skip
    calls: list[Callable[[str], object]] = [
        lambda rid: memory.update(rid, fact="Anna lives in Paris.", user_id="alice"),
        lambda rid: memory.delete(rid, user_id="alice"),
        lambda rid: memory.delete_episode(rid, user_id="alice"),
        lambda rid: memory.history(rid, user_id="alice"),
    ]
    for call in calls:
        messages = []
        for record_id in (bob_fact if call is not calls[2] else bob_episode, str(uuid.uuid4())):
            with pytest.raises(NotFoundError) as raised:
                call(record_id)
            messages.append(str(raised.value).replace(record_id, "ID"))
        assert messages[0] == messages[1]
