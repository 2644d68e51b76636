"""Fuzz target for the read-only Cypher guard and the embedded engine behind it.

Two properties, picked by the first input byte:

* any text: ``check_read_only`` accepts it or raises ``CypherError``; an accepted query
  runs on a small scope graph and returns rows or raises ``CypherError``, and leaves
  the graph exactly as it was;
* a write in disguise: a known write, delete, procedure call or administration query,
  re-cased and padded with comments, line breaks and whitespace between its tokens as
  the input bytes direct, is always rejected.

    .venv/bin/python tests/fuzz/fuzz_cypher_guard.py -atheris_runs=100000 [CORPUS_DIR]
"""

from __future__ import annotations

import copy
import importlib
import re
import sys
import tempfile
import uuid
from datetime import UTC, datetime
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
        import networkx as nx

        from graphmem.cypher.embedded import run_on_graph
        from graphmem.cypher.guard import check_read_only
        from graphmem.cypher.view import entity_attributes, fact_attributes
        from graphmem.errors import CypherError
        from graphmem.models.records import Entity, Fact
else:
    import networkx as nx

    from graphmem.cypher.embedded import run_on_graph
    from graphmem.cypher.guard import check_read_only
    from graphmem.cypher.view import entity_attributes, fact_attributes
    from graphmem.errors import CypherError
    from graphmem.models.records import Entity, Fact

WRITES: tuple[str, ...] = (
    "CREATE (n:Entity {name: 'x'})",
    "MATCH (n) DETACH DELETE n",
    "MATCH (n) DELETE n",
    "MATCH (n) SET n.owner = 'user:bob' RETURN n",
    "MATCH (n) REMOVE n.owner RETURN n",
    "MERGE (n:Entity {name: 'x'}) RETURN n",
    "MATCH (n) FOREACH (x IN [1] | CREATE (m))",
    "LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row",
    "CALL apoc.cypher.runFirstColumn('MATCH (n) DELETE n', {}) YIELD value RETURN value",
    "CALL db.index.fulltext.queryNodes('x', 'y') YIELD node RETURN node",
    "MATCH (n) RETURN apoc.cypher.runFirstColumnSingle('CREATE (m)', {})",
    "DROP INDEX entity_name",
    "SHOW DATABASES",
    "USE system MATCH (n) RETURN n",
    "MATCH (n) RETURN n; MATCH (m) DETACH DELETE m",
    "GRANT ALL ON DATABASE * TO mallory",
    "MATCH (n) CALL { WITH n DETACH DELETE n } RETURN 1",
)
SEEDS: tuple[bytes, ...] = (
    b"\x00MATCH (n) RETURN n",
    b"\x00MATCH (a)-[r]->(b) WHERE a.name = 'Anna' RETURN a.name, type(r), b.name",
    b"\x00MATCH (n) RETURN n.name AS `CREATE`, 'DELETE' AS s // SET\n",
    b"\x00CALL db.labels()",
    b"\x00MATCH (n) WHERE n.name =~ '.*' RETURN count(n)",
    b"\x01\x05\x03\x07\x00\x02\x09",
    b"\x01\x0b\xff\x10\x20\x30",
)
_GAP = re.compile(r"\s+")
_FILLERS = (" ", "\n", "\t", "  ", " /* note */ ", " /* CREATE */ ", " // SET x\n", "\r\n")


def _scope_graph() -> nx.MultiDiGraph:
    anna = Entity(name="Anna", normalized_name="anna", owner="user:fuzz")
    oslo = Entity(name="Oslo", normalized_name="oslo", owner="user:fuzz")
    fact = Fact(
        subject_id=anna.id, predicate="lives_in", object_id=oslo.id,
        fact="Anna lives in Oslo.", subject_name="Anna", object_name="Oslo",
        episode_ids=[uuid.uuid4()], user_id="fuzz", valid_at=datetime(2024, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    graph = nx.MultiDiGraph()
    graph.add_node(str(anna.id), **entity_attributes(anna))
    graph.add_node(str(oslo.id), **entity_attributes(oslo))
    graph.add_edge(str(anna.id), str(oslo.id), key=str(fact.id), **fact_attributes(fact))
    return graph


GRAPH = _scope_graph()
GRAPH_DATA = (copy.deepcopy(dict(GRAPH.nodes(data=True))), list(GRAPH.edges(keys=True, data=True)))


def _any_text(text: str) -> None:
    try:
        check_read_only(text)
    except CypherError:
        return
    try:
        rows = run_on_graph(GRAPH, text)
    except CypherError:
        rows = []
    assert isinstance(rows, list)
    assert (dict(GRAPH.nodes(data=True)), list(GRAPH.edges(keys=True, data=True))) == GRAPH_DATA


def disguise(query: str, choices: bytes) -> str:
    """``query`` re-cased and with fillers between tokens, as ``choices`` direct."""
    stream = iter(choices)
    parts = _GAP.split(query)
    pieces = []
    for index, part in enumerate(parts):
        style = next(stream, 0)
        word = part.upper() if style & 1 else part.lower() if style & 2 else part.swapcase()
        # Quoted text keeps its case so that procedure names inside strings stay as written.
        pieces.append(part if "'" in part else word)
        if index < len(parts) - 1:
            pieces.append(_FILLERS[next(stream, 0) % len(_FILLERS)])
    return "".join(pieces)


def _disguised_write(choices: bytes) -> None:
    base = WRITES[choices[0] % len(WRITES)] if choices else WRITES[0]
    text = disguise(base, choices[1:])
    try:
        check_read_only(text)
    except CypherError:
        return
    raise AssertionError(f"the guard accepted a write: {text!r}")


def check_input(data: bytes) -> None:
    """Raise AssertionError (or the unexpected exception) if a property fails."""
    if data[:1] == b"\x01":
        _disguised_write(data[1:])
    else:
        _any_text(data[1:].decode("utf-8", "surrogateescape"))


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
