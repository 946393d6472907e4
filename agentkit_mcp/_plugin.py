"""Hook implementations of the ``mcp`` plugin.

Imported when the plugin is activated, so it stays cheap: the MCP SDK is imported only when a
command runs or a configured MCP server is listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from agentkit.protocols import Registry

__all__ = ["agentkit_add_commands", "agentkit_register_tools"]


@hookimpl
def agentkit_add_commands(commands: Any) -> None:
    """Add ``agentkit mcp serve`` (and ``agentkit mcp tools``) to the command line."""
    from agentkit_mcp._cli import add_mcp_parser

    add_mcp_parser(commands)


@hookimpl
def agentkit_register_tools(registry: Registry) -> None:
    """Add the tools of every MCP server named in ``AGENTKIT_MCP_SERVERS`` to *registry*."""
    from agentkit_mcp._client import register_configured_servers

    register_configured_servers(registry)
