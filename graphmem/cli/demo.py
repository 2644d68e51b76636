"""``graphmem demo``: a bundled conversation, ingested and searched in a temporary store."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from rich.rule import Rule

from graphmem.cli.output import console, facts_table, print_history, print_search
from graphmem.models.scope import Scope


def load_demo_conversation() -> dict[str, Any]:
    """The bundled demo conversation (``graphmem/data/demo_conversation.json``)."""
    text = resources.files("graphmem.data").joinpath("demo_conversation.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def run_demo(path: Path | None = None) -> None:
    """Ingest the demo conversation session by session, then show what memory knows."""
    from graphmem import Memory, MemoryConfig

    conversation = load_demo_conversation()
    user_id = conversation["user_id"]
    with tempfile.TemporaryDirectory(prefix="graphmem-demo-") as tmp:
        store_dir = path or Path(tmp)
        console.print(Rule(f"graphmem demo: {conversation['title']}"))
        console.print(f"store: {store_dir}  (embedded, offline rules extractor)\n")
        with Memory(MemoryConfig(path=store_dir, use_llm=False)) as memory:
            started = time.perf_counter()
            turns = 0
            for session in conversation["sessions"]:
                when = datetime.fromisoformat(session["date"])
                messages = [
                    {"role": "user", "content": t["text"], "name": t["speaker"]}
                    for t in session["turns"]
                ]
                result = memory.add(messages, user_id=user_id, timestamp=when)
                turns += len(messages)
                console.print(
                    f"[bold]{when:%Y-%m-%d}[/bold]: {len(messages)} turns → "
                    f"{len(result.facts_added)} new facts, {len(result.facts_closed)} closed"
                )
                for fact in result.facts_closed:
                    console.print(f"    [yellow]closed[/yellow]: {fact.fact}")
            elapsed = time.perf_counter() - started
            console.print(f"\n{turns} turns ingested in {elapsed:.1f} s (includes model load)\n")

            snapshot = memory.get_all(user_id=user_id, limit=100)
            console.print(facts_table(snapshot.facts, title="What is true now"))
            console.print()
            for question in conversation["questions"]:
                print_search(memory.search(question, user_id=user_id, limit=5), show_episodes=1)
                console.print()
            _show_a_history(memory, user_id)


def _show_a_history(memory: Any, user_id: str) -> None:
    """The versions of the first fact that has been superseded, if any."""
    versions = memory.store.list_facts(Scope.of(user_id=user_id), limit=1000, include_expired=True)
    superseded = [f for f in versions if f.superseded_by is not None]
    if not superseded:
        return
    fact = superseded[0]
    console.print(Rule(f"history: {fact.subject_name} {fact.predicate.replace('_', ' ')}"))
    print_history(memory.history(fact.id, user_id=user_id))
