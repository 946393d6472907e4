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
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import msgspec
import pytest
from _util import RESULTS_KEY, rounds

from agentkit import Tool, ToolRegistry, tool
from agentkit_tools import ToolsConfig, create_builtin_tools_library

CALLS = 2_000
LIBRARIES = 20
ROUND_PARAMS = {"value": 3.14159, "decimals": 2}

Side = Callable[[int], Awaitable[float]]


def _config() -> ToolsConfig:
    return ToolsConfig(sandbox_root=Path(tempfile.mkdtemp(prefix="agentkit-bench-")))


async def _interleaved(
    sides: dict[str, Side], timed_rounds: int, count: int
) -> dict[str, list[float]]:
    """µs per operation of each side, one figure per round, the sides alternating."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for side in sides.values():  # warm-up, untimed
        await side(max(1, count // 10))
    names = list(sides)
    for index in range(timed_rounds):
        for name in names if index % 2 == 0 else reversed(names):
            seconds = await sides[name](count)
            times[name].append(seconds / count * 1e6)
    return times


def _report(
    request: pytest.FixtureRequest,
    figure: str,
    labels: dict[str, tuple[str, str]],
    times: dict[str, list[float]],
) -> None:
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        role, label = labels[name]
        median = medians[name]
        request.config.stash.setdefault(RESULTS_KEY, []).append(
            {
                "name": f"{request.node.name}[{name}]",
                "figure": figure,
                "role": role,
                "label": label,
                "unit": "req/s",
                "rate": 1e6 / median,
                "requests_per_s": 1e6 / median,
                "us_per_request": median,
                "median_s": median / 1e6,
            }
        )
        spread = f"{min(values):.2f}-{max(values):.2f}"
        print(f"\n{figure}: {label}: median {median:.2f} µs (rounds {spread})")
    ours = next(name for name in times if labels[name][0] == "agentkit")
    anchor = next(name for name in times if labels[name][0] == "anchor")
    print(f"{figure}: agentkit/anchor speed ratio {medians[anchor] / medians[ours]:.2f}x")


def _run(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    sides: dict[str, Side],
    count: int,
) -> dict[str, list[float]] | None:
    enabled = bool(benchmark.enabled)
    timed_rounds = rounds(10) if enabled else 1
    measured: dict[str, dict[str, list[float]]] = {}

    def run_all() -> None:
        measured["times"] = loop.run_until_complete(
            _interleaved(sides, timed_rounds, count if enabled else 1)
        )

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    times = measured["times"]
    assert all(len(values) == timed_rounds for values in times.values())
    return times if enabled else None


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

    times = _run(
        benchmark, bench_loop, {"agentkit": register, "jsonschema": compile_all}, LIBRARIES
    )
    if times is not None:
        _report(
            request,
            "register the 72 built-ins (µs per library)",
            {
                "agentkit": ("agentkit", "create_builtin_tools_library + register_tool x72"),
                "jsonschema": ("anchor", "jsonschema check_schema + Draft202012Validator x72"),
            },
            times,
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

    times = _run(
        benchmark,
        bench_loop,
        {"agentkit": through_registry, "jsonschema": jsonschema_then_call},
        CALLS,
    )
    if times is not None:
        _report(
            request,
            "call a built-in, math_round (µs per call)",
            {
                "agentkit": ("agentkit", "execute_tool('math_round')"),
                "jsonschema": ("anchor", "jsonschema is_valid + the same function"),
            },
            times,
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

    def side(name: str) -> Side:
        async def calls(count: int) -> float:
            started = time.perf_counter()
            for _ in range(count):
                result = await registry.execute_tool(name, params)
                assert result.output == "a fairl"
            return time.perf_counter() - started

        return calls

    times = _run(
        benchmark,
        bench_loop,
        {"decorated": side("shorten"), "by_hand": side("shorten_by_hand")},
        CALLS,
    )
    if times is not None:
        _report(
            request,
            "a @tool call vs a hand-written Tool call (µs per call)",
            {
                "decorated": ("agentkit", "@tool(blocking=False) shorten"),
                "by_hand": ("anchor", "Tool(..., function=shorten), same schema"),
            },
            times,
        )
