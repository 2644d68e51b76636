"""A Neo4j server and store for tests, or a skip that says why there is none.

Where the server comes from, in order:

1. ``GRAPHMEM_NEO4J_URI`` (with ``_USER``, ``_PASSWORD``, ``_DATABASE``): a server
   you run. Tests wipe graphmem's data in it, so a database that already holds
   graphmem records is used only with ``GRAPHMEM_NEO4J_ALLOW_RESET=1``;
2. testcontainers, when installed and Docker is available: a throwaway
   ``neo4j:5.26`` container for the session;
3. otherwise every test using these fixtures is skipped, with the reason.

Use from a test module or conftest (the tests directory is on ``sys.path``)::

    from neo4j_server import neo4j_settings, neo4j_store  # noqa: F401

or open stores of another embedder with :func:`open_test_store`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from graphmem.config import Neo4jSettings
from graphmem.errors import BackendUnavailableError
from graphmem.store.base import EmbedderInfo
from graphmem.store.neo4j import Neo4jStore
from graphmem.store.neo4j.admin import RECORD_LABELS
from graphmem.store.neo4j.search import VECTOR_INDEXES

NEO4J_IMAGE = "neo4j:5.26"
TEST_EMBEDDER = EmbedderInfo("graphmem-test-embedder", 8)
ALLOW_RESET = "GRAPHMEM_NEO4J_ALLOW_RESET"


@contextlib.contextmanager
def _container_settings() -> Iterator[Neo4jSettings]:
    try:
        from testcontainers.neo4j import Neo4jContainer
    except ImportError:
        pytest.skip(
            "no Neo4j server: set GRAPHMEM_NEO4J_URI, or install testcontainers and run Docker"
        )
    container = Neo4jContainer(NEO4J_IMAGE)
    try:
        container.start()
    except Exception as exc:  # Docker missing or refusing: a skip, not a failure
        pytest.skip(f"no Neo4j server: testcontainers could not start {NEO4J_IMAGE}: {exc}")
    try:
        yield Neo4jSettings(
            uri=container.get_connection_url(),
            user=getattr(container, "username", "neo4j"),
            password=getattr(container, "password", ""),
        )
    finally:
        container.stop()


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Neo4jSettings]:
    """Settings of a reachable Neo4j server for the whole session (or skip)."""
    configured = Neo4jSettings.from_env()
    if configured is not None:
        yield configured
        return
    with _container_settings() as settings:
        yield settings


def _prepare_database(settings: Neo4jSettings) -> None:
    """Empty graphmem's data and identity so that a store of any embedder can open.

    Refuses (skips) when the database holds graphmem records and resetting was not
    allowed: tests must never wipe someone's memories by accident.
    """
    import neo4j

    with neo4j.GraphDatabase.driver(
        settings.uri, auth=(settings.user, settings.password.get_secret_value())
    ) as driver:
        try:
            driver.verify_connectivity()
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError) as exc:
            pytest.skip(f"Neo4j at {settings.uri} is not reachable: {exc}")
        query = " UNION ALL ".join(
            f"MATCH (n:{label}) RETURN count(n) AS count" for label in RECORD_LABELS
        )
        records, _, _ = driver.execute_query(query, database_=settings.database)
        if sum(record["count"] for record in records) and os.environ.get(ALLOW_RESET) != "1":
            pytest.skip(
                f"the Neo4j database {settings.database!r} at {settings.uri} holds graphmem "
                f"records; set {ALLOW_RESET}=1 to let the tests delete them"
            )
        for label in (*RECORD_LABELS, "GraphmemMeta"):
            driver.execute_query(f"MATCH (n:{label}) DETACH DELETE n", database_=settings.database)
        for index in VECTOR_INDEXES.values():  # their dimension belongs to the old embedder
            driver.execute_query(f"DROP INDEX {index} IF EXISTS", database_=settings.database)


@contextlib.contextmanager
def open_test_store(
    settings: Neo4jSettings, embedder: EmbedderInfo = TEST_EMBEDDER, **options: Any
) -> Iterator[Neo4jStore]:
    """An empty Neo4j store of ``embedder``; its data is deleted again afterwards.

    ``options`` go to :class:`Neo4jStore` (``exact_threshold=0`` forces vector-index use).
    """
    _prepare_database(settings)
    try:
        store = Neo4jStore(settings, embedder, **options)
    except BackendUnavailableError as exc:
        pytest.skip(str(exc))
    try:
        yield store
    finally:
        with contextlib.suppress(Exception):
            store.reset()
        store.close()


@pytest.fixture
def neo4j_store(neo4j_settings: Neo4jSettings) -> Iterator[Neo4jStore]:
    """A fresh Neo4j store with the 8-dimensional test embedder identity."""
    with open_test_store(neo4j_settings) as store:
        yield store
