"""The tool registry: a call beside its anchors, registration from 10 to 10,000 tools, search.

Every figure's sides are **interleaved in rounds** in one process (``_interleave``): the
order rotates each round, a ``gc.collect()`` runs before each timed run; medians, the spread
over rounds and the per-round ratio are printed (run with ``-s``) and go to the table.

* **execute_tool vs anchors**: 5,000 sequential ``execute_tool`` calls of a trivial inline
  (``blocking=False``) sync tool, beside jsonschema's compiled validator alone on the same
  parameters (what a registry built on jsonschema pays per call; target: the whole call costs
  less, >= 1.0x) and beside calling the function directly (the floor).
* **registration scaling**: each round registers 10,000 distinct tools per size, as 1,000
  registries of 10, 100 of 100, 10 of 1,000 and 1 of 10,000 (tools and registries built
  untimed). Printed: µs per tool at each size and the growth over the cost at 100 (target
  at most 1.5x at 10,000).
* **search at 10,000 tools**: ``search_tools`` on queries from one hit to hundreds, beside
  the full scan it replaced (every tool's lowercased fields scored, the listing kept between
  calls as the old registry kept it); both must return the same tools in the same order.
  Target: under 100 µs on selective queries.

Run with ``pytest benchmarks/bench_tools.py --benchmark-only -s``; under
``--benchmark-disable`` every side runs once on small counts and its answers are checked.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from _interleave import Side, interleave, interleave_async, report
from _util import rounds

from agentkit import Tool, ToolRegistry

#: Calls per timed round of the execute_tool figures.
CALLS = 5_000
#: Tools registered per size and round of the scaling figure.
REGISTRATIONS = 10_000
SIZES = (10, 100, 1_000, 10_000)
#: Tools in the searched registry.
SEARCHED = 10_000
#: Searches of each query per round.
SEARCHES = 50

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "max_length": {"type": "integer", "minimum": 1, "maximum": 100_000},
        "style": {"enum": ["plain", "bullets"]},
    },
    "required": ["text"],
    "additionalProperties": False,
}
PARAMS: dict[str, Any] = {"text": "Long document...", "max_length": 100, "style": "plain"}


def shorten(text: str, max_length: int = 100, style: str = "plain") -> str:
    """The trivial tool: cut the text."""
    return text[:max_length]


# -- 1. execute_tool beside jsonschema alone and beside the direct call --------------------


def _call_sides(calls: int) -> dict[str, Callable[[], Any]]:
    registry = ToolRegistry()
    registry.register_tool(
        Tool(
            name="text_shorten",
            description="Cut a text.",
            parameters=PARAMETERS,
            function=shorten,
            blocking=False,
        )
    )
    is_valid = jsonschema.Draft202012Validator(PARAMETERS).is_valid

    async def execute() -> float:
        run = registry.execute_tool
        succeeded = 0
        started = time.perf_counter()
        for _ in range(calls):
            result = await run("text_shorten", PARAMS)
            succeeded += result.success
        elapsed = time.perf_counter() - started
        assert succeeded == calls
        return elapsed

    async def validate() -> float:
        done = 0
        started = time.perf_counter()
        for _ in range(calls):
            done += is_valid(PARAMS)
        elapsed = time.perf_counter() - started
        assert done == calls
        return elapsed

    async def direct() -> float:
        done = 0
        started = time.perf_counter()
        for _ in range(calls):
            done += shorten(**PARAMS) == "Long document..."
        elapsed = time.perf_counter() - started
        assert done == calls
        return elapsed

    return {"execute_tool": execute, "jsonschema": validate, "direct": direct}


def test_tool_call(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """execute_tool, jsonschema alone and the direct call, interleaved; all calls succeed."""
    enabled = bool(benchmark.enabled)
    calls = CALLS if enabled else 50
    measured: dict[str, dict[str, list[float]]] = {}

    def run_all() -> None:
        measured["times"] = bench_loop.run_until_complete(
            interleave_async(_call_sides(calls), rounds(10) if enabled else 1)
        )

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    if not enabled:
        return
    times = measured["times"]
    ours = Side("execute_tool", "agentkit", "ToolRegistry.execute_tool (whole call)", calls)
    report(
        pytestconfig,
        "execute_tool vs jsonschema validation alone",
        ours,
        Side("jsonschema", "anchor", "Draft202012Validator.is_valid", calls),
        times,
        target=1.0,
        unit="call",
    )
    report(
        pytestconfig,
        "execute_tool vs calling the function directly",
        ours,
        Side("direct", "anchor", "shorten(**params)", calls),
        times,
        unit="call",
    )


# -- 2. registration from 10 to 10,000 tools -----------------------------------------------

VERBS = ("convert", "fetch", "summarise", "validate", "translate", "render", "count")
NOUNS = ("invoice", "weather", "ticket", "address", "image", "order", "calendar", "stock")
NOUNS += ("contract", "playlist", "route", "sensor", "account")
DOMAINS = ("finance", "travel", "health", "retail", "media", "logistics", "energy")
DOMAINS += ("legal", "education", "games", "science")


def make_tool(index: int) -> Tool:
    """Tool *index* of a large catalogue: its own schema, description, category and tags."""
    verb, noun = VERBS[index % 7], NOUNS[(index // 7) % 13]
    domain = DOMAINS[(index // 91) % 11]
    return Tool(
        name=f"{verb}_{noun}_{index}",
        description=f"{verb.title()} the {noun} for {domain} item {index}.",
        category=domain,
        tags=(noun, f"tier{index % 5}"),
        parameters={
            "type": "object",
            "properties": {
                f"{noun}_id": {"type": "string", "minLength": 1, "maxLength": 64},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100 + index % 50},
                "mode": {"enum": ["fast", "full"]},
            },
            "required": [f"{noun}_id"],
            "additionalProperties": False,
        },
        function=shorten,
    )


def _registering(size: int, total: int) -> Callable[[], float]:
    """A side: register *total* fresh tools as registries of *size* (building untimed)."""

    def run() -> float:
        tools = [make_tool(index) for index in range(total)]
        registries = [ToolRegistry() for _ in range(total // size)]
        started = time.perf_counter()
        for number, registry in enumerate(registries):
            for tool in tools[number * size : (number + 1) * size]:
                registry.register_tool(tool)
        elapsed = time.perf_counter() - started
        assert sum(map(len, registries)) == total
        return elapsed

    return run


def test_registration_scaling(benchmark: Any, pytestconfig: pytest.Config) -> None:
    """Registering 10, 100, 1,000 and 10,000 tools, interleaved; every tool is registered."""
    enabled = bool(benchmark.enabled)
    total = REGISTRATIONS if enabled else 100
    sizes = SIZES if enabled else (10, 100)
    measured: dict[str, dict[str, list[float]]] = {}

    def run_all() -> None:
        runs = {str(size): _registering(size, total) for size in sizes}
        measured["times"] = interleave(runs, rounds(7) if enabled else 1)

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    if not enabled:
        return
    times = measured["times"]
    figure = "register_tool, per tool"
    base = Side("100", "anchor", "registries of 100 tools", total)
    for size in sizes:
        if size == 100:
            continue
        report(
            pytestconfig,
            f"{figure}: {size:,} vs 100 tools",
            Side(str(size), "agentkit", f"registries of {size:,} tools", total),
            base,
            times,
            target=1 / 1.5 if size > 100 else None,
            unit="tool",
        )
    per_tool = {size: statistics.median(times[str(size)]) / total * 1e6 for size in sizes}
    print(
        "register_tool µs per tool: "
        + ", ".join(f"{size:,}: {cost:.1f}" for size, cost in per_tool.items())
        + f"; growth 10,000 over 100: {per_tool[10_000] / per_tool[100]:.2f}x"
        + f", over 10: {per_tool[10_000] / per_tool[10]:.2f}x"
    )


# -- 3. search_tools at 10,000 tools beside the full scan ------------------------------------


class ScanningSearch:
    """The search the index replaced: every tool's lowercased fields scored on each call."""

    def __init__(self, tools: list[Tool]) -> None:
        self.index = [
            (
                tool.name,
                (
                    (tool.name.lower(), 4),
                    (tool.category.lower(), 2),
                    (" ".join(tool.tags).lower(), 2),
                    (tool.description.lower(), 1),
                ),
                tool,
            )
            for tool in tools
        ]

    def search(self, text: str) -> list[Tool]:
        """Tools matching every word, best first (search_tools' documented order)."""
        words = text.lower().split()
        scored: list[tuple[int, str, Tool]] = []
        for name, fields, tool in self.index:
            score = 0
            for word in words:
                hits = sum(weight for field, weight in fields if word in field)
                if not hits:
                    break
                score += hits
            else:
                scored.append((score, name, tool))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [tool for _, _, tool in scored]


#: From one hit to hundreds at 10,000 tools: (query, what it exercises).
QUERIES = (
    ("convert_contract_4242", "a whole name"),
    ("4242", "a number inside a name and a description"),
    ("fetch weather travel", "three words, 10 hits"),
    ("convert invoice", "verb and noun, 110 hits"),
    ("item 42", "a broad word and a short one, 299 hits"),
)


def _searching(search: Callable[[str], list[Tool]], query: str, times: int) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        for _ in range(times):
            search(query)
        return time.perf_counter() - started

    return run


def test_search_at_ten_thousand_tools(benchmark: Any, pytestconfig: pytest.Config) -> None:
    """search_tools and the full scan, interleaved per query; both give the same answers."""
    enabled = bool(benchmark.enabled)
    count = SEARCHED if enabled else 500
    tools = [make_tool(index) for index in range(count)]
    registry = ToolRegistry()
    for tool in tools:
        registry.register_tool(tool)
    scan = ScanningSearch(sorted(tools, key=lambda tool: tool.name))
    found = {query: registry.search_tools(query) for query, _ in QUERIES}
    for query, _ in QUERIES:
        assert found[query] == scan.search(query), query
    assert not enabled or found["convert_contract_4242"][0].name == "convert_contract_4242"
    searches = SEARCHES if enabled else 1
    measured: dict[str, dict[str, list[float]]] = {}

    def run_all() -> None:
        runs: dict[str, Callable[[], float]] = {}
        for query, _ in QUERIES:
            runs[f"index {query}"] = _searching(registry.search_tools, query, searches)
            # The scan is ~100x slower: fewer calls per round keep the rounds short.
            runs[f"scan {query}"] = _searching(scan.search, query, max(1, searches // 10))
        measured["times"] = interleave(runs, rounds(7) if enabled else 1)

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    if not enabled:
        return
    times = measured["times"]
    for query, what in QUERIES:
        report(
            pytestconfig,
            f"search_tools at {count:,} tools, {what}",
            Side(f"index {query}", "agentkit", f"search_tools({query!r})", searches),
            Side(f"scan {query}", "anchor", "full scan (before the index)", max(1, searches // 10)),
            times,
            unit="search",
        )
