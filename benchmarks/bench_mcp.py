"""A tool call through agentkit's MCP server beside the same tool on a minimal FastMCP server.

agentkit: ``RegistryServer`` (what ``agentkit mcp serve`` runs) serving ``add(a, b)`` from a
``ToolRegistry`` (validation, the registry's call path, ``ToolResult`` to ``CallToolResult``
with structured content). Peer: FastMCP 4 serving the same function. Both are driven by the
official ``mcp`` SDK client in this process, over stdio (a subprocess each) and over
Streamable HTTP (a subprocess each on 127.0.0.1). The two sides are **interleaved in rounds**:
each round times CALLS sequential calls on agentkit, then on FastMCP, then the other way
round, so drift on the shared machine hits both alike. Medians and the spread are printed and
recorded. Run with ``pytest benchmarks/bench_mcp.py --benchmark-only -s``; under
``--benchmark-disable`` each side makes a few calls and checks the answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from _util import RESULTS_KEY, rounds

SERVERS = Path(__file__).with_name("_mcp_servers.py")
CALLS = 200
FIGURE = "MCP tool call"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _devnull() -> Any:
    """Where the stdio servers' stderr goes (setup, not timed)."""
    return open(os.devnull, "w")


def _spawn_http(kind: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start the *kind* server on Streamable HTTP at 127.0.0.1:*port* (setup, not timed)."""
    return subprocess.Popen(
        [sys.executable, str(SERVERS), kind, "http", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextlib.asynccontextmanager
async def _client(kind: str, transport: str) -> AsyncIterator[Any]:
    """An initialised ``mcp.Client`` on the *kind* server over *transport*; the server stops
    (and is reaped) on exit."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if transport == "stdio":
        parameters = StdioServerParameters(
            command=sys.executable, args=[str(SERVERS), kind, "stdio"], env=env
        )
        with _devnull() as errlog:
            async with Client(stdio_client(parameters, errlog=errlog)) as client:
                yield client
        return
    port = _free_port()
    process = _spawn_http(kind, port, env)
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert process.poll() is None, f"the {kind} server exited"
                assert time.monotonic() < deadline, f"the {kind} server never listened"
                await asyncio.sleep(0.05)
        async with Client(url) as client:
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def _calls(client: Any, count: int) -> float:
    """Seconds for *count* sequential ``add`` calls; every answer is checked."""
    started = time.perf_counter()
    for index in range(count):
        result = await client.call_tool("add", {"a": index, "b": 1})
        assert not result.is_error, result
        structured = result.structured_content
        assert structured is not None
        assert structured.get("sum", structured.get("result", {}).get("sum")) == index + 1
    return time.perf_counter() - started


async def _interleaved(transport: str, timed_rounds: int, calls: int) -> dict[str, list[float]]:
    """µs per call of each side, one figure per round, the two sides alternating."""
    times: dict[str, list[float]] = {"agentkit": [], "fastmcp": []}
    async with (
        _client("agentkit", transport) as ours,
        _client("fastmcp", transport) as theirs,
    ):
        clients = {"agentkit": ours, "fastmcp": theirs}
        for kind in clients:  # warm-up, untimed
            await _calls(clients[kind], min(calls, 20))
        for index in range(timed_rounds):
            order = ("agentkit", "fastmcp") if index % 2 == 0 else ("fastmcp", "agentkit")
            for kind in order:
                seconds = await _calls(clients[kind], calls)
                times[kind].append(seconds / calls * 1e6)
    return times


@pytest.mark.timeout(600)
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_mcp_tool_call_against_fastmcp(
    transport: str,
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    request: pytest.FixtureRequest,
) -> None:
    """agentkit's MCP server and FastMCP answer the same tool; interleaved medians recorded."""
    enabled = bool(benchmark.enabled)
    timed_rounds = rounds(10) if enabled else 1
    calls = CALLS if enabled else 5
    measured: dict[str, dict[str, list[float]]] = {}

    def run_all() -> None:
        # The interleaving happens inside; pytest-benchmark times the whole session once.
        measured["times"] = bench_loop.run_until_complete(
            _interleaved(transport, timed_rounds, calls)
        )

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    times = measured["times"]
    assert all(len(values) == timed_rounds for values in times.values())
    if not enabled:
        return
    ours, theirs = statistics.median(times["agentkit"]), statistics.median(times["fastmcp"])
    figure = f"{FIGURE} over {transport}"
    for role, label, median, values in (
        ("agentkit", "agentkit mcp serve (RegistryServer)", ours, times["agentkit"]),
        ("anchor", "FastMCP 4, same function", theirs, times["fastmcp"]),
    ):
        request.config.stash.setdefault(RESULTS_KEY, []).append(
            {
                "name": f"{request.node.name}[{role}]",
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
        spread = f"{min(values):.0f}-{max(values):.0f}"
        print(f"\n{figure}: {label}: median {median:.0f} µs/call (rounds {spread})")
    print(f"{figure}: agentkit/FastMCP speed ratio {theirs / ours:.2f}x")
