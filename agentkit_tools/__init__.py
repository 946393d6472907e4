"""agentkit-tools: the built-in tool library and the OpenAPI importer, as agentkit plugins.

Loaded through the ``tools`` and ``openapi`` entry points of the ``agentkit`` group, exactly
like a third-party plugin, and built only on the kernel's public API (``agentkit.tools``).
``agentkit_tools.builtin`` holds the library, ``agentkit_tools.openapi`` the importer.
"""

from __future__ import annotations

from agentkit_tools.builtin import (
    CalculatorLimits,
    ToolLimits,
    ToolsConfig,
    create_builtin_tools_library,
)
from agentkit_tools.openapi import (
    APIResponseError,
    OpenAPIError,
    OpenAPILimitError,
    OpenAPIParser,
)

__all__ = [
    "APIResponseError",
    "CalculatorLimits",
    "OpenAPIError",
    "OpenAPILimitError",
    "OpenAPIParser",
    "ToolLimits",
    "ToolsConfig",
    "create_builtin_tools_library",
]
