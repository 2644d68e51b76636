"""JSONL import and export for the CLI (messages, triples, records)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from graphmem.cli.output import errors
from graphmem.errors import InvalidInputError
from graphmem.memory import Memory
from graphmem.models.scope import Scope

_TRIPLE_KEYS = {"subject", "predicate", "object"}
_PAGE = 10_000


def _lines(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{file}:{number}: not JSON: {exc}") from None
            if not isinstance(value, dict):
                raise InvalidInputError(f"{file}:{number}: each line must be a JSON object")
            yield number, value


def import_jsonl(
    memory: Memory, file: Path, *, scope: dict[str, str | None], batch: int, show_progress: bool
) -> dict[str, int]:
    """Add every line of ``file``: consecutive messages with one timestamp form one add;
    triples go through ``add_facts`` in batches. Lines may carry their own scope ids."""
    total = sum(1 for _ in _lines(file))
    summary = {"messages": 0, "triples": 0, "facts_added": 0}
    pending: list[dict[str, Any]] = []
    pending_key: tuple[Any, ...] | None = None

    def flush() -> None:
        nonlocal pending, pending_key
        if not pending or pending_key is None:
            return
        kind, timestamp, line_scope = pending_key
        ids = {**scope, **dict(line_scope)}
        if kind == "triples":
            result = memory.add_facts(pending, **ids)
            summary["triples"] += len(pending)
        else:
            result = memory.add(pending, timestamp=timestamp, **ids)
            summary["messages"] += len(pending)
        summary["facts_added"] += len(result.facts_added)
        pending, pending_key = [], None

    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=errors, disable=not show_progress) as progress:
        task = progress.add_task("import", total=total)
        for number, row in _lines(file):
            line_scope = tuple(
                (key, row.pop(key)) for key in ("user_id", "agent_id", "run_id") if key in row
            )
            if row.keys() >= _TRIPLE_KEYS:
                key: tuple[Any, ...] = ("triples", None, line_scope)
                item = row
            elif "content" in row:
                key = ("messages", row.pop("timestamp", None), line_scope)
                item = row
            else:
                raise InvalidInputError(
                    f"{file}:{number}: expected a message (content) or a triple "
                    "(subject, predicate, object)"
                )
            if key != pending_key or len(pending) >= batch:
                flush()
                pending_key = key
            pending.append(item)
            progress.advance(task)
        flush()
    return summary


def export_jsonl(memory: Memory, handle: IO[str], *, scope: dict[str, str | None]) -> int:
    """Write the scope's episodes, entities and every fact version as JSON lines."""
    store = memory.store
    target = Scope.of(**scope)
    count = 0
    for kind, records in (
        ("episode", _paged(lambda o: store.list_episodes(target, limit=_PAGE, offset=o))),
        ("entity", _paged(lambda o: store.list_entities(target, limit=_PAGE, offset=o))),
        (
            "fact",
            _paged(lambda o: store.list_facts(target, limit=_PAGE, offset=o, include_expired=True)),
        ),
    ):
        for record in records:
            handle.write(
                json.dumps(
                    {"kind": kind, "record": record.model_dump(mode="json")}, ensure_ascii=False
                )
                + "\n"
            )
            count += 1
    return count


def _paged(fetch: Any) -> Iterator[Any]:
    offset = 0
    while True:
        page = fetch(offset)
        yield from page
        if len(page) < _PAGE:
            return
        offset += len(page)
