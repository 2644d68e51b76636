"""A real ``graphmem serve`` process on loopback, reached over TCP, then stopped."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.server import KeyStore

STARTUP_TIMEOUT = 90.0
REQUEST_TIMEOUT = 90.0  # the first request loads the embedding model
# The command as `graphmem serve` runs it, without depending on the console script.
LAUNCH = "import typer; from graphmem.cli.service import serve; typer.run(serve)"


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[str]
    log: list[str]


def _read_lines(stream: object, lines: queue.Queue[str], log: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        log.append(line)
        lines.put(line)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LAUNCH,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--path",
            str(tmp_path / "store"),
            "--log-level",
            "warning",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []
    threading.Thread(target=_read_lines, args=(process.stderr, lines, log), daemon=True).start()
    try:
        url = None
        while url is None:
            line = lines.get(timeout=STARTUP_TIMEOUT)
            match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", line)
            url = match.group(1) if match else None
        yield LiveServer(url=url, process=process, log=log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_serve_answers_on_loopback_and_stops_cleanly(
    live_server: LiveServer, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    # Keys created while the server runs are seen by it (one shared SQLite file).
    keys = KeyStore.for_store(tmp_path / "store")
    alice = {"Authorization": f"Bearer {keys.create(user_id='alice').token}"}

    with httpx2.Client(base_url=live_server.url, timeout=REQUEST_TIMEOUT) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/openapi.json").json()["info"]["title"] == "graphmem"
        unauthorized = client.post("/v1/search", json={"query": "Paris"})
        assert unauthorized.status_code == 401
        assert unauthorized.headers["content-type"] == "application/problem+json"

        added = client.post("/v1/memories", json={"messages": "I live in Paris."}, headers=alice)
        assert added.status_code == 201, added.text
        found = client.post("/v1/search", json={"query": "Where do I live?"}, headers=alice)
        assert found.json()["facts"][0]["fact"]["fact"] == "alice lives in Paris."
        forbidden = client.post(
            "/v1/search", json={"query": "Paris", "user_id": "bob"}, headers=alice
        )
        assert forbidden.status_code == 403

    live_server.process.send_signal(signal.SIGTERM)
    assert live_server.process.wait(timeout=30) == 0
    # What was acknowledged is on disk once the server has stopped.
    config = MemoryConfig(path=tmp_path / "store", use_llm=False)
    with Memory(config, embedder=embedder) as memory:
        assert memory.stats(user_id="alice").facts == 1
