"""POST /v1/answer with an LLM: the provider's HTTP API is faked on loopback."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from llm_fakes import openai_tool_call
from starlette.testclient import TestClient

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.llm import LLMConfig
from graphmem.server import KeyStore, create_app

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INVENTED_ID = "00000000-0000-4000-8000-000000000001"


class FakeOpenAI(BaseHTTPRequestHandler):
    """Chat Completions: answers with the give_answer tool, citing the first fact shown
    plus an id that was never shown."""

    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.bodies.append(body)
        shown = _UUID.findall(json.dumps(body["messages"]))
        reply = openai_tool_call(
            {"answer": "Alice lives in Paris.", "fact_ids": [*shown[:1], INVENTED_ID]},
            name="give_answer",
        )
        self.send_response(reply.status_code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply.content)))
        self.end_headers()
        self.wfile.write(reply.content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []
    handler = type("Handler", (FakeOpenAI,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_answer_cites_only_facts_of_the_callers_scope(
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    provider: tuple[str, list[dict[str, Any]]],
) -> None:
    base_url, bodies = provider
    llm = LLMConfig(provider="openai", api_key="sk-test", base_url=base_url, max_retries=0)
    config = MemoryConfig(path=tmp_path / "store", llm=llm)
    with Memory(config, embedder=embedder) as memory:
        paris = memory.add_facts(
            [{"subject": "Alice", "predicate": "lives_in", "object": "Paris"}], user_id="alice"
        )
        memory.add_facts(
            [{"subject": "Bob", "predicate": "lives_in", "object": "Oslo"}], user_id="bob"
        )
        keys = KeyStore.for_store(tmp_path / "store")
        token = keys.create(user_id="alice").token
        with TestClient(create_app(memory, keys), raise_server_exceptions=False) as client:
            response = client.post(
                "/v1/answer",
                json={"question": "Where does Alice live?"},
                headers={"Authorization": f"Bearer {token}"},
            )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["answer"] == "Alice lives in Paris."
    assert answer["fact_ids"] == [str(paris.facts_added[0].id)]  # the invented id is dropped
    assert answer["usage"]["calls"] == 1
    assert len(bodies) == 1
    prompt = json.dumps(bodies[0]["messages"])
    assert "Paris" in prompt
    assert "Oslo" not in prompt  # bob's memory never reaches the model
