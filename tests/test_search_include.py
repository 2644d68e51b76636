"""``include``: a search returns only the kinds asked for, and skips the work of the rest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from retrieval_fixtures import add_employers, add_passages

from graphmem import InvalidInputError, Memory, MemoryConfig, ResultKind
from graphmem.models.results import SearchResult

QUERIES = [
    "Who was the first president of the organization that publishes the Journal of "
    "Quiet Studies?",
    "Where is the Society for Silence based?",
    "Which journal is peer-reviewed?",
]


def dumped(hits: list[Any]) -> list[dict[str, Any]]:
    return [hit.model_dump(mode="json") for hit in hits]


def test_facts_and_entities_are_those_of_a_full_search(memory: Memory) -> None:
    add_passages(memory, "docs")
    for query in QUERIES:
        full = memory.search(query, user_id="docs", limit=6)
        only_facts = memory.search(query, user_id="docs", limit=6, include=["facts"])
        no_episodes = memory.search(
            query, user_id="docs", limit=6, include=[ResultKind.FACTS, ResultKind.ENTITIES]
        )
        assert full.facts and full.entities and full.episodes
        # Same facts in the same order, with the same scores, sources and paths.
        assert dumped(only_facts.facts) == dumped(full.facts)
        assert only_facts.entities == [] and only_facts.episodes == []
        assert dumped(no_episodes.facts) == dumped(full.facts)
        assert dumped(no_episodes.entities) == dumped(full.entities)
        assert no_episodes.episodes == []


def test_episodes_alone_are_those_of_a_full_search(memory: Memory) -> None:
    add_passages(memory, "docs")
    for query in QUERIES:
        full = memory.search(query, user_id="docs", limit=6)
        only_episodes = memory.search(query, user_id="docs", limit=6, include="episodes")
        assert dumped(only_episodes.episodes) == dumped(full.episodes)
        assert only_episodes.facts == [] and only_episodes.entities == []


def test_leaving_out_episodes_reads_no_episode_index(
    memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_passages(memory, "docs")
    tables: list[str] = []
    store = memory.store
    for method in ("keyword_search", "vector_search"):
        original: Callable[..., Any] = getattr(store, method)

        def recording(table: str, *args: Any, _original: Callable[..., Any] = original) -> Any:
            tables.append(table)
            return _original(table, *args)

        monkeypatch.setattr(store, method, recording)
    episodes_read = memory.store.get_episodes
    loaded: list[object] = []
    monkeypatch.setattr(
        store, "get_episodes", lambda ids: loaded.extend(ids) or episodes_read(ids)
    )

    # The query names an entity, so its name-less rest is searched too.
    memory.search(QUERIES[0], user_id="docs", include=["facts", "entities"])
    assert "episode" not in tables
    assert {"entity", "fact"} <= set(tables)
    assert loaded == []

    tables.clear()
    memory.search(QUERIES[0], user_id="docs")
    assert "episode" in tables


def test_a_narrowed_search_stays_inside_its_scope(memory: Memory) -> None:
    add_employers(memory, "u1")
    add_employers(memory, "u2")
    memory.add_facts([("Erin", "works_at", "Hooli", "Erin works at Hooli.")], user_id="u2")
    mine = memory.search("Where does Erin work?", user_id="u1", include=["facts"])
    theirs = memory.search("Where does Erin work?", user_id="u2", include=["facts"])
    assert "Erin works at Hooli." not in [hit.fact.fact for hit in mine.facts]
    assert {hit.fact.user_id for hit in mine.facts} == {"u1"}
    assert theirs.facts[0].fact.fact == "Erin works at Hooli."


@pytest.mark.parametrize(
    ("include", "problem"),
    [([], "nothing selected"), (["facts", "memories"], "unknown kind 'memories'"), ("fact", "")],
)
def test_a_bad_selection_is_a_typed_error_naming_the_kinds(
    memory: Memory, include: Any, problem: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        memory.search("anything", user_id="u1", include=include)
    assert problem in str(raised.value)
    assert "'facts', 'entities', 'episodes'" in str(raised.value)


def test_the_cli_and_the_rest_api_take_include(tmp_path: Path, embedder: Any) -> None:
    from starlette.testclient import TestClient
    from typer.testing import CliRunner

    from graphmem.cli.app import app
    from graphmem.server import KeyStore, ServerSettings, create_app

    store = tmp_path / "store"
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        memory.add("I work at Acme. Acme is based in Berlin.", user_id="alice")
        keys = KeyStore.for_store(memory.config.store_path())
        headers = {"Authorization": f"Bearer {keys.create(user_id='alice').token}"}
        with TestClient(create_app(memory, keys, ServerSettings())) as client:
            body = {"query": "Where is my employer based?", "include": ["facts"]}
            found = SearchResult.model_validate(
                client.post("/v1/search", json=body, headers=headers).json()
            )
            assert found.facts and not found.entities and not found.episodes
            wrong = client.post(
                "/v1/search", json={**body, "include": ["memories"]}, headers=headers
            )
            assert wrong.status_code == 422
            empty = client.post("/v1/search", json={**body, "include": []}, headers=headers)
            assert empty.status_code == 422

    result = CliRunner().invoke(
        app, ["search", "Where is my employer based?", "--user", "alice", "--include", "facts",
              "--include", "entities", "--json", "--path", str(store)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["facts"] and printed["entities"] and printed["episodes"] == []
