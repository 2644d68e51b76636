"""The extraction tool schema: generated from the models, checked in, provider-friendly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from graphmem.extraction.models import (
    ExtractedEnding,
    ExtractedEntity,
    ExtractedFact,
    Extraction,
)
from graphmem.extraction.prompt import (
    SCHEMA_PATH,
    extraction_json_schema,
    extraction_tool,
    main,
    schema_text,
)

SECTIONS: dict[str, type[BaseModel]] = {
    "entities": ExtractedEntity,
    "facts": ExtractedFact,
    "endings": ExtractedEnding,
}


def _walk(node: Any) -> list[Any]:
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def test_checked_in_schema_matches_the_generated_one() -> None:
    assert Path(__file__).resolve().parents[1] / "schemas" / "extraction.schema.json" == SCHEMA_PATH
    checked_in = SCHEMA_PATH.read_text(encoding="utf-8")
    assert json.loads(checked_in) == extraction_json_schema(), (
        "schemas/extraction.schema.json is stale: run "
        "`python -m graphmem.extraction.prompt --write-schema`"
    )
    assert checked_in == schema_text()


def test_write_schema_command_writes_the_generated_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "extraction.schema.json"
    assert main(["--write-schema", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == extraction_json_schema()
    assert str(target) in capsys.readouterr().out


def test_schema_fields_follow_the_pydantic_models() -> None:
    schema = extraction_json_schema()
    assert set(schema["properties"]) == set(Extraction.model_fields)
    for section, model in SECTIONS.items():
        item = schema["properties"][section]["items"]
        assert set(item["properties"]) == set(model.model_fields)
        required = {name for name, info in model.model_fields.items() if info.is_required()}
        assert set(item["required"]) == required


def test_schema_is_self_contained_and_free_of_titles() -> None:
    nodes = _walk(extraction_json_schema())
    keys = {key for node in nodes if isinstance(node, dict) for key in node}
    assert "$ref" not in keys
    assert "$defs" not in keys
    assert "title" not in keys
    assert "anyOf" not in keys  # nullable values are spelled as type lists


@pytest.mark.parametrize(
    ("section", "field"),
    [("facts", "valid_at"), ("facts", "invalid_at"), ("endings", "ended_at")],
)
def test_datetimes_are_nullable_iso_8601_strings(section: str, field: str) -> None:
    spec = extraction_json_schema()["properties"][section]["items"]["properties"][field]
    assert spec["type"] == ["string", "null"]
    assert spec["format"] == "date-time"
    assert "ISO-8601" in spec["description"]


def test_list_sizes_are_bounded_and_names_are_names() -> None:
    schema = extraction_json_schema()
    bounds = {key: schema["properties"][key]["maxItems"] for key in SECTIONS}
    assert bounds == {"entities": 100, "facts": 100, "endings": 50}
    entity = schema["properties"]["entities"]["items"]["properties"]
    assert entity["aliases"]["maxItems"] == 20
    fact = schema["properties"]["facts"]["items"]["properties"]
    for field in ("subject", "object"):
        assert fact[field]["type"] == "string"
        assert "never an id" in fact[field]["description"]
    # Ids, scopes and queries are not part of what a model can say.
    every_key = {k for n in _walk(schema) if isinstance(n, dict) for k in n.get("properties", {})}
    assert not every_key & {"id", "subject_id", "object_id", "user_id", "scope", "cypher"}


def test_the_tool_sent_to_providers_uses_this_schema() -> None:
    tool = extraction_tool()
    assert tool.name == "record_memories"
    assert tool.input_schema == extraction_json_schema()
