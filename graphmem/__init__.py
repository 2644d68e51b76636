"""graphmem: graph-first long-term memory for LLM assistants.

The front door is :class:`graphmem.Memory`; see its docstring for a quick start.
Names are imported on first use, so ``import graphmem.errors`` (or the CLI's
``--help``) does not load the embedding stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphmem.async_memory import AsyncMemory
    from graphmem.config import MemoryConfig, Neo4jSettings
    from graphmem.errors import (
        GraphmemError,
        InvalidInputError,
        NotFoundError,
        ScopeRequiredError,
        ScopeViolationError,
        StoreError,
    )
    from graphmem.memory import Memory
    from graphmem.models.records import Entity, Episode, Fact
    from graphmem.models.results import (
        AddResult,
        HistoryEntry,
        MemorySnapshot,
        ResultKind,
        SearchResult,
    )
    from graphmem.models.scope import Scope

__version__ = "0.1.0"

_EXPORTS = {
    "AddResult": "graphmem.models.results",
    "AsyncMemory": "graphmem.async_memory",
    "Entity": "graphmem.models.records",
    "Episode": "graphmem.models.records",
    "Fact": "graphmem.models.records",
    "GraphmemError": "graphmem.errors",
    "HistoryEntry": "graphmem.models.results",
    "InvalidInputError": "graphmem.errors",
    "Memory": "graphmem.memory",
    "MemoryConfig": "graphmem.config",
    "MemorySnapshot": "graphmem.models.results",
    "Neo4jSettings": "graphmem.config",
    "NotFoundError": "graphmem.errors",
    "ResultKind": "graphmem.models.results",
    "Scope": "graphmem.models.scope",
    "ScopeRequiredError": "graphmem.errors",
    "ScopeViolationError": "graphmem.errors",
    "SearchResult": "graphmem.models.results",
    "StoreError": "graphmem.errors",
}

__all__ = [
    "AddResult",
    "AsyncMemory",
    "Entity",
    "Episode",
    "Fact",
    "GraphmemError",
    "HistoryEntry",
    "InvalidInputError",
    "Memory",
    "MemoryConfig",
    "MemorySnapshot",
    "Neo4jSettings",
    "NotFoundError",
    "ResultKind",
    "Scope",
    "ScopeRequiredError",
    "ScopeViolationError",
    "SearchResult",
    "StoreError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'graphmem' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
