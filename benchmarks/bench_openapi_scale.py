"""OpenAPI at scale: the five big real-world specs, each imported by agentkit and by FastMCP.

agentkit: ``OpenAPIParser(include_deprecated=True).import_spec(text, ToolRegistry())`` — read,
validate, make and register every tool (so each is callable). Peer: FastMCP 4's
``FastMCP.from_openapi(spec, client)`` with an httpx client to 127.0.0.1 (nothing is sent),
then ``list_tools()``; its timing includes parsing the same text. The two sides are
**interleaved in rounds** (agentkit then FastMCP, then the other way round), so drift on the
shared machine hits both alike; medians and the spread are printed and recorded.

Also measured once per side: the total MCP export (``sum(len(json.dumps(to_mcp_tool(t))))``
for agentkit, the same over FastMCP's ``Tool.to_mcp_tool()``), the tool count and agentkit's
report. The issue's marks are printed beside the figures (Kubernetes: every operation;
GitHub and Stripe: under 2x FastMCP's time, Stripe's export no larger than FastMCP's;
Discord: under 10 s; OpenAI: every valid operation imported, the others reported). Speed is
printed, never asserted.

The specs come from ``tests/ext/agentkit_tools/openapi/specs`` (Discord's and OpenAI's only
when present, see its README). Run with ``pytest benchmarks/bench_openapi_scale.py
--benchmark-only -s`` (``AGENTKIT_BENCH_ROUNDS`` rounds, default 3; ``-k stripe`` for one).
Under ``--benchmark-disable`` (CI) it is skipped: the counts and reports are checked by
``tests/ext/agentkit_tools/openapi/test_openapi_big_specs.py``, far cheaper.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from _util import RESULTS_KEY, rounds

from agentkit import ToolRegistry
from agentkit.tools import to_mcp_tool
from agentkit_tools.openapi import ImportReport, OpenAPIParser

FIGURE = "import a big OpenAPI spec"
#: Limits that fit the biggest spec (GitHub: 13 MB).
MAX_SPEC_BYTES = 64 * 1024 * 1024
MAX_SPEC_NODES = 10_000_000
SPECS = ("kubernetes", "github", "stripe", "discord", "openai")


def _load_specs_module() -> Any:
    path = Path(__file__).parents[1] / "tests/ext/agentkit_tools/openapi/big_specs.py"
    spec = importlib.util.spec_from_file_location("big_specs", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


big_specs = _load_specs_module()


def _parser() -> OpenAPIParser:
    return OpenAPIParser(
        include_deprecated=True, max_spec_bytes=MAX_SPEC_BYTES, max_spec_nodes=MAX_SPEC_NODES
    )


def _agentkit(text: str) -> tuple[float, ToolRegistry, ImportReport]:
    started = time.perf_counter()
    registry = ToolRegistry()
    report = _parser().import_spec(text, registry)
    return time.perf_counter() - started, registry, report


async def _fastmcp(text: str, yaml_text: bool) -> tuple[float, list[Any] | str]:
    """FastMCP's import of the same text; the tools, or why it failed."""
    import httpx
    from fastmcp import FastMCP

    started = time.perf_counter()
    client: Any = httpx.AsyncClient(base_url="http://127.0.0.1:9")
    async with client:
        try:
            if yaml_text:
                import yaml

                document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            else:
                document = json.loads(text)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = FastMCP.from_openapi(openapi_spec=document, client=client)
                tools: list[Any] | str = list(await server.list_tools())
        except Exception as exc:  # the peer's failure is a result, reported as such
            tools = f"{type(exc).__name__}: {str(exc)[:120]}"
    return time.perf_counter() - started, tools


def _agentkit_export_bytes(registry: ToolRegistry, report: ImportReport) -> int:
    return sum(len(json.dumps(to_mcp_tool(registry.get_tool(name)))) for name in report.imported)


def _fastmcp_export_bytes(tools: list[Any]) -> int:
    return sum(
        len(json.dumps(tool.to_mcp_tool().model_dump(mode="json", exclude_none=True)))
        for tool in tools
    )


def _mark(name: str, ours: float, theirs: float | None, report: ImportReport, sizes: Any) -> str:
    """The issue's mark for *name*, and whether this run meets it."""
    if name == "kubernetes":
        return f"every operation imported: {report.complete} ({len(report.imported)} tools)"
    if name == "discord":
        return f"under 10 s: {ours < 10} ({ours:.1f} s)"
    if name == "openai":
        return (
            f"valid operations imported, the others reported: {len(report.imported)} imported, "
            f"{len(report.skipped)} reported"
        )
    if theirs is None:
        return "FastMCP failed: no ratio"
    text = f"under 2x FastMCP's time: {ours < 2 * theirs} ({ours / theirs:.2f}x)"
    if name == "stripe" and sizes[1] is not None:
        text += f"; MCP export no larger than FastMCP's: {sizes[0] <= sizes[1]}"
    return text


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("name", SPECS)
def test_import_against_fastmcp(
    name: str,
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    request: pytest.FixtureRequest,
) -> None:
    """agentkit and FastMCP import the same big spec, interleaved; medians and marks printed."""
    if not benchmark.enabled:
        pytest.skip("timing only: the counts are checked by test_openapi_big_specs.py")
    text = big_specs.text(name)
    timed_rounds = rounds(3)
    times: dict[str, list[float]] = {"agentkit": [], "fastmcp": []}
    last: dict[str, Any] = {}
    logging.disable(logging.CRITICAL)  # FastMCP logs every spec it cannot map, at length

    def run_all() -> None:
        for index in range(timed_rounds):
            order = ("agentkit", "fastmcp") if index % 2 == 0 else ("fastmcp", "agentkit")
            for kind in order:
                if kind == "agentkit":
                    seconds, registry, report = _agentkit(text)
                    last["agentkit"] = (registry, report)
                else:
                    seconds, tools = bench_loop.run_until_complete(
                        _fastmcp(text, big_specs.FILES[name].endswith(".yaml"))
                    )
                    last["fastmcp"] = tools
                times[kind].append(seconds)

    try:
        benchmark.pedantic(run_all, rounds=1, iterations=1)
    finally:
        logging.disable(logging.NOTSET)
    registry, report = last["agentkit"]
    tools = last["fastmcp"]
    assert len(report.imported) + len(report.skipped) == len(_parser().list_operations(text))
    if name == "kubernetes":
        assert report.complete
    ours = statistics.median(times["agentkit"])
    failed = isinstance(tools, str)
    theirs = None if failed else statistics.median(times["fastmcp"])
    sizes = (
        _agentkit_export_bytes(registry, report),
        None if failed else _fastmcp_export_bytes(tools),
    )
    figure = f"{FIGURE}: {name}"
    print(f"\n{figure}")
    for role, label, values, count, size in (
        ("agentkit", "OpenAPIParser.import_spec", times["agentkit"], report.summary(), sizes[0]),
        (
            "anchor",
            "FastMCP.from_openapi",
            times["fastmcp"],
            tools if failed else f"{len(tools)} tools",
            sizes[1],
        ),
    ):
        median = statistics.median(values)
        entry: dict[str, Any] = {
            "name": f"{request.node.name}[{role}]",
            "figure": figure,
            "role": role,
            "label": label,
            "unit": "imports/s",
            "mcp_export_bytes": size,
        }
        if role == "agentkit" and name in ("github", "stripe"):
            entry["target_ratio"] = 0.5  # under 2x FastMCP's time
        if not (role == "anchor" and failed):  # a failed import has no rate
            entry.update(
                rate=1 / median,
                requests_per_s=1 / median,
                us_per_request=median * 1e6,
                median_s=median,
            )
        request.config.stash.setdefault(RESULTS_KEY, []).append(entry)
        spread = f"{min(values):.2f}-{max(values):.2f}"
        shown = "failed" if role == "anchor" and failed else f"median {median:.2f} s"
        exported = f"{size / 1e6:.1f} MB MCP export" if size is not None else "no export"
        print(f"  {label}: {shown} (rounds {spread} s); {count}; {exported}")
    if theirs is not None:
        print(f"  agentkit/FastMCP time ratio {ours / theirs:.2f}x")
    print(f"  mark: {_mark(name, ours, theirs, report, sizes)}")
