"""The offline rules extractor and its reusable time-expression resolver."""

from graphmem.extraction.rules.dates import (
    Granularity,
    ResolvedTime,
    find_time_expressions,
    resolve_time_expression,
)
from graphmem.extraction.rules.extractor import RulesExtractor

__all__ = [
    "Granularity",
    "ResolvedTime",
    "RulesExtractor",
    "find_time_expressions",
    "resolve_time_expression",
]
