"""Acknowledged writes survive SIGKILL of the writing process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder

WRITER = Path(__file__).with_name("crash_writer.py")


def _run_and_kill(store: Path, acknowledged_before_kill: int) -> list[dict[str, object]]:
    process = subprocess.Popen(
        [sys.executable, str(WRITER), str(store), "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert process.stdout is not None
    acknowledged: list[dict[str, object]] = []
    for line in process.stdout:
        acknowledged.append(json.loads(line))
        if len(acknowledged) >= acknowledged_before_kill:
            break
    process.send_signal(signal.SIGKILL)  # right after an add() returned, mid-stream
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return acknowledged


def test_every_acknowledged_write_survives_sigkill(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    acknowledged = _run_and_kill(store, 12)
    acknowledged += _run_and_kill(store, 7)  # a second writer on the recovered store
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        assert memory.check().ok, memory.check().problems
        for write in acknowledged:
            user = str(write["user"])
            for key in ("episodes", "entities", "facts"):
                for record_id in write[key]:  # type: ignore[attr-defined]
                    memory.get(record_id)  # raises NotFoundError if lost
            if write["facts"]:
                hits = memory.search(str(write["query"]), user_id=user, limit=20)
                found = {str(h.fact.id) for h in hits.facts}
                assert found & set(write["facts"]), write  # type: ignore[arg-type]
