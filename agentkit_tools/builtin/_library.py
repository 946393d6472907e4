"""The built-in tool library: every text, data, file, web, math and time tool."""

from __future__ import annotations

from agentkit.tools import Tool
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin.data import data_tools
from agentkit_tools.builtin.file import file_tools
from agentkit_tools.builtin.math import math_tools
from agentkit_tools.builtin.text import text_tools
from agentkit_tools.builtin.time import time_tools
from agentkit_tools.builtin.web import web_tools

__all__ = ["create_builtin_tools_library"]


def create_builtin_tools_library(config: ToolsConfig | None = None) -> list[Tool]:
    """Every built-in tool, each carrying its own function, bound to *config*.

    Args:
        config: The sandbox, network guard and providers; default ``ToolsConfig()``: a fresh
            temporary sandbox directory, private addresses refused, no translation or search
            provider.

    Returns:
        The tools, sorted by name; register them with ``ToolRegistry.register_tool``.
    """
    settings = config if config is not None else ToolsConfig()
    tools = [
        *text_tools(settings),
        *data_tools(settings),
        *file_tools(settings),
        *web_tools(settings),
        *math_tools(settings),
        *time_tools(settings),
    ]
    return sorted(tools, key=lambda tool: tool.name)
