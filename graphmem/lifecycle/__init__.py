"""Memory lifecycle: expiry, retention policies, garbage collection, deletion records.

* ``Memory.add(..., expiration_date=...)`` stamps episodes (and the facts they state)
  with ``expires_at``; :func:`is_expired` is the one rule default reads filter by.
* ``Memory.set_retention(..., max_age=...)`` stores a per-scope policy; ``gc`` applies it.
* ``Memory.gc()`` / ``graphmem gc`` purges expired and over-age records and leaves a
  content-free deletion record; ``Memory.deletion_records()`` lists them.
"""

from graphmem.lifecycle.backend import LifecycleBackend, lifecycle_backend
from graphmem.lifecycle.deletions import DELETION_ACTIONS, DeletionRecord
from graphmem.lifecycle.expiry import combine_expiry, parse_expiration, stamp_fact_expiry
from graphmem.lifecycle.gc import GcReport, OwnerPurge, collect_garbage
from graphmem.lifecycle.policy import (
    RetentionPolicy,
    check_max_age,
    policy_key,
    set_retention,
)
from graphmem.lifecycle.visibility import (
    collect_live,
    is_expired,
    live,
    without_expired,
)

__all__ = [
    "DELETION_ACTIONS",
    "DeletionRecord",
    "GcReport",
    "LifecycleBackend",
    "OwnerPurge",
    "RetentionPolicy",
    "check_max_age",
    "collect_garbage",
    "collect_live",
    "combine_expiry",
    "is_expired",
    "lifecycle_backend",
    "live",
    "parse_expiration",
    "policy_key",
    "set_retention",
    "stamp_fact_expiry",
    "without_expired",
]
