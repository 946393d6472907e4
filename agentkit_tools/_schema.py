"""Small builders for the JSON Schemas of the built-in tools, and the Tool factory they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agentkit._tool import Tool, ToolHints

__all__ = [
    "ANY",
    "array",
    "boolean",
    "integer",
    "make_tool",
    "number",
    "obj",
    "string",
]

Schema = dict[str, Any]

#: Any JSON value.
ANY: Schema = {}


def string(description: str = "", **extra: Any) -> Schema:
    """A string schema."""
    return _with({"type": "string"}, description, extra)


def integer(description: str = "", **extra: Any) -> Schema:
    """An integer schema."""
    return _with({"type": "integer"}, description, extra)


def number(description: str = "", **extra: Any) -> Schema:
    """A number schema."""
    return _with({"type": "number"}, description, extra)


def boolean(description: str = "", **extra: Any) -> Schema:
    """A boolean schema."""
    return _with({"type": "boolean"}, description, extra)


def array(items: Schema, description: str = "", **extra: Any) -> Schema:
    """An array schema."""
    return _with({"type": "array", "items": items}, description, extra)


def obj(
    properties: Mapping[str, Schema],
    required: tuple[str, ...] | list[str] = (),
    *,
    description: str = "",
    closed: bool = True,
) -> Schema:
    """An object schema; *closed* forbids properties not listed."""
    schema: Schema = {"type": "object", "properties": dict(properties)}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def _with(schema: Schema, description: str, extra: Mapping[str, Any]) -> Schema:
    if description:
        schema["description"] = description
    schema.update(extra)
    return schema


def make_tool(
    function: Callable[..., Any],
    *,
    name: str,
    description: str,
    category: str,
    parameters: Schema,
    returns: Schema,
    tags: tuple[str, ...] = (),
    read_only: bool = True,
    destructive: bool = False,
    idempotent: bool = True,
    open_world: bool = False,
    blocking: bool = False,
    timeout: float | None = 30.0,
) -> Tool:
    """A built-in Tool; the defaults fit a pure, fast, read-only function."""
    return Tool(
        name=name,
        description=description,
        category=category,
        parameters=parameters,
        returns=returns,
        tags=(category, *tags),
        timeout=timeout,
        hints=ToolHints(
            read_only=read_only,
            destructive=destructive,
            idempotent=idempotent,
            open_world=open_world,
        ),
        blocking=blocking,
        function=function,
    )
