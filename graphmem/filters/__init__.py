"""Metadata filters for ``search(filters=...)`` and ``get_all(filters=...)``, in Mem0's syntax.

>>> f = parse_filter({"category": "food", "score": {"gte": 3}})
>>> f.matches({"category": "food", "score": 4})
True

See :mod:`graphmem.filters.language` for the full syntax and its semantics.
"""

from graphmem.filters.expressions import AllOf, AnyOf, Condition, Expression, Not
from graphmem.filters.language import MAX_DEPTH, OPERATORS, WILDCARD, Filter, parse_filter

__all__ = [
    "MAX_DEPTH",
    "OPERATORS",
    "WILDCARD",
    "AllOf",
    "AnyOf",
    "Condition",
    "Expression",
    "Filter",
    "Not",
    "parse_filter",
]
