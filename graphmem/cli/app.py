"""The ``graphmem`` command line: the same operations as :class:`graphmem.Memory`.

Every command takes ``--path`` (the store directory, default ``$GRAPHMEM_HOME`` or
``~/.graphmem``) and prints tables for people or, with ``--json``, JSON for scripts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from graphmem.cli import output
from graphmem.cli.service import keys_app, mcp, serve
from graphmem.errors import GraphmemError

app = typer.Typer(
    name="graphmem",
    help="Graph-first long-term memory for LLM assistants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PathOption = Annotated[
    Path | None,
    typer.Option("--path", "-p", help="Store directory (default: $GRAPHMEM_HOME or ~/.graphmem)."),
]
UserOption = Annotated[str | None, typer.Option("--user", "-u", help="user_id of the scope.")]
AgentOption = Annotated[str | None, typer.Option("--agent", "-a", help="agent_id of the scope.")]
RunOption = Annotated[str | None, typer.Option("--run", "-r", help="run_id of the scope.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
WhenOption = Annotated[
    datetime | None,
    typer.Option(help="ISO-8601 time with offset, e.g. 2026-04-01T00:00:00+00:00."),
]


@contextmanager
def open_memory(path: Path | None) -> Iterator[Any]:
    """Open a Memory for one command, turning graphmem errors into a clean exit."""
    from graphmem import Memory, MemoryConfig

    try:
        with Memory(MemoryConfig(path=path)) as memory:
            yield memory
    except GraphmemError as exc:
        output.errors.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
        raise typer.Exit(code=1) from None


def _scope(user: str | None, agent: str | None, run: str | None) -> dict[str, str | None]:
    return {"user_id": user, "agent_id": agent, "run_id": run}


@app.command()
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
        result = memory.add(message, timestamp=timestamp, **_scope(user, agent, run))
    if as_json:
        output.print_json(result)
        return
    output.console.print(
        f"stored {len(result.episodes)} episode(s), {len(result.facts_added)} new fact(s), "
        f"{len(result.facts_closed)} closed"
    )
    if result.facts_added:
        output.console.print(output.facts_table(result.facts_added, title="New facts"))


@app.command(name="import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(help="JSONL file of messages or of triples.", exists=True, dir_okay=False),
    ],
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    batch: Annotated[int, typer.Option(min=1, help="Lines per add call.")] = 50,
    reembed: Annotated[
        bool, typer.Option("--reembed", help="Export of another embedder: embed every text anew.")
    ] = False,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a JSONL file: a graphmem export (restores it exactly), or lines of
    {role, content, name?, timestamp?} messages or {subject, predicate, object, ...} triples."""
    from graphmem.cli.importing import import_jsonl
    from graphmem.transfer import first_line, is_export

    if is_export(first_line(file)):
        _import_export(file, _scope(user, agent, run), reembed, path, as_json)
        return

    with open_memory(path) as memory:
        summary = import_jsonl(
            memory, file, scope=_scope(user, agent, run), batch=batch, show_progress=not as_json
        )
    if as_json:
        output.print_json(summary)
    else:
        output.console.print(
            f"imported {summary['messages']} message(s) and {summary['triples']} triple(s): "
            f"{summary['facts_added']} new fact(s)"
        )


def _import_export(
    file: Path, scope: dict[str, str | None], reembed: bool, path: Path | None, as_json: bool
) -> None:
    from graphmem.transfer.progress import progress_bars

    if any(scope.values()):
        output.errors.print(
            "[red]error:[/red] an export carries its own scopes: drop --user, "
            "--agent and --run (export one scope to import one)"
        )
        raise typer.Exit(code=2)
    with open_memory(path) as memory, progress_bars(output.errors, enabled=not as_json) as report:
        counts = memory.import_from(file, reembed=reembed, progress=report)
    summary = {**counts.as_dict(), "reembedded": counts.reembedded, "owners": counts.owners}
    if as_json:
        output.print_json(summary)
    else:
        output.console.print(
            f"imported {counts.entities} entities, {counts.episodes} episodes, {counts.facts} "
            f"facts, {counts.mentions} mentions, {counts.audit} audit events, {counts.policies} "
            f"policies" + (f" ({counts.reembedded} texts re-embedded)" if counts.reembedded else "")
        )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 10,
    as_of: WhenOption = None,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search a scope's memory."""
    with open_memory(path) as memory:
        result = memory.search(query, limit=limit, as_of=as_of, **_scope(user, agent, run))
    if as_json:
        output.print_json(result)
    else:
        output.print_search(result)


@app.command()
def get(
    record_id: Annotated[str, typer.Argument(help="A fact, entity or episode id.")],
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    path: PathOption = None,
) -> None:
    """Show one record as JSON."""
    with open_memory(path) as memory:
        output.print_json(memory.get(record_id, **_scope(user, agent, run)))


@app.command()
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
        entries = memory.history(record_id, **_scope(user, agent, run))
    if as_json:
        output.print_json(entries)
    else:
        output.print_history(entries)


@app.command(name="list")
def list_(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_of: WhenOption = None,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a scope's facts (valid now, or at --as-of)."""
    with open_memory(path) as memory:
        snapshot = memory.get_all(limit=limit, as_of=as_of, **_scope(user, agent, run))
    if as_json:
        output.print_json(snapshot)
    else:
        output.console.print(output.facts_table(snapshot.facts))


@app.command()
def forget(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hard-delete everything of a scope (right to be forgotten)."""
    scope = _scope(user, agent, run)
    if not any(scope.values()):
        output.errors.print("[red]error:[/red] give --user, --agent or --run")
        raise typer.Exit(code=2)
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


@app.command()
def stats(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record counts of a scope, or of the whole store."""
    with open_memory(path) as memory:
        counts = memory.stats(**_scope(user, agent, run))
        backend = memory.store.backend
    values = {"backend": backend, **counts.__dict__}
    if as_json:
        output.print_json(values)
        return
    table = Table(title="graphmem", title_justify="left", show_header=False)
    for key, value in values.items():
        table.add_row(key.replace("_", " "), str(value))
    output.console.print(table)


@app.command()
def reindex(path: PathOption = None) -> None:
    """Rebuild the vector and keyword indexes from the source of truth."""
    from rich.progress import Progress

    with open_memory(path) as memory, Progress(console=output.errors) as progress:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 1))
            progress.update(tasks[stage], completed=done, total=max(total, 1))

        memory.reindex(progress=report)
    output.console.print("indexes rebuilt")


@app.command()
def check(
    repair: Annotated[
        bool, typer.Option("--repair", help="Rebuild derived data if wrong.")
    ] = False,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the store: truth against vector and keyword indexes, dangling references."""
    with open_memory(path) as memory:
        report = memory.check(repair=repair)
    if as_json:
        output.print_json(
            {"ok": report.ok, "problems": report.problems, "repaired": report.repaired}
        )
    elif not report.problems:
        output.console.print("[green]ok[/green]: no problems found")
    else:
        for problem in report.problems:
            mark = "[green]repaired[/green]" if problem in report.repaired else "[red]problem[/red]"
            output.console.print(f"{mark}: {problem}")
    if not report.ok:
        raise typer.Exit(code=1)


@app.command()
def export(
    file: Annotated[
        Path | None, typer.Argument(help="Output file, .jsonl or .jsonl.gz (default: stdout).")
    ] = None,
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    embeddings: Annotated[
        bool, typer.Option("--embeddings/--no-embeddings", help="Keep vectors (exact round trip).")
    ] = True,
    path: PathOption = None,
) -> None:
    """Export the whole store, or one scope, as JSONL: every record and version, with
    provenance, mentions, audit log, retention policies and (by default) embeddings."""
    from graphmem.transfer.progress import progress_bars

    with open_memory(path) as memory, progress_bars(output.errors) as report:
        counts = memory.export(
            file if file else sys.stdout,
            embeddings=embeddings,
            progress=report,
            **_scope(user, agent, run),
        )
    output.errors.print(
        f"exported {counts.entities} entities, {counts.episodes} episodes, {counts.facts} facts, "
        f"{counts.mentions} mentions, {counts.audit} audit events, {counts.policies} policies"
    )


@app.command()
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would go.")] = False,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Purge expired records and records past their scope's retention policy."""
    from dataclasses import asdict

    from graphmem.transfer.progress import progress_bars

    with open_memory(path) as memory, progress_bars(output.errors, enabled=not as_json) as report:
        result = memory.gc(dry_run=dry_run, progress=report)
    owners = {
        owner: {**asdict(purge), "total": purge.total}
        for owner, purge in sorted(result.owners.items())
    }
    summary = {
        "dry_run": result.dry_run,
        "episodes": result.episodes,
        "facts": result.facts,
        "entities": result.entities,
        "policies": result.policies,
        "owners": owners,
    }
    if as_json:
        output.print_json(summary)
        return
    verb = "would purge" if dry_run else "purged"
    output.console.print(
        f"{verb} {result.episodes} episode(s), {result.facts} fact(s), {result.entities} "
        f"entit(ies) in {len(owners)} scope(s); {result.policies} retention polic(ies)"
    )


@app.command()
def retention(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    max_age_days: Annotated[
        float | None,
        typer.Option("--max-age-days", min=0.0001, help="Keep the scope's records this many days."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the scope's policy.")] = False,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set (--max-age-days), remove (--clear) or list retention policies; gc applies them."""
    scope = _scope(user, agent, run)
    with open_memory(path) as memory:
        if max_age_days is not None or clear:
            if not any(scope.values()):
                output.errors.print("[red]error:[/red] give --user, --agent or --run")
                raise typer.Exit(code=2)
            memory.set_retention(max_age=None if clear else max_age_days, **scope)
        policies = memory.retention_policies(**scope)
    rows = [
        {
            **p.scope.model_dump(exclude_none=True),
            "max_age_days": p.max_age.total_seconds() / 86400,
            "since": p.created_at.isoformat(),
        }
        for p in policies
    ]
    if as_json:
        output.print_json(rows)
    else:
        output.console.print(output.rows_table(rows) if rows else "no retention policies")


@app.command()
def audit(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    deletions: Annotated[
        bool,
        typer.Option(
            "--deletions", help="Only erasures (forget, gc, delete): the deletion records."
        ),
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """The audit log, newest first (of one owner, or of all with --deletions)."""
    scope = _scope(user, agent, run)
    with open_memory(path) as memory:
        if deletions:
            records: list[Any] = memory.deletion_records(limit=limit, **scope)
        elif any(scope.values()):
            records = memory.audit_log(limit=limit, **scope)
        else:
            output.errors.print("[red]error:[/red] give --user, --agent or --run (or --deletions)")
            raise typer.Exit(code=2)
    if as_json:
        output.print_json(records)
        return
    rows = [
        {
            "at": r.at.isoformat(timespec="seconds"),
            "action": str(r.action),
            "owner": r.owner or "",
            "actor": r.actor or "",
            "detail": json.dumps(getattr(r, "counts", None) or getattr(r, "detail", {})),
        }
        for r in records
    ]
    output.console.print(output.rows_table(rows) if rows else "no audit events")


@app.command()
def view(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    as_of: WhenOption = None,
    around: Annotated[str | None, typer.Option(help="Only what is near this entity.")] = None,
    hops: Annotated[int, typer.Option(min=0, max=6, help="Distance from --around.")] = 2,
    out: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "graphmem-view.html"
    ),
    path: PathOption = None,
) -> None:
    """Write an interactive, self-contained HTML view of a scope's graph."""
    from graphmem.models.scope import Scope
    from graphmem.view import render_view

    with open_memory(path) as memory:
        html = render_view(
            memory, Scope.of(**_scope(user, agent, run)), as_of=as_of, around=around, hops=hops
        )
    out.write_text(html, encoding="utf-8")
    output.console.print(f"wrote {out}")


@app.command()
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
        rows = memory.cypher(query, params, history=history, **_scope(user, agent, run))
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


@app.command()
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

    try:
        counts = run_migration(to, source_path=path, target_path=target_path)
    except GraphmemError as exc:
        output.errors.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
        raise typer.Exit(code=1) from None
    output.console.print(f"migrated: {counts}")


@app.command()
def demo(
    path: Annotated[Path | None, typer.Option(help="Keep the demo store here.")] = None,
) -> None:
    """Ingest a small bundled conversation into a temporary store and search it."""
    from graphmem.cli.demo import run_demo

    try:
        run_demo(path)
    except GraphmemError as exc:
        output.errors.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
        raise typer.Exit(code=1) from None


app.command()(serve)
app.add_typer(keys_app, name="keys")
app.command()(mcp)


def main() -> None:
    """Console-script entry point."""
    app()
