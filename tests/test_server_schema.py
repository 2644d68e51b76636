"""Property-based checks of the REST API against its own OpenAPI schema (schemathesis).

Each operation gets a small, derandomized batch of generated requests, valid and
invalid; every response must be a non-5xx answer whose status, media type, headers and
body are the ones the published schema documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.server import KeyStore, ServerSettings, create_app


def no_server_fault(ctx: Any, response: Any, case: Any) -> bool | None:
    """Any 5xx fails, except the documented 501 of answering without a configured LLM."""
    if response.status_code == 501 and case.operation.path == "/v1/answer":
        assert response.json()["error"] == "LLMNotConfiguredError"
        return None
    result: bool | None = not_a_server_error(ctx, response, case)
    return result


CHECKS = [
    no_server_fault,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OPERATIONS = [
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
]
EXAMPLES = 6
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    # Nothing about a parameterless GET can be invalid.
    if not (path == "/healthz" and mode is GenerationMode.NEGATIVE)
]


@dataclass
class Target:
    schema: Any
    admin: dict[str, str]
    alice: dict[str, str]


@pytest.fixture(scope="module")
def target(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Target]:
    path = tmp_path_factory.mktemp("schema") / "store"
    with Memory(MemoryConfig(path=path, use_llm=False), embedder=embedder) as memory:
        memory.add("I live in Paris and I work at Acme.", user_id="alice")
        keys = KeyStore.for_store(path)
        app = create_app(memory, keys, ServerSettings(rate_limit=10_000, rate_burst=10_000))
        yield Target(
            schema=schemathesis.openapi.from_asgi("/openapi.json", app),
            admin={"Authorization": f"Bearer {keys.create(admin=True).token}"},
            alice={"Authorization": f"Bearer {keys.create(user_id='alice').token}"},
        )


def test_every_operation_is_covered(target: Target) -> None:
    published = {
        (operation.ok().method.upper(), operation.ok().path)
        for operation in target.schema.get_all_operations()
    }
    assert published == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_operation_conforms_to_the_schema(
    target: Target, method: str, path: str, mode: GenerationMode
) -> None:
    operation = target.schema[path][method]

    # Both an admin key (reaches any scope) and a scoped key (hits 403s on other ids).
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        for headers in (target.admin, target.alice):
            case.call_and_validate(headers=headers, checks=CHECKS)

    check()
