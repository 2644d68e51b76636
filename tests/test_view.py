"""The graph view's page: self-contained, scoped, temporal, safe against hostile text."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from graphmem import Memory, MemoryConfig
from graphmem.errors import InvalidInputError, NotFoundError
from graphmem.models.scope import Scope
from graphmem.view import render_view

ALICE = Scope.of(user_id="alice")
HOSTILE = "</script><script>alert('pwned')</script>"
_DATA = re.compile(r"<script type='application/json' id='graphmem-data'>(.*?)</script>", re.DOTALL)


def _data(html: str) -> dict[str, Any]:
    match = _DATA.search(html)
    assert match is not None
    value: dict[str, Any] = json.loads(match.group(1))
    return value


@pytest.fixture
def sample(memory: Memory) -> Memory:
    memory.add("I live in Boston.", user_id="alice", timestamp=datetime(2023, 1, 1, tzinfo=UTC))
    memory.add("I moved to Denver.", user_id="alice", timestamp=datetime(2024, 6, 1, tzinfo=UTC))
    memory.add_facts(
        [
            ("Alice", "leads", "Project Falcon"),
            ("Project Falcon", "uses", "Neo4j"),
            ("Neo4j", "written_in", "Java"),
            ("Mallory", "wrote", HOSTILE),
        ],
        user_id="alice",
        source="Team notes about Project Falcon.",
        timestamp=datetime(2024, 7, 1, tzinfo=UTC),
    )
    memory.add("I visited Tokyo.", user_id="alice", expiration_date="2020-01-01")
    memory.add("I work at Globex.", user_id="bob")
    return memory


def _edges(data: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    names = {node["id"]: node["name"] for node in data["nodes"]}
    return {(names[e["source"]], e["predicate"], names[e["target"]]): e for e in data["edges"]}


def test_page_is_self_contained_and_inlines_the_library(sample: Memory) -> None:
    html = render_view(sample, ALICE)

    assert html.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in html  # the page may fetch nothing at all
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html, re.IGNORECASE)
    assert "cytoscape" in html
    assert len(html) > 300_000
    assert "window.graphmemView" in html


def test_entities_current_and_superseded_facts_with_provenance(sample: Memory) -> None:
    data = _data(render_view(sample, ALICE))
    snapshot = sample.get_all(user_id="alice", limit=1000)
    edges = _edges(data)

    named = {f.subject_name for f in snapshot.facts} | {f.object_name for f in snapshot.facts}
    assert {n["name"] for n in data["nodes"]} == named | {"Boston"}  # Boston: superseded
    assert "Globex" not in {n["name"] for n in data["nodes"]}  # another scope
    assert "Tokyo" not in json.dumps(data)  # expired
    boston = edges[("alice", "lives in", "Boston")]
    assert boston["status"] == "superseded"
    assert (boston["valid_at"], boston["invalid_at"]) == ("2023-01-01", "2024-06-01")
    assert edges[("alice", "lives in", "Denver")]["status"] == "current"
    leads = edges[("alice", "leads", "Project Falcon")]
    [source] = leads["episodes"]
    assert data["episodes"][source]["text"] == "Team notes about Project Falcon."
    assert sum(e["status"] == "current" for e in data["edges"]) == len(snapshot.facts)


def test_as_of_shows_the_graph_as_it_was(sample: Memory) -> None:
    data = _data(render_view(sample, ALICE, as_of=datetime(2023, 6, 1, tzinfo=UTC)))
    edges = _edges(data)
    assert edges[("alice", "lives in", "Boston")]["status"] == "current"
    assert not any(key[2] in ("Denver", "Project Falcon") for key in edges)


def test_around_keeps_the_neighbourhood_within_hops(sample: Memory) -> None:
    one = _data(render_view(sample, ALICE, around="project falcon", hops=1))
    assert {n["name"] for n in one["nodes"]} == {"Project Falcon", "alice", "Neo4j"}
    two = _data(render_view(sample, ALICE, around="Project Falcon", hops=2))
    assert {"Java", "Denver", "Boston"} <= {n["name"] for n in two["nodes"]}
    assert "Mallory" not in {n["name"] for n in two["nodes"]}
    alone = _data(render_view(sample, ALICE, around="Project Falcon", hops=0))
    assert [n["name"] for n in alone["nodes"]] == ["Project Falcon"]
    assert alone["edges"] == []
    with pytest.raises(NotFoundError, match="Nowhere"):
        render_view(sample, ALICE, around="Nowhere")
    with pytest.raises(NotFoundError):
        render_view(sample, Scope.of(user_id="bob"), around="Project Falcon")
    with pytest.raises(InvalidInputError, match="hops"):
        render_view(sample, ALICE, around="Project Falcon", hops=99)


def test_hostile_text_cannot_break_out_of_the_page(sample: Memory) -> None:
    html = render_view(sample, ALICE)
    assert HOSTILE not in html
    assert any(n["name"] == HOSTILE for n in _data(html)["nodes"])  # kept, as inert data
    assert html.count("</script>") == html.count("<script")  # no early end of a script


def test_empty_scope_renders_an_empty_view(memory: Memory) -> None:
    data = _data(render_view(memory, Scope.of(user_id="nobody")))
    assert data["nodes"] == []
    assert data["edges"] == []


def test_cli_view_writes_the_page(tmp_path: Path, embedder: Any) -> None:
    from typer.testing import CliRunner

    from graphmem.cli.app import app

    store = tmp_path / "store"
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        memory.add("I work at Acme.", user_id="alice")
    out = tmp_path / "alice.html"
    result = CliRunner().invoke(
        app, ["view", "--user", "alice", "--around", "Acme", "--hops", "1", "-o", str(out),
              "--path", str(store)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {n["name"] for n in _data(out.read_text(encoding="utf-8"))["nodes"]}
    assert names == {"alice", "Acme"}
    missing = CliRunner().invoke(
        app, ["view", "--user", "alice", "--around", "Initech", "--path", str(store)]
    )
    assert missing.exit_code == 1
    assert "no entity named 'Initech'" in missing.output
