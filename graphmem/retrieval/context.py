"""A prompt-ready block of what memory knows, within a token budget.

Layout, in this order, each section present only if something of it fits:

1. the facts valid at the query time, best first, with their validity dates;
2. superseded versions of those facts (same subject and predicate), marked
   ``(superseded, valid <from> to <to>)``, so a model can answer "where did she
   live before";
3. the supporting episodes (raw turns or passages), dated, with their speaker.

Token counting: with ``tiktoken`` installed (and its ``cl100k_base`` encoding
available offline), exact counts of that encoding; otherwise the approximation of
one token per four characters, rounded up per line. The returned block never
exceeds the budget by the counter in use.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime

from graphmem.errors import InvalidInputError
from graphmem.models.results import ScoredEpisode, ScoredFact, SearchResult

TokenCounter = Callable[[str], int]

MAX_EPISODE_CHARS = 1200
"""Longer episodes are cut, so that one document cannot crowd out the rest."""
_MIN_TRUNCATED_TOKENS = 12


def approximate_tokens(text: str) -> int:
    """One token per four characters, rounded up (English averages about four)."""
    return math.ceil(len(text) / 4)


@functools.cache
def default_token_counter() -> TokenCounter:
    """tiktoken's ``cl100k_base`` if it is installed and loads offline, else the approximation."""
    try:
        import tiktoken  # type: ignore[import-not-found, unused-ignore]

        encoding = tiktoken.get_encoding("cl100k_base")
    except Exception:  # not installed, or the encoding cannot be fetched offline
        return approximate_tokens

    def count(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    return count


def build_context(
    result: SearchResult,
    *,
    max_tokens: int = 1000,
    counter: TokenCounter | None = None,
    cite_ids: bool = False,
) -> str:
    """Render a search result as a dated, sectioned text of at most ``max_tokens`` tokens.

    With ``cite_ids`` every fact line starts with ``[fact <id>]`` so that an LLM can
    cite the facts its answer rests on.
    """
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise InvalidInputError("max_tokens must be a positive integer")
    count = counter or default_token_counter()
    block = _Block(count, max_tokens)

    current = [f for f in result.facts if f.valid]
    keys = {(f.fact.subject_id, f.fact.predicate) for f in current}
    superseded = [
        f for f in result.facts if not f.valid and (f.fact.subject_id, f.fact.predicate) in keys
    ]
    when = "now" if result.as_of is None else f"at {_day(result.as_of)}"

    def cited(scored: ScoredFact, line: str) -> str:
        return line.replace("- ", f"- [fact {scored.fact.id}] ", 1) if cite_ids else line

    block.section(f"Facts valid {when}:", [cited(f, _current_line(f)) for f in current])
    block.section("Superseded facts:", [cited(f, _superseded_line(f)) for f in superseded])
    block.section(
        "Supporting episodes:", [_episode_line(e) for e in result.episodes], truncate=True
    )
    return block.text()


class _Block:
    """Lines appended while they fit; the total is re-checked with the real counter."""

    def __init__(self, count: TokenCounter, budget: int) -> None:
        self._count = count
        self._budget = budget
        self._lines: list[str] = []
        self._used = 0

    def _cost(self, line: str) -> int:
        return self._count(line + "\n")

    def section(self, header: str, lines: list[str], *, truncate: bool = False) -> None:
        if not lines:
            return
        header_cost = self._cost(header)
        added = False
        for line in lines:
            fitted = self._fit(line, header_cost if not added else 0, truncate)
            if fitted is None:
                continue
            if not added:
                self._append(header)
                added = True
            self._append(fitted)

    def _fit(self, line: str, extra: int, truncate: bool) -> str | None:
        room = self._budget - self._used - extra
        if self._cost(line) <= room:
            return line
        if not truncate or room < _MIN_TRUNCATED_TOKENS:
            return None
        low, high = 0, len(line)
        while low < high:  # longest prefix that fits, by binary search on characters
            middle = (low + high + 1) // 2
            if self._cost(line[:middle].rstrip() + "…") <= room:
                low = middle
            else:
                high = middle - 1
        return line[:low].rstrip() + "…" if low > 0 else None

    def _append(self, line: str) -> None:
        self._lines.append(line)
        self._used += self._cost(line)

    def text(self) -> str:
        lines = list(self._lines)
        # Counts of whole texts can differ from sums of line counts (tokenizer merges).
        while lines and self._count("\n".join(lines)) > self._budget:
            lines.pop()
        return "\n".join(lines)


def _day(moment: datetime | None) -> str:
    return "unknown" if moment is None else moment.date().isoformat()


def _sentence(scored: ScoredFact) -> str:
    text = scored.fact.fact.strip()
    return (
        text
        if text
        else (
            f"{scored.fact.subject_name} {scored.fact.predicate.replace('_', ' ')} "
            f"{scored.fact.object_name}"
        )
    )


def _current_line(scored: ScoredFact) -> str:
    fact = scored.fact
    if fact.invalid_at is not None:
        dates = f"valid {_day(fact.valid_at)} to {_day(fact.invalid_at)}"
    elif fact.valid_at is not None:
        dates = f"since {_day(fact.valid_at)}"
    else:
        dates = "date unknown"
    return f"- {_sentence(scored)} ({dates})"


def _superseded_line(scored: ScoredFact) -> str:
    fact = scored.fact
    interval = f"valid {_day(fact.valid_at)} to {_day(fact.invalid_at)}"
    return f"- {_sentence(scored)} (superseded, {interval})"


def _episode_line(scored: ScoredEpisode) -> str:
    episode = scored.episode
    content = " ".join(episode.content.split())
    if len(content) > MAX_EPISODE_CHARS:
        content = content[:MAX_EPISODE_CHARS].rstrip() + "…"
    speaker = episode.name or episode.role
    return f"- [{_day(episode.valid_at)}] {speaker}: {content}"
