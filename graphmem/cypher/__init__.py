"""Read-only Cypher exploration of one scope's memory graph.

How a query is kept inside the caller's scope
---------------------------------------------
A scope is a filter on properties (``owner``, ``agent_id``, ``run_id``), and plain
Cypher offers no way to run a query against a filtered view of a database: every
``MATCH`` may start anywhere. The alternatives were weighed as follows:

* *post-filtering results* (reject rows holding another scope's nodes) cannot see
  derived values: ``MATCH (n) RETURN count(n)``, ``collect(n.name)``, ``size(...)``
  or ``EXISTS {...}`` leak other scopes through numbers and strings;
* *rewriting queries* to add ``owner = $owner`` to every pattern needs a complete,
  exact Cypher parser (pattern comprehensions, quantified paths, subqueries, ``CALL``,
  ``UNION``...); any construct it misreads is a leak;
* *Neo4j access control* (property-based privileges) needs Enterprise Edition and one
  role per owner;
* a *per-scope copy inside Neo4j* costs a database write per query.

So every backend answers exploration the same way: the scope's graph is loaded through
the store's ordinary scoped reads (the code paths every other read is tested on) into
an in-memory view (:mod:`.view`), and the query runs there (:mod:`.embedded`, a
grand-cypher subset). Nothing outside the scope is ever loaded, so no query, however
written, can read it. The query text never reaches Neo4j, so it cannot write either;
the read-only guard (:mod:`.guard`) still rejects writes, procedure calls and
administration up front with a clear error. The price is loading the scope per query
(bounded by ``max_records``), which suits one user's or agent's memory, the unit of
exploration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphmem.cypher.embedded import DEFAULT_MAX_ROWS, run_on_graph
from graphmem.cypher.guard import check_read_only
from graphmem.cypher.view import DEFAULT_MAX_RECORDS, scope_graph
from graphmem.errors import CypherError
from graphmem.models.scope import Scope
from graphmem.store.base import GraphStore

SUPPORTED_BACKENDS = frozenset({"embedded", "neo4j"})


def run_cypher(
    store: GraphStore,
    query: str,
    params: Mapping[str, Any] | None,
    scope: Scope,
    *,
    history: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> list[dict[str, Any]]:
    """Run a read-only Cypher query over ``scope``'s graph; one dict per result row.

    Fact edges are those true now, or every version with ``history``. Nodes and
    relationships come back as their properties plus ``_labels`` / ``_type``.
    Raises :class:`~graphmem.errors.CypherError` for writes, disallowed procedures,
    syntax outside the supported subset (see :mod:`graphmem.cypher.embedded`) and
    scopes larger than ``max_records``.
    """
    if store.backend not in SUPPORTED_BACKENDS:
        raise CypherError(f"Cypher exploration does not support the {store.backend!r} backend")
    check_read_only(query)  # fail fast, before loading the scope
    graph = scope_graph(store, scope, history=history, max_records=max_records)
    return run_on_graph(graph, query, params, max_rows=max_rows)


__all__ = ["check_read_only", "run_cypher", "run_on_graph", "scope_graph"]
