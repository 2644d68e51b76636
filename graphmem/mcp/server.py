"""graphmem as an MCP server: memory tools for Claude Desktop, Claude Code and other clients.

The scope (user, agent, run) is fixed when the server starts, from its command line or
``GRAPHMEM_MCP_USER`` / ``GRAPHMEM_MCP_AGENT`` / ``GRAPHMEM_MCP_RUN``. No tool takes a
scope argument, so nothing a model writes into a tool call can reach another user's
memory.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from graphmem import __version__
from graphmem.errors import CypherError, GraphmemError, InvalidInputError
from graphmem.memory import Memory
from graphmem.models.records import Fact
from graphmem.models.scope import Scope

T = TypeVar("T")

ENV_USER, ENV_AGENT, ENV_RUN = "GRAPHMEM_MCP_USER", "GRAPHMEM_MCP_AGENT", "GRAPHMEM_MCP_RUN"
Transport = Literal["stdio", "streamable-http"]

INSTRUCTIONS = """\
Long-term memory of the current user. Call search_memory or get_context before answering \
questions that may depend on what the user said in earlier conversations, and add_memory \
when the user states something worth remembering (where they live or work, people, \
plans, preferences). Facts carry validity dates; superseded facts stay in history."""


class FactView(BaseModel):
    """A fact as a model reads it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    fact: str
    subject: str
    predicate: str
    object: str
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    current: bool

    @classmethod
    def of(cls, fact: Fact) -> FactView:
        """Summarize a stored fact."""
        return cls(
            id=str(fact.id),
            fact=fact.fact,
            subject=fact.subject_name,
            predicate=fact.predicate,
            object=fact.object_name,
            valid_at=fact.valid_at,
            invalid_at=fact.invalid_at,
            current=fact.is_current,
        )


class AddMemoryResult(BaseModel):
    """What add_memory stored."""

    episode_ids: list[str]
    facts_added: list[FactView]
    facts_closed: list[FactView] = Field(description="Facts the new statement superseded.")


class ScoredFactView(FactView):
    """A search hit."""

    score: float


class SearchMemoryResult(BaseModel):
    """Facts relevant to the query, best first, and matching raw turns."""

    facts: list[ScoredFactView]
    entities: list[str]
    episodes: list[str]


class VersionView(BaseModel):
    """One version of a fact."""

    status: str
    fact: FactView


class HistoryResult(BaseModel):
    """Every version, oldest first."""

    versions: list[VersionView]


class ForgetResult(BaseModel):
    """What forget deleted."""

    deleted_record: str | None = None
    episodes: int = 0
    entities: int = 0
    facts: int = 0


class CypherResult(BaseModel):
    """Rows of a read-only Cypher query."""

    rows: list[dict[str, Any]]


def scope_from_settings(
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Scope:
    """The server's scope: explicit ids, else the ``GRAPHMEM_MCP_*`` environment variables."""
    env = os.environ if env is None else env
    if user_id is None and agent_id is None and run_id is None:
        user_id = env.get(ENV_USER) or None
        agent_id = env.get(ENV_AGENT) or None
        run_id = env.get(ENV_RUN) or None
    return Scope.of(user_id, agent_id, run_id)


async def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    # Memory calls block (embedding, SQLite); they run off the event loop, and typed
    # errors reach the model as tool errors it can read and correct.
    try:
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))
    except GraphmemError as exc:
        raise ToolError(f"{type(exc).__name__}: {exc}") from exc


def build_mcp_server(memory: Memory, scope: Scope, *, name: str = "graphmem") -> MCPServer:
    """An MCP server whose tools read and write ``memory`` within ``scope`` only."""
    ids = {"user_id": scope.user_id, "agent_id": scope.agent_id, "run_id": scope.run_id}
    server: MCPServer = MCPServer(name, version=__version__, instructions=INSTRUCTIONS)
    reading = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    async def add_memory(
        text: str,
        role: Literal["user", "assistant", "document"] = "user",
        timestamp: datetime | None = None,
    ) -> AddMemoryResult:
        """Remember something the user said (or a passage of a document).

        Facts are extracted from the text and reconciled with what is already known:
        a new place of residence or employer supersedes the old one, which stays in
        history. `timestamp` is when it was said (ISO-8601 with offset; default now).
        """
        result = await _call(
            memory.add, {"role": role, "content": text}, timestamp=timestamp, **ids
        )
        return AddMemoryResult(
            episode_ids=[str(e.id) for e in result.episodes],
            facts_added=[FactView.of(f) for f in result.facts_added],
            facts_closed=[FactView.of(f) for f in result.facts_closed],
        )

    @server.tool(annotations=reading)
    async def search_memory(
        query: str, limit: int = 10, as_of: datetime | None = None
    ) -> SearchMemoryResult:
        """Search the user's memory: facts (with ids and validity), entities and turns.

        Returns facts true now, or at `as_of` (ISO-8601 with offset) when given.
        """
        result = await _call(memory.search, query, limit=limit, as_of=as_of, **ids)
        return SearchMemoryResult(
            facts=[
                ScoredFactView(**FactView.of(hit.fact).model_dump(), score=round(hit.score, 4))
                for hit in result.facts
            ],
            entities=[hit.entity.name for hit in result.entities],
            episodes=[hit.episode.content for hit in result.episodes],
        )

    @server.tool(annotations=reading)
    async def get_context(query: str, max_tokens: int = 1000) -> str:
        """A compact, prompt-ready summary of what memory knows about `query`."""
        return await _call(memory.context, query, max_tokens=max_tokens, **ids)

    @server.tool(annotations=reading)
    async def memory_history(record_id: str) -> HistoryResult:
        """Every version of a fact (by fact id) or of all facts of an entity (by entity id),
        oldest first, with what replaced what."""
        entries = await _call(memory.history, record_id, **ids)
        return HistoryResult(
            versions=[VersionView(status=e.status.value, fact=FactView.of(e.fact)) for e in entries]
        )

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
    async def forget(record_id: str | None = None, everything: bool = False) -> ForgetResult:
        """Delete memories for good. Give `record_id` to delete one fact, turn or entity;
        or `everything=true` to erase all of this user's memory (cannot be undone)."""
        if record_id is not None and everything:
            raise ToolError("give record_id or everything=true, not both")
        if record_id is not None:
            await _call(memory.delete, record_id, **ids)
            return ForgetResult(deleted_record=record_id)
        if not everything:
            raise ToolError("give the record_id to delete, or everything=true to erase all")
        counts = await _call(memory.forget, **ids)
        return ForgetResult(episodes=counts.episodes, entities=counts.entities, facts=counts.facts)

    @server.tool(annotations=reading)
    async def cypher(
        query: str, params: dict[str, Any] | None = None, history: bool = False
    ) -> CypherResult:
        """Run a read-only Cypher query over the user's memory graph.

        Nodes: (:Entity {name, type, ...}) and (:Episode {content, ...}); relationships
        are facts typed by their predicate in upper case, e.g. [:LIVES_IN {fact, valid_at}].
        Only facts true now are present unless `history=true`. Writes are rejected.
        """
        return CypherResult(rows=await _call(_run_cypher, memory, query, params, scope, history))

    return server


def _run_cypher(
    memory: Memory,
    query: str,
    params: dict[str, Any] | None,
    scope: Scope,
    history: bool,
) -> list[dict[str, Any]]:
    try:
        from graphmem.cypher import run_cypher
    except ImportError:
        raise CypherError("Cypher exploration is not installed") from None
    rows = run_cypher(memory.store, query, params, scope, history=history)
    jsonable: list[dict[str, Any]] = to_jsonable_python(rows, fallback=str)
    return jsonable


def run_mcp_server(
    memory: Memory,
    scope: Scope,
    *,
    transport: Transport = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
) -> None:
    """Serve until the client disconnects (stdio) or the process is stopped (HTTP)."""
    server = build_mcp_server(memory, scope)
    if transport == "stdio":
        server.run("stdio")
    elif transport == "streamable-http":
        server.run("streamable-http", host=host, port=port)
    else:
        raise InvalidInputError(f"unknown transport {transport!r}: use stdio or streamable-http")
