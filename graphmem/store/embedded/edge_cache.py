"""The facts of recently searched owners as in-memory adjacency, kept in step with SQLite.

Every search reads the facts around its entities (twice: the seeds, then the
frontier). From SQLite that costs statements per hop and decoding every row again,
although the same owner's graph is read query after query. This cache keeps each
recently searched owner's edges in memory, indexed by entity, newest first.

It never serves stale data. ``fact_log`` records, by trigger and inside the writing
transaction, the rowid of every fact row inserted, updated or deleted by any
connection of any process. Before each read the cache replays the entries past the
last one it applied (re-reading those rows), so a read sees every committed write.
A log compacted past that point, or too long to replay, empties the cache instead.

Memory is bounded by ``max_facts``, and an owner larger than a quarter of the budget
is never cached (its reads go to SQLite, which look facts up by entity). When the
budget is full, an owner is loaded only if it has been read more often lately than
each owner it would push out, and the least often read owners go first (the least
recently read among equals). Loading costs a read of every fact of the owner, several
times what its searches cost from SQLite; searches cycling over more owners than fit
would otherwise push each other out and reload on every search. Read counts are
halved every ``DECAY_READS`` reads, so the cache follows a change of workload.

Owner sizes are remembered between reads: an owner too large for the cache is not
counted again until at least as many log entries as it was over by have passed (each
entry changes at most one fact), and an owner kept out for being read too rarely is
counted again once the log has moved on by an eighth of its size.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence

from graphmem.models.edges import FactEdge
from graphmem.models.scope import Scope
from graphmem.store.base import batched
from graphmem.store.embedded.collector import collector_paused, exempt_live_objects
from graphmem.store.embedded.edges import EDGE_COLUMNS, edge_of_row
from graphmem.store.embedded.owner_edges import OwnerEdges

DECAY_READS = 1_000
"""Reads after which every owner's read count is halved."""
REPLAY_LIMIT = 20_000
"""Log entries worth replaying; further behind, reloading owners on demand is cheaper."""
LOG_KEEP = 50_000
"""Log entries compaction leaves in place (a cache further behind reloads)."""
_CHUNK = 500


class EdgeCache:
    """Owners' fact edges in memory, at most ``max_facts`` of them (0 disables it)."""

    def __init__(self, max_facts: int, *, gc_freeze: bool = False) -> None:
        self._max_facts = max_facts
        self._gc_freeze = gc_freeze
        """Exempt what is alive from cyclic collection after each load (see collector.py)."""
        self._owners: OrderedDict[str, OwnerEdges] = OrderedDict()
        self._owner_of: dict[int, str] = {}
        """Rowid -> owner, for every cached row (a deleted row has no owner left to read)."""
        self._rowid_of: dict[uuid.UUID, int] = {}
        """Fact id -> rowid, for the cached rows."""
        self._sizes: dict[str, tuple[int, int]] = {}
        """Owner -> (its fact count, the log position when counted), for owners not cached."""
        self._reads: dict[str, int] = {}
        """Owner -> how often its edges were read lately (halved every ``DECAY_READS``)."""
        self._reads_since_decay = 0
        self._seq = 0
        self._epoch = 0
        """Incremented whenever the cache starts over (a load begun before is not kept)."""
        self._lock = threading.Lock()

    def edges_of_entities(
        self,
        conn: sqlite3.Connection,
        scope: Scope,
        entity_ids: Sequence[uuid.UUID],
        *,
        include_expired: bool,
        per_entity: int | None,
    ) -> list[FactEdge] | None:
        """The scope's facts touching the entities, or None when the owner is not cached
        (the cache is disabled or the owner is too large for it)."""
        if self._max_facts <= 0:
            return None
        owner = self._current(conn, scope.owner)
        if owner is None:
            return None
        return owner.around(
            scope, entity_ids, include_expired=include_expired, per_entity=per_entity
        )

    def edges_by_ids(
        self, conn: sqlite3.Connection, ids: Sequence[uuid.UUID]
    ) -> tuple[list[FactEdge], list[uuid.UUID]]:
        """The edges of the facts with these ids that are cached, and the ids that are
        not (facts of owners not cached, or no facts at all)."""
        if self._max_facts <= 0:
            return [], list(ids)
        found: list[FactEdge] = []
        missing: list[uuid.UUID] = []
        with self._lock:
            self._replay(conn)
            for fact_id in ids:
                rowid = self._rowid_of.get(fact_id)
                if rowid is None:
                    missing.append(fact_id)
                else:
                    found.append(self._owners[self._owner_of[rowid]].by_rowid[rowid])
        return found, missing

    @property
    def cached_facts(self) -> int:
        """Facts held in memory now."""
        return len(self._owner_of)

    # -- keeping in step -------------------------------------------------------------------
    def _current(self, conn: sqlite3.Connection, owner: str) -> OwnerEdges | None:
        with self._lock:
            self._replay(conn)
            self._note_read(owner)
            edges = self._owners.get(owner)
            if edges is not None:
                self._owners.move_to_end(owner)
                return edges
            size = self._known_size(owner)
            if size is not None and not self._admits(owner, size):
                return None
            loaded_at, epoch = self._seq, self._epoch
        if size is None:
            # Counted against the log position before the count, as the load below is:
            # entries replayed meanwhile are then counted as drift (or replayed again).
            counted = _count_facts(conn, owner)
            with self._lock:
                if self._epoch == epoch:
                    self._sizes[owner] = (counted, loaded_at)
                if not self._admits(owner, counted):
                    return None
        # Loading reads every fact of the owner: searches of other owners (in other
        # threads) must not wait for it, so it runs outside the lock.
        edges = _load_owner(conn, owner)
        with self._lock:
            if owner in self._owners:  # another thread loaded it meanwhile
                return self._owners[owner]
            # Writes replayed while this owner was loading skipped it: they are applied
            # to it below, unless the cache started over or the log was compacted past
            # them (then this read is served, and nothing kept).
            missed = self._seq > loaded_at
            if missed and (self._epoch != epoch or log_position(conn)[1] > loaded_at):
                return edges
            self._insert(owner, edges)
            if missed:
                self._apply(conn, _changed_rowids(conn, loaded_at, self._seq))
            if self._gc_freeze:
                exempt_live_objects()
            return self._owners[owner]

    @property
    def _owner_limit(self) -> int:
        # A giant owner would otherwise push every other one out, and be pushed out by
        # them, reloading each time.
        return self._max_facts // 4

    def _note_read(self, owner: str) -> None:
        self._reads[owner] = self._reads.get(owner, 0) + 1
        self._reads_since_decay += 1
        if self._reads_since_decay >= DECAY_READS:
            self._reads = {name: n // 2 for name, n in self._reads.items() if n > 1}
            self._reads_since_decay = 0
            # Sizes are kept for owners still read lately, so that neither map grows
            # with every owner ever searched.
            self._sizes = {
                name: known for name, known in self._sizes.items() if name in self._reads
            }

    def _known_size(self, owner: str) -> int | None:
        """The owner's fact count as last counted, while it may still be relied on."""
        known = self._sizes.get(owner)
        if known is None:
            return None
        count, counted_at = known
        drift = self._seq - counted_at
        if count > self._owner_limit:
            if drift < count - self._owner_limit:
                return count
        elif drift <= count // 8:
            return count
        del self._sizes[owner]
        return None

    def _admits(self, owner: str, size: int) -> bool:
        """Whether an owner of ``size`` facts may be loaded: it fits in the room left, or
        in the room of owners read less often than it lately."""
        if size > self._owner_limit:
            return False
        needed = size - (self._max_facts - len(self._owner_of))
        if needed <= 0:
            return True
        reads = self._reads.get(owner, 0)
        for name in self._eviction_order():
            if self._reads.get(name, 0) >= reads:
                return False
            needed -= len(self._owners[name].by_rowid)
            if needed <= 0:
                return True
        return False

    def _eviction_order(self) -> list[str]:
        """Cached owners, the first to drop first: least often read, then least recently."""
        return sorted(self._owners, key=lambda name: self._reads.get(name, 0))

    def _insert(self, owner: str, edges: OwnerEdges) -> None:
        """Cache an owner; drop others, least often read first, beyond the budget."""
        self._sizes.pop(owner, None)
        self._owners[owner] = edges
        for rowid, edge in edges.by_rowid.items():
            self._owner_of[rowid] = owner
            self._rowid_of[edge.id] = rowid
        for name in self._eviction_order():
            if len(self._owner_of) <= self._max_facts:
                break
            if name == owner:
                continue
            dropped = self._owners.pop(name)
            for rowid, edge in dropped.by_rowid.items():
                del self._owner_of[rowid]
                self._unindex(edge.id, rowid)

    def _unindex(self, fact_id: uuid.UUID, rowid: int) -> None:
        # Only if the id still points at this row: the id may have moved to a new row
        # (deleted and written again) that this replay has indexed already.
        if self._rowid_of.get(fact_id) == rowid:
            del self._rowid_of[fact_id]

    def _forget_all(self) -> None:
        self._epoch += 1
        self._owners.clear()
        self._sizes.clear()
        self._owner_of.clear()
        self._rowid_of.clear()

    def _replay(self, conn: sqlite3.Connection) -> None:
        """Apply the fact rows changed since the last replay to the cached owners."""
        latest, floor = log_position(conn)
        if latest == self._seq:
            return
        if self._seq < floor or latest - self._seq > REPLAY_LIMIT or latest < self._seq:
            self._forget_all()  # entries were compacted away (or the store was replaced)
            self._seq = latest
            return
        if self._owners:
            self._apply(conn, _changed_rowids(conn, self._seq, latest))
        self._seq = latest

    def _apply(self, conn: sqlite3.Connection, rowids: list[int]) -> None:
        current: dict[int, tuple[str, FactEdge]] = {}
        for chunk in batched(rowids, _CHUNK):
            cursor = conn.execute(
                f"SELECT rowid, owner, {EDGE_COLUMNS} FROM facts "
                f"WHERE rowid IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            cursor.row_factory = None
            for row in cursor:
                current[row[0]] = (row[1], edge_of_row(row[2:]))
        per_owner: dict[str, dict[int, FactEdge | None]] = {}
        for rowid in rowids:
            # Drop the row from its cached owner, then add its current version to its
            # current owner: a deleted rowid may have been reused by another owner.
            held_by = self._owner_of.pop(rowid, None)
            if held_by is not None:
                per_owner.setdefault(held_by, {})[rowid] = None
                self._unindex(self._owners[held_by].by_rowid[rowid].id, rowid)
            if rowid in current:
                name, edge = current[rowid]
                if name in self._owners:
                    per_owner.setdefault(name, {})[rowid] = edge
                    self._owner_of[rowid] = name
                    self._rowid_of[edge.id] = rowid
        for name, updates in per_owner.items():
            self._owners[name] = self._owners[name].changed(updates)


def _count_facts(conn: sqlite3.Connection, owner: str) -> int:
    (count,) = conn.execute("SELECT count(*) FROM facts WHERE owner = ?", [owner]).fetchone()
    return int(count)


def _load_owner(conn: sqlite3.Connection, owner: str) -> OwnerEdges:
    """Every fact of the owner."""
    cursor = conn.execute(f"SELECT rowid, {EDGE_COLUMNS} FROM facts WHERE owner = ?", [owner])
    cursor.row_factory = None
    with collector_paused():
        return OwnerEdges.build((row[0], edge_of_row(row[1:])) for row in cursor)


def _changed_rowids(conn: sqlite3.Connection, after: int, through: int) -> list[int]:
    """Rowids of the fact rows changed by log entries ``after`` < seq <= ``through``."""
    rows = conn.execute(
        "SELECT DISTINCT fact_rowid FROM fact_log WHERE seq > ? AND seq <= ?", [after, through]
    )
    return [row[0] for row in rows]


def log_position(conn: sqlite3.Connection) -> tuple[int, int]:
    """``(latest, floor)``: the newest ``fact_log`` entry and the last one compacted away."""
    latest, floor = conn.execute(
        "SELECT (SELECT max(seq) FROM fact_log), "
        "(SELECT value FROM meta WHERE key = 'fact_log_floor')"
    ).fetchone()
    floor = int(floor or 0)
    return max(int(latest or 0), floor), floor


def compact_fact_log(conn: sqlite3.Connection, keep: int = LOG_KEEP) -> None:
    """Delete all but the newest ``keep`` log entries; the caller holds the write
    transaction. The floor recorded in ``meta`` tells caches they fell behind."""
    latest, floor = log_position(conn)
    through = latest - keep
    if through <= floor:
        return
    conn.execute("DELETE FROM fact_log WHERE seq <= ?", [through])
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('fact_log_floor', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [str(through)],
    )
