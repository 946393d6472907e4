"""Small builders for the JSON Schemas of the built-in tools, and the Tool factory they share."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from agentkit.exceptions import AgentkitError, LimitExceededError, ToolInputError
from agentkit.tools import Tool, ToolHints

__all__ = [
    "ANY",
    "array",
    "boolean",
    "integer",
    "make_tool",
    "number",
    "obj",
    "string",
    "typed_errors",
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
    """A built-in Tool; the defaults fit a pure, fast, read-only function.

    Every built-in tool's function is wrapped by :func:`typed_errors`.
    """
    function = typed_errors(function)
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


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, AgentkitError):
        return exc
    if isinstance(exc, RecursionError):
        return LimitExceededError(
            "the input is nested too deeply to process; flatten it or raise ToolLimits.max_depth"
        )
    if isinstance(exc, MemoryError | OverflowError):
        return LimitExceededError(
            f"the input or result is too large to process ({type(exc).__name__}); use smaller "
            "values or raise the matching ToolLimits option"
        )
    if isinstance(exc, ValueError):
        return ToolInputError(str(exc) or type(exc).__name__)
    return exc


def typed_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """*function* raising agentkit errors only for bad input.

    A plain ``ValueError`` becomes :class:`ToolInputError`; ``RecursionError``, ``MemoryError``
    and ``OverflowError`` become :class:`LimitExceededError`. Other exceptions (bugs) pass.
    """
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await function(*args, **kwargs)
            except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
                translated = _translate(exc)
                if translated is exc:
                    raise
                raise translated from exc

        return run_async

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
            translated = _translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    return run
