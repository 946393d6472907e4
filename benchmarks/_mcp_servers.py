"""The two MCP servers the MCP benchmark calls, each serving one tool ``add(a, b)``.

``python benchmarks/_mcp_servers.py agentkit|fastmcp stdio|http [PORT]``: agentkit's
``RegistryServer`` over a registry holding the tool, or a minimal FastMCP server with the same
function. Both answer ``{"sum": a + b}``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


def add(a: int, b: int) -> dict[str, Any]:
    """Add two integers."""
    return {"sum": a + b}


def agentkit(transport: str, port: int) -> None:
    """Serve ``add`` with agentkit-mcp's RegistryServer."""
    from agentkit import Tool, ToolRegistry
    from agentkit_mcp import RegistryServer

    registry = ToolRegistry()
    registry.register_tool(
        Tool(
            name="add",
            description="Add two integers.",
            parameters={
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
                "additionalProperties": False,
            },
            returns={
                "type": "object",
                "properties": {"sum": {"type": "integer"}},
                "required": ["sum"],
            },
            function=add,
        )
    )
    server = RegistryServer(registry, name="bench")
    if transport == "stdio":
        asyncio.run(server.run_stdio())
    else:
        asyncio.run(server.run_http("127.0.0.1", port))


def fastmcp(transport: str, port: int) -> None:
    """Serve ``add`` with a minimal FastMCP server."""
    from fastmcp import FastMCP

    server = FastMCP("bench")
    server.tool(add)
    if transport == "stdio":
        server.run(transport="stdio", show_banner=False)
    else:
        server.run(transport="http", host="127.0.0.1", port=port, show_banner=False)


if __name__ == "__main__":
    kind, mode = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    {"agentkit": agentkit, "fastmcp": fastmcp}[kind](mode, port)
