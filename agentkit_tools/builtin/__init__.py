"""The built-in tool library: file, web, text, data, math and time tools.

Registered by the ``tools`` plugin with the default :class:`ToolsConfig`; build the library
yourself with :func:`create_builtin_tools_library` to choose the sandbox root, the limits and
the outside services.
"""

from __future__ import annotations

from agentkit_tools.builtin._calc import CalculatorLimits
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._library import create_builtin_tools_library
from agentkit_tools.builtin._limits import ToolLimits

__all__ = ["CalculatorLimits", "ToolLimits", "ToolsConfig", "create_builtin_tools_library"]
