"""``graphmem migrate``: copy a store into another backend with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.progress import Progress

from graphmem.cli.output import errors
from graphmem.config import MemoryConfig, Neo4jSettings
from graphmem.embedding.lazy import LazyEmbedder
from graphmem.embedding.sentence_transformers import KNOWN_DIMENSIONS
from graphmem.errors import InvalidInputError
from graphmem.setup import build_store
from graphmem.store.migrate import migrate


def run_migration(to: str, *, source_path: Path | None, target_path: Path | None) -> Any:
    """Open source and target from configuration and copy every record."""
    if to not in ("neo4j", "embedded"):
        raise InvalidInputError("--to must be 'neo4j' or 'embedded'")
    embedded = MemoryConfig(path=target_path if to == "embedded" else source_path)
    if to == "embedded" and target_path is None:
        raise InvalidInputError("--to embedded needs --target-path for the new store")
    graph = MemoryConfig(backend="neo4j", neo4j=Neo4jSettings.from_env())
    source_config, target_config = (embedded, graph) if to == "neo4j" else (graph, embedded)
    model = source_config.embedder_model
    # Records are copied with their vectors: no text needs embedding, so no model loads.
    embedder = LazyEmbedder(model, KNOWN_DIMENSIONS.get(model), _no_embedding)
    source = build_store(source_config, embedder)
    try:
        target = build_store(target_config, embedder)
        try:
            with Progress(console=errors) as progress:
                tasks: dict[str, Any] = {}

                def report(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = progress.add_task(stage, total=max(total, 1))
                    progress.update(tasks[stage], completed=done, total=max(total, 1))

                return migrate(source, target, report)
        finally:
            target.close()
    finally:
        source.close()


def _no_embedding() -> Any:
    raise InvalidInputError("migration copies stored vectors and never embeds text")
