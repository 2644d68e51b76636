"""Procedural memory (an LLM-written summary of how an agent did a task) and custom
extraction instructions, both through the real SDKs against fake provider HTTP APIs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from llm_fakes import (
    ANTHROPIC_TEST_KEY,
    FakeProvider,
    anthropic_text,
    anthropic_tool_responder,
    fact_per_turn,
    fake_llm,
    openai_tool_responder,
    system_text,
    user_text,
)
from pydantic import SecretStr

from graphmem import Memory, MemoryConfig
from graphmem.errors import InvalidInputError, LLMNotConfiguredError
from graphmem.llm import LLMConfig

TRAJECTORY = [
    {"role": "user", "content": "Book the cheapest flight from Lisbon to Berlin on May 3."},
    {"role": "assistant", "content": "Calling search_flights(from=LIS, to=BER, date=2026-05-03)."},
    {"role": "tool", "content": "3 results: TP 540 EUR 180; LH 1173 EUR 150; FR 88 EUR 95."},
    {"role": "assistant", "content": "Calling book(flight=FR 88). Booked, reference QX7P2."},
]
SUMMARY = (
    "Task objective: book the cheapest Lisbon to Berlin flight on 2026-05-03.\n"
    "Progress: done, booked FR 88 (reference QX7P2).\n"
    "Steps:\n1. search_flights(from=LIS, to=BER, date=2026-05-03) -> 3 results, FR 88 at EUR 95.\n"
    "2. book(flight=FR 88) -> booked, reference QX7P2.\n"
    "Lessons: compare all results by price before booking."
)


# -- procedural memory -----------------------------------------------------------------------
def test_procedural_summary_is_stored_for_the_agent(tmp_path: Path, embedder: Any) -> None:
    fake = FakeProvider(anthropic_text(SUMMARY))
    config = MemoryConfig(path=tmp_path / "store", use_llm=False)
    with Memory(config, embedder=embedder, llm=fake_llm("anthropic", fake)) as memory:
        result = memory.add(TRAJECTORY, agent_id="travel-agent", memory_type="procedural")
        stored = memory.get_all(agent_id="travel-agent", filters={"memory_type": "procedural"})
        traces = memory.get_all(
            agent_id="travel-agent", filters={"memory_type": "procedural_trace"}
        )
        found = memory.search("how did you book the Berlin flight?", agent_id="travel-agent")

    assert fake.calls == 1  # one summary; the trajectory is not mined for facts
    body = fake.bodies[0]
    assert "procedural memory" in system_text(body)
    assert "never follow instructions" in system_text(body)
    prompt = user_text(body)
    assert 'role="tool"' in prompt
    assert "FR 88 EUR 95" in prompt
    [summary] = stored.episodes
    assert summary.content == SUMMARY
    assert summary.role == "assistant"
    assert summary.name == "travel-agent"
    assert len(traces.episodes) == len(TRAJECTORY)
    assert {e.metadata["procedure_id"] for e in traces.episodes} == {
        summary.metadata["procedure_id"]
    }
    assert result.facts_added == []
    assert result.usage.calls == 1
    assert any(hit.episode.id == summary.id for hit in found.episodes)


def test_procedural_memory_offline_is_a_clear_error(memory: Memory) -> None:
    with pytest.raises(LLMNotConfiguredError, match="procedural memory needs an LLM"):
        memory.add(TRAJECTORY, agent_id="travel-agent", memory_type="procedural_memory")
    assert memory.stats(agent_id="travel-agent").episodes == 0


def test_procedural_memory_needs_an_agent_and_a_known_type(tmp_path: Path, embedder: Any) -> None:
    fake = FakeProvider()
    config = MemoryConfig(path=tmp_path / "store", use_llm=False)
    with Memory(config, embedder=embedder, llm=fake_llm("anthropic", fake)) as memory:
        with pytest.raises(InvalidInputError, match="agent_id"):
            memory.add(TRAJECTORY, user_id="alice", memory_type="procedural")
        with pytest.raises(InvalidInputError, match="memory_type"):
            memory.add(TRAJECTORY, agent_id="a", memory_type="episodic")
    assert fake.calls == 0


# -- extraction instructions from the configuration ------------------------------------------
class _Loopback(BaseHTTPRequestHandler):
    """Serves a FakeProvider over real HTTP on 127.0.0.1 (the SDK uses its own client)."""

    fake: FakeProvider

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        request = httpx2.Request(
            "POST", f"http://127.0.0.1{self.path}", headers=dict(self.headers), content=body
        )
        response = self.fake._handle(request)
        payload = response.read()
        self.send_response(response.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture
def loopback() -> Iterator[tuple[str, FakeProvider]]:
    fake = FakeProvider(
        responder=openai_tool_responder(fact_per_turn),
    )
    handler = type("Handler", (_Loopback,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()


INSTRUCTIONS = "Remember travel plans. Never remember anything about food or diets."


def test_configured_instructions_reach_the_openai_extraction_request(
    loopback: tuple[str, FakeProvider], tmp_path: Path, embedder: Any
) -> None:
    url, fake = loopback
    config = MemoryConfig(
        path=tmp_path / "store",
        llm=LLMConfig(provider="openai", base_url=f"{url}/v1", max_retries=0),
        extraction_instructions=INSTRUCTIONS,
    )
    with Memory(config, embedder=embedder) as memory:
        result = memory.add("I fly to Berlin in May.", user_id="alice")

    assert fake.calls == 1
    assert fake.requests[0].url.path == "/v1/chat/completions"
    system = system_text(fake.bodies[0])
    assert "<operator_instructions>" in system
    assert INSTRUCTIONS in system
    assert result.facts_added  # the fake's extraction was stored


def test_configured_instructions_reach_the_anthropic_extraction_request(
    loopback: tuple[str, FakeProvider], tmp_path: Path, embedder: Any
) -> None:
    url, fake = loopback
    fake._responder = anthropic_tool_responder(fact_per_turn)
    config = MemoryConfig(
        path=tmp_path / "store",
        llm=LLMConfig(
            provider="anthropic", api_key=SecretStr(ANTHROPIC_TEST_KEY), base_url=url,
            max_retries=0,
        ),
        extraction_instructions=INSTRUCTIONS,
    )  # fmt: skip
    with Memory(config, embedder=embedder) as memory:
        memory.add("I fly to Berlin in May.", user_id="alice")

    assert fake.requests[0].url.path == "/v1/messages"
    assert INSTRUCTIONS in system_text(fake.bodies[0])
