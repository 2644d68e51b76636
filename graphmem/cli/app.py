"""The ``graphmem`` command line: the same operations as :class:`graphmem.Memory`.

Every command takes ``--path`` (the store directory, default ``$GRAPHMEM_HOME`` or
``~/.graphmem``) and prints tables for people or, with ``--json``, JSON for scripts.
The commands that use a store's memories live here; those that look after the store
are in :mod:`graphmem.cli.lifecycle`, the service commands in :mod:`graphmem.cli.service`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from graphmem.cli import lifecycle, output
from graphmem.cli.common import (
    AgentOption,
    JsonOption,
    LimitOption,
    PathOption,
    RunOption,
    UserOption,
    WhenOption,
    exit_on_error,
    open_memory,
    require_scope,
    scope_ids,
)
from graphmem.cli.service import keys_app, mcp, serve
from graphmem.models.results import ResultKind

app = typer.Typer(
    name="graphmem",
    help="Graph-first long-term memory for LLM assistants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def add(
    text: Annotated[str, typer.Argument(help="The message to remember ('-' reads stdin).")],
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    role: Annotated[str, typer.Option(help="Role of the message.")] = "user",
    name: Annotated[str | None, typer.Option(help="Speaker name.")] = None,
    timestamp: WhenOption = None,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remember one message."""
    content = sys.stdin.read() if text == "-" else text
    message: dict[str, Any] = {"role": role, "content": content}
    if name:
        message["name"] = name
    with open_memory(path) as memory:
        result = memory.add(message, timestamp=timestamp, **scope_ids(user, agent, run))
    if as_json:
        output.print_json(result)
        return
    output.console.print(
        f"stored {len(result.episodes)} episode(s), {len(result.facts_added)} new fact(s), "
        f"{len(result.facts_closed)} closed"
    )
    if result.facts_added:
        output.console.print(output.facts_table(result.facts_added, title="New facts"))


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    limit: LimitOption = 10,
    as_of: WhenOption = None,
    include: Annotated[
        list[ResultKind] | None,
        typer.Option(help="Kinds to return (repeat the option; default: all three)."),
    ] = None,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search a scope's memory."""
    with open_memory(path) as memory:
        result = memory.search(
            query, limit=limit, as_of=as_of, include=include, **scope_ids(user, agent, run)
        )
    if as_json:
        output.print_json(result)
    else:
        output.print_search(result)


def get(
    record_id: Annotated[str, typer.Argument(help="A fact, entity or episode id.")],
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    path: PathOption = None,
) -> None:
    """Show one record as JSON."""
    with open_memory(path) as memory:
        output.print_json(memory.get(record_id, **scope_ids(user, agent, run)))


def history(
    record_id: Annotated[str, typer.Argument(help="A fact id or an entity id.")],
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every version of a fact, or of every fact of an entity."""
    with open_memory(path) as memory:
        entries = memory.history(record_id, **scope_ids(user, agent, run))
    if as_json:
        output.print_json(entries)
    else:
        output.print_history(entries)


def list_(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    limit: LimitOption = 50,
    as_of: WhenOption = None,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a scope's facts (valid now, or at --as-of)."""
    with open_memory(path) as memory:
        snapshot = memory.get_all(limit=limit, as_of=as_of, **scope_ids(user, agent, run))
    if as_json:
        output.print_json(snapshot)
    else:
        output.console.print(output.facts_table(snapshot.facts))


def forget(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hard-delete everything of a scope (right to be forgotten)."""
    scope = scope_ids(user, agent, run)
    require_scope(scope)
    described = ", ".join(f"{k}={v}" for k, v in scope.items() if v)
    if not yes and not typer.confirm(f"Delete every memory of {described}?"):
        raise typer.Exit(code=1)
    with open_memory(path) as memory:
        counts = memory.forget(**scope)
    if as_json:
        output.print_json(counts.__dict__)
    else:
        output.console.print(
            f"forgot {described}: {counts.episodes} episode(s), {counts.facts} fact(s), "
            f"{counts.entities} entit(ies)"
        )


def stats(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record counts of a scope, or of the whole store."""
    with open_memory(path) as memory:
        counts = memory.stats(**scope_ids(user, agent, run))
        backend = memory.store.backend
    values = {"backend": backend, **counts.__dict__}
    if as_json:
        output.print_json(values)
        return
    table = Table(title="graphmem", title_justify="left", show_header=False)
    for key, value in values.items():
        table.add_row(key.replace("_", " "), str(value))
    output.console.print(table)


def cypher(
    query: Annotated[str, typer.Argument(help="A read-only Cypher query.")],
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Query parameter as name=JSON value (repeatable)."),
    ] = None,
    history: Annotated[bool, typer.Option(help="Include superseded fact versions.")] = False,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Explore one scope's graph with read-only Cypher (MATCH ... RETURN ...)."""
    params = dict(_parse_param(item) for item in param or [])
    with open_memory(path) as memory:
        rows = memory.cypher(query, params, history=history, **scope_ids(user, agent, run))
    if as_json:
        output.print_json(rows)
        return
    output.console.print(output.rows_table(rows))


def _parse_param(item: str) -> tuple[str, Any]:
    name, sep, raw = item.partition("=")
    if not sep or not name:
        raise typer.BadParameter(f"expected name=value, got {item!r}")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def migrate(
    to: Annotated[str, typer.Option("--to", help="Target backend: neo4j or embedded.")],
    target_path: Annotated[
        Path | None,
        typer.Option("--target-path", help="Target directory when migrating to an embedded store."),
    ] = None,
    path: PathOption = None,
) -> None:
    """Copy every record of this store into another backend, verified by counts.

    Neo4j connection settings come from GRAPHMEM_NEO4J_URI / _USER / _PASSWORD / _DATABASE.
    With --to embedded, the source is the Neo4j store named by those variables.
    """
    from graphmem.cli.migrating import run_migration

    with exit_on_error():
        counts = run_migration(to, source_path=path, target_path=target_path)
    output.console.print(f"migrated: {counts}")


def demo(
    path: Annotated[Path | None, typer.Option(help="Keep the demo store here.")] = None,
) -> None:
    """Ingest a small bundled conversation into a temporary store and search it."""
    from graphmem.cli.demo import run_demo

    with exit_on_error():
        run_demo(path)


# Registered in one place, in the order ``graphmem --help`` lists them.
app.command()(add)
app.command(name="import")(lifecycle.import_)
app.command()(search)
app.command()(get)
app.command()(history)
app.command(name="list")(list_)
app.command()(forget)
app.command()(stats)
app.command()(lifecycle.reindex)
app.command()(lifecycle.check)
app.command()(lifecycle.export)
app.command()(lifecycle.gc)
app.command()(lifecycle.retention)
app.command()(lifecycle.audit)
app.command()(lifecycle.view)
app.command()(cypher)
app.command()(migrate)
app.command()(demo)
app.command()(serve)
app.add_typer(keys_app, name="keys")
app.command()(mcp)


def main() -> None:
    """Console-script entry point."""
    app()
