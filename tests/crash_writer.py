"""A writer process for crash tests: adds memories and reports each acknowledged write.

Run as ``python tests/crash_writer.py STORE_DIR COUNT``. After each ``add`` returns it
prints one JSON line with the ids the call stored, then flushes, so a parent that reads
the line knows the write was acknowledged before it kills this process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from graphmem import Memory, MemoryConfig

CITIES = ["Seattle", "Denver", "Austin", "Boston", "Chicago", "Portland", "Miami", "Oslo"]


def main() -> None:
    store, count = Path(sys.argv[1]), int(sys.argv[2])
    with Memory(MemoryConfig(path=store, use_llm=False)) as memory:
        for index in range(count):
            user = f"user{index % 3}"
            if index % 2:
                result = memory.add_facts(
                    [(f"Person {index}", "likes", f"Topic {index}")], user_id=user
                )
            else:
                city = CITIES[index % len(CITIES)]
                result = memory.add(f"I visited {city} with Person {index}.", user_id=user)
            record = {
                "user": user,
                "episodes": [str(e.id) for e in result.episodes],
                "entities": [str(e.id) for e in result.entities],
                "facts": [str(f.id) for f in result.facts_added],
                "query": f"Person {index}",
            }
            sys.stdout.write(json.dumps(record) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
