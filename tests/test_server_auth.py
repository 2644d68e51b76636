"""Authentication and scope isolation of the REST API: a key never reaches another scope."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.server import KeyStore, ServerSettings, create_app
from graphmem.server.problems import PROBLEM_MEDIA_TYPE


@dataclass
class Service:
    memory: Memory
    client: TestClient
    keys: KeyStore
    admin: dict[str, str]
    bob_fact_id: str
    bob_episode_id: str


@dataclass
class Setup(Service):
    alice: dict[str, str]
    """A key bound to this test's own user (``alice-<n>``), so tests share one store."""
    alice_id: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Service]:
    """One store for the module, holding bob's memory; each test acts as a new alice."""
    path = tmp_path_factory.mktemp("auth") / "store"
    with Memory(MemoryConfig(path=path, use_llm=False), embedder=embedder) as memory:
        bob = memory.add_facts(
            [{"subject": "Bob", "predicate": "lives_in", "object": "Oslo"}],
            user_id="bob",
            source="Bob said he lives in Oslo.",
        )
        keys = KeyStore.for_store(path)
        settings = ServerSettings(rate_limit=1000, rate_burst=1000, auth_failure_burst=1000)
        app = create_app(memory, keys, settings)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Service(
                memory=memory,
                client=client,
                keys=keys,
                admin=bearer(keys.create(admin=True).token),
                bob_fact_id=str(bob.facts_added[0].id),
                bob_episode_id=str(bob.episodes[0].id),
            )


_users = itertools.count(1)


@pytest.fixture
def setup(service: Service) -> Setup:
    alice_id = f"alice-{next(_users)}"
    token = service.keys.create(user_id=alice_id).token
    return Setup(**vars(service), alice=bearer(token), alice_id=alice_id)


def problem_error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    error: str = response.json()["error"]
    return error


def bob_still_lives_in_oslo(s: Setup) -> bool:
    found = s.client.get(f"/v1/memories/{s.bob_fact_id}", headers=s.admin)
    return bool(found.status_code == 200 and found.json()["record"]["object_name"] == "Oslo")


def protected_operations(client: TestClient) -> list[tuple[str, str]]:
    """Every operation the published OpenAPI schema lists under /v1/."""
    paths = client.get("/openapi.json").json()["paths"]
    some_id = "00000000-0000-4000-8000-000000000000"
    return [
        (method.upper(), path.format(record_id=some_id, fact_id=some_id))
        for path, item in paths.items()
        if path.startswith("/v1/")
        for method in item
    ]


def test_every_api_operation_needs_a_key(setup: Setup) -> None:
    operations = protected_operations(setup.client)
    assert len(operations) == 14
    for method, path in operations:
        response = setup.client.request(method, path, json={})
        assert problem_error(response, 401) == "AuthenticationError", (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer gm_000000000000_wrongsecretwrongsecretwrongsecret00000",
        "Bearer not-a-key",
        "Basic YWxpY2U6c2VjcmV0",
        "gm_000000000000_nobearerprefix",
    ],
)
def test_wrong_or_malformed_keys_are_refused(setup: Setup, authorization: str) -> None:
    response = setup.client.post(
        "/v1/search", json={"query": "Oslo"}, headers={"Authorization": authorization}
    )
    assert problem_error(response, 401) == "AuthenticationError"


def test_a_key_with_a_wrong_secret_is_refused(setup: Setup) -> None:
    token = setup.alice["Authorization"].removeprefix("Bearer ")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = setup.client.get("/v1/stats", headers=bearer(tampered))
    assert problem_error(response, 401) == "AuthenticationError"


def test_revoked_key_is_refused(setup: Setup) -> None:
    created = setup.keys.create(user_id="carol")
    assert setup.client.get("/v1/stats", headers=bearer(created.token)).status_code == 200

    setup.keys.revoke(created.key.id)

    response = setup.client.get("/v1/stats", headers=bearer(created.token))
    assert problem_error(response, 401) == "AuthenticationError"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/search", {"query": "Where does Bob live?", "user_id": "bob"}),
        ("/v1/context", {"query": "Bob", "user_id": "bob"}),
        ("/v1/answer", {"question": "Where does Bob live?", "user_id": "bob"}),
        ("/v1/memories", {"messages": "I live in Paris.", "user_id": "bob"}),
        (
            "/v1/facts",
            {
                "triples": [{"subject": "Bob", "predicate": "lives_in", "object": "Paris"}],
                "user_id": "bob",
            },
        ),
        ("/v1/cypher", {"query": "MATCH (n) RETURN n.name AS name", "user_id": "bob"}),
        ("/v1/forget", {"user_id": "bob"}),
    ],
)
def test_alice_key_addressing_bob_in_a_body_is_forbidden(
    setup: Setup, path: str, body: dict[str, Any]
) -> None:
    response = setup.client.post(path, json=body, headers=setup.alice)

    assert problem_error(response, 403) == "ScopeViolationError"
    assert f"user_id={setup.alice_id}" in response.json()["detail"]
    assert bob_still_lives_in_oslo(setup)


def test_alice_key_addressing_bob_in_a_query_is_forbidden(setup: Setup) -> None:
    for method, path in [
        ("GET", "/v1/memories"),
        ("GET", "/v1/stats"),
        ("GET", "/v1/view"),
        ("GET", f"/v1/memories/{setup.bob_fact_id}"),
        ("GET", f"/v1/memories/{setup.bob_fact_id}/history"),
        ("DELETE", f"/v1/memories/{setup.bob_fact_id}"),
    ]:
        response = setup.client.request(
            method, path, params={"user_id": "bob"}, headers=setup.alice
        )
        assert problem_error(response, 403) == "ScopeViolationError", (method, path)
    patched = setup.client.patch(
        f"/v1/facts/{setup.bob_fact_id}",
        json={"fact": "Bob lives in Paris.", "user_id": "bob"},
        headers=setup.alice,
    )
    assert problem_error(patched, 403) == "ScopeViolationError"
    assert bob_still_lives_in_oslo(setup)


def test_an_agent_key_cannot_claim_a_user(setup: Setup) -> None:
    agent = bearer(setup.keys.create(agent_id="helper").token)
    response = setup.client.post(
        "/v1/search", json={"query": "Oslo", "user_id": "bob"}, headers=agent
    )
    assert problem_error(response, 403) == "ScopeViolationError"


def test_bob_ids_look_missing_to_alice(setup: Setup) -> None:
    for record_id in (setup.bob_fact_id, setup.bob_episode_id):
        for method, path in [
            ("GET", f"/v1/memories/{record_id}"),
            ("GET", f"/v1/memories/{record_id}/history"),
            ("DELETE", f"/v1/memories/{record_id}"),
        ]:
            response = setup.client.request(method, path, headers=setup.alice)
            assert problem_error(response, 404) == "NotFoundError", (method, path)
    patched = setup.client.patch(
        f"/v1/facts/{setup.bob_fact_id}",
        json={"fact": "Bob lives in Paris."},
        headers=setup.alice,
    )
    assert problem_error(patched, 404) == "NotFoundError"
    assert bob_still_lives_in_oslo(setup)


def test_alice_sees_only_her_own_memories(setup: Setup) -> None:
    setup.client.post("/v1/memories", json={"messages": "I live in Paris."}, headers=setup.alice)

    found = setup.client.post(
        "/v1/search", json={"query": "Who lives in Oslo?"}, headers=setup.alice
    ).json()
    listed = setup.client.get("/v1/memories", headers=setup.alice).json()
    rows = setup.client.post(
        "/v1/cypher", json={"query": "MATCH (n) RETURN n.name AS name"}, headers=setup.alice
    ).json()["rows"]
    stats = setup.client.get("/v1/stats", headers=setup.alice).json()

    assert {hit["fact"]["user_id"] for hit in found["facts"]} == {setup.alice_id}
    assert [f["object_name"] for f in listed["facts"]] == ["Paris"]
    assert "Bob" not in {row["name"] for row in rows}
    assert "Oslo" not in {row["name"] for row in rows}
    assert stats["facts"] == 1


def test_forget_with_a_scoped_key_erases_only_its_scope(setup: Setup) -> None:
    setup.client.post("/v1/memories", json={"messages": "I live in Paris."}, headers=setup.alice)

    response = setup.client.post("/v1/forget", json={}, headers=setup.alice)

    assert response.status_code == 200
    assert response.json()["facts"] == 1
    assert bob_still_lives_in_oslo(setup)


def test_admin_key_addresses_any_scope_but_must_name_one(setup: Setup) -> None:
    found = setup.client.post(
        "/v1/search",
        json={"query": "Where does Bob live?", "user_id": "bob"},
        headers=setup.admin,
    ).json()
    assert found["facts"][0]["fact"]["object_name"] == "Oslo"

    unscoped = setup.client.post("/v1/search", json={"query": "Oslo"}, headers=setup.admin)
    assert problem_error(unscoped, 400) == "ScopeRequiredError"
    bob_only = setup.client.get("/v1/stats", params={"user_id": "bob"}, headers=setup.admin)
    assert bob_only.json()["facts"] == 1
    whole_store = setup.client.get("/v1/stats", headers=setup.admin).json()
    assert whole_store["facts"] >= 1


def test_repeated_failed_authentication_is_throttled(setup: Setup) -> None:
    settings = ServerSettings(auth_failure_rate=0.01, auth_failure_burst=3)
    app = create_app(setup.memory, setup.keys, settings)
    wrong = bearer("gm_000000000000_wrongsecretwrongsecretwrongsecret00000")
    with TestClient(app, raise_server_exceptions=False) as client:
        statuses = [client.get("/v1/stats", headers=wrong).status_code for _ in range(4)]
        throttled = client.get("/v1/stats", headers=wrong)
        # A valid key from the same address is not locked out.
        valid = client.get("/v1/stats", headers=setup.alice)

    assert statuses == [401, 401, 401, 429]
    assert problem_error(throttled, 429) == "RateLimitedError"
    assert int(throttled.headers["retry-after"]) >= 1
    assert valid.status_code == 200
