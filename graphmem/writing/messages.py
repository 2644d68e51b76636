"""Validation of what callers hand to ``add``: messages, metadata, timestamps.

Everything is checked before anything is written, so bad input raises a typed
error and leaves the store unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphmem.errors import InvalidInputError
from graphmem.models.time import ensure_utc
from graphmem.writing.content import ImagePart, compose, parse_parts

ROLES = frozenset({"user", "assistant", "system", "tool", "document"})
"""Roles an episode may have (OpenAI-style chat roles, plus ``document`` for passages)."""
EXTRACTED_ROLES = frozenset({"user", "assistant", "document"})
"""Roles whose content is mined for facts (system prompts and tool output are not)."""
MAX_NAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class Message:
    """One validated chat message."""

    role: str
    content: str
    name: str | None = None
    images: tuple[ImagePart, ...] = ()
    """Images of a multimodal message (their lines are part of ``content``)."""
    text: str | None = None
    """The text parts alone, when ``content`` was composed from parts with images."""
    metadata: Mapping[str, Any] | None = None
    """Metadata of this message's episode only, over the call's (procedural memory)."""


def check_text(value: object, *, field: str, max_chars: int) -> str:
    """A non-empty string of valid Unicode, without NUL, at most ``max_chars`` long."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(f"{field} is empty")
    if len(value) > max_chars:
        raise InvalidInputError(
            f"{field} has {len(value):,} characters; the limit is {max_chars:,} "
            "(split long documents into chunks, or raise max_message_chars)"
        )
    if "\x00" in value:
        raise InvalidInputError(f"{field} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(
            f"{field} is not valid Unicode (lone surrogate at position {exc.start})"
        ) from None
    return value


def parse_messages(messages: object, *, max_chars: int) -> list[Message]:
    """Accept a string, one ``{role, content, name?}`` dict, or a list of them."""
    if isinstance(messages, str):
        return [Message("user", check_text(messages, field="message", max_chars=max_chars))]
    if isinstance(messages, Mapping):
        return [_parse_one(messages, 0, max_chars)]
    if isinstance(messages, Sequence) and not isinstance(messages, bytes | bytearray):
        if not messages:
            raise InvalidInputError("messages is an empty list")
        parsed = [_parse_one(item, index, max_chars) for index, item in enumerate(messages)]
        return parsed
    raise InvalidInputError(
        "messages must be a string, a {'role', 'content'} dict, or a list of such dicts; "
        f"got {type(messages).__name__}"
    )


def _parse_one(item: object, index: int, max_chars: int) -> Message:
    where = f"messages[{index}]"
    if not isinstance(item, Mapping):
        raise InvalidInputError(f"{where} must be a dict with 'role' and 'content'")
    unknown = set(item) - {"role", "content", "name"}
    if unknown:
        raise InvalidInputError(f"{where} has unknown keys {sorted(map(str, unknown))}")
    role = item.get("role", "user")
    if not isinstance(role, str) or role not in ROLES:  # an unhashable role cannot be looked up
        raise InvalidInputError(f"{where}.role {role!r} is not one of {sorted(ROLES)}")
    raw = item.get("content")
    images: tuple[ImagePart, ...] = ()
    text: str | None = None
    if isinstance(raw, Sequence) and not isinstance(raw, str | bytes | bytearray):
        text, images = parse_parts(raw, f"{where}.content")
        raw = compose(text, images)
    content = check_text(raw, field=f"{where}.content", max_chars=max_chars)
    name = item.get("name")
    if name is not None:
        name = check_text(name, field=f"{where}.name", max_chars=MAX_NAME_CHARS).strip()
    return Message(role=str(role), content=content, name=name, images=images, text=text)


def check_metadata(metadata: object) -> dict[str, Any]:
    """A JSON object with string keys (no NaN/Infinity), or an empty dict for None."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInputError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        encoded = json.dumps(dict(metadata), allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as exc:  # too deep nesting recurses
        raise InvalidInputError(f"metadata must be JSON-serializable: {exc}") from None
    try:
        encoded.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError("metadata contains invalid Unicode (a lone surrogate)") from None
    if "\\u0000" in encoded:
        raise InvalidInputError("metadata contains a NUL character")
    decoded: dict[str, Any] = json.loads(encoded)
    return decoded


def check_timestamp(value: object, *, field: str = "timestamp") -> datetime | None:
    """A timezone-aware datetime, an ISO-8601 string with offset, or epoch seconds."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} must be a datetime, got bool")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{field} must be finite")
        try:
            value = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidInputError(f"{field} {value!r} is not a valid epoch time") from exc
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(f"{field} {value!r} is not an ISO-8601 datetime") from None
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{field} must be a datetime, got {type(value).__name__}")
    return ensure_utc(value, field=field)
