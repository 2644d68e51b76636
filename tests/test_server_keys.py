"""API keys, scope pinning and rate limiting of the REST server, without HTTP."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from graphmem.errors import InvalidInputError, NotFoundError, ScopeViolationError
from graphmem.server.auth import ScopeIds, effective_scope
from graphmem.server.keys import KeyStore, keys_path
from graphmem.server.limits import RateLimiter, retry_after_header


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    return KeyStore.for_store(tmp_path / "store")


def test_key_store_lives_next_to_the_memory_store(tmp_path: Path) -> None:
    store = KeyStore.for_store(tmp_path / "store")
    assert store.path == tmp_path / "store" / "keys.sqlite3" == keys_path(tmp_path / "store")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_created_token_authenticates_to_its_key(keys: KeyStore) -> None:
    created = keys.create(user_id="alice")

    assert created.token.startswith(f"gm_{created.key.id}_")
    key = keys.authenticate(created.token)
    assert key is not None
    assert key.id == created.key.id
    assert key.scope is not None
    assert key.scope.user_id == "alice"
    assert not key.admin
    # A second check of the same token (served from the verified cache) still agrees.
    assert keys.authenticate(created.token) == key


def test_secret_is_stored_only_as_a_salted_hash(keys: KeyStore) -> None:
    first = keys.create(user_id="alice")
    second = keys.create(user_id="alice")
    secrets = [token.token.split("_", 2)[2] for token in (first, second)]

    raw = keys.path.read_bytes()
    for secret in secrets:
        assert secret.encode() not in raw
    with sqlite3.connect(keys.path) as db:
        rows = db.execute("SELECT salt, hash, kdf FROM api_keys ORDER BY created_at").fetchall()
    assert rows[0][0] != rows[1][0]  # per-key salt
    assert rows[0][1] != rows[1][1]
    assert all(kdf.startswith("scrypt$") for _, _, kdf in rows)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "gm_",
        "not-a-key",
        "Bearer gm_abc",
        "gm_zzzzzzzzzzzz_secret",  # id is not hex
        "gm_0123456789ab_",  # no secret
        "xx_0123456789ab_secret",  # wrong prefix
    ],
)
def test_malformed_tokens_are_refused(keys: KeyStore, token: str) -> None:
    keys.create(user_id="alice")
    assert keys.authenticate(token) is None


def test_wrong_secret_and_unknown_id_are_refused(keys: KeyStore) -> None:
    created = keys.create(user_id="alice")
    wrong_secret = created.token[:-4] + ("AAAA" if not created.token.endswith("AAAA") else "BBBB")
    unknown_id = "gm_000000000000_" + created.token.split("_", 2)[2]

    assert keys.authenticate(wrong_secret) is None
    assert keys.authenticate(unknown_id) is None


def test_revoked_key_is_refused_even_after_it_was_verified(keys: KeyStore) -> None:
    created = keys.create(user_id="alice")
    assert keys.authenticate(created.token) is not None

    revoked = keys.revoke(created.key.id)

    assert revoked.revoked_at is not None
    assert not revoked.active
    assert keys.authenticate(created.token) is None
    # Revoking twice keeps the first time.
    assert keys.revoke(created.key.id).revoked_at == revoked.revoked_at


def test_revocation_from_another_process_handle_takes_effect(keys: KeyStore) -> None:
    created = keys.create(user_id="alice")
    assert keys.authenticate(created.token) is not None

    KeyStore(keys.path).revoke(created.key.id)  # as `graphmem keys revoke` would

    assert keys.authenticate(created.token) is None


def test_list_and_get(keys: KeyStore) -> None:
    alice = keys.create(user_id="alice", name="alice laptop")
    admin = keys.create(admin=True)
    keys.revoke(alice.key.id)

    assert [k.id for k in keys.list_keys()] == [alice.key.id, admin.key.id]
    assert [k.id for k in keys.list_keys(include_revoked=False)] == [admin.key.id]
    assert keys.get(admin.key.id).admin
    assert keys.get(admin.key.id).describe() == "admin"
    assert keys.get(alice.key.id).name == "alice laptop"
    with pytest.raises(NotFoundError):
        keys.get("000000000000")
    with pytest.raises(NotFoundError):
        keys.revoke("000000000000")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # neither scope nor admin
        {"admin": True, "user_id": "alice"},  # both
        {"user_id": " alice"},  # invalid scope id
        {"user_id": "alice", "name": "   "},
        {"user_id": "alice", "name": "x" * 201},
    ],
)
def test_invalid_key_requests_are_typed_errors(keys: KeyStore, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        keys.create(**kwargs)  # type: ignore[arg-type]
    assert keys.list_keys() == []


# -- scope pinning ------------------------------------------------------------------------


def test_scoped_key_fills_in_its_own_scope(keys: KeyStore) -> None:
    key = keys.create(user_id="alice").key
    assert effective_scope(key) == ScopeIds(user_id="alice")
    assert effective_scope(key, user_id="alice") == ScopeIds(user_id="alice")


def test_scoped_key_may_narrow_within_its_owner(keys: KeyStore) -> None:
    key = keys.create(user_id="alice").key
    assert effective_scope(key, run_id="r1") == ScopeIds(user_id="alice", run_id="r1")
    assert effective_scope(key, agent_id="bot") == ScopeIds(user_id="alice", agent_id="bot")


@pytest.mark.parametrize(
    ("bound", "requested"),
    [
        ({"user_id": "alice"}, {"user_id": "bob"}),
        ({"user_id": "alice", "run_id": "r1"}, {"run_id": "r2"}),
        # An agent key adding a user_id would move to that user's partition.
        ({"agent_id": "bot"}, {"user_id": "bob"}),
        ({"run_id": "r1"}, {"agent_id": "bot"}),
    ],
)
def test_scoped_key_may_not_address_another_scope(
    keys: KeyStore, bound: dict[str, str], requested: dict[str, str]
) -> None:
    key = keys.create(**bound).key  # type: ignore[arg-type]
    with pytest.raises(ScopeViolationError):
        effective_scope(key, **requested)


def test_admin_key_addresses_what_the_request_names(keys: KeyStore) -> None:
    key = keys.create(admin=True).key
    assert effective_scope(key, user_id="bob", run_id="r") == ScopeIds(user_id="bob", run_id="r")
    assert effective_scope(key).empty


# -- rate limiting ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)

    assert [limiter.acquire("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("k") == pytest.approx(0.5)  # one token per 0.5 s
    clock.now += 0.5
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") > 0
    # Other keys have their own buckets.
    assert limiter.acquire("other") == 0.0
    # Idle time refills up to the burst, not beyond.
    clock.now += 100
    assert [limiter.acquire("k") for _ in range(4)][:3] == [0.0, 0.0, 0.0]
    assert limiter.acquire("k") > 0


def test_retry_after_rounds_up_to_whole_seconds() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1.0, 1), (float("nan"), 1), (1, 0)])
def test_invalid_rate_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(InvalidInputError):
        RateLimiter(rate, burst)
