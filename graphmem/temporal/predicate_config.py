"""The predicate catalogue's file format: validation of YAML or mappings, and where the
shipped ``schemas/predicates.yaml`` is found.

Only shape is checked here; what the entries mean together (inverses that name each
other back, phrasings claimed twice) is checked when the catalogue is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from graphmem.errors import InvalidInputError

Cardinality = Literal["one", "many"]


class PredicateEntryConfig(BaseModel):
    """One entry of the ``predicates`` section, as written in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cardinality: Cardinality | None = None
    symmetric: StrictBool | None = None
    inverse: str | None = None
    description: str | None = None
    synonyms: list[str] = []
    ends: list[str] = []
    replace: StrictBool = False


class CatalogueConfig(BaseModel):
    """A whole catalogue file (or extension), as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    word_forms: dict[str, str] = {}
    ignored_words: list[str] = []
    leading_auxiliaries: list[str] = []
    ending_prefixes: list[str] = []
    ending_suffixes: list[str] = []
    predicates: dict[str, PredicateEntryConfig | None] = {}


def parse_config(raw: object, source: str) -> CatalogueConfig:
    """Validate a parsed catalogue; ``source`` names it in the error.

    Raises :class:`~graphmem.errors.InvalidInputError` listing every problem found.
    """
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{source} must be a mapping with a 'predicates' section")
    try:
        return CatalogueConfig.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidInputError(f"invalid predicate catalogue in {source}: {problems}") from None


def read_config(path: Path) -> CatalogueConfig:
    """Read and validate a catalogue file (:class:`~graphmem.errors.InvalidInputError`
    if it cannot be read or is invalid)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read predicate catalogue {path}: {exc}") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> CatalogueConfig:
    """Parse and validate catalogue YAML; ``source`` names it in the error."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"predicate catalogue {source} is not valid YAML: {exc}") from None
    return parse_config(raw, source)


def default_catalogue_text() -> tuple[str, str]:
    """The shipped catalogue's YAML text and where it was found.

    An installed package carries it as ``graphmem/data/predicates.yaml`` (or, when the
    whole ``schemas/`` directory is packaged, ``graphmem/schemas/predicates.yaml``); a
    source checkout reads the repository's ``schemas/predicates.yaml``.
    """
    package = resources.files("graphmem")
    candidates = [
        package / "data" / "predicates.yaml",
        package / "schemas" / "predicates.yaml",
        Path(__file__).resolve().parents[2] / "schemas" / "predicates.yaml",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8"), str(candidate)
    tried = ", ".join(str(candidate) for candidate in candidates)
    raise InvalidInputError(f"the predicate catalogue is missing (looked for {tried})")
