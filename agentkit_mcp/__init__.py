"""agentkit-mcp: the Model Context Protocol both ways, on the official ``mcp`` SDK.

* :class:`RegistryServer` serves a :class:`~agentkit.ToolRegistry` to any MCP client over
  stdio or Streamable HTTP (``agentkit mcp serve`` on the command line): every tool with its
  schemas and hints, failures as ``isError`` results, ``tools/list`` paginated, and
  ``tools/list_changed`` when tools come and go.
* :class:`MCPServerTools` brings the tools of any MCP server (a stdio command or a Streamable
  HTTP URL) into a registry as ordinary tools; ``AGENTKIT_MCP_SERVERS`` does it from
  configuration (agentkit as an aggregating MCP proxy).
* :func:`swarm_tools` turns an :class:`~agentkit.AgentSwarm` into tools, so an MCP client can
  ask a swarm of agents to vote or to share work.

Loaded through the ``mcp`` entry point of the ``agentkit`` group; built only on public API.
"""

from __future__ import annotations

from agentkit_mcp._client import (
    ENV_VAR,
    MCPConnectionError,
    MCPServerTools,
    MCPToolError,
    load_server_specs,
    register_configured_servers,
    source_from_spec,
)
from agentkit_mcp._server import (
    DEFAULT_PAGE_SIZE,
    OutputSchemaPolicy,
    RegistryServer,
    create_server,
    trusted_output_schemas,
)
from agentkit_mcp._swarm import MAX_SWARM_TASKS, MAX_SWARM_TIMEOUT, swarm_tools
from agentkit_mcp._version import __version__

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "ENV_VAR",
    "MAX_SWARM_TASKS",
    "MAX_SWARM_TIMEOUT",
    "MCPConnectionError",
    "MCPServerTools",
    "MCPToolError",
    "OutputSchemaPolicy",
    "RegistryServer",
    "__version__",
    "create_server",
    "load_server_specs",
    "register_configured_servers",
    "source_from_spec",
    "swarm_tools",
    "trusted_output_schemas",
]
