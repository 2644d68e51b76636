"""The read-only guard: rejects every Cypher query that could write or escape, before it runs.

Checked on tokens (:mod:`.tokens`), so keywords inside strings and comments do not
count, and letter case, comments and line breaks do not hide a clause. Rejected:

* write clauses: ``CREATE``, ``MERGE``, ``DELETE``, ``DETACH``, ``SET``, ``REMOVE``,
  ``DROP``, ``FOREACH``, ``LOAD CSV``, ``INSERT``;
* administration and database switching: ``ALTER``, ``GRANT``, ``DENY``, ``REVOKE``,
  ``RENAME``, ``START``, ``STOP``, ``TERMINATE``, ``ENABLE``, ``SHOW``, ``USE``, ...;
* ``CALL`` of any procedure outside :data:`ALLOWED_PROCEDURES` (``apoc.*``, ``db.*``,
  ``dbms.*``: procedures can write, run arbitrary Cypher from a string, or list other
  users' data);
* namespaced functions outside the built-in temporal, spatial and vector namespaces
  (``apoc.cypher.runFirstColumn("CRE" + "ATE ...")`` would run a string as Cypher);
* more than one statement, and identifiers that are not ASCII (look-alike letters).

The guard is defence in depth: exploration also runs on a copy of the caller's scope
(see :mod:`graphmem.cypher`), where nothing could be written to the store anyway.
"""

from __future__ import annotations

from collections.abc import Collection

from graphmem.cypher.tokens import Kind, Token, code_tokens, tokenize
from graphmem.errors import CypherError

MAX_QUERY_CHARS = 20_000

WRITE_CLAUSES = frozenset(
    {"CREATE", "MERGE", "DELETE", "DETACH", "SET", "REMOVE", "DROP", "FOREACH", "LOAD", "INSERT"}
)
ADMIN_WORDS = frozenset(
    {
        "ALTER", "GRANT", "DENY", "REVOKE", "RENAME", "START", "STOP", "TERMINATE", "ENABLE",
        "SHOW", "USE", "DEALLOCATE", "REALLOCATE", "PERIODIC", "TRANSACTIONS",
    }
)  # fmt: skip
ALLOWED_PROCEDURES = frozenset({"db.labels", "db.relationshipTypes", "db.propertyKeys"})
"""Procedures a query may CALL; graphmem answers them from the caller's scope only."""
ALLOWED_FUNCTION_NAMESPACES = frozenset(
    {"date", "datetime", "localdatetime", "localtime", "time", "duration", "point", "vector"}
)


def check_read_only(
    query: str, *, allowed_procedures: Collection[str] = ALLOWED_PROCEDURES
) -> list[Token]:
    """The query's code tokens if it is a single read-only statement, else CypherError."""
    if not isinstance(query, str):
        raise CypherError(f"a Cypher query must be a string, got {type(query).__name__}")
    if len(query) > MAX_QUERY_CHARS:
        raise CypherError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    tokens = code_tokens(tokenize(query))
    if not tokens:
        raise CypherError("the query is empty")
    procedure_end = 0
    for index, token in enumerate(tokens):
        if index < procedure_end:
            continue  # the name of a CALLed procedure, already checked
        if token.kind is Kind.SYMBOL and token.text == ";" and index != len(tokens) - 1:
            raise CypherError("only one statement may be run at a time")
        if token.kind is Kind.BACKTICK and not _is_name_position(tokens, index):
            _check_function(tokens, index)  # `apoc`.cypher.run(...) is still a call
        if token.kind is not Kind.WORD:
            continue
        if not token.text.isascii():
            raise CypherError(
                f"identifier {token.text!r} contains non-ASCII characters; "
                "quote text in strings instead"
            )
        if _is_name_position(tokens, index):
            continue
        word = token.text.upper()
        if word in WRITE_CLAUSES:
            clause = "LOAD CSV" if word == "LOAD" else word
            raise CypherError(f"{clause} is not allowed: Cypher exploration is read-only")
        if word in ADMIN_WORDS:
            raise CypherError(f"{word} is not allowed: Cypher exploration only reads the graph")
        if word == "CALL":
            procedure_end = _check_call(tokens, index, allowed_procedures)
        else:
            _check_function(tokens, index)
    return tokens


def _is_name_position(tokens: list[Token], index: int) -> bool:
    """A property key (``n.set``), label or type (``:Create``), or map key (``{set: 1}``)."""
    previous = tokens[index - 1] if index > 0 else None
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if previous is not None and previous.kind is Kind.SYMBOL and previous.text in ".:":
        return True
    return (
        previous is not None
        and previous.kind is Kind.SYMBOL
        and previous.text in "{,"
        and following is not None
        and following.kind is Kind.SYMBOL
        and following.text == ":"
    )


def _dotted_name(tokens: list[Token], start: int) -> tuple[str, int]:
    """The dotted name starting at ``start`` and the index just past it."""
    parts: list[str] = []
    index = start
    while index < len(tokens) and tokens[index].kind in (Kind.WORD, Kind.BACKTICK):
        token = tokens[index]
        parts.append(token.value if token.kind is Kind.BACKTICK else token.text)
        index += 1
        if index < len(tokens) and tokens[index].kind is Kind.SYMBOL and tokens[index].text == ".":
            index += 1
        else:
            break
    return ".".join(parts), index


def _check_call(tokens: list[Token], index: int, allowed: Collection[str]) -> int:
    """Check a CALL; returns the index just past the procedure name it names."""
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if following is None:
        raise CypherError("CALL must name a procedure")
    if following.kind is Kind.SYMBOL and following.text in "{(":
        return index + 1  # a subquery: its clauses are checked like the rest of the query
    name, end = _dotted_name(tokens, index + 1)
    if name not in allowed:
        allowed_list = ", ".join(sorted(allowed)) or "none"
        raise CypherError(
            f"CALL {name or following.text} is not allowed (procedures may write or read "
            f"other scopes); allowed: {allowed_list}"
        )
    return end


def _check_function(tokens: list[Token], index: int) -> None:
    """Reject ``namespace.function(...)`` outside the built-in namespaces."""
    name, end = _dotted_name(tokens, index)
    if "." not in name or end >= len(tokens):
        return
    if tokens[end].kind is Kind.SYMBOL and tokens[end].text == "(":
        namespace = name.split(".", 1)[0].lower()
        if namespace not in ALLOWED_FUNCTION_NAMESPACES:
            raise CypherError(
                f"function {name}() is not allowed: only built-in functions may be called"
            )
