"""Run the rules extractor over every LoCoMo turn: speed, yield, and a sample to judge.

    python benchmarks/extraction_locomo.py --data ../shared/data/locomo/locomo-dev.json
    python benchmarks/extraction_locomo.py --data ... --sample 50 --seed 0

One episode per turn, the speaker's name as the episode name, the session's date as
its reference time, the previous few turns as context, and the conversation's two
speakers as participants. Prints turns per second, facts and entities per turn, a
predicate histogram, and with ``--sample N`` N random facts beside the turn that
stated them, so that a person can judge their precision.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphmem.extraction.base import ExtractionRequest
from graphmem.extraction.models import ExtractedEnding, ExtractedFact
from graphmem.extraction.rules import RulesExtractor
from graphmem.models.records import Episode

_SESSION_DATE = "%I:%M %p on %d %B, %Y"


@dataclass(frozen=True, slots=True)
class Turn:
    """One LoCoMo turn, as an episode plus where it came from."""

    conversation: str
    dia_id: str
    episode: Episode
    speakers: tuple[str, str]


def parse_session_date(text: str) -> datetime:
    """ "1:56 pm on 8 May, 2023" -> 2023-05-08 13:56 UTC."""
    return datetime.strptime(" ".join(text.split()), _SESSION_DATE).replace(tzinfo=UTC)


def load_turns(path: Path) -> list[Turn]:
    """Every turn of every conversation, in order, sessions sorted by number."""
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    turns: list[Turn] = []
    for item in data:
        conversation = item["conversation"]
        speakers = (conversation["speaker_a"], conversation["speaker_b"])
        sessions = sorted(
            (int(key.removeprefix("session_")), key)
            for key, value in conversation.items()
            if key.startswith("session_") and isinstance(value, list)
        )
        for _, key in sessions:
            said_at = parse_session_date(conversation[f"{key}_date_time"])
            for turn in conversation[key]:
                episode = Episode(content=turn["text"], name=turn["speaker"], valid_at=said_at)
                turns.append(Turn(item.get("sample_id", "?"), turn["dia_id"], episode, speakers))
    return turns


@dataclass(frozen=True, slots=True)
class Found:
    """A fact or ending and the turn that stated it."""

    turn: Turn
    fact: ExtractedFact | None = None
    ending: ExtractedEnding | None = None


def run(turns: list[Turn], recent_window: int) -> tuple[float, list[Found], int]:
    """Extract every turn; return seconds spent extracting, what was found, entity count."""
    extractor = RulesExtractor()
    found: list[Found] = []
    entities = 0
    elapsed = 0.0
    for index, turn in enumerate(turns):
        earlier = [
            t.episode
            for t in turns[max(0, index - recent_window) : index]
            if t.conversation == turn.conversation
        ]
        request = ExtractionRequest(
            episodes=[turn.episode], recent=earlier, speakers=list(turn.speakers)
        )
        started = time.perf_counter()
        extraction = extractor.extract(request).extraction
        elapsed += time.perf_counter() - started
        entities += len(extraction.entities)
        found.extend(Found(turn, fact=fact) for fact in extraction.facts)
        found.extend(Found(turn, ending=ending) for ending in extraction.endings)
    return elapsed, found, entities


def _describe(item: Found) -> str:
    if item.fact is not None:
        fact = item.fact
        valid = fact.valid_at.date().isoformat() if fact.valid_at else "-"
        invalid = f" until {fact.invalid_at.date().isoformat()}" if fact.invalid_at else ""
        return (
            f"{fact.fact}  [{fact.subject} {fact.predicate} {fact.object}; "
            f"conf {fact.confidence}; from {valid}{invalid}]"
        )
    assert item.ending is not None
    ending = item.ending
    ended = ending.ended_at.date().isoformat() if ending.ended_at else "-"
    return f"ENDING {ending.subject} {ending.predicate} {ending.object or '*'} at {ended}"


def report(turns: list[Turn], elapsed: float, found: list[Found], entities: int) -> None:
    """Print speed, yield and the predicate histogram."""
    facts = [f for f in found if f.fact is not None]
    endings = [f for f in found if f.ending is not None]
    count = max(len(turns), 1)
    print(f"turns: {len(turns)}  extraction time: {elapsed:.3f} s")
    print(f"turns/s: {len(turns) / elapsed:,.0f}" if elapsed else "turns/s: inf")
    print(f"facts: {len(facts)} ({len(facts) / count:.3f} per turn)")
    print(f"endings: {len(endings)} ({len(endings) / count:.3f} per turn)")
    print(f"entities: {entities} ({entities / count:.3f} per turn)")
    histogram = Counter(f.fact.predicate for f in facts if f.fact is not None)
    histogram.update(f"ending:{f.ending.predicate}" for f in endings if f.ending is not None)
    print("predicates:")
    for predicate, n in histogram.most_common():
        print(f"  {predicate:<18} {n}")


def print_sample(found: list[Found], size: int, seed: int) -> None:
    """Print ``size`` random facts or endings with the turn that stated them."""
    facts = [f for f in found if f.fact is not None or f.ending is not None]
    sample = random.Random(seed).sample(facts, min(size, len(facts)))
    print(f"\nsample of {len(sample)} (seed {seed}):")
    for number, item in enumerate(sample, 1):
        turn = item.turn
        print(f"{number:>3}. {_describe(item)}")
        print(f"     {turn.dia_id} {turn.episode.name}: {turn.episode.content}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="locomo-dev.json")
    parser.add_argument("--sample", type=int, default=0, help="print N random facts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recent", type=int, default=4, help="earlier turns given as context")
    parser.add_argument("--repeat", type=int, default=1, help="passes, for steadier timing")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"no such file: {args.data}", file=sys.stderr)
        return 2
    turns = load_turns(args.data)
    best = float("inf")
    for _ in range(max(args.repeat, 1)):
        elapsed, found, entities = run(turns, args.recent)
        best = min(best, elapsed)
    report(turns, best, found, entities)
    if args.sample:
        print_sample(found, args.sample, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
