"""Family, partners, friends and pets: "my sister Anna", "my dog Max", "I have two kids".

A named relative becomes a fact with that name as object ("Anna is Melanie's sister").
Unnamed relatives become facts only where the mention alone says something worth
keeping ("my husband": the speaker is married), with a stand-in object such as
"Melanie's husband". "your" works the same way for the other speaker, names only.
"""

from __future__ import annotations

import re

from graphmem.extraction.rules.lexicon import MODIFIED_NOUNS, PETS, RELATIVES
from graphmem.extraction.rules.names import capitalized_spans
from graphmem.extraction.rules.objects import ends_cleanly
from graphmem.extraction.rules.patterns import compile_pattern
from graphmem.extraction.rules.statements import Speech, Statement, article, possessive

_KINDS = sorted({*RELATIVES, *PETS}, key=len, reverse=True)
_KIND = "(?P<rel>" + "|".join(re.escape(k) for k in _KINDS) + r")(?P<plural>s)?(?![\w'-])"
_MODIFIERS = (
    r"(?:(?:little|big|older|younger|baby|twin|best|new|oldest|youngest|eldest|elder|dear"
    r"|sweet|lovely|amazing|wonderful|beautiful|awesome|cute|pet|rescue|two|three|four"
    r"|first|second|furry)\s+){0,2}"
)
_POSSESSED = re.compile(rf"(?<![\w'])(?P<who>[Mm]y|[Yy]our)\s+{_MODIFIERS}{_KIND}")
_NAME_INTRO = re.compile(
    r"(?:'s\s+name\s+is|\s+is\s+(?:named|called)|\s*,?\s+(?:named|called))?\s*,?\s*"
)
_COURTSHIP_CHANGES = re.compile(
    r"\b(?:wedding|married|marry|marrying|engaged|engagement|proposed|proposal|broke\s+up"
    r"|split\s+up|divorce[ds]?|ex)\b",
    re.IGNORECASE,
)
_NEXT_WORD = re.compile(r"\s+([A-Za-z]+)")
_NAMED_LATER = re.compile(r"\s*,?\s*(?:named|called)\s+")
_NAME_ITEM = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+(?:and|&)\s+)")
_APPOSITION = re.compile(rf",\s*my\s+{_MODIFIERS}{_KIND}")
_HAVE = compile_pattern(
    r"<I>(?:<HAVE>)?\s+<ADV>(?:have|got|adopted|rescued|own)\s+(?P<count>a|an|one|two|three"
    rf"|four|five|\d)\s+{_MODIFIERS}{_KIND}"
)
_ONE = frozenset({"a", "an", "one"})
_PLURAL_FORMS = {"kids": "child", "children": "child", "puppies": "puppy", "bunnies": "bunny",
                 "ponies": "pony", "kittens": "kitten"}  # fmt: skip
_NAMED_CONFIDENCE = 0.8
_UNNAMED_CONFIDENCE = 0.55
_STATED_CONFIDENCE = 0.7
_ADDRESSEE_PENALTY = 0.1
# "I have a friend" is not worth a fact; "I have a sister" is.
_WORTH_STATING_UNNAMED = frozenset(
    {"parent_of", "sibling_of", "married_to", "dating", "engaged_to", "has_pet"}
)
_NOT_RELATIVE_TYPES = frozenset({"Place", "Organization", "Work", "Event"})


class _Kind:
    """A relative or pet word as written ("sisters", "dog") and what it means."""

    __slots__ = ("label", "may_stand_unnamed", "object_type", "plural", "predicate")

    def __init__(self, match: re.Match[str], count: str | None = None) -> None:
        word = match["rel"].lower()
        singular = _PLURAL_FORMS.get(word)
        if singular is None and word in PETS and word.endswith("s") and word != "fish":
            singular = word[:-1]
        base = singular or word
        self.plural = bool(match["plural"]) or singular is not None
        if count is not None and count.lower() not in _ONE and count != "1":
            self.plural = True
        if word in RELATIVES or base in RELATIVES:
            self.predicate, self.label, self.may_stand_unnamed = RELATIVES.get(
                word, RELATIVES[base]
            )
        else:
            self.predicate, self.label, self.may_stand_unnamed = "has_pet", base, True
        if base == "child":
            self.label = "child"  # "children" is its plural form, shown when plural
        self.object_type = "Animal" if self.predicate == "has_pet" else "Person"

    @property
    def shown(self) -> str:
        """The label as it reads in a fact ("sisters", "children", "dog")."""
        if not self.plural:
            return self.label
        return "children" if self.label == "child" else f"{self.label}s"


def _names_at(sentence: str, position: int, speech: Speech) -> list[str]:
    """Names listed at ``position`` ("Anna", "Luna and Oliver")."""
    names: list[str] = []
    while True:
        spans = capitalized_spans(sentence[position : position + 80])
        if not spans or spans[0].start != 0 or spans[0].tokens > 2:
            break
        name = spans[0].name
        if name in (speech.speaker, speech.addressee):
            break
        if speech.known.type_of(name) in _NOT_RELATIVE_TYPES:
            break
        names.append(name)
        end = position + spans[0].end
        joiner = None if spans[0].possessive else _NAME_ITEM.match(sentence, end)
        if joiner is None:
            break
        position = joiner.end()
    return names


def _modifies_a_noun(sentence: str, match: re.Match[str]) -> bool:
    """True for "my horse painting", "my dog bowl": the word only describes a thing."""
    following = _NEXT_WORD.match(sentence, match.end())
    return following is not None and following.group(1).lower() in MODIFIED_NOUNS


def _named(
    owner: str, kind: _Kind, name: str, confidence: float, at: int, *, dated: bool = False
) -> Statement:
    fact = f"{name} is {possessive(owner)} {kind.label}."
    return Statement(
        owner, kind.predicate, name, kind.object_type, fact, confidence, at, dated=dated
    )


def _unnamed(
    owner: str, kind: _Kind, at: int, confidence: float, count: str = "", *, dated: bool = False
) -> Statement:
    if kind.predicate == "married_to":
        fact = f"{owner} is married."
    elif kind.predicate == "engaged_to":
        fact = f"{owner} is engaged."
    elif kind.plural:
        fact = f"{owner} has {count + ' ' if count else ''}{kind.shown}."
    else:
        fact = f"{owner} has {article(kind.label)} {kind.label}."
    stand_in = f"{possessive(owner)} {kind.shown}"
    return Statement(
        owner,
        kind.predicate,
        stand_in,
        kind.object_type,
        fact,
        confidence,
        at,
        stand_in=True,
        dated=dated,
    )


def match_relations(sentence: str, speech: Speech) -> list[Statement]:
    """Relatives and pets of the speaker ("my sister Anna"), or named ones of the addressee."""
    found = _relations(sentence, speech)
    if _COURTSHIP_CHANGES.search(sentence):
        # "My girlfriend and I had our wedding": the relation is changing, not dating.
        found = [s for s in found if s.predicate not in ("dating", "engaged_to")]
    return found


def _relations(sentence: str, speech: Speech) -> list[Statement]:
    found: list[Statement] = []
    for match in _POSSESSED.finditer(sentence):
        kind = _Kind(match)
        mine = match["who"].lower() == "my"
        owner = speech.speaker if mine else speech.addressee
        if owner is None:
            continue
        intro = _NAME_INTRO.match(sentence, match.end())
        names = _names_at(sentence, intro.end(), speech) if intro else []
        confidence = round(_NAMED_CONFIDENCE - (0.0 if mine else _ADDRESSEE_PENALTY), 2)
        found.extend(_named(owner, kind, name, confidence, match.start()) for name in names)
        if not names and mine and kind.may_stand_unnamed and not _modifies_a_noun(sentence, match):
            found.append(_unnamed(owner, kind, match.start(), _UNNAMED_CONFIDENCE))
    for match in _APPOSITION.finditer(sentence):
        before = [s for s in capitalized_spans(sentence[: match.start()]) if s.end == match.start()]
        if not before or (before[0].initial and before[0].tokens == 1):
            continue
        name = before[0].name
        if name not in (speech.speaker, speech.addressee):
            found.append(_named(speech.speaker, _Kind(match), name, _NAMED_CONFIDENCE, 0))
    return found


def match_having(sentence: str, position: int, speech: Speech) -> list[Statement]:
    """ "I have a sister", "I adopted two cats named Luna and Oliver" at ``position``."""
    match = _HAVE.match(sentence, position)
    if match is None:
        return []
    kind = _Kind(match, match["count"])
    named = _NAMED_LATER.match(sentence, match.end())
    if named is not None:
        names = _names_at(sentence, named.end(), speech)
        return [
            _named(speech.speaker, kind, n, _NAMED_CONFIDENCE, position, dated=True) for n in names
        ]
    if kind.predicate not in _WORTH_STATING_UNNAMED or not ends_cleanly(
        sentence, match.end(), after_name=True
    ):
        return []
    count = match["count"].lower() if kind.plural else ""
    return [_unnamed(speech.speaker, kind, position, _STATED_CONFIDENCE, count, dated=True)]
