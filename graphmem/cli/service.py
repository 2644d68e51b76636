"""``graphmem serve``, ``graphmem keys ...`` and ``graphmem mcp``: memory as a service."""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.table import Table

from graphmem.cli import output
from graphmem.cli.common import AgentOption, JsonOption, PathOption, RunOption, UserOption
from graphmem.errors import GraphmemError

if TYPE_CHECKING:
    from graphmem.server.keys import ApiKey

keys_app = typer.Typer(
    help="Manage the API keys of the REST server (stored hashed, next to the store).",
    no_args_is_help=True,
)


def _fail(exc: GraphmemError) -> typer.Exit:
    output.errors.print(f"[red]error:[/red] {type(exc).__name__}: {exc}")
    return typer.Exit(code=1)


_EXTRA_PACKAGES = frozenset(
    {"fastapi", "starlette", "uvicorn", "mcp", "mcp_types", "sse_starlette"}
)


def _missing_extra(exc: ImportError) -> Exception:
    """A clean exit when the ``server`` extra is not installed; other import errors pass."""
    if exc.name is not None and exc.name.split(".")[0] in _EXTRA_PACKAGES:
        output.errors.print(
            f"[red]error:[/red] this command needs {exc.name.split('.')[0]!r}: "
            "pip install 'graphmem[server]'"
        )
        return typer.Exit(code=1)
    return exc


def _store_dir(path: Path | None) -> Path:
    from graphmem.config import MemoryConfig

    return MemoryConfig(path=path).store_path()


def _key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "admin": key.admin,
        "user_id": key.user_id,
        "agent_id": key.agent_id,
        "run_id": key.run_id,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@keys_app.command("create")
def create_key(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="A key for every scope (no --user/--agent/--run).")
    ] = False,
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    path: PathOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key bound to a scope (or an admin key); the key is shown only once."""
    from graphmem.server.keys import KeyStore

    try:
        created = KeyStore.for_store(_store_dir(path)).create(
            name, user_id=user, agent_id=agent, run_id=run, admin=admin
        )
    except GraphmemError as exc:
        raise _fail(exc) from None
    if as_json:
        output.print_json({**_key_json(created.key), "token": created.token})
        return
    output.console.print(f"created key {created.key.id} ({created.key.describe()})")
    output.console.print("store it now, it is not shown again:")
    sys.stdout.write(created.token + "\n")


@keys_app.command("list")
def list_keys(
    path: PathOption = None,
    active: Annotated[bool, typer.Option("--active", help="Hide revoked keys.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List API keys (never their secrets)."""
    from graphmem.server.keys import KeyStore

    keys = KeyStore.for_store(_store_dir(path)).list_keys(include_revoked=not active)
    if as_json:
        output.print_json([_key_json(key) for key in keys])
        return
    table = Table(title="API keys", title_justify="left")
    for column in ("id", "name", "scope", "created", "revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.id, key.name, key.describe(), output.day(key.created_at), output.day(key.revoked_at)
        )
    output.console.print(table)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after 'gm_').")],
    path: PathOption = None,
) -> None:
    """Revoke an API key; requests with it are refused from then on."""
    from graphmem.server.keys import KeyStore

    try:
        key = KeyStore.for_store(_store_dir(path)).revoke(key_id)
    except GraphmemError as exc:
        raise _fail(exc) from None
    output.console.print(f"revoked key {key.id} ({key.name})")


class _StopRequestedError(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequestedError


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Let SIGINT/SIGTERM end the server with a normal exit.

    uvicorn shuts down gracefully on a signal and then re-raises it; with the default
    SIGTERM disposition that would kill the process before the store is closed, so the
    re-raised signal becomes an exception that unwinds through ``memory.close()``.
    """
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _raise_stop) for sig in signals}
    try:
        yield
    except _StopRequestedError:
        output.errors.print("graphmem server stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8000,
    path: PathOption = None,
    max_body_bytes: Annotated[
        int, typer.Option(min=1, help="Refuse request bodies larger than this.")
    ] = 1024 * 1024,
    rate_limit: Annotated[
        float, typer.Option(min=0.001, help="Requests per second per API key.")
    ] = 10.0,
    rate_burst: Annotated[int, typer.Option(min=1, help="Burst size per API key.")] = 20,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the memory over HTTP (REST API with API keys; OpenAPI at /openapi.json)."""
    try:
        import uvicorn

        from graphmem.server.app import create_app
    except ImportError as exc:
        raise _missing_extra(exc) from None
    from graphmem import Memory, MemoryConfig
    from graphmem.server.keys import KeyStore
    from graphmem.server.state import ServerSettings

    settings = ServerSettings(
        max_body_bytes=max_body_bytes, rate_limit=rate_limit, rate_burst=rate_burst
    )
    config = MemoryConfig(path=path)
    try:
        memory = Memory(config)
    except GraphmemError as exc:
        raise _fail(exc) from None
    try:
        # Load the embedding model before announcing the address, so the first request
        # does not pay for it.
        memory.embedder.embed(["graphmem"])
        keys = KeyStore.for_store(config.store_path())
        if not keys.list_keys(include_revoked=False):
            output.errors.print(
                "[yellow]warning:[/yellow] no API keys yet: every request will get 401; "
                "create one with 'graphmem keys create --user NAME' or '--admin'"
            )
        app = create_app(memory, keys, settings)
        # Binding here (not in uvicorn) lets port 0 pick a free port that can be announced.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        output.errors.print(f"graphmem serving on http://{shown}:{bound}", highlight=False)
        server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False))
        with _stop_on_signals():
            server.run(sockets=[sock])
    finally:
        memory.close()


def mcp(
    user: UserOption = None,
    agent: AgentOption = None,
    run: RunOption = None,
    path: PathOption = None,
    transport: Annotated[
        str, typer.Option(help="stdio (for desktop clients) or streamable-http.")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="HTTP transport: address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="HTTP transport: port.")] = 8765,
) -> None:
    """Run an MCP server with memory tools for one scope (also GRAPHMEM_MCP_USER/_AGENT/_RUN)."""
    try:
        from graphmem.mcp.server import run_mcp_server, scope_from_settings
    except ImportError as exc:
        raise _missing_extra(exc) from None
    from graphmem import Memory, MemoryConfig

    if transport not in ("stdio", "streamable-http"):
        output.errors.print("[red]error:[/red] --transport must be stdio or streamable-http")
        raise typer.Exit(code=2)
    chosen: Literal["stdio", "streamable-http"] = (
        "stdio" if transport == "stdio" else "streamable-http"
    )
    try:
        scope = scope_from_settings(user, agent, run)
        memory = Memory(MemoryConfig(path=path))
    except GraphmemError as exc:
        raise _fail(exc) from None
    try:
        with _stop_on_signals():
            run_mcp_server(memory, scope, transport=chosen, host=host, port=port)
    finally:
        memory.close()
