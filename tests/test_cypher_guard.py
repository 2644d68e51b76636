"""The read-only guard: writes, procedures and administration never get through."""

from __future__ import annotations

import pytest

from graphmem.cypher.guard import check_read_only
from graphmem.cypher.tokens import Kind, tokenize
from graphmem.errors import CypherError

WRITES = [
    "CREATE (n:Person {name: 'Eve'})",
    "MATCH (n) DETACH DELETE n",
    "MATCH (n) DELETE n",
    "MERGE (n:Person {name: 'Eve'}) RETURN n",
    "MATCH (n) SET n.name = 'x' RETURN n",
    "MATCH (n) SET n:Admin",
    "MATCH (n) REMOVE n.name",
    "MATCH (n) REMOVE n:Person",
    "DROP INDEX entity_names",
    "DROP CONSTRAINT graphmem_entity_id",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "LOAD CSV WITH HEADERS FROM 'https://evil.example/x.csv' AS row RETURN row",
    "MATCH (n) FOREACH (x IN [1] | SET n.flag = true)",
    "MATCH (a), (b) CREATE (a)-[:KNOWS]->(b)",
    "MATCH (n) WITH n CALL { WITH n DETACH DELETE n } RETURN 1",
    "INSERT (n:Person {name: 'Eve'})",
    # lower case, mixed case, line breaks and comments hide nothing
    "match (n) detach delete n",
    "MaTcH (n) DeTaCh DeLeTe n",
    "MATCH (n)\nSET\nn.x = 1",
    "/* harmless */ CREATE (n)",
    "MATCH (n) // look only\nDELETE n",
    "MATCH (n) RETURN n /* then */ ; CREATE (m)",
    "MATCH (n)SET n.x=1",
    "MATCH (n) WHERE n.name = 'CREATE' SET n.x = 1",
    "MATCH (n:Person)DELETE n",
]


@pytest.mark.parametrize("query", WRITES)
def test_writes_are_rejected(query: str) -> None:
    with pytest.raises(CypherError):
        check_read_only(query)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'DELETE n', {})", "apoc.periodic"),
        ("CALL apoc.cypher.doIt('CRE' + 'ATE (n)', {})", "apoc.cypher.doIt"),
        (
            "WITH 'CRE' AS a, 'ATE (x)' AS b CALL apoc.cypher.runWrite(a + b, {}) YIELD value "
            "RETURN value",
            "apoc.cypher.runWrite",
        ),
        ("call apoc.create.node(['X'], {})", "apoc.create.node"),
        ("CALL db.index.fulltext.queryNodes('entity_names', 'bob')", "db.index.fulltext"),
        ("CALL db.index.vector.queryNodes('entity_embedding', 5, [1.0])", "db.index.vector"),
        ("CALL dbms.components()", "dbms.components"),
        ("CALL db.createLabel('X')", "db.createLabel"),
        ("CALL dbms.security.createUser('eve', 'pw', false)", "dbms.security"),
        ("CALL `apoc`.`cypher`.`doIt`('CREATE (n)', {})", "apoc.cypher.doIt"),
        ("CALL\n  apoc . cypher . doIt('x', {})", "apoc.cypher.doIt"),
    ],
)
def test_procedures_outside_the_allow_list_are_rejected(query: str, named: str) -> None:
    with pytest.raises(CypherError, match="not allowed") as caught:
        check_read_only(query)
    assert named in str(caught.value)


@pytest.mark.parametrize(
    "query",
    [
        "RETURN apoc.cypher.runFirstColumnSingle('CRE' + 'ATE (n) RETURN n', {})",
        "MATCH (n) RETURN apoc.text.join([n.name], ',')",
        "RETURN `apoc`.cypher.runFirstColumnMany('MATCH (n) DETACH DELETE n', {})",
        "RETURN custom.sideEffect(1)",
    ],
)
def test_namespaced_functions_outside_the_built_ins_are_rejected(query: str) -> None:
    with pytest.raises(CypherError, match="not allowed"):
        check_read_only(query)


@pytest.mark.parametrize(
    "query",
    [
        "SHOW DATABASES",
        "SHOW USERS",
        "USE system MATCH (n) RETURN n",
        "ALTER USER neo4j SET PASSWORD 'x'",
        "GRANT ALL ON DATABASE * TO reader",
        "STOP DATABASE neo4j",
        "MATCH (n) CALL { WITH n RETURN n } IN TRANSACTIONS RETURN n",
        "USING PERIODIC COMMIT LOAD CSV FROM 'x' AS l RETURN l",
    ],
)
def test_administration_is_rejected(query: str) -> None:
    with pytest.raises(CypherError):
        check_read_only(query)


@pytest.mark.parametrize(
    "query",
    [
        "MATCH (n) RETURN n; MATCH (m) RETURN m",
        "MATCH (n:Pers\u043en) RETURN n",  # Cyrillic letter in an identifier
        "MATCH (n) WHERE n.name = 'unterminated RETURN n",
        "MATCH (n) /* unterminated comment RETURN n",
        "",
        "   // only a comment",
    ],
)
def test_malformed_or_ambiguous_queries_are_rejected(query: str) -> None:
    with pytest.raises(CypherError):
        check_read_only(query)


def test_overlong_queries_are_rejected() -> None:
    with pytest.raises(CypherError, match="longer than"):
        check_read_only("MATCH (n) RETURN n " + "// padding\n" * 3000)


def test_non_string_queries_are_rejected() -> None:
    with pytest.raises(CypherError):
        check_read_only(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "query",
    [
        "MATCH (n) RETURN n",
        "MATCH (n:Person)-[r:WORKS_AT]->(m) WHERE m.name = 'Acme' RETURN n.name, type(r)",
        # write keywords inside strings, comments, property keys, labels and map keys
        "MATCH (n) WHERE n.name = 'CREATE (x) DETACH DELETE n' RETURN n",
        'MATCH (n) WHERE n.note CONTAINS "SET n.admin = true" RETURN n',
        "MATCH (n) // DELETE n\nRETURN n",
        "MATCH (n) /* MERGE */ RETURN n.set, n.delete, n.create",
        "MATCH (n:Create)-[:DELETE]->(m:Merge) RETURN n",
        "MATCH (n {set: 1, remove: 2}) RETURN n",
        "MATCH (n) WHERE n.name = $name RETURN n;",
        "CALL db.labels()",
        "CALL db.relationshipTypes() YIELD relationshipType",
        "CALL db.propertyKeys()",
        "MATCH (n) RETURN date.truncate('day', date()) AS d",
        "MATCH (n) RETURN n.name AS `quoted name`",
        "MATCH (n) WHERE n.name = 'Zoë 😀' RETURN n",
    ],
)
def test_read_only_queries_pass(query: str) -> None:
    tokens = check_read_only(query)
    assert tokens
    assert all(token.kind is not Kind.COMMENT for token in tokens)


def test_the_procedure_allow_list_can_be_narrowed() -> None:
    with pytest.raises(CypherError, match="allowed: none"):
        check_read_only("CALL db.labels()", allowed_procedures=())


def test_tokenizer_decodes_strings_and_keeps_offsets() -> None:
    tokens = tokenize("RETURN 'it\\'s', \"a\\nb\", '\\u00e9', $p, `we``ird` // c")
    kinds = [token.kind for token in tokens]
    assert kinds == [
        Kind.WORD, Kind.STRING, Kind.SYMBOL, Kind.STRING, Kind.SYMBOL, Kind.STRING,
        Kind.SYMBOL, Kind.PARAMETER, Kind.SYMBOL, Kind.BACKTICK, Kind.COMMENT,
    ]  # fmt: skip
    values = [token.value for token in tokens if token.kind is not Kind.SYMBOL]
    assert values == ["", "it's", "a\nb", "é", "p", "we`ird", ""]
    assert tokens[1].text == "'it\\'s'"
    assert tokens[1].start == 7


def test_split_keywords_are_two_words_not_a_clause() -> None:
    # Neo4j reads CRE/**/ATE as two identifiers (a syntax error), never as CREATE.
    words = [t.text for t in tokenize("CRE/**/ATE (n)") if t.kind is Kind.WORD]
    assert words == ["CRE", "ATE", "n"]
