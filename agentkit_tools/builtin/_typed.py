"""``Annotated`` markers of the text and data tools: ``Limit`` bounds and ``Shape`` returns.

Bounds from settings:
``@tool`` works a schema out once, when the function is decorated, but the text and data tools'
bounds (longest text, most rows) are settings. A parameter annotated
``Annotated[str, Limit("maxLength", "max_text_chars")]`` gets the default limit in its schema
(``@tool`` reads the marker's ``extra_json_schema`` as it reads ``msgspec.Meta``'s), and
:func:`fit_to_limits` gives a tool the bounds of a chosen ``ToolLimits``.

Returns typed by shape: a tool builds its result as a plain ``dict[str, Any]`` and annotates
its return ``Annotated[dict[str, Any], Shape(SomeResult)]``: the ``returns`` schema is the
``TypedDict``'s while the function keeps building plain dicts (no ``TypedDict`` bookkeeping in
the long functions that fill them), and the dict is returned as it is, never copied.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import types
import typing
from dataclasses import dataclass
from typing import Any, Final

from agentkit.tools import FunctionTool, tool
from agentkit_tools.builtin._limits import ToolLimits

__all__ = ["DEFAULT_LIMITS", "Limit", "Shape", "fit_to_limits"]

DEFAULT_LIMITS: Final = ToolLimits()


@dataclass(frozen=True, slots=True)
class Limit:
    """``Annotated`` metadata: the JSON Schema *keyword* takes the ``ToolLimits`` *option*.

    Args:
        keyword: A JSON Schema keyword of the parameter (``maxLength``, ``maxItems``, ...).
        option: The ``ToolLimits`` attribute giving its value.
    """

    keyword: str
    option: str

    def __post_init__(self) -> None:
        if not hasattr(DEFAULT_LIMITS, self.option):
            raise AttributeError(f"ToolLimits has no option {self.option!r}")

    @property
    def extra_json_schema(self) -> dict[str, Any]:
        """The keyword with the default limit (what ``@tool`` puts in the schema)."""
        return {self.keyword: getattr(DEFAULT_LIMITS, self.option)}


@dataclass(frozen=True, slots=True)
class Shape:
    """``Annotated`` metadata: the JSON Schema of *kind* (a ``TypedDict``), for a plain dict.

    Args:
        kind: The type whose schema ``@tool`` works out (as it would for a return annotation).
    """

    kind: Any

    @property
    def extra_json_schema(self) -> dict[str, Any]:
        """The schema of :attr:`kind`."""
        return copy.deepcopy(_schema_of(self.kind))


@functools.cache
def _schema_of(kind: Any) -> dict[str, Any]:
    def shape() -> None:
        return None

    shape.__annotations__ = {"return": kind}
    returns = tool(shape).returns
    assert returns is not None  # a TypedDict always has a schema
    return dict(returns)


def _limits_of(tool: FunctionTool[..., Any]) -> dict[str, list[Limit]]:
    """Each parameter's ``Limit`` markers, read from the original function's annotations."""
    return _limit_marks(tool.original) if tool.original is not None else {}


@functools.cache
def _limit_marks(original: Any) -> dict[str, list[Limit]]:
    """Read once per function: resolving string annotations costs about 0.7 ms a tool."""
    hints = typing.get_type_hints(inspect.unwrap(original), include_extras=True)
    found: dict[str, list[Limit]] = {}
    for name, hint in hints.items():
        if name == "return":
            continue
        # ``Annotated[...] | None`` (an optional bounded parameter) carries its marks inside.
        origin = typing.get_origin(hint)
        members = typing.get_args(hint) if origin in (typing.Union, types.UnionType) else (hint,)
        marks = [
            item
            for member in members
            if typing.get_origin(member) is typing.Annotated
            for item in typing.get_args(member)[1:]
            if isinstance(item, Limit)
        ]
        if marks:
            found[name] = marks
    return found


def _bounded(schema: dict[str, Any], keyword: str, value: int) -> dict[str, Any]:
    """*schema* with *keyword* set to *value*; in an ``anyOf`` (an optional parameter), on the
    branch that carries the keyword."""
    branches = schema.get("anyOf")
    if isinstance(branches, list) and keyword not in schema:
        return {
            **schema,
            "anyOf": [
                {**branch, keyword: value} if keyword in branch else branch for branch in branches
            ],
        }
    return {**schema, keyword: value}


def fit_to_limits(tool: FunctionTool[..., Any], limits: ToolLimits) -> FunctionTool[..., Any]:
    """*tool* with its ``Limit``-marked schema bounds set from *limits* (a new tool)."""
    marked = _limits_of(tool)
    if not marked or limits == DEFAULT_LIMITS:
        return tool
    properties = dict(tool.parameters["properties"])
    for name, marks in marked.items():
        schema = dict(properties[name])
        for mark in marks:
            schema = _bounded(schema, mark.keyword, getattr(limits, mark.option))
        properties[name] = schema
    return dataclasses.replace(tool, parameters={**tool.parameters, "properties": properties})
