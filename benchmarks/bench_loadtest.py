"""The load tester's own ceiling beside a bare asyncio loop doing the same calls.

agentkit: ``LoadTester`` (ENDURANCE, 50 virtual users) driving a no-op async target, with
every latency recorded into the HDR histogram and the per-second timeline. Anchor: 50 bare
tasks awaiting the same no-op and reading the clock twice per call, recording nothing. The
gap between them is the tester's recording cost per request. Target: at least 50,000 req/s
on one core (Locust manages about 4k-16k per core). Run with
``pytest benchmarks/bench_loadtest.py --benchmark-only`` (or ``--benchmark-disable``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from _util import Figure, NothingToClose, run_figure

from agentkit import LoadProfile, LoadTester

REQUESTS = 50_000
USERS = 50
CEILING = "load tester ceiling (no-op target)"


async def noop() -> None:
    """The no-op async target."""


class TesterRound(NothingToClose):
    """One LoadTester run of REQUESTS against the no-op target."""

    async def run(self) -> int:
        result = await LoadTester().run_load_test(
            noop,
            profile=LoadProfile.ENDURANCE,
            total_requests=REQUESTS,
            concurrent_requests=USERS,
            progress=False,
        )
        assert result.latency.count == REQUESTS
        return result.successes


class BareLoopRound(NothingToClose):
    """USERS bare tasks awaiting the no-op REQUESTS times in all, timing but not recording."""

    async def run(self) -> int:
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


async def _tester() -> TesterRound:
    return TesterRound()


async def _bare() -> BareLoopRound:
    return BareLoopRound()


@pytest.mark.benchmark(group=CEILING)
def test_load_tester_ceiling(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """LoadTester drives REQUESTS no-op requests with full recording."""
    spec = Figure(CEILING, "agentkit", "LoadTester, 50 users", REQUESTS, unit="req/s")
    run_figure(benchmark, bench_loop, request.config, _tester, spec)


@pytest.mark.benchmark(group=CEILING)
def test_bare_loop_anchor(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """A bare loop makes the same REQUESTS calls and records nothing (the anchor)."""
    spec = Figure(CEILING, "anchor", "bare asyncio loop, 50 tasks", REQUESTS, unit="req/s")
    run_figure(benchmark, bench_loop, request.config, _bare, spec)
