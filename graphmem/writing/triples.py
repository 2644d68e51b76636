"""Validation of pre-extracted triples handed to ``add_facts``."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from graphmem.errors import InvalidInputError
from graphmem.writing.messages import MAX_NAME_CHARS, check_metadata, check_text, check_timestamp
from graphmem.writing.triple_draft import TripleInput

_TRIPLE_KEYS = frozenset(
    {
        "subject",
        "predicate",
        "object",
        "fact",
        "valid_at",
        "invalid_at",
        "confidence",
        "source",
        "subject_type",
        "object_type",
        "metadata",
    }
)
MAX_TRIPLES_PER_CALL = 100_000


def parse_triples(triples: object, *, max_chars: int) -> list[TripleInput]:
    """Tuples ``(s, p, o[, fact[, valid_at]])`` or dicts with those keys, all checked."""
    if isinstance(triples, str | bytes) or not isinstance(triples, Sequence):
        raise InvalidInputError("triples must be a list of tuples or dicts")
    if not triples:
        raise InvalidInputError("triples is an empty list")
    if len(triples) > MAX_TRIPLES_PER_CALL:
        raise InvalidInputError(
            f"{len(triples):,} triples in one call; the limit is {MAX_TRIPLES_PER_CALL:,}"
        )
    return [_parse_one(item, index, max_chars) for index, item in enumerate(triples)]


def _parse_one(item: object, index: int, max_chars: int) -> TripleInput:
    where = f"triples[{index}]"
    if isinstance(item, Mapping):
        unknown = set(item) - _TRIPLE_KEYS
        if unknown:
            raise InvalidInputError(f"{where} has unknown keys {sorted(map(str, unknown))}")
        values: dict[str, Any] = dict(item)
    elif isinstance(item, Sequence) and not isinstance(item, str | bytes):
        if not 3 <= len(item) <= 5:
            raise InvalidInputError(
                f"{where} must be (subject, predicate, object[, fact[, valid_at]])"
            )
        values = dict(
            zip(("subject", "predicate", "object", "fact", "valid_at"), item, strict=False)
        )
    else:
        raise InvalidInputError(f"{where} must be a tuple or a dict, got {type(item).__name__}")
    for key in ("subject", "predicate", "object"):
        if key not in values:
            raise InvalidInputError(f"{where} is missing {key!r}")
        values[key] = check_text(
            values[key], field=f"{where}.{key}", max_chars=MAX_NAME_CHARS
        ).strip()
    if values.get("fact") is not None:
        values["fact"] = check_text(values["fact"], field=f"{where}.fact", max_chars=max_chars)
    for key in ("valid_at", "invalid_at"):
        values[key] = check_timestamp(values.get(key), field=f"{where}.{key}")
    if values["valid_at"] and values["invalid_at"] and values["invalid_at"] <= values["valid_at"]:
        raise InvalidInputError(f"{where}.invalid_at must be after valid_at")
    confidence = values.get("confidence", 1.0)
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0)
    ):
        raise InvalidInputError(f"{where}.confidence must be a number between 0 and 1")
    source = values.get("source")
    if source is not None and not isinstance(source, uuid.UUID):
        if not isinstance(source, str):
            raise InvalidInputError(f"{where}.source must be an episode id or a text")
        try:
            source = uuid.UUID(source)
        except ValueError:
            source = check_text(source, field=f"{where}.source", max_chars=max_chars)
    types = {}
    for key in ("subject_type", "object_type"):
        value = values.get(key) or "Thing"
        types[key] = check_text(value, field=f"{where}.{key}", max_chars=50).strip()
    return TripleInput(
        subject=values["subject"],
        predicate=values["predicate"],
        object=values["object"],
        fact=values.get("fact"),
        valid_at=values["valid_at"],
        invalid_at=values["invalid_at"],
        confidence=float(confidence),
        source=source,
        subject_type=types["subject_type"],
        object_type=types["object_type"],
        metadata=check_metadata(values.get("metadata")),
    )


def parse_source(source: object, *, max_chars: int) -> uuid.UUID | str | None:
    """The provenance of ``add_facts``: a stored episode's id, or a text to store as one."""
    if source is None or isinstance(source, uuid.UUID):
        return source
    if not isinstance(source, str):
        raise InvalidInputError("source must be an episode id or a text")
    try:
        return uuid.UUID(source)
    except ValueError:
        return check_text(source, field="source", max_chars=max_chars)
