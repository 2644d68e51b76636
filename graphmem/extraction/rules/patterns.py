"""First-person statement patterns: "I live in ...", "I work at ...", "I'm vegetarian".

Each pattern matches the subject and the verb, up to where the object starts; a reader
(see ``readers``) then reads a clean object or drops the statement. Patterns are matched
only at subject positions ("I", "we"), which keeps a sentence to a handful of tries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from graphmem.extraction.rules import readers
from graphmem.extraction.rules.lexicon import DIETS, JOBS
from graphmem.extraction.rules.readers import Reader
from graphmem.extraction.rules.statements import Speech, Statement, article

Anchor = Literal["i", "we", "my"]

_MACROS = {
    "<I>": r"[Ii]",
    "<WE>": r"[Ww]e",
    "<AM>": r"(?:'m|\s+am)",
    "<HAVE>": r"(?:'ve|\s+have)",
    "<ADV>": (
        r"(?:(?:really|actually|also|still|just|now|currently|recently|finally|officially"
        r"|already|even|definitely|absolutely|totally|truly|honestly|always|so|kinda"
        r"|literally|seriously|originally|happily|proudly|mostly|usually|both|all|newly"
        r"|once)\s+){0,3}"
    ),
    "<DIET>": "(?P<diet>" + "|".join(sorted(DIETS, key=len, reverse=True)) + ")",
    "<A>": r"(?:an?\s+)",
    "<JOB>": "(?:" + "|".join(sorted(JOBS, key=len, reverse=True)) + ")",
    "<NAME>": r"(?-i:(?:the\s+)?[A-Z][\w&.'-]*(?:\s+(?:[A-Z][\w&.'-]*|of|the|&))*)",
}
_ANCHOR = re.compile(r"(?<![\w'])(?:[Ii]|[Ww]e|[Mm]y)(?=\W)")


def compile_pattern(template: str) -> re.Pattern[str]:
    """Compile ``template`` after expanding its macros (``<I>``, ``<ADV>``, ``<AM>``...)."""
    for macro, expansion in _MACROS.items():
        template = template.replace(macro, expansion)
    return re.compile(template)


@dataclass(frozen=True, slots=True)
class StatementPattern:
    """One way of stating a fact about oneself."""

    predicate: str
    regex: re.Pattern[str]
    read: Reader
    template: str
    """Fact sentence: ``{s}`` subject, ``{o}`` object, ``{a}`` "a"/"an" for the object,
    ``{ao}`` the object with an article unless it is a name, ``{cat}`` a captured category."""
    confidence: float
    anchor: Anchor = "i"
    ended: bool = False

    @property
    def dated(self) -> bool:
        """Tastes hold regardless of when the sentence says something happened."""
        return self.predicate not in _UNDATED and not self.predicate.startswith("favorite_")


_NOT_IDENTIFIER = re.compile(r"[^a-z0-9]+")
_UNDATED = frozenset({"likes", "loves", "enjoys", "dislikes", "allergic_to"})


def _p(
    predicate: str,
    template: str,
    read: Reader,
    fact: str,
    confidence: float,
    *,
    anchor: Anchor = "i",
    ended: bool = False,
) -> StatementPattern:
    return StatementPattern(
        predicate, compile_pattern(template), read, fact, confidence, anchor, ended
    )


PATTERNS: tuple[StatementPattern, ...] = (
    # lives_in
    _p("lives_in", r"<I>\s+<ADV>(?:live|reside)\s+in\s+", readers.place,
       "{s} lives in {o}.", 0.85),
    _p("lives_in", r"<I><AM>\s+<ADV>(?:living|residing|based)\s+(?:in|out\s+of)\s+",
       readers.place, "{s} lives in {o}.", 0.8),
    _p("lives_in", r"<I><HAVE>\s+<ADV>(?:been\s+living|lived)\s+in\s+", readers.place,
       "{s} lives in {o}.", 0.8),
    _p("lives_in", r"<I>(?:<HAVE>)?\s+<ADV>(?:moved|relocated)\s+(?:back\s+)?to\s+",
       readers.place, "{s} moved to {o}.", 0.8),
    _p("lives_in", r"<WE>\s+<ADV>(?:moved|relocated)\s+(?:back\s+)?to\s+", readers.place,
       "{s} moved to {o}.", 0.7, anchor="we"),
    _p("lives_in", r"<WE>\s+<ADV>live\s+in\s+", readers.place, "{s} lives in {o}.", 0.7,
       anchor="we"),
    _p("lives_in", r"<I>\s+<ADV>used\s+to\s+live\s+in\s+", readers.place,
       "{s} used to live in {o}.", 0.8, ended=True),
    _p("lives_in", r"<I>\s+<ADV>lived\s+in\s+", readers.place, "{s} used to live in {o}.",
       0.6, ended=True),
    _p("hometown", r"<I><AM>\s+<ADV>(?:originally\s+)?from\s+", readers.place,
       "{s} is from {o}.", 0.75),
    _p("hometown", r"<I>\s+<ADV>grew\s+up\s+in\s+", readers.place, "{s} grew up in {o}.", 0.75),
    _p("born_in", r"<I>\s+(?:was\s+)born\s+(?:and\s+raised\s+)?in\s+", readers.place,
       "{s} was born in {o}.", 0.85),
    # works_at / works_as
    _p("works_at", r"<I>\s+<ADV>work\s+(?:at|for)\s+", readers.organization,
       "{s} works at {o}.", 0.85),
    _p("works_at", r"<I><AM>\s+<ADV>(?:working|employed|interning)\s+(?:at|for|by|with)\s+",
       readers.organization, "{s} works at {o}.", 0.8),
    _p("works_at", r"<I><HAVE>\s+<ADV>(?:been\s+working|worked)\s+(?:at|for)\s+",
       readers.organization, "{s} works at {o}.", 0.75),
    _p("works_at", r"<I>(?:<HAVE>)?\s+<ADV>(?:got|landed|started|accepted|took|began|found)"
       r"\s+(?:a|an|my|the)\s+(?:new\s+)?(?:full-time\s+|part-time\s+)?"
       r"(?:job|position|role|gig|internship)\s+(?:at|with)\s+",
       readers.organization, "{s} works at {o}.", 0.8),
    _p("works_at", r"<I>(?:<HAVE>)?\s+<ADV>(?:started|began)\s+(?:working|interning)"
       r"\s+(?:at|for)\s+", readers.organization, "{s} works at {o}.", 0.8),
    _p("works_at", r"<I>\s+<ADV>used\s+to\s+work\s+(?:at|for)\s+", readers.organization,
       "{s} used to work at {o}.", 0.8, ended=True),
    _p("works_at", r"<I>\s+<ADV>worked\s+(?:at|for)\s+", readers.organization,
       "{s} used to work at {o}.", 0.55, ended=True),
    _p("works_at", r"<I><AM>\s+<ADV><A>(?:[\w-]+\s+){0,3}?<JOB>\s+(?:at|for|with)\s+",
       readers.organization, "{s} works at {o}.", 0.75),
    _p("works_at", r"<I>(?:<AM>\s+)?\s*<ADV>work(?:ing)?\s+as\s+<A>?(?:[\w-]+\s+){1,3}?"
       r"(?:at|for)\s+", readers.organization, "{s} works at {o}.", 0.8),
    _p("works_as", r"<I>\s+<ADV>work\s+(?:at|for)\s+<NAME>\s+as\s+<A>?", readers.any_job,
       "{s} works as {a} {o}.", 0.8),
    _p("works_as", r"<I>\s+<ADV>work\s+as\s+<A>?", readers.any_job,
       "{s} works as {a} {o}.", 0.8),
    _p("works_as", r"<I><AM>\s+<ADV>working\s+as\s+<A>?", readers.any_job,
       "{s} works as {a} {o}.", 0.8),
    _p("works_as", r"<I><AM>\s+<ADV><A>", readers.known_job, "{s} works as {a} {o}.", 0.7),
    _p("works_as", r"<I>(?:<HAVE>)?\s+<ADV>(?:became|become)\s+<A>", readers.known_job,
       "{s} works as {a} {o}.", 0.7),
    _p("works_as", r"<I>\s+<ADV>used\s+to\s+(?:be|work\s+as)\s+<A>", readers.known_job,
       "{s} used to work as {a} {o}.", 0.7, ended=True),
    # studies_at
    _p("studies_at", r"<I>\s+<ADV>study\s+at\s+", readers.organization,
       "{s} studies at {o}.", 0.85),
    _p("studies_at", r"<I><AM>\s+<ADV>(?:studying|enrolled)\s+at\s+", readers.organization,
       "{s} studies at {o}.", 0.85),
    _p("studies_at", r"<I><AM>\s+<ADV><A>?(?:\w+\s+)?(?:student|freshman|sophomore|undergrad"
       r"|grad\s+student|phd\s+student)\s+at\s+", readers.organization,
       "{s} studies at {o}.", 0.8),
    _p("studies_at", r"<I>\s+<ADV>(?:go\s+to|attend)\s+", readers.school,
       "{s} studies at {o}.", 0.75),
    _p("studies_at", r"<I>\s+<ADV>graduated\s+from\s+", readers.organization,
       "{s} graduated from {o}.", 0.8, ended=True),
    # likes / loves / enjoys / dislikes
    _p("likes", r"<I>\s+<ADV>like\s+", readers.liked, "{s} likes {o}.", 0.65),
    _p("loves", r"<I>\s+<ADV>(?:love|adore)\s+", readers.liked, "{s} loves {o}.", 0.7),
    _p("enjoys", r"<I>\s+<ADV>enjoy\s+", readers.liked, "{s} enjoys {o}.", 0.7),
    _p("dislikes", r"<I>\s+<ADV>(?:dislike|hate|detest|despise|can't\s+stand)\s+",
       readers.liked, "{s} dislikes {o}.", 0.65),
    _p("likes", r"<I><AM>\s+<ADV>(?:a\s+(?:huge\s+|big\s+|massive\s+)?fan\s+of|into|fond\s+of)\s+",
       readers.liked, "{s} likes {o}.", 0.65),
    _p("loves", r"<I><AM>\s+<ADV>(?:obsessed\s+with|passionate\s+about|crazy\s+about)\s+",
       readers.liked, "{s} loves {o}.", 0.65),
    _p("loves", r"<I><HAVE>\s+<ADV>(?:loved|adored)\s+", readers.liked, "{s} loves {o}.", 0.7),
    _p("likes", r"<I>\s+<ADV>(?:loved|liked|enjoyed)\s+", readers.liked_title,
       "{s} likes {o}.", 0.6),
    _p("likes", r"<I>\s+<ADV>used\s+to\s+(?:love|like|enjoy)\s+", readers.liked,
       "{s} used to like {o}.", 0.7, ended=True),
    # family by statement ("I'm married to ...")
    _p("married_to", r"<I><AM>\s+<ADV>married\s+to\s+", readers.person,
       "{s} is married to {o}.", 0.85),
    _p("married_to", r"<I>\s+<ADV>(?:got\s+)?married\s+(?:to\s+)?", readers.person,
       "{s} married {o}.", 0.8),
    _p("engaged_to", r"<I>(?:<AM>|\s+got)\s+<ADV>engaged\s+to\s+", readers.person,
       "{s} is engaged to {o}.", 0.85),
    _p("dating", r"<I><AM>\s+<ADV>dating\s+", readers.person, "{s} is dating {o}.", 0.8),
    # age
    _p("age", r"<I><AM>\s+<ADV>(?=\d)", readers.age, "{s} is {o} years old.", 0.75),
    _p("age", r"<I>\s+<ADV>turned\s+", readers.age, "{s} turned {o}.", 0.8),
    # plans
    _p("plans_to", r"<I><AM>\s+<ADV>(?:going\s+to|gonna|planning\s+to|hoping\s+to)\s+",
       readers.plan, "{s} plans to {o}.", 0.6),
    _p("plans_to", r"<I>\s+<ADV>(?:plan|intend|hope|aim)\s+to\s+", readers.plan,
       "{s} plans to {o}.", 0.6),
    _p("plans_to", r"<I>\s+<ADV>want\s+to\s+", readers.plan, "{s} wants to {o}.", 0.55),
    # visited / attended
    _p("visited", r"<I>\s+<ADV>(?:visited|toured|explored)\s+", readers.visited_place,
       "{s} visited {o}.", 0.75),
    _p("visited", r"<I>\s+<ADV>(?:went|traveled|travelled|flew|drove|headed)\s+(?:back\s+)?to\s+",
       readers.visited_place, "{s} visited {o}.", 0.7),
    _p("visited", r"<I><HAVE>\s+<ADV>been\s+to\s+", readers.visited_place,
       "{s} has been to {o}.", 0.7),
    _p("visited", r"<I>\s+<ADV>(?:took|went\s+on|had)\s+(?:a|an|my)\s+(?:\w+\s+)?"
       r"(?:trip|vacation|holiday|getaway)\s+to\s+", readers.visited_place,
       "{s} visited {o}.", 0.75),
    _p("visited", r"<WE>\s+<ADV>(?:went|traveled|travelled|flew|drove)\s+to\s+",
       readers.visited_place, "{s} visited {o}.", 0.65, anchor="we"),
    _p("visited", r"<WE>\s+<ADV>visited\s+", readers.visited_place, "{s} visited {o}.", 0.65,
       anchor="we"),
    _p("attended", r"<I>\s+<ADV>(?:attended|went\s+to|was\s+at|participated\s+in"
       r"|took\s+part\s+in|performed\s+at|spoke\s+at|competed\s+in)\s+", readers.event,
       "{s} attended {ao}.", 0.7),
    _p("attended", r"<WE>\s+<ADV>(?:attended|went\s+to)\s+", readers.event,
       "{s} attended {ao}.", 0.6, anchor="we"),
    # member_of / owns
    _p("member_of", r"<I>(?:<HAVE>)?\s+<ADV>(?:joined|signed\s+with)\s+", readers.group,
       "{s} joined {ao}.", 0.7),
    _p("member_of", r"<I><AM>\s+<ADV>(?:a\s+member\s+of|part\s+of)\s+", readers.group,
       "{s} is a member of {ao}.", 0.7),
    _p("member_of", r"<I>\s+<ADV>play\s+for\s+", readers.organization,
       "{s} plays for {o}.", 0.75),
    _p("founded", r"<I>(?:<HAVE>)?\s+<ADV>(?:started|opened|launched|founded|set\s+up)\s+"
       r"(?:my\s+own|my|a|an)\s+", readers.business, "{s} started {a} {o}.", 0.7),
    _p("owns", r"<I>\s+<ADV>(?:run|own|have)\s+(?:my\s+own|a|an)\s+", readers.business,
       "{s} runs {a} {o}.", 0.7),
    # "my X is Y"
    _p("favorite_*", r"[Mm]y\s+(?:all-time\s+|absolute\s+|personal\s+)?favou?rite\s+"
       r"(?P<cat>[a-z-]+(?:\s+[a-z-]+)?)\s+(?:is|are|has\s+(?:always\s+)?been)\s+",
       readers.favorite, "{s}'s favorite {cat} is {o}.", 0.75, anchor="my"),
    _p("hometown", r"[Mm]y\s+hometown\s+is\s+", readers.place, "{s} is from {o}.", 0.75,
       anchor="my"),
    _p("owns", r"<I>(?:<HAVE>)?\s+<ADV>(?:bought|purchased|own)\s+(?:a|an|my)\s+"
       r"(?:new\s+|first\s+|used\s+|brand\s+new\s+)?", readers.owned, "{s} owns {a} {o}.", 0.6),
    # diet
    _p("diet", r"<I><AM>\s+<ADV><A>?<DIET>(?![\w-])", readers.captured_diet, "{s} is {o}.", 0.8),
    _p("diet", r"<I>(?:<HAVE>)?\s+<ADV>(?:went|gone|became|become|turned)\s+(?:fully\s+)?"
       r"<DIET>(?![\w-])", readers.captured_diet, "{s} is {o}.", 0.8),
    _p("diet", r"<I>\s+<ADV>(?:(?P<neg>don't|do\s+not|no\s+longer)\s+)?(?:eat|'m\s+eating)\s+"
       r"(?P<food>fish|meat|chicken|seafood|dairy|eggs|pork|beef|red\s+meat)"
       r"(?(neg)|\s+(?:now|again|these\s+days))(?![\w-])", readers.captured_food, "{s} {o}.", 0.7),
    _p("allergic_to", r"<I><AM>\s+<ADV>allergic\s+to\s+", readers.phrase,
       "{s} is allergic to {o}.", 0.8),
)  # fmt: skip

_BY_ANCHOR: dict[Anchor, tuple[StatementPattern, ...]] = {
    anchor: tuple(p for p in PATTERNS if p.anchor == anchor) for anchor in ("i", "we", "my")
}
_ANCHOR_KIND: dict[str, Anchor] = {"I": "i", "i": "i", "W": "we", "w": "we", "M": "my", "m": "my"}


def anchors(sentence: str) -> list[tuple[int, Anchor]]:
    """Offsets where a first-person subject ("I", "we") starts."""
    return [(m.start(), _ANCHOR_KIND[m.group()[0]]) for m in _ANCHOR.finditer(sentence)]


def match_statements(
    sentence: str, position: int, anchor: Anchor, speech: Speech
) -> list[Statement]:
    """Statements whose subject starts at ``position`` (one per matching pattern)."""
    found: list[Statement] = []
    for pattern in _BY_ANCHOR[anchor]:
        match = pattern.regex.match(sentence, position)
        if match is None:
            continue
        obj = pattern.read(match, speech)
        if obj is None:
            continue
        predicate = pattern.predicate
        if predicate == "favorite_*":
            predicate = "favorite_" + _NOT_IDENTIFIER.sub("_", match["cat"].lower()).strip("_")
        fact = pattern.template.format(
            s=speech.speaker,
            o=obj.name,
            a=article(obj.name),
            ao=obj.name if obj.named else f"{article(obj.name)} {obj.name}",
            cat=match.groupdict().get("cat"),
        )
        confidence = pattern.confidence + (0.05 if obj.named else 0.0)
        found.append(
            Statement(
                subject=speech.speaker,
                predicate=predicate,
                object=obj.name,
                object_type=obj.type or "Thing",
                fact=fact,
                confidence=round(min(confidence, 0.95), 2),
                position=position,
                ended=pattern.ended,
                dated=pattern.dated,
            )
        )
    return found
