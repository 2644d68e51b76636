"""The MCP server (``graphmem mcp``): memory tools for MCP clients such as Claude.

Needs the ``server`` extra (``pip install graphmem[server]``).
"""

from __future__ import annotations

from graphmem.mcp.server import build_mcp_server, run_mcp_server, scope_from_settings

__all__ = ["build_mcp_server", "run_mcp_server", "scope_from_settings"]
