"""The predicate catalogue: canonical names, cardinality, symmetry, synonyms and endings.

Extractors name relations in free text ("works for", "is employed by"); the catalogue
turns every phrasing into one canonical snake_case predicate (``works_at``) and says how
its facts version: a ``one``-valued predicate keeps one current object (a new one
supersedes the old), a ``many``-valued one accumulates objects. Predicates it does not
know keep their normalized text and are ``many``-valued.

The shipped catalogue is the repository's ``schemas/predicates.yaml`` (which documents
the format), packaged with graphmem; applications extend it with their own file or
mapping (:meth:`PredicateCatalogue.extended`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from graphmem.errors import InvalidIdentifierError, InvalidInputError
from graphmem.temporal.predicate_config import (
    Cardinality,
    CatalogueConfig,
    PredicateEntryConfig,
    default_catalogue_text,
    parse_config,
    parse_yaml,
    read_config,
)
from graphmem.temporal.predicate_names import (
    MAX_PREDICATE_LENGTH,
    normalize_predicate,
    phrase_key,
    relationship_type,
    stem_word,
)

# The catalogue is the entry point for predicates, so callers also import the name
# rules and the shipped file from here.
__all__ = [
    "MAX_PREDICATE_LENGTH",
    "Cardinality",
    "PredicateCatalogue",
    "PredicateSpec",
    "default_catalogue_text",
    "normalize_predicate",
    "relationship_type",
]

_PATTERN_SUFFIX = "_*"
_NEGATIONS = frozenset({"not", "no", "never"})


@dataclass(frozen=True, slots=True)
class PredicateSpec:
    """How one canonical predicate behaves."""

    name: str
    cardinality: Cardinality
    inverse: str | None = None
    """The predicate stating the same relation from the object's side."""
    symmetric: bool = False
    """True when ``A rel B`` and ``B rel A`` are the same fact."""
    synonyms: tuple[str, ...] = ()
    ends: tuple[str, ...] = ()
    """Phrasings meaning the relation ended ("quit" for ``works_at``)."""
    description: str = ""

    @property
    def one_valued(self) -> bool:
        """True when a new object supersedes the current one."""
        return self.cardinality == "one"

    @property
    def is_pattern(self) -> bool:
        """True for a name pattern such as ``favorite_*``."""
        return self.name.endswith(_PATTERN_SUFFIX)


@dataclass(frozen=True, slots=True)
class _Phrasing:
    """How free text is reduced to words before lookup (see the catalogue file)."""

    word_forms: Mapping[str, str] = field(default_factory=dict)
    ignored_words: frozenset[str] = frozenset()
    leading_auxiliaries: frozenset[str] = frozenset()
    ending_prefixes: tuple[tuple[str, ...], ...] = ()
    ending_suffixes: tuple[tuple[str, ...], ...] = ()

    def words(self, text: str) -> list[str]:
        """Normalized words with forms rewritten and filler dropped (kept if all filler)."""
        rewritten = [
            self.word_forms.get(word, word) for word in normalize_predicate(text).split("_")
        ]
        return [word for word in rewritten if word not in self.ignored_words] or rewritten

    def merged(self, config: CatalogueConfig) -> _Phrasing:
        def single(word: str) -> str:
            normalized = normalize_predicate(word)
            if "_" in normalized:
                raise InvalidInputError(f"{word!r} must be a single word")
            return normalized

        def phrases(
            old: tuple[tuple[str, ...], ...], new: list[str]
        ) -> tuple[tuple[str, ...], ...]:
            added = (tuple(normalize_predicate(phrase).split("_")) for phrase in new)
            return tuple(dict.fromkeys((*old, *added)))

        forms = dict(self.word_forms)
        forms.update({single(old): single(new) for old, new in config.word_forms.items()})
        return _Phrasing(
            word_forms=forms,
            ignored_words=self.ignored_words | {single(w) for w in config.ignored_words},
            leading_auxiliaries=self.leading_auxiliaries
            | {single(w) for w in config.leading_auxiliaries},
            ending_prefixes=phrases(self.ending_prefixes, config.ending_prefixes),
            ending_suffixes=phrases(self.ending_suffixes, config.ending_suffixes),
        )

    def without_ending_marker(self, words: list[str]) -> list[str] | None:
        """The words of "no longer X", "stopped X", "not X anymore" without the marker."""
        stems = [stem_word(word) for word in words]
        for suffix in self.ending_suffixes:
            if len(words) > len(suffix) and stems[-len(suffix) :] == [stem_word(w) for w in suffix]:
                rest = words[: -len(suffix)]
                if len(rest) > 1 and rest[0] in _NEGATIONS:
                    rest = rest[1:]
                return rest
        for prefix in self.ending_prefixes:
            if len(words) > len(prefix) and stems[: len(prefix)] == [stem_word(w) for w in prefix]:
                return words[len(prefix) :]
        return None


class PredicateCatalogue:
    """Canonical predicates and the phrasings that name them. Immutable; safe to share."""

    def __init__(self, specs: Mapping[str, PredicateSpec], phrasing: _Phrasing) -> None:
        self._phrasing = phrasing
        self._specs = {name: spec for name, spec in specs.items() if not spec.is_pattern}
        self._patterns = sorted(
            (spec for spec in specs.values() if spec.is_pattern),
            key=lambda spec: -len(spec.name),
        )
        self._phrases: dict[str, str] = {}
        self._endings: dict[str, str] = {}
        for spec in self._specs.values():
            _check_spec(spec, specs)
            for phrase in (spec.name, *spec.synonyms):
                self._claim(self._phrases, phrase, spec.name, "a phrasing")
            for phrase in spec.ends:
                self._claim(self._endings, phrase, spec.name, "an ending")
        for spec in self._patterns:
            _check_spec(spec, specs)
        for key, name in self._endings.items():
            if key in self._phrases:
                raise InvalidInputError(
                    f"phrasing {key!r} is both a phrasing of {self._phrases[key]} "
                    f"and an ending of {name}"
                )

    def _claim(self, index: dict[str, str], phrase: str, name: str, what: str) -> None:
        key = phrase_key(self._phrasing.words(phrase))
        owner = index.setdefault(key, name)
        if owner != name:
            raise InvalidInputError(
                f"{phrase!r} is {what} of both {owner} and {name}; give it to one of them"
            )

    @classmethod
    def default(cls) -> PredicateCatalogue:
        """The catalogue shipped with graphmem (cached; the instance is immutable)."""
        return _default_catalogue()

    @classmethod
    def from_file(cls, path: str | Path) -> PredicateCatalogue:
        """A catalogue read from a YAML file in the format of ``schemas/predicates.yaml``."""
        return _build({}, _Phrasing(), read_config(Path(path)), steal=False)

    def extended(self, extra: Mapping[str, Any] | str | Path) -> PredicateCatalogue:
        """A new catalogue with entries added or changed by user configuration.

        ``extra`` is a YAML file or a mapping, either in the file format (with a
        ``predicates`` key) or a plain mapping of predicate name to entry. An entry for
        a new name is added; an entry for a known name changes the fields it gives
        (``synonyms`` and ``ends`` are appended) unless it says ``replace: true``.
        Phrasings an extension lists move to its predicate.
        """
        if isinstance(extra, str | Path):
            config = read_config(Path(extra))
        elif isinstance(extra, Mapping):
            raw = extra if "predicates" in extra else {"predicates": dict(extra)}
            config = parse_config(raw, "the catalogue extension")
        else:
            raise InvalidInputError(
                f"a catalogue extension must be a mapping or a path, got {type(extra).__name__}"
            )
        specs = {**self._specs, **{spec.name: spec for spec in self._patterns}}
        return _build(specs, self._phrasing, config, steal=True)

    def canonical(self, text: str) -> str:
        """Any phrasing to its canonical predicate; unknown phrasings to their snake_case.

        ``"is employed by"`` -> ``"works_at"``; ``"Collects"`` -> ``"collects"``. Filler
        words (``is``, ``currently``...) are dropped from unknown phrasings as well, so
        ``"is allergic to"`` and ``"allergic to"`` name the same predicate.
        """
        words = self._phrasing.words(text)
        known = self._lookup(self._phrases, words)
        if known is not None:
            return known
        try:
            return normalize_predicate("_".join(words))
        except InvalidIdentifierError:  # dropping filler left a leading digit
            return normalize_predicate(text)

    def ending_predicate(self, text: str) -> str | None:
        """The predicate an ending phrasing ends ("quit" -> ``works_at``), else None."""
        words = self._phrasing.words(text)
        known = self._lookup(self._endings, words)
        if known is not None:
            return known
        unmarked = self._phrasing.without_ending_marker(words)
        return None if unmarked is None else self._lookup(self._phrases, unmarked)

    def resolve_ending(self, text: str) -> str:
        """The predicate an ending refers to, whether phrased as an ending or not."""
        ended = self.ending_predicate(text)
        return ended if ended is not None else self.canonical(text)

    def spec(self, name_or_text: str) -> PredicateSpec:
        """How a predicate behaves; unknown predicates are ``many``-valued."""
        name = self.canonical(name_or_text)
        known = self._specs.get(name)
        if known is not None:
            return known
        for pattern in self._patterns:
            prefix = pattern.name[: -len(_PATTERN_SUFFIX)] + "_"
            if name.startswith(prefix) and len(name) > len(prefix):
                return replace(pattern, name=name)
        return PredicateSpec(name=name, cardinality="many")

    def relationship_type(self, name: str) -> str:
        """The relationship type of a stored predicate (``works_at`` -> ``WORKS_AT``).

        Synonyms are not applied: the type always mirrors ``Fact.predicate``.
        """
        return relationship_type(name)

    def specs(self) -> tuple[PredicateSpec, ...]:
        """Every entry, patterns included, in name order."""
        return tuple(sorted((*self._specs.values(), *self._patterns), key=lambda s: s.name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._specs))

    def __len__(self) -> int:
        return len(self._specs)

    def _lookup(self, index: Mapping[str, str], words: list[str]) -> str | None:
        while words:
            known = index.get(phrase_key(words))
            if known is not None:
                return known
            if len(words) < 2 or words[0] not in self._phrasing.leading_auxiliaries:
                return None
            words = words[1:]
        return None


def _check_spec(spec: PredicateSpec, specs: Mapping[str, PredicateSpec]) -> None:
    if spec.is_pattern:
        if spec.synonyms or spec.ends or spec.inverse:
            raise InvalidInputError(f"pattern {spec.name} cannot have synonyms, ends or inverse")
        return
    if spec.symmetric and spec.inverse is not None:
        raise InvalidInputError(f"{spec.name} is symmetric, so it cannot have an inverse")
    if spec.inverse is not None:
        other = specs.get(spec.inverse)
        if other is None or other.inverse != spec.name:
            raise InvalidInputError(
                f"{spec.name} names {spec.inverse} as its inverse, but {spec.inverse} "
                f"does not name {spec.name} back"
            )


def _entry_name(name: str) -> str:
    base = name[: -len(_PATTERN_SUFFIX)] if name.endswith(_PATTERN_SUFFIX) else name
    if normalize_predicate(base) != base:
        raise InvalidInputError(
            f"predicate name {name!r} must be snake_case ({normalize_predicate(base)!r})"
        )
    return name


def _build(
    base: Mapping[str, PredicateSpec],
    base_phrasing: _Phrasing,
    config: CatalogueConfig,
    *,
    steal: bool,
) -> PredicateCatalogue:
    phrasing = base_phrasing.merged(config)
    specs = dict(base)
    for raw_name, maybe_entry in config.predicates.items():
        name, entry = _entry_name(raw_name), maybe_entry or PredicateEntryConfig()
        old = None if entry.replace else specs.get(name)
        specs[name] = PredicateSpec(
            name=name,
            cardinality=entry.cardinality or (old.cardinality if old else "many"),
            inverse=_entry_name(entry.inverse) if entry.inverse else (old.inverse if old else None),
            symmetric=entry.symmetric
            if entry.symmetric is not None
            else bool(old and old.symmetric),
            synonyms=tuple(dict.fromkeys((*(old.synonyms if old else ()), *entry.synonyms))),
            ends=tuple(dict.fromkeys((*(old.ends if old else ()), *entry.ends))),
            description=entry.description or (old.description if old else ""),
        )
        if steal:
            claimed = {phrase_key(phrasing.words(p)) for p in (name, *entry.synonyms, *entry.ends)}
            for other_name, other in list(specs.items()):
                if other_name != name:
                    specs[other_name] = replace(
                        other,
                        synonyms=_unclaimed(other.synonyms, claimed, phrasing),
                        ends=_unclaimed(other.ends, claimed, phrasing),
                    )
    for name, spec in list(specs.items()):
        if spec.inverse is not None and spec.inverse in specs:
            other = specs[spec.inverse]
            if other.inverse is None and not other.symmetric:
                specs[spec.inverse] = replace(other, inverse=name)
    return PredicateCatalogue(specs, phrasing)


def _unclaimed(phrases: tuple[str, ...], claimed: set[str], phrasing: _Phrasing) -> tuple[str, ...]:
    return tuple(p for p in phrases if phrase_key(phrasing.words(p)) not in claimed)


@cache
def _default_catalogue() -> PredicateCatalogue:
    text, source = default_catalogue_text()
    return _build({}, _Phrasing(), parse_yaml(text, source), steal=False)
