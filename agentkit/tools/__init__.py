"""Tools: the :class:`Tool` type, the validated :class:`ToolRegistry`, and exports.

The kit a tool package builds on (agentkit-tools is built on it, as a third party would be):
:class:`Tool` and :class:`ToolHints`; :func:`tool`, which makes a :class:`FunctionTool` from
a typed function (as ``Tool.from_function`` does), with :class:`Injected` parameters given in
code by ``FunctionTool.bind``; :data:`TOOL_NAME_PATTERN`; linear-time regular
expressions for user-supplied patterns (:func:`compile_pattern`, :class:`SafePattern`,
:func:`escape`); the bound on a tool's searchable text (:data:`MAX_TOOL_TEXT`,
:func:`fit_description`); JSON Schema checks (:func:`compile_schema`,
:data:`LINEAR_TIME_KEYWORDS`); and the exports to OpenAI, Anthropic and MCP tool definitions.
"""

from __future__ import annotations

from agentkit.tools._export import (
    anthropic_strict_schema,
    from_openai_strict_arguments,
    mcp_structured_content,
    openai_strict_schema,
    strict_problem,
    to_anthropic_tool,
    to_mcp_tool,
    to_openai_tool,
)
from agentkit.tools._from_function import FunctionTool, Injected, tool
from agentkit.tools._regex import (
    MAX_PATTERN_LENGTH,
    SafeMatch,
    SafePattern,
    compile_pattern,
    escape,
)
from agentkit.tools._registry import ToolRegistry
from agentkit.tools._tool import (
    MAX_TOOL_TEXT,
    TOOL_NAME_PATTERN,
    Tool,
    ToolHints,
    ToolResult,
    fit_description,
    tool_text_size,
)
from agentkit.tools._validation import (
    LINEAR_TIME_KEYWORDS,
    SchemaValidator,
    SchemaViolation,
    compile_schema,
)

__all__ = [
    "FunctionTool",
    "Injected",
    "LINEAR_TIME_KEYWORDS",
    "MAX_PATTERN_LENGTH",
    "MAX_TOOL_TEXT",
    "SafeMatch",
    "SafePattern",
    "SchemaValidator",
    "SchemaViolation",
    "TOOL_NAME_PATTERN",
    "Tool",
    "ToolHints",
    "ToolRegistry",
    "ToolResult",
    "anthropic_strict_schema",
    "compile_pattern",
    "compile_schema",
    "escape",
    "fit_description",
    "from_openai_strict_arguments",
    "mcp_structured_content",
    "openai_strict_schema",
    "strict_problem",
    "to_anthropic_tool",
    "to_mcp_tool",
    "to_openai_tool",
    "tool",
    "tool_text_size",
]
