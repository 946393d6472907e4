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
    """Add the built-in tools, with the default ``ToolsConfig``, to *registry*.

    A name the registry already holds is left alone: the user registered that tool (perhaps
    the same built-in with a config of their own, such as another sandbox root) and theirs
    wins.
    """
    from agentkit_tools.builtin._library import create_builtin_tools_library

    known = {tool.name for tool in registry.list_tools()}
    for tool in create_builtin_tools_library():
        if tool.name not in known:
            registry.register_tool(tool)
