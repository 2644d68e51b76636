"""Configuration of a :class:`graphmem.Memory`: where it stores, what it embeds with,
which LLM (if any) it extracts with. Every field has a sane default; environment
variables fill in what the code leaves unset."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from graphmem.embedding.sentence_transformers import DEFAULT_MODEL


def default_home(env: Mapping[str, str] | None = None) -> Path:
    """``$GRAPHMEM_HOME``, else ``~/.graphmem``."""
    env = os.environ if env is None else env
    return Path(env.get("GRAPHMEM_HOME") or Path.home() / ".graphmem").expanduser()


class Neo4jSettings(BaseModel):
    """Connection settings of the Neo4j backend (``GRAPHMEM_NEO4J_*`` variables)."""

    model_config = ConfigDict(extra="forbid")

    uri: str = "bolt://localhost:7687"
    user: str = "neo4j"
    password: SecretStr = SecretStr("")
    database: str = "neo4j"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Neo4jSettings | None:
        """Settings from ``GRAPHMEM_NEO4J_URI`` / ``_USER`` / ``_PASSWORD`` / ``_DATABASE``."""
        env = os.environ if env is None else env
        uri = env.get("GRAPHMEM_NEO4J_URI")
        if not uri:
            return None
        return cls(
            uri=uri,
            user=env.get("GRAPHMEM_NEO4J_USER", "neo4j"),
            password=SecretStr(env.get("GRAPHMEM_NEO4J_PASSWORD", "")),
            database=env.get("GRAPHMEM_NEO4J_DATABASE", "neo4j"),
        )


class MemoryConfig(BaseModel):
    """Everything a :class:`graphmem.Memory` can be configured with."""

    model_config = ConfigDict(extra="forbid")

    path: Path | None = None
    """Directory of the embedded store (default: ``$GRAPHMEM_HOME`` or ``~/.graphmem``)."""
    backend: Literal["embedded", "neo4j"] = "embedded"
    neo4j: Neo4jSettings | None = None
    embedder_model: str = DEFAULT_MODEL
    embedder_threads: int | None = None
    """Torch threads for embedding (None: the library default)."""
    llm: Any = None
    """An :class:`graphmem.llm.LLMConfig`; None reads ``GRAPHMEM_LLM`` / provider keys."""
    use_llm: bool = True
    """False forces the offline rules extractor even when an API key is set."""
    extraction_instructions: str | None = None
    """Custom instructions for LLM extractors: what to remember and what not."""
    predicates: Path | dict[str, Any] | None = None
    """Extra or overriding predicate catalogue entries (a YAML file or a mapping)."""
    max_message_chars: int = Field(default=100_000, gt=0)
    recent_window: int = Field(default=6, ge=0)
    """Earlier turns shown to the extractor as context."""
    embed_facts: bool = True
    """Embed fact sentences for vector search over facts."""
    durability: Literal["normal", "full"] = "normal"
    busy_timeout: float = Field(default=30.0, gt=0)
    edge_cache_facts: int = Field(default=500_000, ge=0)
    """Facts the embedded store keeps in memory as graph edges for search, for the
    owners searched most often lately (0: read every neighbourhood from disk)."""
    edge_cache_gc_freeze: bool = False
    """Call ``gc.freeze()`` after each owner is cached, so that Python's full garbage
    collections stop tracing the cached edges (about a second each with a million
    cached facts on a small machine). It also exempts every other object alive at that
    moment: one of the application's that later becomes garbage in a reference cycle
    is never freed. Worth it for a search service holding hundreds of thousands of
    cached facts."""

    def store_path(self) -> Path:
        """The embedded store directory this configuration resolves to."""
        return (self.path or default_home()).expanduser()
