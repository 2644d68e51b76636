"""The MCP server through the SDK's client over stdio, as Claude Desktop runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.errors import ScopeRequiredError
from graphmem.mcp.server import build_mcp_server, scope_from_settings
from graphmem.models.scope import Scope

SESSION_TIMEOUT = 150.0  # the server process loads the embedding model first
# The command as `graphmem mcp` runs it, without depending on the console script.
LAUNCH = "import typer; from graphmem.cli.service import mcp; typer.run(mcp)"
TOOLS = {"add_memory", "search_memory", "get_context", "memory_history", "forget", "cypher"}


def server_env(**extra: str) -> dict[str, str]:
    return {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **extra}


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    value: dict[str, Any] | None = result.structured_content
    assert value is not None
    return value


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    return text(result)


async def run_session(store: Path, errlog: Any, checks: Any) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", LAUNCH, "--path", str(store)],
        # Scope from the environment, as a desktop client configuration sets it.
        env=server_env(GRAPHMEM_MCP_USER="alice"),
    )
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            await checks(client)


def test_memory_tools_over_stdio_stay_in_the_configured_scope(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    config = MemoryConfig(path=store, use_llm=False)
    with Memory(config, embedder=embedder) as memory:
        bob = memory.add_facts(
            [{"subject": "Bob", "predicate": "lives_in", "object": "Oslo"}], user_id="bob"
        )
    bob_fact = str(bob.facts_added[0].id)
    seen: dict[str, Any] = {}

    async def checks(client: Client) -> None:
        tools = (await client.list_tools()).tools
        assert {tool.name for tool in tools} == TOOLS
        for tool in tools:  # the model cannot even express a scope
            assert not {"user_id", "agent_id", "run_id"} & set(tool.input_schema["properties"])
        hints = {tool.name: tool.annotations for tool in tools}
        assert hints["cypher"] is not None
        assert hints["cypher"].read_only_hint is True
        assert hints["forget"] is not None
        assert hints["forget"].destructive_hint is True

        first = structured(
            await client.call_tool(
                "add_memory", {"text": "I live in Paris.", "timestamp": "2025-01-01T00:00:00+00:00"}
            )
        )
        second = structured(
            await client.call_tool(
                "add_memory",
                {"text": "I moved to Berlin.", "timestamp": "2025-06-01T00:00:00+00:00"},
            )
        )
        assert [f["fact"] for f in first["facts_added"]] == ["alice lives in Paris."]
        assert [f["fact"] for f in second["facts_closed"]] == ["alice lives in Paris."]
        berlin = second["facts_added"][0]

        search = await client.call_tool("search_memory", {"query": "Where do I live?"})
        found = structured(search)
        assert found["facts"][0]["fact"] == "alice moved to Berlin."
        # Clients that read only text content get the same result as JSON.
        assert json.loads(text(search)) == found
        assert found["facts"][0]["current"] is True
        earlier = structured(
            await client.call_tool(
                "search_memory", {"query": "Where do I live?", "as_of": "2025-03-01T00:00:00Z"}
            )
        )
        assert [f["fact"] for f in earlier["facts"]] == ["alice lives in Paris."]

        context = await client.call_tool("get_context", {"query": "Where do I live?"})
        assert not context.is_error
        assert "alice moved to Berlin." in text(context)

        history = structured(await client.call_tool("memory_history", {"record_id": berlin["id"]}))
        assert [(v["status"], v["fact"]["fact"]) for v in history["versions"]] == [
            ("superseded", "alice lives in Paris."),
            ("current", "alice moved to Berlin."),
        ]

        rows = structured(
            await client.call_tool(
                "cypher",
                {"query": "MATCH (a)-[r]->(b) WHERE type(r) <> 'MENTIONS' RETURN b.name AS place"},
            )
        )
        assert rows["rows"] == [{"place": "Berlin"}]
        refused = await client.call_tool("cypher", {"query": "MATCH (n) DETACH DELETE n"})
        assert "CypherError" in error_text(refused)

        # Scope arguments a model smuggles in are not part of the tools and change nothing.
        smuggled = structured(
            await client.call_tool(
                "search_memory", {"query": "Who lives in Oslo?", "user_id": "bob"}
            )
        )
        assert all(f["object"] != "Oslo" for f in smuggled["facts"])
        missing = await client.call_tool("memory_history", {"record_id": bob_fact})
        assert "NotFoundError" in error_text(missing)
        not_deleted = await client.call_tool("forget", {"record_id": bob_fact})
        assert "NotFoundError" in error_text(not_deleted)
        oslo = structured(
            await client.call_tool(
                "cypher", {"query": "MATCH (n) WHERE n.name = 'Oslo' RETURN n.name AS name"}
            )
        )
        assert oslo["rows"] == []

        unclear = await client.call_tool("forget", {})
        assert "everything=true" in error_text(unclear)
        one = structured(await client.call_tool("forget", {"record_id": berlin["id"]}))
        assert one["deleted_record"] == berlin["id"]
        seen["erased"] = structured(await client.call_tool("forget", {"everything": True}))

    with (tmp_path / "server.log").open("w") as errlog:
        try:
            anyio.run(run_session, store, errlog, checks)
        except BaseException:
            print((tmp_path / "server.log").read_text()[-5000:])
            raise

    assert seen["erased"]["episodes"] == 2
    with Memory(config, embedder=embedder) as memory:
        assert memory.stats(user_id="alice").episodes == 0
        assert memory.stats(user_id="bob").facts == 1  # untouched


def test_scope_comes_from_arguments_else_environment() -> None:
    env = {"GRAPHMEM_MCP_USER": "alice", "GRAPHMEM_MCP_RUN": "r1"}
    assert scope_from_settings(env=env) == Scope(user_id="alice", run_id="r1")
    # Explicit ids replace the environment entirely rather than mixing with it.
    assert scope_from_settings(agent_id="helper", env=env) == Scope(agent_id="helper")
    with pytest.raises(ScopeRequiredError):
        scope_from_settings(env={})


def test_mcp_command_refuses_to_start_without_a_scope(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHMEM_MCP_")}
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, "--path", str(tmp_path / "store")],
        env={**env, **server_env()},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "ScopeRequiredError" in done.stderr
    assert done.stdout == ""  # stdout belongs to the protocol


def test_memory_tools_over_streamable_http(memory: Memory) -> None:
    server = build_mcp_server(memory, Scope(user_id="alice"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    web = uvicorn.Server(uvicorn.Config(server.streamable_http_app(), log_level="warning"))
    thread = threading.Thread(target=web.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    results: dict[str, Any] = {}

    async def session() -> None:
        with anyio.fail_after(SESSION_TIMEOUT):
            while not web.started:
                await anyio.sleep(0.05)
            async with Client(url) as client:
                await client.call_tool("add_memory", {"text": "I work at Acme."})
                results["found"] = structured(
                    await client.call_tool("search_memory", {"query": "Where do I work?"})
                )

    try:
        anyio.run(session)
    finally:
        web.should_exit = True
        thread.join(timeout=30)

    assert results["found"]["facts"][0]["fact"] == "alice works at Acme."
    assert memory.stats(user_id="alice").facts == 1
