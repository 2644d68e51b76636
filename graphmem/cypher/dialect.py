"""Turning a Cypher query into the text grand-cypher accepts, with parameters bound.

grand-cypher has no parameters, reads only double-quoted strings (as Python
literals), spells aggregates in capitals and has no ``/* */`` comments. This module
bridges those gaps on tokens, never by searching raw text: each ``$name`` becomes a
literal encoded here (so a value can never become query syntax), each string is
re-encoded, and aggregate names are capitalized. Anything else passes through
unchanged for grand-cypher's parser to accept or reject.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphmem.cypher.tokens import Kind, Token, code_tokens, tokenize
from graphmem.errors import CypherError

AGGREGATES = frozenset({"COUNT", "SUM", "AVG", "MIN", "MAX", "COLLECT"})


@dataclass(frozen=True, slots=True)
class ProcedureCall:
    """A standalone ``CALL db.labels()`` (optionally ``YIELD column``)."""

    name: str
    column: str | None


def string_literal(value: str) -> str:
    """A double-quoted literal that grand-cypher (which evaluates it as Python) reads back
    as exactly ``value``: only printable characters appear unescaped."""
    out = ['"']
    for ch in value:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def literal(name: str, value: Any, *, nested: bool = False) -> str:
    """The query text standing for a parameter value (scalars, or a list of scalars)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CypherError(f"parameter ${name} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, list | tuple) and not nested:
        return "[" + ", ".join(literal(name, item, nested=True) for item in value) + "]"
    raise CypherError(
        f"parameter ${name} has type {type(value).__name__}; use strings, numbers, booleans, "
        "null or a list of those"
    )


def procedure_call(tokens: list[Token]) -> ProcedureCall | None:
    """The procedure of a query that is only ``CALL name() [YIELD column]``, else None."""
    words = [token for token in tokens if not (token.kind is Kind.SYMBOL and token.text == ";")]
    if not words or words[0].text.upper() != "CALL":
        return None
    texts = [token.text for token in words]
    try:
        open_at = texts.index("(")
    except ValueError:
        return None
    name = "".join(texts[1:open_at])
    rest = texts[open_at:]
    if rest[:2] != ["(", ")"]:
        raise CypherError(f"{name}() takes no arguments")
    rest = rest[2:]
    if not rest:
        return ProcedureCall(name, None)
    if len(rest) == 2 and rest[0].upper() == "YIELD":
        return ProcedureCall(name, rest[1])
    raise CypherError(f"only 'CALL {name}()' or 'CALL {name}() YIELD column' can be run")


def to_grand_cypher(query: str, params: Mapping[str, Any]) -> str:
    """The query with parameters bound and strings, comments and aggregates adapted."""
    tokens = tokenize(query)
    code = code_tokens(tokens)
    negated, dropped = _is_not_null(code)
    pieces: list[str] = []
    position = 0
    for token in tokens:
        replacement = "" if token.start in dropped else _replacement(token, code, params)
        if token.start in negated:
            replacement = "NOT " + (token.text if replacement is None else replacement)
        if replacement is not None:
            pieces.append(query[position : token.start])
            pieces.append(replacement)
            position = token.end
    pieces.append(query[position:])
    return "".join(pieces).strip()


def return_columns(query: str) -> list[str]:
    """The result columns of the last RETURN clause, as written (aliases when given)."""
    code = code_tokens(tokenize(query))
    starts = [i for i, token in enumerate(code) if token.text.upper() == "RETURN"]
    if not starts:
        return []
    columns: list[str] = []
    item: list[Token] = []
    depth = 0
    for token in code[starts[-1] + 1 :]:
        upper = token.text.upper() if token.kind is Kind.WORD else token.text
        if depth == 0 and upper in ("ORDER", "SKIP", "LIMIT", ";"):
            break
        if depth == 0 and upper == "DISTINCT" and not item and not columns:
            continue
        if token.text in "([{" and token.kind is Kind.SYMBOL:
            depth += 1
        elif token.text in ")]}" and token.kind is Kind.SYMBOL:
            depth -= 1
        if depth == 0 and token.text == "," and token.kind is Kind.SYMBOL:
            columns.append(_column_name(query, item))
            item = []
        else:
            item.append(token)
    if item:
        columns.append(_column_name(query, item))
    return columns


def _column_name(query: str, item: list[Token]) -> str:
    if len(item) >= 3 and item[-2].kind is Kind.WORD and item[-2].text.upper() == "AS":
        last = item[-1]
        return last.value if last.kind is Kind.BACKTICK else last.text
    return query[item[0].start : item[-1].end]


def _is_not_null(code: list[Token]) -> tuple[set[int], set[int]]:
    """Where ``x IS NOT NULL`` (x a variable or property) is rewritten to ``NOT x IS NULL``,
    which grand-cypher parses: offsets of operands to negate and of NOT tokens to drop."""
    negated: set[int] = set()
    dropped: set[int] = set()
    words = [token.text.upper() if token.kind is Kind.WORD else None for token in code]
    for i in range(1, len(code) - 2):
        if words[i : i + 3] != ["IS", "NOT", "NULL"] or code[i - 1].kind is not Kind.WORD:
            continue
        operand = i - 1
        if operand >= 2 and code[operand - 1].text == "." and code[operand - 2].kind is Kind.WORD:
            operand -= 2
        negated.add(code[operand].start)
        dropped.add(code[i + 1].start)
    return negated, dropped


def _replacement(token: Token, code: list[Token], params: Mapping[str, Any]) -> str | None:
    if token.kind is Kind.COMMENT:
        return " "
    if token.kind is Kind.STRING:
        return string_literal(token.value)
    if token.kind is Kind.PARAMETER:
        if token.value not in params:
            raise CypherError(f"the query uses ${token.value}, but no such parameter was given")
        return literal(token.value, params[token.value])
    if token.kind is Kind.BACKTICK:
        raise CypherError(
            f"quoted name {token.text} is not supported by the embedded Cypher engine; "
            "use plain names"
        )
    if token.kind is Kind.SYMBOL and token.text == ";":
        return ""
    if token.kind is Kind.WORD and token.text.upper() in AGGREGATES:
        index = code.index(token)
        following = code[index + 1] if index + 1 < len(code) else None
        if following is not None and following.text == "(":
            return token.text.upper()
    return None
