"""agentkit's tools plugin: the built-in tool library and the OpenAPI importer.

Loaded through the ``tools`` entry point of the ``agentkit`` group, exactly like a third-party
plugin. Needs the ``tools`` extra (``pip install 'agentkit-kernel[tools]'``).
"""

from __future__ import annotations

from agentkit_tools._calc import CalculatorLimits as CalculatorLimits
from agentkit_tools._config import ToolsConfig as ToolsConfig
from agentkit_tools._library import create_builtin_tools_library as create_builtin_tools_library
from agentkit_tools._openapi import OpenAPIParser as OpenAPIParser

__all__ = [
    "CalculatorLimits",
    "OpenAPIParser",
    "ToolsConfig",
    "create_builtin_tools_library",
]
