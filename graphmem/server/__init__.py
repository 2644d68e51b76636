"""The REST server (``graphmem serve``): the Memory API over HTTP, with API keys.

Needs the ``server`` extra (``pip install 'graphmem[server]'``). Names are imported on
first use, so the key store (``graphmem keys``) works without the web stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphmem.server.app import create_app
    from graphmem.server.keys import ApiKey, CreatedKey, KeyStore, keys_path
    from graphmem.server.state import ServerSettings

_EXPORTS = {
    "ApiKey": "graphmem.server.keys",
    "CreatedKey": "graphmem.server.keys",
    "KeyStore": "graphmem.server.keys",
    "ServerSettings": "graphmem.server.state",
    "create_app": "graphmem.server.app",
    "keys_path": "graphmem.server.keys",
}

__all__ = ["ApiKey", "CreatedKey", "KeyStore", "ServerSettings", "create_app", "keys_path"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'graphmem.server' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
