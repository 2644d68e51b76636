"""A Cypher tokenizer: enough of the lexical grammar to tell code from strings and comments.

Both the read-only guard and the embedded dialect work on these tokens, so a keyword
inside a string literal or a comment is never mistaken for a clause, and a clause
split by a comment (``CRE/**/ATE``) is seen as the two words Neo4j would see.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from graphmem.errors import CypherError


class Kind(Enum):
    """What a token is."""

    WORD = "word"
    """An identifier or keyword."""
    STRING = "string"
    """A quoted string literal; ``value`` holds the decoded text."""
    BACKTICK = "backtick"
    """A backtick-quoted identifier; ``value`` holds the name."""
    PARAMETER = "parameter"
    """``$name``; ``value`` holds the name."""
    NUMBER = "number"
    SYMBOL = "symbol"
    """Any other single character: punctuation and operators."""
    COMMENT = "comment"


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token and where it is in the query text."""

    kind: Kind
    text: str
    start: int
    value: str = ""

    @property
    def end(self) -> int:
        """Index just past the token."""
        return self.start + len(self.text)


_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
}


def tokenize(query: str) -> list[Token]:
    """Every token of ``query``, comments included; raises CypherError on bad lexing."""
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif query.startswith("//", i):
            end = query.find("\n", i)
            end = n if end == -1 else end
            tokens.append(Token(Kind.COMMENT, query[i:end], i))
            i = end
        elif query.startswith("/*", i):
            end = query.find("*/", i + 2)
            if end == -1:
                raise CypherError(f"unterminated /* comment at offset {i}")
            tokens.append(Token(Kind.COMMENT, query[i : end + 2], i))
            i = end + 2
        elif ch in "'\"":
            value, end = _read_string(query, i)
            tokens.append(Token(Kind.STRING, query[i:end], i, value))
            i = end
        elif ch == "`":
            value, end = _read_backtick(query, i)
            tokens.append(Token(Kind.BACKTICK, query[i:end], i, value))
            i = end
        elif ch == "$":
            end = i + 1
            if end < n and query[end] == "`":
                value, end = _read_backtick(query, end)
            else:
                while end < n and (query[end].isalnum() or query[end] == "_"):
                    end += 1
                value = query[i + 1 : end]
            if not value:
                raise CypherError(f"a parameter name must follow '$' at offset {i}")
            tokens.append(Token(Kind.PARAMETER, query[i:end], i, value))
            i = end
        elif ch.isdigit():
            end = i
            while end < n and (query[end].isalnum() or query[end] in "._"):
                if query[end] == "." and (end + 1 >= n or not query[end + 1].isdigit()):
                    break
                end += 1
            tokens.append(Token(Kind.NUMBER, query[i:end], i))
            i = end
        elif ch.isalpha() or ch == "_":
            end = i
            while end < n and (query[end].isalnum() or query[end] == "_"):
                end += 1
            tokens.append(Token(Kind.WORD, query[i:end], i))
            i = end
        else:
            tokens.append(Token(Kind.SYMBOL, ch, i))
            i += 1
    return tokens


def code_tokens(tokens: list[Token]) -> list[Token]:
    """The tokens that are not comments."""
    return [token for token in tokens if token.kind is not Kind.COMMENT]


def _read_string(query: str, start: int) -> tuple[str, int]:
    quote = query[start]
    out: list[str] = []
    i = start + 1
    while i < len(query):
        ch = query[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\":
            if i + 1 >= len(query):
                break
            escape = query[i + 1]
            if escape in _ESCAPES:
                out.append(_ESCAPES[escape])
                i += 2
            elif escape in "uU":
                width = 4 if escape == "u" else 8
                digits = query[i + 2 : i + 2 + width]
                if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                    raise CypherError(f"invalid \\{escape} escape in string at offset {i}")
                code = int(digits, 16)
                if code > 0x10FFFF:
                    raise CypherError(f"invalid \\{escape} escape in string at offset {i}")
                out.append(chr(code))
                i += 2 + width
            else:
                raise CypherError(f"unknown escape \\{escape} in string at offset {i}")
        else:
            out.append(ch)
            i += 1
    raise CypherError(f"unterminated string starting at offset {start}")


def _read_backtick(query: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(query):
        if query[i] == "`":
            if query.startswith("``", i):
                out.append("`")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(query[i])
        i += 1
    raise CypherError(f"unterminated `identifier` starting at offset {start}")
