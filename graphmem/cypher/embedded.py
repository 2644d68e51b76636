"""Read-only Cypher over a scope's graph view, executed by grand-cypher.

The supported subset is grand-cypher's (1.2): one or more ``MATCH`` clauses with node
labels, property maps, named or anonymous relationships, relationship types
(``[:A|B]``), directions, variable-length hops with a direction (``-[*1..3]->``);
``WHERE`` with comparisons, ``AND``/``OR``/``NOT``, ``IN [...]``, ``IS NULL``,
``CONTAINS``/``STARTS WITH``/``ENDS WITH``, ``EXISTS { MATCH ... }`` and
``ALL/ANY/NONE/SINGLE(x IN relationships(r) WHERE ...)``; ``RETURN`` of variables,
properties, ``id()``, ``type()``, ``toLower/toUpper/trim/coalesce/size``, the aggregates
``count/sum/avg/min/max/collect``, ``DISTINCT``, ``AS``; ``ORDER BY``, ``SKIP``,
``LIMIT``. ``x IS NOT NULL`` is read as ``NOT x IS NULL``. Not supported:
``OPTIONAL MATCH``, ``WITH``, ``UNWIND``, ``UNION``, ``count(*)``, undirected
variable-length hops, backtick-quoted names, functions beyond those listed. Matching
follows grand-cypher's subgraph-isomorphism semantics: distinct pattern nodes bind
distinct graph nodes. Parameters (``$name``) are bound by :mod:`.dialect`.

Also answered, from the view: ``CALL db.labels()``, ``CALL db.relationshipTypes()``,
``CALL db.propertyKeys()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx
from grandcypher import GrandCypher
from lark.exceptions import LarkError

from graphmem.cypher.dialect import (
    ProcedureCall,
    procedure_call,
    return_columns,
    to_grand_cypher,
)
from graphmem.cypher.guard import check_read_only
from graphmem.cypher.view import KIND
from graphmem.errors import CypherError

DEFAULT_MAX_ROWS = 10_000
_PROCEDURE_COLUMNS = {
    "db.labels": "label",
    "db.relationshipTypes": "relationshipType",
    "db.propertyKeys": "propertyKey",
}
_HIDDEN = frozenset({"__labels__", KIND})


def run_on_graph(
    graph: nx.MultiDiGraph,
    query: str,
    params: Mapping[str, Any] | None = None,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> list[dict[str, Any]]:
    """Rows of a read-only query over ``graph``; at most ``max_rows`` unless it says LIMIT."""
    tokens = check_read_only(query)
    call = procedure_call(tokens)
    if call is not None:
        return _procedure(graph, call)
    text = to_grand_cypher(query, params or {})
    try:
        columns = GrandCypher(graph, limit=max_rows).run(text)
    except (LarkError, SyntaxError) as exc:
        raise CypherError(
            f"the embedded Cypher engine cannot run this query ({_first_line(exc)}); "
            "see graphmem.cypher.embedded for the supported subset"
        ) from exc
    except Exception as exc:  # grand-cypher raises bare exceptions on unsupported input
        raise CypherError(f"the query failed: {type(exc).__name__}: {_first_line(exc)}") from exc
    return _rows(columns, query)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _procedure(graph: nx.MultiDiGraph, call: ProcedureCall) -> list[dict[str, Any]]:
    column = _PROCEDURE_COLUMNS.get(call.name)
    if column is None:
        raise CypherError(f"procedure {call.name} is not available")
    if call.column is not None and call.column != column:
        raise CypherError(f"{call.name}() yields {column!r}, not {call.column!r}")
    values: set[str] = set()
    if call.name == "db.labels":
        for _, attributes in graph.nodes(data=True):
            values.update(attributes.get("__labels__", ()))
    elif call.name == "db.relationshipTypes":
        for _, _, attributes in graph.edges(data=True):
            values.update(attributes.get("__labels__", ()))
    else:
        for _, attributes in graph.nodes(data=True):
            values.update(key for key, value in attributes.items() if value is not None)
        for _, _, attributes in graph.edges(data=True):
            values.update(key for key, value in attributes.items() if value is not None)
        values -= _HIDDEN
    return [{column: value} for value in sorted(values)]


def _rows(columns: Mapping[Any, list[Any]], query: str) -> list[dict[str, Any]]:
    """Rows keyed by the column names the query wrote, in its RETURN order."""
    written = return_columns(query)
    by_key = {_squeezed(name): name for name in written}
    by_name = {by_key.get(_squeezed(str(key)), str(key)): values for key, values in columns.items()}
    order = {name: index for index, name in enumerate(written)}
    names = sorted(by_name, key=lambda name: order.get(name, len(order)))
    count = max((len(values) for values in by_name.values()), default=0)
    return [
        {name: _plain(by_name[name][i]) if i < len(by_name[name]) else None for name in names}
        for i in range(count)
    ]


def _squeezed(name: str) -> str:
    """A column name compared without case or spaces (the engine renames ``count(n)``)."""
    return "".join(name.split()).upper()


def _plain(value: Any) -> Any:
    """Nodes and relationships as property dicts (``_labels`` / ``_type``), sets as lists."""
    if isinstance(value, dict):
        kind = value.get(KIND)
        plain = {key: _plain(item) for key, item in value.items() if key not in _HIDDEN}
        labels = sorted(value.get("__labels__", ()))
        if kind == "node":
            plain["_labels"] = labels
        elif kind == "relationship":
            plain["_type"] = labels[0] if labels else None
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(item) for item in value)
    return value
