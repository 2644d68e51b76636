"""The REST API through the ASGI app in-process: every endpoint, errors, limits, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from starlette.testclient import TestClient

from graphmem import errors
from graphmem.server import KeyStore, ServerSettings, create_app
from graphmem.server.problems import PROBLEM_MEDIA_TYPE, status_for

if TYPE_CHECKING:
    from graphmem import Memory

PARIS = {"messages": "I live in Paris.", "timestamp": "2025-01-01T00:00:00+00:00"}
BERLIN = {"messages": "I moved to Berlin.", "timestamp": "2025-06-01T00:00:00+00:00"}


@dataclass
class Api:
    client: TestClient
    keys: KeyStore
    headers: dict[str, str]
    """Authorization of a key bound to user alice."""

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, json=body, headers=self.headers)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


MakeApi = Callable[[ServerSettings], Api]


@pytest.fixture
def make_api(memory: Memory) -> Iterator[MakeApi]:
    """Serves ``memory`` with the given settings; clients are closed after the test."""
    with ExitStack() as stack:

        def make(settings: ServerSettings) -> Api:
            keys = KeyStore.for_store(memory.config.store_path())
            app = create_app(memory, keys, settings)
            client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
            return Api(client, keys, bearer(keys.create(user_id="alice").token))

        yield make


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    return make_api(ServerSettings(rate_limit=1000, rate_burst=1000))


def assert_problem(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["error"] == error
    assert body["type"] == f"urn:graphmem:error:{error}"
    assert body["title"]
    assert body["detail"]
    return body


def test_add_search_get_and_history_round_trip(api: Api) -> None:
    first = api.post("/v1/memories", PARIS)
    second = api.post("/v1/memories", BERLIN)

    assert first.status_code == second.status_code == 201
    added = second.json()
    assert [f["fact"] for f in added["facts_added"]] == ["alice moved to Berlin."]
    assert [f["fact"] for f in added["facts_closed"]] == ["alice lives in Paris."]
    assert added["episodes"][0]["user_id"] == "alice"  # the key's scope was applied

    found = api.post("/v1/search", {"query": "where does alice live?"}).json()
    assert found["facts"][0]["fact"]["fact"] == "alice moved to Berlin."
    before = api.post(
        "/v1/search", {"query": "where does alice live?", "as_of": "2025-03-01T00:00:00Z"}
    ).json()
    assert [hit["fact"]["fact"] for hit in before["facts"]] == ["alice lives in Paris."]

    fact_id = added["facts_added"][0]["id"]
    record = api.get(f"/v1/memories/{fact_id}").json()
    assert record["kind"] == "fact"
    assert record["record"]["predicate"] == "lives_in"
    versions = api.get(f"/v1/memories/{fact_id}/history").json()
    assert [(v["status"], v["fact"]["fact"]) for v in versions] == [
        ("superseded", "alice lives in Paris."),
        ("current", "alice moved to Berlin."),
    ]


def test_add_accepts_message_lists_and_stores_episodes_without_inference(api: Api) -> None:
    body = {
        "messages": [
            {"role": "user", "content": "I work at Acme.", "name": "Alice"},
            {"role": "assistant", "content": "Noted!"},
        ],
        "infer": False,
        "metadata": {"channel": "chat"},
    }
    result = api.post("/v1/memories", body).json()

    assert [e["role"] for e in result["episodes"]] == ["user", "assistant"]
    assert result["episodes"][0]["metadata"] == {"channel": "chat"}
    assert result["facts_added"] == []


def test_add_facts_and_list_with_metadata_filter(api: Api) -> None:
    body = {
        "triples": [
            {
                "subject": "Alice",
                "predicate": "works_at",
                "object": "Acme",
                "metadata": {"topic": "work"},
            },
            {
                "subject": "Alice",
                "predicate": "likes",
                "object": "jazz",
                "metadata": {"topic": "music"},
            },
        ],
        "source": "profile import",
    }
    added = api.post("/v1/facts", body)
    assert added.status_code == 201
    assert len(added.json()["facts_added"]) == 2

    everything = api.get("/v1/memories").json()
    assert {f["object_name"] for f in everything["facts"]} == {"Acme", "jazz"}
    work = api.get("/v1/memories", filters=json.dumps({"topic": "work"})).json()
    assert [f["object_name"] for f in work["facts"]] == ["Acme"]
    assert_problem(api.get("/v1/memories", filters="{not json"), 422, "InvalidFilterError")


def test_update_corrects_a_fact_and_keeps_the_old_version(api: Api) -> None:
    added = api.post(
        "/v1/facts", {"triples": [{"subject": "Alice", "predicate": "works_at", "object": "Acme"}]}
    ).json()
    fact_id = added["facts_added"][0]["id"]

    response = api.client.patch(
        f"/v1/facts/{fact_id}",
        json={"fact": "Alice works at Acme Corp.", "confidence": 0.9},
        headers=api.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["fact"] == "Alice works at Acme Corp."
    versions = api.get(f"/v1/memories/{response.json()['id']}/history").json()
    assert [v["status"] for v in versions] == ["corrected", "current"]


def test_delete_removes_the_record(api: Api) -> None:
    added = api.post(
        "/v1/facts", {"triples": [{"subject": "Alice", "predicate": "likes", "object": "tea"}]}
    ).json()
    fact_id = added["facts_added"][0]["id"]

    response = api.client.delete(f"/v1/memories/{fact_id}", headers=api.headers)

    assert response.status_code == 204
    assert_problem(api.get(f"/v1/memories/{fact_id}"), 404, "NotFoundError")
    assert_problem(
        api.client.delete(f"/v1/memories/{fact_id}", headers=api.headers), 404, "NotFoundError"
    )


def test_context_block(api: Api) -> None:
    api.post("/v1/memories", PARIS)
    response = api.post("/v1/context", {"query": "where does alice live?", "max_tokens": 200})
    assert response.status_code == 200
    assert "alice lives in Paris." in response.json()["context"]


def test_cypher_reads_the_scope_and_refuses_writes(api: Api) -> None:
    api.post("/v1/memories", PARIS)

    rows = api.post(
        "/v1/cypher",
        {
            "query": "MATCH (a)-[r:LIVES_IN]->(b) WHERE a.name = $name RETURN b.name AS city",
            "params": {"name": "alice"},
        },
    )
    assert rows.status_code == 200, rows.text
    assert rows.json() == {"rows": [{"city": "Paris"}]}

    refused = api.post("/v1/cypher", {"query": "MATCH (n) DETACH DELETE n"})
    assert_problem(refused, 400, "CypherError")
    assert api.get("/v1/stats").json()["facts"] == 1


def test_stats_and_forget(api: Api) -> None:
    api.post("/v1/memories", PARIS)
    stats = api.get("/v1/stats").json()
    assert stats == {
        "backend": "embedded",
        "episodes": 1,
        "entities": 2,
        "facts": 1,
        "current_facts": 1,
    }

    forgotten = api.post("/v1/forget", {})
    assert forgotten.status_code == 200
    assert forgotten.json()["facts"] == 1
    assert api.get("/v1/stats").json()["episodes"] == 0


def test_view_serves_the_scope_graph_as_a_self_contained_page(api: Api) -> None:
    api.post("/v1/memories", PARIS)
    api.post("/v1/memories", BERLIN)

    page = api.get("/v1/view")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script src=" not in page.text  # nothing is fetched from elsewhere
    assert "Berlin" in page.text and "Paris" in page.text

    before_the_move = api.get("/v1/view", as_of="2025-03-01T00:00:00+00:00")
    assert before_the_move.status_code == 200
    assert "Paris" in before_the_move.text and "Berlin" not in before_the_move.text

    around = api.get("/v1/view", around="Berlin", hops=1)
    assert around.status_code == 200 and "Berlin" in around.text

    assert_problem(api.get("/v1/view", around="Atlantis"), 404, "NotFoundError")
    assert_problem(api.get("/v1/view", hops=99), 422, "InvalidInputError")


def test_answer_without_an_llm_is_a_501_problem(api: Api) -> None:
    api.post("/v1/memories", PARIS)
    response = api.post("/v1/answer", {"question": "Where does alice live?"})
    assert_problem(response, 501, "LLMNotConfiguredError")


def test_invalid_bodies_are_problems_listing_the_fields(api: Api) -> None:
    response = api.post("/v1/search", {"query": "", "limit": 0, "surprise": 1})
    body = assert_problem(response, 422, "InvalidInputError")
    assert {tuple(issue["loc"]) for issue in body["errors"]} == {
        ("body", "query"),
        ("body", "limit"),
        ("body", "surprise"),
    }


def test_input_refused_by_memory_is_a_problem_and_writes_nothing(api: Api) -> None:
    naive_time = {"messages": "I live in Rome.", "timestamp": "2025-01-01T00:00:00"}
    assert_problem(api.post("/v1/memories", naive_time), 422, "InvalidInputError")
    bad_id = api.get("/v1/memories/not-a-uuid")
    assert_problem(bad_id, 422, "InvalidInputError")
    assert api.get("/v1/stats").json()["episodes"] == 0


def test_unknown_routes_and_methods_are_problems(api: Api) -> None:
    assert_problem(api.get("/v1/nope"), 404, "NotFoundError")
    assert_problem(api.client.put("/v1/search", headers=api.headers), 405, "MethodNotAllowedError")


def test_healthz_needs_no_key(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_request_bodies_over_the_limit_are_refused_before_parsing(make_api: MakeApi) -> None:
    api = make_api(ServerSettings(max_body_bytes=2048))
    big = {"messages": "I live in Paris. " * 200}  # ~3.4 kB

    declared = api.post("/v1/memories", big)
    assert_problem(declared, 413, "PayloadTooLargeError")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        payload = json.dumps(big).encode()
        for start in range(0, len(payload), 500):
            yield payload[start : start + 500]

    streamed = api.client.post(
        "/v1/memories",
        content=chunks(),
        headers={**api.headers, "content-type": "application/json"},
    )
    assert_problem(streamed, 413, "PayloadTooLargeError")
    assert api.get("/v1/stats").json()["episodes"] == 0

    small_chunks = api.client.post(
        "/v1/memories",
        content=iter([b'{"messages": ', b'"I live in Paris."}']),
        headers={**api.headers, "content-type": "application/json"},
    )
    assert small_chunks.status_code == 201


def test_rate_limit_per_key_answers_429_with_retry_after(make_api: MakeApi) -> None:
    api = make_api(ServerSettings(rate_limit=0.01, rate_burst=2))
    other = bearer(api.keys.create(user_id="bob").token)

    statuses = [api.get("/v1/stats").status_code for _ in range(2)]
    limited = api.get("/v1/stats")

    assert statuses == [200, 200]
    assert_problem(limited, 429, "RateLimitedError")
    assert int(limited.headers["retry-after"]) >= 1
    assert api.client.get("/v1/stats", headers=other).status_code == 200  # its own bucket


def test_openapi_documents_every_operation_with_auth_and_problems(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()

    operations = {
        (method.upper(), path) for path, item in schema["paths"].items() for method in item
    }
    assert operations == {
        ("POST", "/v1/memories"),
        ("GET", "/v1/memories"),
        ("POST", "/v1/facts"),
        ("PATCH", "/v1/facts/{fact_id}"),
        ("GET", "/v1/memories/{record_id}"),
        ("DELETE", "/v1/memories/{record_id}"),
        ("GET", "/v1/memories/{record_id}/history"),
        ("POST", "/v1/search"),
        ("POST", "/v1/context"),
        ("POST", "/v1/answer"),
        ("POST", "/v1/forget"),
        ("POST", "/v1/cypher"),
        ("GET", "/v1/stats"),
        ("GET", "/v1/view"),
        ("GET", "/healthz"),
    }
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        for operation in item.values():
            if path == "/healthz":
                assert "security" not in operation
                continue
            assert operation["security"] == [{"ApiKey": []}]
            for status in ("401", "422", "429"):
                content = operation["responses"][status]["content"]
                assert list(content) == [PROBLEM_MEDIA_TYPE]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.ScopeRequiredError("x"), 400),
        (errors.InvalidInputError("x"), 422),
        (errors.InvalidFilterError("x"), 422),
        (errors.InvalidIdentifierError("x"), 422),
        (errors.ScopeViolationError("x"), 403),
        (errors.NotFoundError("x"), 404),
        (errors.CypherError("x"), 400),
        (errors.LLMNotConfiguredError("x"), 501),
        (errors.LLMError("x"), 502),
        (errors.StoreLockedError("x"), 503),
        (errors.BackendUnavailableError("x"), 503),
        (errors.StoreCorruptedError("x"), 500),
        (errors.GraphmemError("x"), 500),
    ],
)
def test_typed_errors_map_to_http_statuses(error: errors.GraphmemError, status: int) -> None:
    assert status_for(error) == status
