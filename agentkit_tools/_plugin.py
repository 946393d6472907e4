"""Hook implementations of the ``tools`` plugin.

This module is imported when the plugin is activated, so it must stay cheap: httpx and the
tool library are imported inside the hooks, never here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from agentkit.protocols import Registry

__all__ = ["agentkit_register_tools"]


@hookimpl
def agentkit_register_tools(registry: Registry) -> None:
    """Add the built-in tools, with the default ``ToolsConfig``, to *registry*."""
    from agentkit_tools._library import create_builtin_tools_library

    for tool in create_builtin_tools_library():
        registry.register_tool(tool)
