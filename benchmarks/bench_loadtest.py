"""The load tester's own ceiling beside a bare asyncio loop doing the same calls.

agentkit: ``LoadTester`` (ENDURANCE, 50 virtual users) driving a no-op async target, with
every latency recorded into the HDR histogram and the per-second timeline. Anchor: 50 bare
tasks awaiting the same no-op and reading the clock twice per call, recording nothing. The
gap between them is the tester's recording cost per request. Target: at least 50,000 req/s
on one core (Locust manages about 4k-16k per core). The two sides are **interleaved in
rounds** in one process (``_interleave``); medians, the spread over rounds and the per-round
ratio are printed. Run with ``pytest benchmarks/bench_loadtest.py --benchmark-only -s`` (or
``--benchmark-disable``: each side once, checked).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from _interleave import Side, report, run_interleaved, timing
from _util import rounds

from agentkit import LoadProfile, LoadTester

REQUESTS = 50_000
USERS = 50
CEILING = "load tester ceiling (no-op target)"


async def noop() -> None:
    """The no-op async target."""


async def tester_run() -> int:
    """One LoadTester run of REQUESTS against the no-op target."""
    result = await LoadTester().run_load_test(
        noop,
        profile=LoadProfile.ENDURANCE,
        total_requests=REQUESTS,
        concurrent_requests=USERS,
        progress=False,
    )
    assert result.latency.count == REQUESTS
    return result.successes


async def bare_run() -> int:
    """USERS bare tasks awaiting the no-op REQUESTS times in all, timing but not recording."""
    left = REQUESTS
    done = 0
    mono = time.monotonic

    async def user() -> None:
        nonlocal left, done
        burst = 0
        while left > 0:
            left -= 1
            start = mono()
            await noop()
            _ = mono() - start
            done += 1
            burst += 1
            if burst >= 32:
                burst = 0
                await asyncio.sleep(0)

    await asyncio.gather(*(user() for _ in range(USERS)))
    return done


def test_load_tester_ceiling(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """LoadTester and the bare loop each complete REQUESTS no-op requests, interleaved."""
    times = run_interleaved(
        benchmark,
        bench_loop,
        {"tester": timing(tester_run, REQUESTS), "bare": timing(bare_run, REQUESTS)},
        rounds(10),
    )
    if times is not None:
        report(
            request.config,
            CEILING,
            Side("tester", "agentkit", "LoadTester, 50 users", REQUESTS),
            Side("bare", "anchor", "bare asyncio loop, 50 tasks", REQUESTS),
            times,
            unit="request",
        )
