"""Typed errors raised by graphmem.

Every error a caller can act on derives from :class:`GraphmemError`, so
``except graphmem.GraphmemError`` catches all of them. A failed call never leaves the
store half-written: writes happen in one transaction, after all validation.
"""

from __future__ import annotations


class GraphmemError(Exception):
    """Base class of every error graphmem raises on purpose."""


class InvalidInputError(GraphmemError, ValueError):
    """The caller passed something graphmem cannot accept (wrong type, empty text, ...)."""


class ScopeRequiredError(InvalidInputError):
    """A call that reads or writes memories was made without user_id, agent_id or run_id."""


class ScopeViolationError(GraphmemError, PermissionError):
    """A call tried to read or change a record that belongs to another scope."""


class NotFoundError(GraphmemError, KeyError):
    """No record with the given id exists (in the caller's scope)."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "not found"


class InvalidFilterError(InvalidInputError):
    """A metadata filter is malformed (unknown operator, wrong operand type, ...)."""


class InvalidIdentifierError(InvalidInputError):
    """A label, relationship type or predicate is not a safe graph identifier."""


class StoreError(GraphmemError):
    """The storage backend failed or is in a state graphmem cannot use."""


class StoreLockedError(StoreError):
    """Another writer held the store's write lock for longer than the configured timeout."""


class StoreReadOnlyError(StoreError):
    """The store directory (or database) cannot be written to."""


class StoreCorruptedError(StoreError):
    """The source of truth failed an integrity check and could not be repaired."""


class EmbedderMismatchError(StoreError):
    """The store was created with an embedder of another model or dimension."""


class BackendUnavailableError(StoreError):
    """A backend server (for example Neo4j) cannot be reached or is too old."""


class EmbeddingShapeError(GraphmemError):
    """An embedder returned a different number of vectors, or of another length, than asked."""


class ExtractionError(GraphmemError):
    """An extractor could not turn input into a valid extraction."""


class LLMError(ExtractionError):
    """An LLM provider failed (after retries) or returned output that stayed invalid."""


class LLMNotConfiguredError(GraphmemError):
    """A feature needs an LLM (answer, procedural memory) and none is configured."""


class CypherError(GraphmemError):
    """A Cypher query was rejected (writes, unsupported syntax) or failed to run."""
