"""Fuzz target for the graph identifiers built from data (labels, relationship types).

Labels and relationship types are the only parts of a Cypher statement made from model
or user text, so whatever text arrives, what comes out must be a strict ASCII
identifier that is no Cypher keyword and none of graphmem's own names, or the input
must be refused with ``InvalidIdentifierError``. Predicate normalization must produce
``[a-z][a-z0-9_]*`` or refuse; nothing else may escape.

    .venv/bin/python tests/fuzz/fuzz_identifiers.py -atheris_runs=100000 [CORPUS_DIR]
"""

from __future__ import annotations

import importlib
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

atheris: Any = None
if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        atheris = importlib.import_module("atheris")
    except ImportError:
        atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["graphmem"]):  # not torch, numpy, lark...
        from graphmem.errors import InvalidIdentifierError
        from graphmem.store.neo4j.identifiers import (
            CYPHER_KEYWORDS,
            MAX_IDENTIFIER_LENGTH,
            STRUCTURAL_LABELS,
            STRUCTURAL_RELATIONSHIP_TYPES,
            entity_label,
            owner_token,
            relationship_type,
            validate_label,
            validate_relationship_type,
        )
        from graphmem.store.neo4j.statements import create_fact_relationships
        from graphmem.temporal.predicates import normalize_predicate
else:
    from graphmem.errors import InvalidIdentifierError
    from graphmem.store.neo4j.identifiers import (
        CYPHER_KEYWORDS,
        MAX_IDENTIFIER_LENGTH,
        STRUCTURAL_LABELS,
        STRUCTURAL_RELATIONSHIP_TYPES,
        entity_label,
        owner_token,
        relationship_type,
        validate_label,
        validate_relationship_type,
    )
    from graphmem.store.neo4j.statements import create_fact_relationships
    from graphmem.temporal.predicates import normalize_predicate

_RELATIONSHIP = re.compile(r"[A-Z][A-Z0-9_]*", re.ASCII)
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
_PREDICATE = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)
_OWNER_TOKEN = re.compile(r"o[0-9a-f]{32}0", re.ASCII)
_STRUCTURAL = {label.casefold() for label in STRUCTURAL_LABELS}
SEEDS: tuple[bytes, ...] = (
    b"works_at",
    b"WORKS_AT",
    b"works at",
    b"delete",
    b"mentions",
    b"wo\xd1\x80ks_at",  # Cyrillic look-alike
    b"\xc4\xb1s_a",  # dotless i upper-cases to ASCII I
    b"`x` DETACH DELETE n //",
    b"'; DROP TABLE facts; --",
    b"tech company",
    b"Episode",
    b"9lives",
)


def _check_relationship(text: str) -> None:
    try:
        name = relationship_type(text)
    except InvalidIdentifierError:
        return
    assert _RELATIONSHIP.fullmatch(name), name
    assert text.isascii(), text
    assert text.upper() == name, (text, name)
    assert len(name) <= MAX_IDENTIFIER_LENGTH
    assert name not in STRUCTURAL_RELATIONSHIP_TYPES, name
    assert validate_relationship_type(name) == name
    # Keywords are allowed because every statement quotes the type.
    assert f"[r:`{name}`]" in create_fact_relationships(name, []).text


def _check_label(text: str) -> None:
    label = entity_label(text)
    if label is not None:
        assert _LABEL.fullmatch(label), label
        assert len(label) <= MAX_IDENTIFIER_LENGTH, label
        assert label.upper() not in CYPHER_KEYWORDS, label
        assert label.casefold() not in _STRUCTURAL, label
        assert validate_label(label) == label
    try:
        validated = validate_label(text)
    except InvalidIdentifierError:
        return
    assert validated == text
    assert _LABEL.fullmatch(text), text
    assert text.upper() not in CYPHER_KEYWORDS, text


def _check_predicate(text: str) -> None:
    try:
        predicate = normalize_predicate(text)
    except InvalidIdentifierError:
        return
    assert _PREDICATE.fullmatch(predicate), (text, predicate)
    assert "__" not in predicate, predicate
    assert not predicate.endswith("_"), predicate
    assert normalize_predicate(predicate) == predicate  # canonical forms are fixed points


def check_input(data: bytes) -> None:
    """Raise AssertionError (or the unexpected exception) if a property fails."""
    text = data.decode("utf-8", "surrogateescape")
    _check_relationship(text)
    _check_label(text)
    _check_predicate(text)
    try:
        validate_relationship_type(text)
    except InvalidIdentifierError:
        pass
    else:
        assert _RELATIONSHIP.fullmatch(text), text
    assert _OWNER_TOKEN.fullmatch(owner_token(text.encode("utf-8", "surrogatepass").hex()))


def main() -> None:
    if atheris is None:
        print("atheris is not installed; install it with: .venv/bin/pip install atheris")
        return
    atheris.Setup(with_seed_corpus(sys.argv, SEEDS), check_input)
    atheris.Fuzz()


def with_seed_corpus(argv: list[str], seeds: tuple[bytes, ...]) -> list[str]:
    """``argv`` plus a corpus directory holding ``seeds`` when none was given."""
    if any(not arg.startswith("-") for arg in argv[1:]):
        return argv
    corpus = Path(tempfile.mkdtemp(prefix="graphmem-fuzz-"))
    for number, seed in enumerate(seeds):
        (corpus / f"seed-{number}").write_bytes(seed)
    return [*argv, str(corpus)]


if __name__ == "__main__":
    main()
