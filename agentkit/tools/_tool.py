"""What a tool is and what running one gives back."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from agentkit.tools._from_function import FunctionTool

__all__ = [
    "MAX_TOOL_TEXT",
    "TOOL_NAME_PATTERN",
    "Tool",
    "ToolHints",
    "ToolResult",
    "fit_description",
    "tool_text_size",
]

#: Tool names: what OpenAI, Anthropic and MCP all accept.
TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

#: The most characters a tool's description, category and tags may hold together.
#: ``search_tools`` lowercases them when the tool is registered, on the event loop: at this
#: size that stays within a few milliseconds for any characters (lowercasing some, such as
#: ``İ``, costs about 70 ns each), and no model needs a longer tool description.
MAX_TOOL_TEXT: Final = 100_000

#: What :func:`fit_description` puts where it cut a description short.
_CLIPPED: Final = " …"

#: Where agentkit.tools._from_function puts the function behind ``Tool.from_function``.
_FROM_FUNCTION: dict[str, Callable[..., Any]] = {}

_EMPTY_OBJECT_SCHEMA: Mapping[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolHints:
    """Behaviour hints, exported as MCP tool annotations.

    ``read_only``: changes nothing. ``destructive``: may delete or overwrite.
    ``idempotent``: calling twice with the same arguments does no more than once.
    ``open_world``: talks to things outside the process (the web, a service).
    """

    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False


@dataclass(frozen=True, kw_only=True, slots=True, eq=True)
class Tool:
    """A callable capability with JSON-Schema parameters and return value.

    The function is called with the validated parameters as keyword arguments:
    ``function(**params)``; it may be sync or async. A sync function with
    ``blocking=True`` (the default) runs in a worker thread; a pure, fast one marked
    ``blocking=False`` runs inline on the event loop.

    Args:
        name: ``^[a-zA-Z0-9_-]{1,64}$``; built-ins are ``<category>_<verb>``.
        description: What it does, for the model choosing it.
        category: e.g. ``text``, ``data``, ``file``, ``web``, ``math``, ``time``.
        parameters: JSON Schema (draft 2020-12; draft-07 accepted) of the arguments object.
        returns: JSON Schema of the return value, or None.
        tags: Free-form labels for listing and search.
        version: The tool's own version.
        timeout: Default seconds per call (None: no limit); ``execute_tool`` may override.
        hints: Behaviour hints (read-only, destructive, idempotent, open-world).
        blocking: Whether a sync function must run off the event loop.
        function: The implementation; None for a tool whose executor is given at registration.
    """

    name: str
    description: str
    category: str = "general"
    parameters: Mapping[str, Any] = field(default_factory=lambda: dict(_EMPTY_OBJECT_SCHEMA))
    returns: Mapping[str, Any] | None = None
    tags: tuple[str, ...] = ()
    version: str = "1.0.0"
    timeout: float | None = 30.0
    hints: ToolHints = field(default_factory=ToolHints)
    blocking: bool = True
    function: Callable[..., Any] | None = field(default=None, compare=True, repr=False)

    @classmethod
    def from_function(
        cls, function: Callable[..., Any], /, **options: Any
    ) -> FunctionTool[..., Any]:
        """The tool for a typed *function*, as the :func:`agentkit.tools.tool` decorator makes
        it (same options: ``name``, ``category``, ``tags``, ``hints``, ``timeout``, ...)."""
        # Set by agentkit.tools._from_function (which needs this module, so no import back).
        make: Callable[..., FunctionTool[..., Any]] = _FROM_FUNCTION["make"]
        return make(function, **options)


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolResult:
    """The outcome of ``execute_tool``: tool failures are reported here, not raised.

    ``error_type`` is ``"validation"`` (bad arguments; ``error_path`` is a JSON pointer to the
    offending value, e.g. ``/max_length``), ``"timeout"``, ``"not_configured"`` (a tool needing
    an outside service that has none), or the exception's class name for a failure inside the
    tool. ``duration`` is in seconds.
    """

    tool: str
    success: bool
    output: Any = None
    error: str | None = None
    error_type: str | None = None
    error_path: str | None = None
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this result."""
        return {
            "tool": self.tool,
            "success": self.success,
            "output": self.output,
            "error": self.error,
            "error_type": self.error_type,
            "error_path": self.error_path,
            "duration": self.duration,
        }


def tool_text_size(description: str, category: str, tags: Sequence[str]) -> int:
    """The characters a tool's *description*, *category* and *tags* hold together, one more
    per tag (the space that joins them for search): what :data:`MAX_TOOL_TEXT` bounds."""
    return len(description) + len(category) + sum(map(len, tags)) + len(tags)


def fit_description(
    description: str, *, category: str = "general", tags: Sequence[str] = ()
) -> str:
    """*description*, cut short (ending in `` …``) where needed so that together with
    *category* and *tags* it holds at most :data:`MAX_TOOL_TEXT` characters.

    For importers that build tools from text they do not control (OpenAPI specs, MCP
    servers): a description that fits is returned as it is.
    """
    if tool_text_size(description, category, tags) <= MAX_TOOL_TEXT:
        return description
    room = MAX_TOOL_TEXT - tool_text_size("", category, tags) - len(_CLIPPED)
    return description[:room] + _CLIPPED if room > 0 else ""
