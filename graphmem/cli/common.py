"""What every ``graphmem`` command shares: its options, the scope they name, and how a
command opens the store and reports a graphmem error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from graphmem.cli import output
from graphmem.errors import GraphmemError

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
LimitOption = Annotated[int, typer.Option(min=1, max=10_000)]

ScopeIds = dict[str, str | None]


def scope_ids(user: str | None, agent: str | None, run: str | None) -> ScopeIds:
    """The ``--user``/``--agent``/``--run`` values as the keyword arguments of
    :class:`graphmem.Memory` (``user_id``, ``agent_id``, ``run_id``)."""
    return {"user_id": user, "agent_id": agent, "run_id": run}


def require_scope(scope: ScopeIds, alternative: str = "") -> None:
    """Exit with code 2 unless the scope names at least one id; ``alternative`` names
    another option that would also do, e.g. ``"--deletions"``."""
    if any(scope.values()):
        return
    hint = f" (or {alternative})" if alternative else ""
    output.errors.print(f"[red]error:[/red] give --user, --agent or --run{hint}")
    raise typer.Exit(code=2)


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Turn a graphmem error into a one-line message on stderr and exit code 1; any
    other exception is a bug and keeps its traceback."""
    try:
        yield
    except GraphmemError as exc:
        output.errors.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
        raise typer.Exit(code=1) from None


@contextmanager
def open_memory(path: Path | None) -> Iterator[Any]:
    """Open a Memory for one command, turning graphmem errors into a clean exit."""
    # Imported here so that ``--help`` and the light commands start without loading
    # the store and embedding stack.
    from graphmem import Memory, MemoryConfig

    with exit_on_error(), Memory(MemoryConfig(path=path)) as memory:
        yield memory
