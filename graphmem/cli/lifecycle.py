"""Commands that look after a store rather than use it: moving it in and out (``export``,
``import``), keeping it tidy (``gc``, ``retention``), accounting for it (``audit``,
``view``) and checking or rebuilding its derived indexes (``check``, ``reindex``).

They are plain functions; :mod:`graphmem.cli.app` registers them on the ``graphmem``
command.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from graphmem.cli import output
from graphmem.cli.common import (
    AgentOption,
    JsonOption,
    LimitOption,
    PathOption,
    RunOption,
    ScopeIds,
    UserOption,
    WhenOption,
    open_memory,
    require_scope,
    scope_ids,
)

if TYPE_CHECKING:
    from graphmem.transfer.exporting import TransferCounts


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
            **scope_ids(user, agent, run),
        )
    output.errors.print(f"exported {_record_counts(counts)}")


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

    scope = scope_ids(user, agent, run)
    if is_export(first_line(file)):
        _import_export(file, scope, reembed, path, as_json)
        return

    with open_memory(path) as memory:
        summary = import_jsonl(memory, file, scope=scope, batch=batch, show_progress=not as_json)
    if as_json:
        output.print_json(summary)
    else:
        output.console.print(
            f"imported {summary['messages']} message(s) and {summary['triples']} triple(s): "
            f"{summary['facts_added']} new fact(s)"
        )


def _import_export(
    file: Path, scope: ScopeIds, reembed: bool, path: Path | None, as_json: bool
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
            f"imported {_record_counts(counts)}"
            + (f" ({counts.reembedded} texts re-embedded)" if counts.reembedded else "")
        )


def _record_counts(counts: TransferCounts) -> str:
    return (
        f"{counts.entities} entities, {counts.episodes} episodes, {counts.facts} facts, "
        f"{counts.mentions} mentions, {counts.audit} audit events, {counts.policies} policies"
    )


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
    scope = scope_ids(user, agent, run)
    with open_memory(path) as memory:
        if max_age_days is not None or clear:
            require_scope(scope)
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
    limit: LimitOption = 50,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """The audit log, newest first (of one owner, or of all with --deletions)."""
    scope = scope_ids(user, agent, run)
    with open_memory(path) as memory:
        records: list[Any]
        if deletions:
            records = memory.deletion_records(limit=limit, **scope)
        else:
            require_scope(scope, alternative="--deletions")
            records = memory.audit_log(limit=limit, **scope)
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
            memory, Scope.of(**scope_ids(user, agent, run)), as_of=as_of, around=around, hops=hops
        )
    out.write_text(html, encoding="utf-8")
    output.console.print(f"wrote {out}")


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
