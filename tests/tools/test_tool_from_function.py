"""Tools from typed functions: @tool and Tool.from_function (agentkit.tools._from_function)."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal, NotRequired, Optional, TypedDict

import annotated_types as at
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import agentkit
from agentkit import Tool, ToolHints, ToolRegistrationError, ToolRegistry, tool
from agentkit.tools import (
    FunctionTool,
    Injected,
    compile_schema,
    to_anthropic_tool,
    to_mcp_tool,
    to_openai_tool,
)


class Color(enum.Enum):
    """A colour."""

    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


@dataclasses.dataclass
class Point:
    """A point in the plane."""

    x: float
    y: float = 0.0


class Box(msgspec.Struct):
    """A box."""

    width: int
    height: int = 1


class Person(TypedDict):
    name: str
    age: NotRequired[int]


class Node(msgspec.Struct):
    children: list[Node]


def make_function(
    annotations: dict[str, Any],
    defaults: dict[str, Any] | None = None,
    received: list[dict[str, Any]] | None = None,
    name: str = "generated",
) -> Callable[..., Any]:
    """A function with the given annotated keyword parameters that records what it receives."""
    defaults = defaults or {}

    def generated(**kwargs: Any) -> None:
        if received is not None:
            received.append(kwargs)

    generated.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                key,
                inspect.Parameter.KEYWORD_ONLY,
                default=defaults.get(key, inspect.Parameter.empty),
                annotation=value,
            )
            for key, value in annotations.items()
        ]
    )
    generated.__annotations__ = dict(annotations)
    generated.__name__ = name
    return generated


ANNOTATIONS: list[tuple[Any, dict[str, Any]]] = [
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (str, {"type": "string"}),
    (bool, {"type": "boolean"}),
    (None, {"type": "null"}),
    (Optional[int], {"type": ["integer", "null"]}),  # noqa: UP045 - the typing spelling
    (int | None, {"type": ["integer", "null"]}),
    (int | str, {"type": ["integer", "string"]}),
    (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
    (Literal[1, "x"], {"type": ["integer", "string"], "enum": [1, "x"]}),
    (Color, {"description": "A colour.", "type": "string", "enum": ["red", "blue"]}),
    (Size, {"type": "integer", "enum": [1, 2]}),
    (list[int], {"type": "array", "items": {"type": "integer"}}),
    (list[list[str]], {"type": "array", "items": {"type": "array", "items": {"type": "string"}}}),
    (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
    (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
    (
        tuple[int, str],
        {
            "type": "array",
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "items": False,
            "minItems": 2,
        },
    ),
    (
        Annotated[int, at.Ge(1), at.Lt(10)],
        {"type": "integer", "minimum": 1, "exclusiveMaximum": 10},
    ),
    (Annotated[float, at.Gt(0), at.Le(1)], {"type": "number", "exclusiveMinimum": 0, "maximum": 1}),
    (
        Annotated[str, at.MinLen(1), at.MaxLen(5)],
        {"type": "string", "minLength": 1, "maxLength": 5},
    ),
    (
        Annotated[list[int], at.MaxLen(3)],
        {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
    ),
    (Annotated[str, msgspec.Meta(pattern="^[a-z]+$")], {"type": "string", "pattern": "^[a-z]+$"}),
    (Annotated[Optional[int], at.Ge(0)], {"type": ["integer", "null"], "minimum": 0}),  # noqa: UP045
    (Annotated[int, "How many."], {"type": "integer", "description": "How many."}),
    (
        Annotated[int, msgspec.Meta(ge=0, description="Count.")],
        {"type": "integer", "description": "Count.", "minimum": 0},
    ),
    (
        Point,
        {
            "description": "A point in the plane.",
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            "required": ["x"],
            "additionalProperties": False,
        },
    ),
    (
        Box,
        {
            "description": "A box.",
            "type": "object",
            "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
            "required": ["width"],
            "additionalProperties": False,
        },
    ),
    (
        Person,
        {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name"],
            "additionalProperties": False,
        },
    ),
    (
        Point | None,
        {
            "anyOf": [
                {
                    "description": "A point in the plane.",
                    "type": "object",
                    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                    "required": ["x"],
                    "additionalProperties": False,
                },
                {"type": "null"},
            ]
        },
    ),
]


@pytest.mark.parametrize(("annotation", "expected"), ANNOTATIONS)
def test_annotation_schema(annotation: Any, expected: dict[str, Any]) -> None:
    """Each supported annotation becomes the expected JSON Schema for its parameter."""
    made = Tool.from_function(make_function({"value": annotation}))
    assert made.parameters == {
        "type": "object",
        "properties": {"value": expected},
        "required": ["value"],
        "additionalProperties": False,
    }
    compile_schema(made.parameters)  # a valid schema the registry accepts


def test_bare_decorator_reads_name_docstring_and_defaults() -> None:
    """Bare @tool takes the name, the summary, argument descriptions and defaults."""

    @tool
    def shorten(text: str, max_length: int = 100) -> str:
        """Cut a text short.

        Longer explanation that is not part of the summary.

        Args:
            text: The text to cut.
            max_length (int): Most characters kept,
                counted in code points.
        """
        return text[:max_length]

    assert isinstance(shorten, Tool)
    assert isinstance(shorten, FunctionTool)
    assert shorten.name == "shorten"
    assert shorten.description == "Cut a text short."
    assert shorten.parameters == {
        "type": "object",
        "properties": {
            "text": {"description": "The text to cut.", "type": "string"},
            "max_length": {
                "description": "Most characters kept, counted in code points.",
                "type": "integer",
                "default": 100,
            },
        },
        "required": ["text"],
        "additionalProperties": False,
    }
    assert shorten.returns == {"type": "string"}
    assert shorten.blocking is True
    assert shorten.category == "general"
    assert shorten("abcdef", 3) == "abc"  # still callable as the function


def test_decorator_options() -> None:
    """@tool(...) options set the name, category, tags, hints, timeout, version and blocking."""

    @tool(
        name="text_upper",
        description="Upper-case a text.",
        category="text",
        tags=["strings"],
        read_only=True,
        idempotent=True,
        timeout=5.0,
        version="2.1.0",
        blocking=False,
    )
    def upper(text: str) -> str:
        return text.upper()

    assert (upper.name, upper.description, upper.category) == (
        "text_upper",
        "Upper-case a text.",
        "text",
    )
    assert upper.tags == ("strings",)
    assert upper.hints == ToolHints(read_only=True, idempotent=True)
    assert (upper.timeout, upper.version, upper.blocking) == (5.0, "2.1.0", False)
    hinted = Tool.from_function(upper.function, name="u2", hints=ToolHints(destructive=True))
    assert hinted.hints == ToolHints(destructive=True)
    with pytest.raises(ToolRegistrationError, match="not both"):
        tool(hints=ToolHints(), read_only=True)(upper.function)


def test_numpy_and_sphinx_docstrings() -> None:
    """NumPy ``Parameters`` sections and Sphinx ``:param:`` lines describe the arguments."""

    def numpy_style(a: int, b: str) -> None:
        """Do a thing.

        Parameters
        ----------
        a : int
            The first one,
            on two lines.
        b : str
            The second one.

        Returns
        -------
        None
        """

    def sphinx_style(a: int) -> None:
        """Do another thing.

        :param a: The only one.
        """

    numpy_tool = Tool.from_function(numpy_style)
    assert numpy_tool.description == "Do a thing."
    properties = numpy_tool.parameters["properties"]
    assert properties["a"]["description"] == "The first one, on two lines."
    assert properties["b"]["description"] == "The second one."
    sphinx_tool = Tool.from_function(sphinx_style)
    assert sphinx_tool.parameters["properties"]["a"]["description"] == "The only one."
    assert sphinx_tool.description == "Do another thing."


async def test_arguments_are_converted_to_the_annotated_types() -> None:
    """Struct, dataclass, TypedDict, Enum, tuple and Literal arguments arrive converted."""
    seen: dict[str, Any] = {}

    @tool
    def take(
        box: Box,
        point: Point,
        person: Person,
        color: Color,
        size: Size,
        pair: tuple[int, str],
        mode: Literal["fast", "slow"],
        ratio: float,
        points: list[Point],
    ) -> None:
        """Record the arguments."""
        seen.update(locals())

    registry = ToolRegistry()
    registry.register_tool(take)
    result = await registry.execute_tool(
        "take",
        {
            "box": {"width": 2},
            "point": {"x": 1},
            "person": {"name": "Ada"},
            "color": "blue",
            "size": 2,
            "pair": [1, "a"],
            "mode": "slow",
            "ratio": 3,
            "points": [{"x": 1.5, "y": 2}],
        },
    )
    assert result.success, result.error
    assert seen["box"] == Box(width=2, height=1)
    assert seen["point"] == Point(x=1.0)
    assert seen["person"] == {"name": "Ada"}
    assert seen["color"] is Color.BLUE
    assert seen["size"] is Size.LARGE
    assert seen["pair"] == (1, "a")
    assert type(seen["pair"]) is tuple
    assert seen["mode"] == "slow"
    assert type(seen["ratio"]) is float
    assert seen["points"] == [Point(1.5, 2.0)]


async def test_struct_return_value_becomes_json() -> None:
    """A Struct or dataclass return value is given back as JSON-ready builtins."""

    @tool
    async def grow(box: Box) -> Box:
        """Double a box."""
        return Box(width=box.width * 2, height=box.height * 2)

    assert grow.returns is not None
    assert grow.returns["type"] == "object"
    registry = ToolRegistry(validate_output=True)
    registry.register_tool(grow)
    result = await registry.execute_tool("grow", {"box": {"width": 1, "height": 3}})
    assert result.success, result.error
    assert result.output == {"width": 2, "height": 6}


async def test_async_and_sync_functions() -> None:
    """An async function is awaited (blocking False), a sync one runs in a thread by default."""
    threads: list[str] = []

    @tool
    async def later(x: int) -> int:
        """Add one, later."""
        await asyncio.sleep(0)
        return x + 1

    @tool
    def now(x: int) -> int:
        """Add one, now."""
        threads.append(threading.current_thread().name)
        return x + 1

    assert later.blocking is False
    assert now.blocking is True
    registry = ToolRegistry()
    registry.register_tool(later)
    registry.register_tool(now)
    assert (await registry.execute_tool("later", {"x": 1})).output == 2
    assert (await registry.execute_tool("now", {"x": 2})).output == 3
    assert threads
    assert threads[0] != threading.current_thread().name
    assert await later(5) == 6  # the async function itself, still callable


async def test_registry_round_trip_validates_before_the_call() -> None:
    """Valid arguments run the function; invalid ones fail validation with a pointer, unrun."""
    calls: list[tuple[int, Color]] = []

    @tool
    def paint(count: Annotated[int, at.Ge(1)], color: Color = Color.RED) -> str:
        """Paint things."""
        calls.append((count, color))
        return f"{count} {color.value}"

    registry = ToolRegistry()
    registry.register_tool(paint)
    ok = await registry.execute_tool("paint", {"count": 2})
    assert ok.success
    assert ok.output == "2 red"
    for bad, pointer in (
        ({"count": 0}, "/count"),
        ({"count": 1, "color": "green"}, "/color"),
        ({"count": 1, "extra": True}, ""),
        ({}, ""),
    ):
        failed = await registry.execute_tool("paint", bad)
        assert not failed.success
        assert failed.error_type == "validation"
        assert failed.error_path == pointer
    assert calls == [(2, Color.RED)]


async def test_positional_only_parameters_and_integral_floats() -> None:
    """Positional-only parameters get their defaults filled in; 2.0 reaches an int as 2."""
    seen: list[tuple[Any, ...]] = []

    @tool
    def scale(a: int, b: int = 3, /, c: int = 0) -> int:
        """Scale a number."""
        seen.append((a, b, c))
        return a * b + c

    registry = ToolRegistry()
    registry.register_tool(scale)
    result = await registry.execute_tool("scale", {"a": 2.0, "c": 1})
    assert result.output == 7
    assert seen == [(2, 3, 1)]
    assert type(seen[0][0]) is int


def _plain_any(x: object) -> None: ...


def _callable(x: Callable[[int], int]) -> None: ...


def _set(x: set[int]) -> None: ...


def _class(x: ToolRegistry) -> None: ...


def _args(*items: int) -> None: ...


def _kwargs(**options: int) -> None: ...


def _missing(x) -> None:  # type: ignore[no-untyped-def]
    ...


def _dict_keys(x: dict[int, str]) -> None: ...


def _recursive(x: Node) -> None: ...


@pytest.mark.parametrize(
    ("function", "fragment"),
    [
        (_plain_any, "'x': type object"),
        (_callable, "'x': type Callable"),
        (_set, "'x': type set[int]"),
        (_class, "'x': type ToolRegistry"),
        (_args, "*items"),
        (_kwargs, "**options"),
        (_missing, "'x': missing type annotation"),
        (_dict_keys, "'x': type dict[int, str] has keys"),
        (_recursive, "recursive"),
    ],
)
def test_unsupported_annotations_fail_at_decoration(
    function: Callable[..., Any], fragment: str
) -> None:
    """An annotation with no JSON Schema is refused at decoration, naming the parameter."""
    with pytest.raises(ToolRegistrationError) as caught:
        tool(function)
    assert fragment in str(caught.value)


def test_bad_names_fail_at_decoration() -> None:
    """A function name that is not a valid tool name needs name=..."""
    with pytest.raises(ToolRegistrationError, match="invalid tool name"):
        Tool.from_function(lambda x: x)


def test_exports_accept_generated_schemas() -> None:
    """OpenAI (strict), Anthropic and MCP exports take the generated schemas."""

    @tool(read_only=True)
    def find(
        query: str, limit: int = 10, color: Color | None = None, where: Point | None = None
    ) -> list[str]:
        """Find things."""
        return []

    strict = to_openai_tool(find, strict=True)["function"]
    assert strict["strict"] is True
    assert set(strict["parameters"]["required"]) == {"query", "limit", "color", "where"}
    anthropic = to_anthropic_tool(find)
    assert anthropic["input_schema"] == find.parameters
    mcp = to_mcp_tool(find)
    assert mcp["inputSchema"] == find.parameters
    assert mcp["annotations"]["readOnlyHint"] is True
    assert mcp["outputSchema"]["properties"]["result"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_root_reexports_tool() -> None:
    """``agentkit.tool`` is the decorator from ``agentkit.tools``."""
    from agentkit import tools

    assert agentkit.tool is tools.tool


SCALAR_TYPES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (int, st.integers(-5, 5)),
    (float, st.floats(-5, 5, allow_nan=False)),
    (str, st.text(max_size=3)),
    (bool, st.booleans()),
    (Literal["a", "b", 3], st.sampled_from(["a", "b", 3])),
    (list[int], st.lists(st.integers(-5, 5), max_size=2)),
    (Optional[int], st.none() | st.integers(-5, 5)),  # noqa: UP045
]


def _has_type(value: Any, annotation: Any) -> bool:
    if annotation is int:
        return type(value) is int
    if annotation is float:
        return type(value) is float
    if annotation is str:
        return type(value) is str
    if annotation is bool:
        return type(value) is bool
    if annotation == list[int]:
        return type(value) is list and all(type(item) is int for item in value)
    if annotation == Optional[int]:  # noqa: UP045
        return value is None or type(value) is int
    return value in ("a", "b", 3) and type(value) is not bool


def _values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for a property schema (hypothesis-jsonschema's object strategy does not run
    with this hypothesis version, so objects and arrays are built here)."""
    if schema.get("type") == "array":
        return st.lists(from_schema(schema["items"]), max_size=3)
    return from_schema(schema)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_generated_arguments_reach_the_function_typed(data: st.DataObject) -> None:
    """For random signatures, schema-valid arguments are accepted and arrive with their types."""
    chosen = data.draw(
        st.lists(st.sampled_from(range(len(SCALAR_TYPES))), max_size=5), label="types"
    )
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for index, kind in enumerate(chosen):
        annotation, values = SCALAR_TYPES[kind]
        annotations[f"p{index}"] = annotation
        if data.draw(st.booleans(), label=f"default p{index}"):
            defaults[f"p{index}"] = data.draw(values, label=f"default value p{index}")
    received: list[dict[str, Any]] = []
    made = Tool.from_function(make_function(annotations, defaults, received))
    required = {key for key in annotations if key not in defaults}
    assert set(made.parameters.get("required", ())) == required
    arguments: dict[str, Any] = {}
    for key, sub in made.parameters["properties"].items():
        if key in required or data.draw(st.booleans(), label=f"give {key}"):
            arguments[key] = data.draw(_values(sub), label=key)
    assert compile_schema(made.parameters).is_valid(arguments)
    registry = ToolRegistry()
    registry.register_tool(made)
    result = asyncio.run(registry.execute_tool("generated", arguments))
    assert result.success, result.error
    assert len(received) == 1
    assert received[0].keys() == arguments.keys()
    for key, value in received[0].items():
        assert _has_type(value, annotations[key]), (key, value, annotations[key])


@dataclasses.dataclass(frozen=True)
class _Settings:
    prefix: str


async def test_injected_parameters_stay_out_of_the_schema_and_come_from_bind() -> None:
    """An Injected parameter is not in the schema; bind gives it; unbound calls are refused."""
    seen: list[_Settings] = []

    @tool
    def greet(name: str, *, settings: Annotated[_Settings, Injected]) -> str:
        """Greet someone.

        Args:
            name: Who.
        """
        seen.append(settings)
        return f"{settings.prefix} {name}"

    assert set(greet.parameters["properties"]) == {"name"}
    assert greet.injected == ("settings",)
    registry = ToolRegistry()
    registry.register_tool(greet)
    unbound = await registry.execute_tool("greet", {"name": "Ada"})
    assert not unbound.success
    assert unbound.error_type == "not_configured"
    assert "bind" in (unbound.error or "")
    bound = greet.bind(settings=_Settings("Hello"))
    assert bound.injected == ("settings",)
    assert bound.bound == {"settings": _Settings("Hello")}
    assert bound.parameters == greet.parameters
    registry.register_tool(bound, replace=True)
    result = await registry.execute_tool("greet", {"name": "Ada"})
    assert result.output == "Hello Ada"
    refused = await registry.execute_tool("greet", {"name": "Ada", "settings": {"prefix": "x"}})
    assert refused.error_type == "validation"  # a caller cannot supply it
    assert bound("Bob") == "Hello Bob"  # direct calls get the bound value too
    rebound = bound.bind(settings=_Settings("Hi"))
    assert rebound("Cy") == "Hi Cy"
    assert seen == [_Settings("Hello"), _Settings("Hello"), _Settings("Hi")]


async def test_bind_async_tools_and_injected_defaults() -> None:
    """An async tool keeps being awaited when bound; an Injected default needs no bind."""

    @tool
    async def scaled(value: float, factor: Annotated[float, Injected()] = 2.0) -> float:
        """Scale a value."""
        return value * factor

    assert scaled.injected == ("factor",)
    registry = ToolRegistry()
    registry.register_tool(scaled)
    assert (await registry.execute_tool("scaled", {"value": 3})).output == 6.0
    registry.register_tool(scaled.bind(factor=10.0), replace=True)
    assert (await registry.execute_tool("scaled", {"value": 3})).output == 30.0


def test_bind_refuses_unknown_names_and_positional_only_injection() -> None:
    """bind names only Injected parameters; a positional-only Injected one fails at decoration."""

    @tool
    def echo(text: str, *, config: Annotated[int, Injected] = 0) -> str:
        """Echo."""
        return text

    with pytest.raises(ToolRegistrationError, match="text"):
        echo.bind(text="x")

    def positional(config: Annotated[int, Injected], /, text: str) -> str:
        return text

    with pytest.raises(ToolRegistrationError, match="must be named"):
        tool(positional)


def test_extra_json_schema_keywords_are_merged() -> None:
    """msgspec.Meta(extra_json_schema=...) adds its keywords to the parameter's schema."""

    @tool
    def pick(
        tags: Annotated[list[str], msgspec.Meta(extra_json_schema={"uniqueItems": True})],
    ) -> int:
        """Count distinct tags."""
        return len(tags)

    assert pick.parameters["properties"]["tags"] == {
        "type": "array",
        "items": {"type": "string"},
        "uniqueItems": True,
    }
    assert not compile_schema(pick.parameters).is_valid({"tags": ["a", "a"]})


def test_direct_call_runs_the_decorated_function_even_if_it_wraps_another() -> None:
    """Calling the tool runs the function given to @tool, not whatever that one wraps."""

    def inner(text: str) -> str:
        return text

    @functools.wraps(inner)
    def loud(text: str) -> str:
        return inner(text).upper()

    made = tool(loud)
    assert made.original is loud
    assert made("hi") == "HI"


class _Row(TypedDict):
    name: str
    score: float


def test_plain_json_returns_are_not_copied() -> None:
    """A TypedDict or list return is handed back as built; only non-JSON values are converted."""
    rows: list[_Row] = [{"name": "a", "score": 1.5}]

    @tool
    def listing() -> list[_Row]:
        """List rows."""
        return rows

    assert listing.function is not None
    assert listing.function() is rows
