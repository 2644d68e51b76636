"""Connecting to Neo4j, checking the server, and mapping driver failures to graphmem errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import neo4j
from neo4j import exceptions as neo4j_errors

from graphmem.config import Neo4jSettings
from graphmem.errors import (
    BackendUnavailableError,
    GraphmemError,
    InvalidInputError,
    StoreError,
    StoreLockedError,
)
from graphmem.store.neo4j.schema import (
    MIN_SERVER_VERSION,
    SERVER_COMPONENTS,
    is_supported,
    parse_version,
)
from graphmem.store.neo4j.statements import Statement

BOLT_SCHEMES = frozenset({"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"})


def resolve_settings(settings: Neo4jSettings | None) -> Neo4jSettings:
    """The given settings, else ``GRAPHMEM_NEO4J_*`` from the environment."""
    if settings is not None:
        return settings
    from_env = Neo4jSettings.from_env()
    if from_env is None:
        raise InvalidInputError(
            "the Neo4j backend needs connection settings: pass Neo4jSettings or set "
            "GRAPHMEM_NEO4J_URI (and GRAPHMEM_NEO4J_USER, _PASSWORD, _DATABASE)"
        )
    return from_env


def open_driver(settings: Neo4jSettings, *, connection_timeout: float) -> neo4j.Driver:
    """A driver that has proven it can reach and log in to the server."""
    where = f"Neo4j at {settings.uri}"
    scheme = urlsplit(settings.uri).scheme
    if scheme not in BOLT_SCHEMES:
        raise BackendUnavailableError(
            f"unsupported Neo4j URI {settings.uri!r}: use one of "
            f"{', '.join(sorted(BOLT_SCHEMES))} (for example bolt://localhost:7687)"
        )
    try:
        driver = neo4j.GraphDatabase.driver(
            settings.uri,
            auth=(settings.user, settings.password.get_secret_value()),
            connection_timeout=connection_timeout,
            max_transaction_retry_time=connection_timeout,
        )
    except (neo4j_errors.ConfigurationError, ValueError) as exc:
        raise BackendUnavailableError(
            f"invalid Neo4j connection settings ({where}): {exc}"
        ) from exc
    try:
        driver.verify_connectivity()
    except BaseException as exc:
        driver.close()
        if isinstance(exc, neo4j_errors.AuthError):
            raise BackendUnavailableError(
                f"{where} refused the credentials of user {settings.user!r}: {exc.message}"
            ) from exc
        if isinstance(exc, neo4j_errors.Neo4jError | neo4j_errors.DriverError | OSError):
            raise BackendUnavailableError(f"cannot reach {where}: {exc}") from exc
        raise
    return driver


def server_version(driver: neo4j.Driver, database: str) -> tuple[int, int]:
    """The server's ``(major, minor)``; a server too old for vector indexes is refused."""
    with translated(f"database {database!r}"):
        records, _, _ = driver.execute_query(
            SERVER_COMPONENTS.text, database_=database, routing_=neo4j.RoutingControl.READ
        )
    kernel = next((r for r in records if r["name"] == "Neo4j Kernel"), None)
    if kernel is None or not kernel["versions"]:
        raise BackendUnavailableError("the server did not report a Neo4j Kernel version")
    text = str(kernel["versions"][0])
    version = parse_version(text)
    if not is_supported(version):
        required = ".".join(str(part) for part in MIN_SERVER_VERSION)
        raise BackendUnavailableError(
            f"Neo4j {text} is too old: graphmem needs {required} or newer "
            "(vector indexes created with CREATE VECTOR INDEX)"
        )
    return version


@contextlib.contextmanager
def translated(where: str) -> Iterator[None]:
    """Re-raise driver failures as graphmem's typed errors (graphmem's own pass through)."""
    try:
        yield
    except GraphmemError:
        raise
    except neo4j_errors.AuthError as exc:
        raise BackendUnavailableError(f"Neo4j refused the credentials ({where}): {exc}") from exc
    except (
        neo4j_errors.ServiceUnavailable,
        neo4j_errors.SessionExpired,
        neo4j_errors.DatabaseUnavailable,
    ) as exc:
        raise BackendUnavailableError(f"Neo4j is unavailable ({where}): {exc}") from exc
    except neo4j_errors.TransientError as exc:
        raise StoreLockedError(
            f"Neo4j could not complete the transaction now ({where}); retry: {exc}"
        ) from exc
    except neo4j_errors.ConstraintError as exc:
        raise StoreError(f"a Neo4j constraint was violated ({where}): {exc}") from exc
    except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as exc:
        raise StoreError(f"Neo4j failed ({where}): {exc}") from exc


def records(result: neo4j.Result) -> list[dict[str, Any]]:
    """Every record of a result as a plain dict."""
    return [record.data() for record in result]


def run(
    tx: neo4j.Transaction | neo4j.ManagedTransaction, statement: Statement
) -> list[dict[str, Any]]:
    """Run one statement inside a transaction and fetch its records."""
    return records(tx.run(statement.text, statement.params))
