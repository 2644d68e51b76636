"""The graph view in a real browser: headless Chromium over the DevTools protocol.

The page is opened from disk; the test reads console errors, exceptions and network
requests from the DevTools protocol, checks the node and edge counts the page
reports, clicks a node with a real mouse event and reads the facts panel, and saves
a screenshot under pytest's tmp dir (its path is printed: run with ``-s`` to see it).

Skipped, with the reason, when Chromium is not installed (Debian/Ubuntu:
``apt-get install -y chromium``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest

from graphmem import Memory
from graphmem.models.scope import Scope
from graphmem.view import render_view

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM = os.environ.get("GRAPHMEM_CHROMIUM") or next(
    (found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install -y chromium, or set GRAPHMEM_CHROMIUM)",
)
MAX_EVENTS = 20_000
"""Upper bound on DevTools messages read while waiting for one reply (no wall-clock waits)."""


class DevTools:
    """A minimal DevTools protocol client over one WebSocket (RFC 6455, text frames)."""

    def __init__(self, ws_url: str) -> None:
        parts = urlsplit(ws_url)
        self._sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self._sock.sendall(
            (
                f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += self._sock.recv(4096)
        head, _, self._buffer = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self._sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("DevTools connection closed")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _receive(self) -> dict[str, Any]:
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack(">H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack(">Q", self._read(8))
            message += self._read(length)
            if first & 0x80:  # FIN: the message is complete
                value: dict[str, Any] = json.loads(message)
                return value

    def _send(self, payload: bytes) -> None:
        header = bytearray([0x81])
        if len(payload) < 126:
            header.append(0x80 | len(payload))
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._sock.sendall(bytes(header) + mask + masked)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        call_id = self._next_id
        self._send(json.dumps({"id": call_id, "method": method, "params": params}).encode())
        for _ in range(MAX_EVENTS):
            message = self._receive()
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)
        raise RuntimeError(f"no reply to {method}")

    def wait_for(self, method: str) -> dict[str, Any]:
        """The next event called ``method`` (possibly one already received)."""
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        for _ in range(MAX_EVENTS):
            message = self._receive()
            if message.get("method") == method:
                return message
            self.events.append(message)
        raise RuntimeError(f"no {method} event")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        reply = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[DevTools]:
    """Headless Chromium with a DevTools connection to its blank first page."""
    assert CHROMIUM is not None
    process = subprocess.Popen(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--no-default-browser-check", f"--user-data-dir={profile}",
            "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            "--window-size=1280,800", "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    client: DevTools | None = None
    try:
        port = _devtools_port(process, profile)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as reply:
            targets = json.loads(reply.read())
        page = next(t for t in targets if t.get("type") == "page")
        client = DevTools(page["webSocketDebuggerUrl"])
        yield client
    finally:
        if client is not None:
            client.close()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _devtools_port(process: subprocess.Popen[str], profile: Path) -> int:
    """Chromium prints the DevTools address on stderr once it listens."""
    assert process.stderr is not None
    for line in process.stderr:
        if "DevTools listening on ws://" in line:
            # Keep reading its log so that a full pipe never blocks the browser.
            threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
            return int(urlsplit(line.split("listening on ", 1)[1].strip()).port or 0)
    active = profile / "DevToolsActivePort"
    if active.exists():
        return int(active.read_text().split()[0])
    raise RuntimeError(f"Chromium exited ({process.poll()}) without a DevTools port")


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


def _sample(memory: Memory) -> None:
    memory.add("I live in Boston.", user_id="alice", timestamp=datetime(2023, 1, 1, tzinfo=UTC))
    memory.add("I work at Acme.", user_id="alice", timestamp=datetime(2023, 2, 1, tzinfo=UTC))
    memory.add("I moved to Denver.", user_id="alice", timestamp=datetime(2024, 6, 1, tzinfo=UTC))
    memory.add_facts(
        [
            ("Alice", "leads", "Project Falcon"),
            ("Project Falcon", "uses", "Neo4j"),
            ("Bob", "works_on", "Project Falcon"),
            ("Mallory", "wrote", "<img src=x onerror=alert(1)>"),
        ],
        user_id="alice",
        source="Team notes: Alice leads Project Falcon, Bob works on it.",
    )


def test_view_loads_without_errors_and_a_click_lists_facts_with_provenance(
    memory: Memory, tmp_path: Path
) -> None:
    _sample(memory)
    snapshot = memory.get_all(user_id="alice", limit=1000)
    html_path = tmp_path / "view.html"
    html_path.write_text(render_view(memory, Scope.of(user_id="alice")), encoding="utf-8")

    with chromium(tmp_path / "profile") as devtools:
        for domain in ("Page", "Runtime", "Log", "Network"):
            devtools.call(f"{domain}.enable")
        devtools.call("Page.navigate", url=html_path.as_uri())
        devtools.wait_for("Page.loadEventFired")
        status = devtools.evaluate(
            "({ready: graphmemView.ready, nodes: graphmemView.nodeCount, "
            "edges: graphmemView.edgeCount, superseded: graphmemView.supersededCount, "
            "errors: graphmemView.errors})"
        )
        falcon = next(e for e in snapshot.entities if e.name == "Project Falcon")
        point = devtools.evaluate(f"graphmemView.position({json.dumps(str(falcon.id))})")
        for kind in ("mousePressed", "mouseReleased"):
            devtools.call(
                "Input.dispatchMouseEvent", type=kind, x=point["x"], y=point["y"],
                button="left", clickCount=1,
            )  # fmt: skip
        panel = devtools.evaluate("graphmemView.panelText()")
        shot = devtools.call("Page.captureScreenshot", format="png")
        devtools.evaluate("1")  # drain events that arrived with the screenshot
        events = list(devtools.events)

    screenshot = tmp_path / "graphmem-view.png"
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    print(f"\ngraph view screenshot: {screenshot}")

    errors = [
        e for e in events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]  # fmt: skip
    assert errors == []
    requests = [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests
    named = {f.subject_name for f in snapshot.facts} | {f.object_name for f in snapshot.facts}
    assert status == {
        "ready": True,
        "nodes": len(named | {"Boston"}),  # Boston: only on the superseded edge
        "edges": len(snapshot.facts) + 1,  # current facts plus superseded "lives in Boston"
        "superseded": 1,
        "errors": [],
    }
    assert "Project Falcon" in panel
    assert "Alice leads Project Falcon." in panel
    assert "Bob works on Project Falcon." in panel
    assert "Team notes: Alice leads Project Falcon" in panel  # provenance
    assert screenshot.stat().st_size > 10_000
