"""Export and import: a round trip is exact, field by field, vectors included; bad
files and occupied targets are refused without writing; other embedders re-embed."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hashing_embedder import HashingEmbedder

from graphmem import Memory, MemoryConfig
from graphmem.errors import EmbedderMismatchError, InvalidInputError
from graphmem.store.base import GraphStore
from graphmem.store.migrate import open_export

T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)
PNG = (
    "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
    "nGNgYGBgAAAABQABh6FO1AAAAABJRU5ErkJggg=="
)


def _fill(memory: Memory) -> None:
    """Every kind of record and field: versions, endings, metadata, expiry, runs, images."""
    memory.add("I live in Boston.", user_id="alice", timestamp=T0, metadata={"src": "chat"})
    memory.add("I work at Acme.", user_id="alice", run_id="r1", timestamp=T0 + timedelta(days=1))
    memory.add("I moved to Denver.", user_id="alice", timestamp=T0 + timedelta(days=30))
    memory.add(
        {"role": "user", "content": [
            {"type": "text", "text": "My new desk"},
            {"type": "image_url", "image_url": {"url": PNG}, "caption": "a standing desk"},
        ]},
        user_id="alice", expiration_date="2990-01-01",
    )  # fmt: skip
    memory.add_facts(
        [("Alice", "leads", "Project Falcon", "Alice leads Project Falcon.", T0)],
        user_id="alice", agent_id="planner", metadata={"team": "core", "n": 1.5},
    )  # fmt: skip
    memory.add("I work at Globex.", user_id="bob", timestamp=T0)
    memory.set_retention(user_id="bob", max_age=timedelta(days=30))
    facts = memory.get_all(user_id="alice").facts
    memory.update(facts[0].id, confidence=0.5, user_id="alice")


def _dump(store: GraphStore, owners: set[str] | None = None) -> dict[str, Any]:
    """Every record of the store (of some owners), with every field and vector."""
    with open_export(store) as export:

        def keep(owner: str | None) -> bool:
            return owners is None or owner in owners

        entities = {
            e.id: (e.model_dump(), e.embedding)
            for page in export.entities(100)
            for e in page
            if keep(e.owner)
        }
        episodes = {
            e.id: (e.model_dump(), e.embedding)
            for page in export.episodes(100)
            for e in page
            if keep(e.owner)
        }
        facts = {
            f.id: (f.model_dump(), f.embedding)
            for page in export.facts(100)
            for f in page
            if keep(f.owner)
        }
        mentions = {m for page in export.mentions(100) for m in page if m[0] in episodes}
        audit = [a.model_dump() for page in export.audit(100) for a in page if keep(a.owner)]
    return {"entities": entities, "episodes": episodes, "facts": facts,
            "mentions": mentions, "audit": audit}  # fmt: skip


def test_whole_store_round_trip_is_exact(memory_factory: Any, tmp_path: Path) -> None:
    source: Memory = memory_factory("source")
    _fill(source)
    target: Memory = memory_factory("target")
    stages: list[str] = []

    exported = source.export(tmp_path / "all.jsonl", progress=lambda s, d, t: stages.append(s))
    imported = target.import_from(tmp_path / "all.jsonl")

    before, after = _dump(source.store), _dump(target.store)
    assert after == before  # every field of every record, vectors bit for bit
    assert before["entities"]
    assert before["facts"]
    assert before["mentions"]
    assert before["audit"]
    assert any(f[0]["expired_at"] for f in before["facts"].values())  # versions travelled
    assert any(e[0]["expires_at"] for e in before["episodes"].values())
    assert {"entities", "episodes", "facts", "mentions", "audit"} <= set(stages)
    assert imported.as_dict() == exported.as_dict()
    assert sorted(imported.owners) == ["user:alice", "user:bob"]
    assert target.retention_policies() == source.retention_policies()
    # The imported store works like the original: indexes, search, history.
    hits = target.search("where does alice live?", user_id="alice")
    assert any("Denver" in hit.fact.fact for hit in hits.facts)
    assert target.check().ok


def test_one_scope_round_trip_leaves_other_owners_out(memory_factory: Any, tmp_path: Path) -> None:
    source: Memory = memory_factory("source")
    _fill(source)
    target: Memory = memory_factory("target")
    path = tmp_path / "alice.jsonl.gz"

    counts = source.export(path, user_id="alice")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle]
    assert lines[0]["scope"] == {"user_id": "alice"}
    assert lines[-1]["type"] == "end"
    assert "Globex" not in json.dumps(lines)
    assert counts.policies == 0  # bob's policy stays home
    target.import_from(path)

    assert _dump(target.store) == _dump(source.store, {"user:alice"})
    assert target.stats(user_id="bob").episodes == 0


def test_narrowed_scope_exports_the_entities_it_refers_to(
    memory_factory: Any, tmp_path: Path
) -> None:
    source: Memory = memory_factory("source")
    _fill(source)
    buffer = io.StringIO()
    counts = source.export(buffer, user_id="alice", run_id="r1")
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    names = {line["record"]["name"] for line in lines if line["type"] == "entity"}
    assert "Acme" in names
    assert "Denver" not in names
    assert "Project Falcon" not in names
    assert counts.episodes == 1
    assert counts.audit == 0

    target: Memory = memory_factory("target")
    buffer.seek(0)
    target.import_from(buffer)
    assert [f.fact for f in target.get_all(user_id="alice", run_id="r1").facts] == [
        f.fact for f in source.get_all(user_id="alice", run_id="r1").facts
    ]


def test_bad_files_and_occupied_targets_write_nothing(memory_factory: Any, tmp_path: Path) -> None:
    source: Memory = memory_factory("source")
    _fill(source)
    good = tmp_path / "all.jsonl"
    source.export(good)
    lines = good.read_text().splitlines()
    target: Memory = memory_factory("target")

    cases = {
        "cut.jsonl": lines[:-3],  # truncated: no end line
        "bad.jsonl": [*lines[:3], '{"type": "fact", "record": {"id": 1}}', *lines[3:]],
        "notjson.jsonl": [lines[0], "{oops"],
        "first.jsonl": lines[1:],  # no header
        "order.jsonl": [lines[0], *reversed(lines[1:-1]), lines[-1]],
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text("\n".join(content) + "\n")
        with pytest.raises(InvalidInputError):
            target.import_from(path)
        assert target.stats().episodes == 0, name
    with pytest.raises(InvalidInputError, match="already holds records of user:"):
        source.import_from(good)


def test_other_embedder_is_refused_or_reembedded(memory_factory: Any, tmp_path: Path) -> None:
    source: Memory = memory_factory("source")
    _fill(source)
    path = tmp_path / "all.jsonl"
    source.export(path)
    hashing = HashingEmbedder()
    config = MemoryConfig(path=tmp_path / "other", use_llm=False)

    with Memory(config, embedder=hashing) as other:
        with pytest.raises(EmbedderMismatchError, match="reembed=True"):
            other.import_from(path)
        assert other.stats().episodes == 0
        counts = other.import_from(path, reembed=True)
        assert counts.reembedded == counts.entities + counts.episodes + counts.facts
        episodes = _dump(other.store)["episodes"]
        for fields, vector in episodes.values():
            expected = hashing.embed([fields["content"]])[0]
            assert np.allclose(vector, expected, atol=1e-6)
        assert other.search("Denver", user_id="alice").facts


def test_export_without_vectors_is_reembedded_on_import(
    memory_factory: Any, tmp_path: Path
) -> None:
    source: Memory = memory_factory("source")
    source.add("I live in Paris.", user_id="alice")
    path = tmp_path / "light.jsonl"
    source.export(path, embeddings=False)
    assert '"embedding"' not in path.read_text()

    target: Memory = memory_factory("target")
    counts = target.import_from(path)
    assert counts.reembedded > 0
    before, after = _dump(source.store), _dump(target.store)
    for kind in ("entities", "episodes"):
        assert {k: v[0] for k, v in after[kind].items()} == {
            k: v[0] for k, v in before[kind].items()
        }
        for key, (_, vector) in after[kind].items():
            assert np.allclose(vector, before[kind][key][1], atol=1e-5)


def test_cli_export_and_import_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Any
) -> None:
    from typer.testing import CliRunner

    from graphmem.cli.app import app

    with Memory(MemoryConfig(path=tmp_path / "a", use_llm=False), embedder=embedder) as memory:
        _fill(memory)
    runner = CliRunner()
    out = tmp_path / "dump.jsonl"
    exported = runner.invoke(app, ["export", str(out), "--path", str(tmp_path / "a")])
    assert exported.exit_code == 0, exported.output
    imported = runner.invoke(app, ["import", str(out), "--path", str(tmp_path / "b"), "--json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["fact"] > 0
    again = runner.invoke(app, ["import", str(out), "--path", str(tmp_path / "b")])
    assert again.exit_code == 1
    assert "already holds records" in again.output

    a = Memory(MemoryConfig(path=tmp_path / "a", use_llm=False), embedder=embedder)
    b = Memory(MemoryConfig(path=tmp_path / "b", use_llm=False), embedder=embedder)
    with a, b:
        assert _dump(a.store) == _dump(b.store)
