"""Rendering for the CLI: rich tables for people, JSON lines for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from graphmem.models.records import Fact
from graphmem.models.results import HistoryEntry, SearchResult

console = Console()
errors = Console(stderr=True)


def print_json(value: Any) -> None:
    """Print a model, list of models or plain value as JSON on stdout."""
    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        text = json.dumps([v.model_dump(mode="json") for v in value], indent=2, ensure_ascii=False)
    else:
        text = json.dumps(value, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write(text + "\n")


def day(value: datetime | None) -> str:
    """A short date for tables."""
    return value.strftime("%Y-%m-%d") if value is not None else "-"


def validity(fact: Fact) -> str:
    """``since 2026-04-08`` or ``2026-03-02 → 2026-04-08``."""
    if fact.invalid_at is None:
        return f"since {day(fact.valid_at)}"
    return f"{day(fact.valid_at)} → {day(fact.invalid_at)}"


def facts_table(
    facts: Iterable[Fact], title: str = "Facts", scores: list[float] | None = None
) -> Table:
    """A table of facts with their validity."""
    table = Table(title=title, title_justify="left", show_lines=False)
    if scores is not None:
        table.add_column("score", justify="right", style="dim")
    table.add_column("fact")
    table.add_column("relation", style="cyan")
    table.add_column("valid", style="green")
    table.add_column("id", style="dim", overflow="fold")
    for index, fact in enumerate(facts):
        row = [
            fact.fact,
            f"{fact.subject_name} —{fact.predicate}→ {fact.object_name}",
            validity(fact),
            str(fact.id)[:8],
        ]
        if scores is not None:
            row.insert(0, f"{scores[index]:.3f}")
        table.add_row(*row)
    return table


def print_search(result: SearchResult, *, show_episodes: int = 3) -> None:
    """Render a search result: facts with paths, then supporting episodes."""
    console.print(f"[bold]?[/bold] {result.query}")
    if not result.facts and not result.episodes:
        console.print("  [dim]nothing found[/dim]")
        return
    for hit in result.facts[:5]:
        status = "" if hit.valid else " [yellow](superseded)[/yellow]"
        console.print(
            f"  [green]•[/green] {hit.fact.fact}{status} [dim]({validity(hit.fact)}; "
            f"score {hit.score:.3f})[/dim]"
        )
        for path in hit.paths[:1]:
            if len(path) > 1:
                hops = " → ".join(
                    [path[0].from_entity] + [f"{h.predicate} → {h.to_entity}" for h in path]
                )
                console.print(f"      [dim]path: {hops}[/dim]")
    for episode_hit in result.episodes[:show_episodes]:
        episode = episode_hit.episode
        speaker = f"{episode.name}: " if episode.name else ""
        console.print(
            f"  [blue]›[/blue] [dim]{day(episode.valid_at)}[/dim] {speaker}{episode.content}"
        )


def print_history(entries: list[HistoryEntry]) -> None:
    """Render every version of a fact, oldest first."""
    table = Table(title="History", title_justify="left")
    table.add_column("status")
    table.add_column("fact")
    table.add_column("valid", style="green")
    table.add_column("learned", style="dim")
    table.add_column("retired", style="dim")
    for entry in entries:
        style = {"current": "bold green", "superseded": "yellow", "ended": "yellow"}.get(
            entry.status.value, ""
        )
        table.add_row(
            f"[{style}]{entry.status.value}[/{style}]" if style else entry.status.value,
            entry.fact.fact,
            validity(entry.fact),
            day(entry.fact.created_at),
            day(entry.fact.expired_at),
        )
    console.print(table)


def rows_table(rows: list[dict[str, Any]]) -> Table:
    """A table of query result rows (one column per key)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    table = Table(caption=f"{len(rows)} row(s)")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    return table


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        shown = {k: v for k, v in value.items() if k != "embedding"}
        return json.dumps(shown, default=str, ensure_ascii=False)
    return "" if value is None else str(value)
