"""The Neo4j schema (``schemas/neo4j/*.cypher``), server version rules, store identity.

The DDL files are applied in name order on every connect; each statement says
``IF NOT EXISTS``, so applying them again changes nothing. The only template value is
the vector dimension, an integer validated here, never text from a caller.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from graphmem.errors import InvalidInputError, StoreError
from graphmem.store.neo4j.statements import Statement

SCHEMA_VERSION = 1
MIN_SERVER_VERSION = (5, 15)
"""``CREATE VECTOR INDEX`` exists since 5.15 (vector indexes themselves since 5.11)."""
NATIVE_COSINE_VERSION = (5, 18)
"""``vector.similarity.cosine()`` exists since 5.18; older servers use a dot product."""
MAX_VECTOR_DIMENSIONS = 4096
_DIMENSIONS = "{dimensions}"
_VERSION = re.compile(r"(\d+)\.(\d+)")


def schema_directory() -> Path:
    """Where the ``.cypher`` files are: packaged under ``graphmem/schemas/neo4j`` when
    installed, the repository's ``schemas/neo4j`` in a source checkout."""
    packaged = resources.files("graphmem") / "schemas" / "neo4j"
    candidates = [Path(str(packaged)), Path(__file__).resolve().parents[3] / "schemas" / "neo4j"]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.cypher")):
            return candidate
    tried = ", ".join(str(candidate) for candidate in candidates)
    raise StoreError(f"the Neo4j schema files are missing (looked in {tried})")


def split_statements(script: str) -> list[str]:
    """Statements of a DDL script: ``//`` comment lines dropped, split at ``;``."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("//")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def schema_statements(dimensions: int, directory: Path | None = None) -> list[Statement]:
    """Every DDL statement, in order, with the vector dimension filled in."""
    if isinstance(dimensions, bool) or not isinstance(dimensions, int):
        raise InvalidInputError(f"vector dimensions must be an int, got {dimensions!r}")
    if not 1 <= dimensions <= MAX_VECTOR_DIMENSIONS:
        raise InvalidInputError(
            f"Neo4j vector indexes take 1 to {MAX_VECTOR_DIMENSIONS} dimensions, got {dimensions}"
        )
    folder = directory if directory is not None else schema_directory()
    statements: list[Statement] = []
    for path in sorted(folder.glob("*.cypher")):
        script = path.read_text(encoding="utf-8").replace(_DIMENSIONS, str(dimensions))
        statements.extend(Statement(text) for text in split_statements(script))
    return statements


def parse_version(text: str) -> tuple[int, int]:
    """``(major, minor)`` of a Neo4j version string (``5.26.1``, ``2025.01.0-aura``)."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise StoreError(f"cannot read the Neo4j server version {text!r}")
    return int(match.group(1)), int(match.group(2))


def is_supported(version: tuple[int, int]) -> bool:
    """Calendar versions (2025.x and later) are newer than every 5.x."""
    return version >= MIN_SERVER_VERSION


def has_native_cosine(version: tuple[int, int]) -> bool:
    """Whether the server has ``vector.similarity.cosine``."""
    return version >= NATIVE_COSINE_VERSION


SERVER_COMPONENTS = Statement(
    "CALL dbms.components() YIELD name, versions, edition\nRETURN name, versions, edition"
)


def write_identity(embedder_model: str, embedder_dim: int) -> Statement:
    """Record the store's embedder on first use (MERGE: concurrent first connects agree)."""
    return Statement(
        "MERGE (m:GraphmemMeta {key: 'store'})\n"
        "ON CREATE SET m.schema_version = $schema_version, m.embedder_model = $model,\n"
        "              m.embedder_dim = $dim\n"
        "RETURN m.embedder_model AS embedder_model, m.embedder_dim AS embedder_dim",
        {"schema_version": SCHEMA_VERSION, "model": embedder_model, "dim": embedder_dim},
    )
