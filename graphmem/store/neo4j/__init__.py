"""The Neo4j backend (install the ``neo4j`` extra): :class:`Neo4jStore`."""

from __future__ import annotations

from graphmem.store.neo4j.store import Neo4jStore

__all__ = ["Neo4jStore"]
