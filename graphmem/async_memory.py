"""``graphmem.AsyncMemory``: the Memory API with ``async def`` methods.

Every call runs the blocking work (embedding, SQLite, LLM HTTP calls, the Neo4j
driver) in a worker thread, so the event loop keeps serving other requests. The
embedded store is thread-safe (one writer at a time, per-thread readers), so many
calls may be in flight at once.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from graphmem.config import MemoryConfig
from graphmem.memory import Memory, MemorySnapshot
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.models.results import AddResult, HistoryEntry, SearchResult
from graphmem.store.base import CheckReport, ScopeCounts

P = ParamSpec("P")
T = TypeVar("T")


class AsyncMemory:
    """Asynchronous front door; same arguments and results as :class:`graphmem.Memory`."""

    def __init__(
        self,
        config: MemoryConfig | None = None,
        *,
        memory: Memory | None = None,
        path: str | Path | None = None,
        **parts: Any,
    ) -> None:
        self._memory = memory or Memory(config, path=path, **parts)

    @classmethod
    async def open(cls, config: MemoryConfig | None = None, **kwargs: Any) -> AsyncMemory:
        """Open without blocking the loop (opening may rebuild indexes)."""
        memory = await asyncio.to_thread(functools.partial(Memory, config, **kwargs))
        return cls(memory=memory)

    @property
    def sync(self) -> Memory:
        """The underlying synchronous Memory."""
        return self._memory

    async def _run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(function, *args, **kwargs)

    async def add(
        self,
        messages: str | Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: datetime | str | float | None = None,
        infer: bool = True,
        **options: Any,
    ) -> AddResult:
        """See :meth:`Memory.add` (``options``: ``expiration_date``, ``memory_type``)."""
        return await self._run(
            self._memory.add,
            messages,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            metadata=metadata,
            timestamp=timestamp,
            infer=infer,
            **options,
        )

    async def add_facts(self, triples: Sequence[Any], **kwargs: Any) -> AddResult:
        """See :meth:`Memory.add_facts`."""
        return await self._run(self._memory.add_facts, triples, **kwargs)

    async def search(self, query: str, **kwargs: Any) -> SearchResult:
        """See :meth:`Memory.search`."""
        return await self._run(self._memory.search, query, **kwargs)

    async def context(self, query: str, **kwargs: Any) -> str:
        """See :meth:`Memory.context`."""
        return await self._run(self._memory.context, query, **kwargs)

    async def get(self, record_id: uuid.UUID | str, **scope: Any) -> Fact | Entity | Episode:
        """See :meth:`Memory.get`."""
        return await self._run(self._memory.get, record_id, **scope)

    async def get_all(self, **kwargs: Any) -> MemorySnapshot:
        """See :meth:`Memory.get_all`."""
        return await self._run(self._memory.get_all, **kwargs)

    async def history(self, record_id: uuid.UUID | str, **scope: Any) -> list[HistoryEntry]:
        """See :meth:`Memory.history`."""
        return await self._run(self._memory.history, record_id, **scope)

    async def update(self, fact_id: uuid.UUID | str, **kwargs: Any) -> Fact:
        """See :meth:`Memory.update`."""
        return await self._run(self._memory.update, fact_id, **kwargs)

    async def delete(self, record_id: uuid.UUID | str, **scope: Any) -> None:
        """See :meth:`Memory.delete`."""
        await self._run(self._memory.delete, record_id, **scope)

    async def delete_episode(self, episode_id: uuid.UUID | str, **scope: Any) -> dict[str, int]:
        """See :meth:`Memory.delete_episode`."""
        return await self._run(self._memory.delete_episode, episode_id, **scope)

    async def forget(self, **scope: Any) -> ScopeCounts:
        """See :meth:`Memory.forget`."""
        return await self._run(self._memory.forget, **scope)

    async def reset(self) -> None:
        """See :meth:`Memory.reset`."""
        await self._run(self._memory.reset)

    async def stats(self, **scope: Any) -> ScopeCounts:
        """See :meth:`Memory.stats`."""
        return await self._run(self._memory.stats, **scope)

    async def audit_log(self, **kwargs: Any) -> list[AuditEvent]:
        """See :meth:`Memory.audit_log`."""
        return await self._run(self._memory.audit_log, **kwargs)

    async def check(self, *, repair: bool = False) -> CheckReport:
        """See :meth:`Memory.check`."""
        return await self._run(self._memory.check, repair=repair)

    async def close(self) -> None:
        """Close the underlying memory."""
        await self._run(self._memory.close)

    async def __aenter__(self) -> AsyncMemory:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
