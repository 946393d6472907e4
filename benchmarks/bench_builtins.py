"""The built-in library on ``@tool``: registering all of it, calling one, decorated vs by hand.

Three figures, each with the two sides **interleaved in rounds** in this process (one round of
one side, then one of the other, the order alternating), medians and the spread printed:

- *register the built-ins*: ``create_builtin_tools_library(config)`` and ``register_tool`` of
  every tool into a fresh ``ToolRegistry`` (µs per library), beside jsonschema: checking and
  compiling a ``Draft202012Validator`` for the same 72 parameter schemas, the least a
  registry built on jsonschema pays at registration.
- *call a built-in*: ``execute_tool("math_round", ...)`` (an inline tool), beside jsonschema
  validation of the same arguments followed by the same function called directly.
- *decorated vs hand-written*: the same function registered once as ``@tool`` and once as a
  hand-written ``Tool`` with the very schema ``@tool`` generated; ``execute_tool`` on each.

Run with ``pytest benchmarks/bench_builtins.py --benchmark-only -s``; under
``--benchmark-disable`` each side runs once and its answers are checked.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import msgspec
import pytest
from _interleave import Side, report, run_interleaved
from _util import rounds

from agentkit import Tool, ToolRegistry, tool
from agentkit_tools import ToolsConfig, create_builtin_tools_library

CALLS = 2_000
LIBRARIES = 20
ROUND_PARAMS = {"value": 3.14159, "decimals": 2}

Run = Callable[[int], Awaitable[float]]


def _config() -> ToolsConfig:
    return ToolsConfig(sandbox_root=Path(tempfile.mkdtemp(prefix="agentkit-bench-")))


def _measure(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    request: pytest.FixtureRequest,
    figure: str,
    sides: dict[str, tuple[Run, str, str]],
    count: int,
) -> None:
    """Interleave the two *sides* (key -> (run, role, label)) and report them as *figure*."""
    each = count if benchmark.enabled else 1
    runs = {key: functools.partial(run, each) for key, (run, _, _) in sides.items()}
    times = run_interleaved(benchmark, loop, runs, rounds(10))
    if times is None:
        return
    agentkit, anchor = (Side(key, role, label, each) for key, (_, role, label) in sides.items())
    report(request.config, figure, agentkit, anchor, times)


@pytest.mark.timeout(600)
def test_register_the_builtins(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """All 72 built-ins register every round; jsonschema compiles the same 72 schemas."""
    config = _config()
    schemas = [dict(item.parameters) for item in create_builtin_tools_library(config)]
    assert len(schemas) == 72

    async def register(count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            registry = ToolRegistry()
            for item in create_builtin_tools_library(config):
                registry.register_tool(item)
            assert len(registry.list_tools()) == 72
        return time.perf_counter() - started

    async def compile_all(count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            for schema in schemas:
                jsonschema.Draft202012Validator.check_schema(schema)
                jsonschema.Draft202012Validator(schema)
        return time.perf_counter() - started

    _measure(
        benchmark,
        bench_loop,
        request,
        "register the 72 built-ins (µs per library)",
        {
            "agentkit": (register, "agentkit", "create_builtin_tools_library + register_tool x72"),
            "jsonschema": (
                compile_all,
                "anchor",
                "jsonschema check_schema + Draft202012Validator x72",
            ),
        },
        LIBRARIES,
    )


@pytest.mark.timeout(600)
def test_call_a_builtin(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """math_round answers every call; jsonschema plus the direct call gives the same answer."""
    registry = ToolRegistry()
    builtins = {item.name: item for item in create_builtin_tools_library(_config())}
    rounding = builtins["math_round"]
    registry.register_tool(rounding)
    validator = jsonschema.Draft202012Validator(dict(rounding.parameters))
    function = rounding.function
    assert function is not None
    expected = function(**ROUND_PARAMS)

    async def through_registry(count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            result = await registry.execute_tool("math_round", ROUND_PARAMS)
            assert result.output == expected
        return time.perf_counter() - started

    async def jsonschema_then_call(count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            assert validator.is_valid(ROUND_PARAMS)
            assert function(**ROUND_PARAMS) == expected
        return time.perf_counter() - started

    _measure(
        benchmark,
        bench_loop,
        request,
        "call a built-in, math_round (µs per call)",
        {
            "agentkit": (through_registry, "agentkit", "execute_tool('math_round')"),
            "jsonschema": (
                jsonschema_then_call,
                "anchor",
                "jsonschema is_valid + the same function",
            ),
        },
        CALLS,
    )


def shorten(
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)], max_length: int = 100
) -> str:
    """Cut a text to max_length characters.

    Args:
        text: The text.
        max_length: The longest result.
    """
    return text[:max_length]


@pytest.mark.timeout(600)
def test_decorated_against_hand_written(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """The @tool and the hand-written Tool of one function give the same answers."""
    decorated = tool(blocking=False)(shorten)
    by_hand = Tool(
        name="shorten_by_hand",
        description=decorated.description,
        parameters=decorated.parameters,
        returns=decorated.returns,
        blocking=False,
        function=shorten,
    )
    registry = ToolRegistry()
    registry.register_tool(decorated)
    registry.register_tool(by_hand)
    params = {"text": "a fairly short sentence", "max_length": 7}

    def side(name: str) -> Run:
        async def calls(count: int) -> float:
            started = time.perf_counter()
            for _ in range(count):
                result = await registry.execute_tool(name, params)
                assert result.output == "a fairl"
            return time.perf_counter() - started

        return calls

    _measure(
        benchmark,
        bench_loop,
        request,
        "a @tool call vs a hand-written Tool call (µs per call)",
        {
            "decorated": (side("shorten"), "agentkit", "@tool(blocking=False) shorten"),
            "by_hand": (
                side("shorten_by_hand"),
                "anchor",
                "Tool(..., function=shorten), same schema",
            ),
        },
        CALLS,
    )
