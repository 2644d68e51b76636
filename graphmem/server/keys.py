"""API keys of the REST server: created once, shown once, stored only as salted hashes.

A key reads ``gm_<id>_<secret>``. The id finds the row; the secret is checked against
its scrypt hash with a per-key salt. A key is either bound to one scope (a user, agent
and/or run) or an *admin* key that may address any scope. Keys live in a small SQLite
file next to the memory store (``<store dir>/keys.sqlite3``), so ``graphmem keys``
works while ``graphmem serve`` is running.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from graphmem.errors import InvalidInputError, NotFoundError
from graphmem.models.scope import Scope
from graphmem.models.time import from_storage, to_storage, utcnow

KEYS_FILE_NAME = "keys.sqlite3"
TOKEN_PREFIX = "gm"
MAX_NAME_CHARS = 200
_ID_HEX_CHARS = 12
_SALT_BYTES = 16
# scrypt's cost protects low-entropy secrets; ours carry 256 random bits, so a moderate
# cost suffices, and verified tokens are remembered in-process (see KeyStore._verified).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_VERIFIED_CACHE_SIZE = 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    user_id TEXT,
    agent_id TEXT,
    run_id TEXT,
    admin INTEGER NOT NULL DEFAULT 0,
    kdf TEXT NOT NULL,
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
"""
_COLUMNS = "id, name, user_id, agent_id, run_id, admin, created_at, revoked_at"


def keys_path(store_dir: Path) -> Path:
    """Where the key store of a memory store directory lives."""
    return store_dir / KEYS_FILE_NAME


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    name: str
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    admin: bool
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def scope(self) -> Scope | None:
        """The scope the key is bound to; None for an admin key."""
        if self.admin:
            return None
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)

    @property
    def active(self) -> bool:
        """False once the key has been revoked."""
        return self.revoked_at is None

    def describe(self) -> str:
        """``admin`` or the bound scope, for tables and logs."""
        scope = self.scope
        return "admin" if scope is None else scope.describe()


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key and its plaintext token, which is never stored and shown only once."""

    key: ApiKey
    token: str


def _hash_secret(secret: str, salt: bytes, kdf: str) -> bytes:
    name, n, r, p = kdf.split("$")
    if name != "scrypt":
        raise InvalidInputError(f"unknown key derivation {name!r}")
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=32)


def _parse_token(token: str) -> tuple[str, str] | None:
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or len(key_id) != _ID_HEX_CHARS or not secret:
        return None
    if any(c not in "0123456789abcdef" for c in key_id):
        return None
    return key_id, secret


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("key name must be a non-empty string")
    if len(name) > MAX_NAME_CHARS or any(ord(c) < 32 for c in name):
        raise InvalidInputError(
            f"key name must be at most {MAX_NAME_CHARS} characters, without control characters"
        )
    return name.strip()


class KeyStore:
    """The API keys of one memory store, in a SQLite file safe for concurrent processes."""

    def __init__(self, path: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # Only hashes are stored, but key names and scopes are nobody else's business.
            self.path.touch(mode=0o600)
        self._verified: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @classmethod
    def for_store(cls, store_dir: Path) -> KeyStore:
        """The key store next to a memory store directory."""
        return cls(keys_path(store_dir))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: cheap for SQLite, and safe from any
        # thread of the server's pool and alongside a ``graphmem keys`` process.
        with closing(sqlite3.connect(self.path, timeout=self._busy_timeout)) as db, db:
            yield db

    def create(
        self,
        name: str | None = None,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        admin: bool = False,
    ) -> CreatedKey:
        """Create a key bound to a scope, or an admin key; returns its token once."""
        has_scope = any(v is not None for v in (user_id, agent_id, run_id))
        if admin and has_scope:
            raise InvalidInputError("an admin key is not bound to a scope; give one or the other")
        if not admin and not has_scope:
            raise InvalidInputError("a key needs user_id, agent_id or run_id, or admin=True")
        scope = None if admin else Scope.of(user_id, agent_id, run_id)
        label = _check_name(name if name is not None else scope.describe() if scope else "admin")
        key_id = secrets.token_hex(_ID_HEX_CHARS // 2)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(_SALT_BYTES)
        kdf = f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}"
        created_at = utcnow()
        with self._connect() as db:
            db.execute(
                "INSERT INTO api_keys (id, name, user_id, agent_id, run_id, admin, kdf, salt, "
                "hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key_id,
                    label,
                    user_id,
                    agent_id,
                    run_id,
                    int(admin),
                    kdf,
                    salt,
                    _hash_secret(secret, salt, kdf),
                    to_storage(created_at),
                ),
            )
        key = ApiKey(key_id, label, user_id, agent_id, run_id, admin, created_at)
        return CreatedKey(key=key, token=f"{TOKEN_PREFIX}_{key_id}_{secret}")

    def list_keys(self, *, include_revoked: bool = True) -> list[ApiKey]:
        """Every key, oldest first."""
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM api_keys{where} ORDER BY created_at, id"
            ).fetchall()
        return [_row_to_key(row) for row in rows]

    def get(self, key_id: str) -> ApiKey:
        """One key by id; :class:`NotFoundError` if there is none."""
        with self._connect() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no API key {key_id!r}")
        return _row_to_key(row)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key for good; revoking twice keeps the first revocation time."""
        with self._connect() as db:
            db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (to_storage(utcnow()), key_id),
            )
        return self.get(key_id)

    def authenticate(self, token: str) -> ApiKey | None:
        """The active key a token belongs to, or None (malformed, unknown, wrong, revoked)."""
        parsed = _parse_token(token) if isinstance(token, str) else None
        if parsed is None:
            return None
        key_id, secret = parsed
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_COLUMNS}, kdf, salt, hash FROM api_keys WHERE id = ?", (key_id,)
            ).fetchone()
        if row is None:
            return None
        key = _row_to_key(row[:8])
        if not key.active:
            return None
        fingerprint = hashlib.sha256(token.encode("utf-8")).digest()
        with self._lock:
            known = self._verified.get(fingerprint)
            if known is not None:
                self._verified.move_to_end(fingerprint)
        if known != key_id:
            kdf, salt, stored = row[8], row[9], row[10]
            if not hmac.compare_digest(_hash_secret(secret, salt, kdf), stored):
                return None
            with self._lock:
                self._verified[fingerprint] = key_id
                while len(self._verified) > _VERIFIED_CACHE_SIZE:
                    self._verified.popitem(last=False)
        return key


def _row_to_key(row: tuple[object, ...]) -> ApiKey:
    key_id, name, user_id, agent_id, run_id, admin, created_at, revoked_at = row
    created = from_storage(str(created_at))
    assert created is not None
    return ApiKey(
        id=str(key_id),
        name=str(name),
        user_id=None if user_id is None else str(user_id),
        agent_id=None if agent_id is None else str(agent_id),
        run_id=None if run_id is None else str(run_id),
        admin=bool(admin),
        created_at=created,
        revoked_at=from_storage(None if revoked_at is None else str(revoked_at)),
    )


__all__ = ["ApiKey", "CreatedKey", "KeyStore", "keys_path"]
