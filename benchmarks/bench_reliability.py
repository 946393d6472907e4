"""Reliability figures: breaker overhead beside pybreaker and aiobreaker, failover times.

1. Closed-state ``CircuitBreaker.call`` on the same trivial function as pybreaker's ``call``
   (sync function) and aiobreaker's ``call_async`` (async function), with the bare call as
   the baseline; the overhead is (guarded - bare) per call.
2. Failover time from an injected fault to the first call served by the backup, p50/p99 over
   many trials, through active probes (50 ms interval, ``unhealthy_threshold=1``, real clock)
   and through a passive signal (a failed call inside ``FailoverManager.call``).

The breaker flavours (and the bare baselines) are **interleaved in rounds** in one process
(``_interleave``): medians, the spread over rounds and the per-round ratios are printed (run
with ``-s``). ``--benchmark-disable`` runs each once with few trials and asserts the work was
done.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any

import aiobreaker
import pybreaker
import pytest
from _interleave import Side, report, run_interleaved
from _util import rounds

from agentkit import CircuitBreaker, FailoverManager, HealthMonitor

CALLS = 20_000
FIGURE_SYNC = "breaker.call, closed, sync function"
FIGURE_ASYNC = "breaker.call, closed, async function"
FIGURE_SYNC_DIRECT = "breaker.call_sync, closed, sync function"


def work_sync(value: int) -> int:
    """The guarded function: trivial, so the breaker's own cost shows."""
    return value + 1


async def work_async(value: int) -> int:
    """The same work as a coroutine function."""
    return value + 1


class CallRound:
    """CALLS sequential calls of one flavour."""

    def __init__(self, flavour: str) -> None:
        self.flavour = flavour

    async def open(self) -> CallRound:
        self.ours = CircuitBreaker("bench", failure_threshold=5, timeout_seconds=60)
        self.py = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
        self.aio = aiobreaker.CircuitBreaker(fail_max=5)
        return self

    async def run(self) -> int:
        total = 0
        flavour = self.flavour
        if flavour == "bare sync":
            for i in range(CALLS):
                total += work_sync(i) - i
        elif flavour == "agentkit sync":
            call = self.ours.call
            for i in range(CALLS):
                total += await call(work_sync, i) - i
        elif flavour == "agentkit call_sync":
            call_sync = self.ours.call_sync
            for i in range(CALLS):
                total += call_sync(work_sync, i) - i
        elif flavour.strip() == "pybreaker sync":
            pycall = self.py.call
            for i in range(CALLS):
                total += pycall(work_sync, i) - i
        elif flavour == "bare async":
            for i in range(CALLS):
                total += await work_async(i) - i
        elif flavour == "agentkit async":
            call = self.ours.call
            for i in range(CALLS):
                total += await call(work_async, i) - i
        elif flavour == "aiobreaker async":
            aiocall = self.aio.call_async
            for i in range(CALLS):
                total += await aiocall(work_async, i) - i
        return total

    async def close(self) -> None:
        return None


#: (figure, agentkit flavour, anchor flavour, baseline flavour)
FIGURES = [
    (FIGURE_SYNC, "agentkit sync", "pybreaker sync", "bare sync"),
    (FIGURE_SYNC_DIRECT, "agentkit call_sync", "pybreaker sync", "bare sync"),
    (FIGURE_ASYNC, "agentkit async", "aiobreaker async", "bare async"),
]
FLAVOURS = [
    "bare sync",
    "agentkit sync",
    "agentkit call_sync",
    "pybreaker sync",
    "bare async",
    "agentkit async",
    "aiobreaker async",
]


def _side(flavour: str) -> Any:
    async def run() -> int:
        work = await CallRound(flavour).open()  # fresh breakers, built before the clock starts
        started = time.perf_counter()
        total = await work.run()
        elapsed = time.perf_counter() - started
        assert total == CALLS, f"{flavour}: {total} of {CALLS} calls returned their value"
        return elapsed

    return run


def test_closed_call_overhead(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """CALLS closed-state calls of every flavour, interleaved, each returning the value."""
    times = run_interleaved(
        benchmark, bench_loop, {flavour: _side(flavour) for flavour in FLAVOURS}, rounds(10)
    )
    if times is None:
        return
    for figure, ours, theirs, _ in FIGURES:
        report(
            request.config,
            figure,
            Side(ours, "agentkit", ours, CALLS),
            Side(theirs, "anchor", theirs, CALLS),
            times,
            unit="call",
        )
    _report(request, _overhead_lines(times))


def _overhead_lines(times: dict[str, list[float]]) -> list[str]:
    """Per-call overhead (guarded minus bare) of each breaker: of the medians, and the
    ratio of overheads per round (min-max)."""
    per_call = {name: [s / CALLS * 1e9 for s in values] for name, values in times.items()}
    median = {name: statistics.median(values) for name, values in per_call.items()}
    lines = []
    for _, ours, theirs, bare in FIGURES:
        mine = median[ours] - median[bare]
        other = median[theirs] - median[bare]
        rounds_ratio = [
            (a - c) / (b - c)
            for a, b, c in zip(per_call[ours], per_call[theirs], per_call[bare], strict=True)
            if b != c
        ]
        spread = (
            f" (per round {min(rounds_ratio):.2f}-{max(rounds_ratio):.2f})" if rounds_ratio else ""
        )
        lines.append(
            f"overhead {ours}: {mine:,.0f} ns/call vs {theirs}: {other:,.0f} ns/call"
            f" -> {mine / other:.2f} of theirs{spread} (target <= 0.50)"
        )
    return lines


def _report(request: pytest.FixtureRequest, lines: list[str]) -> None:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50, p99


async def _active_probe_trials(trials: int) -> list[float]:
    """Fault injected at a random phase of the 50 ms probe cycle; time until backup serves."""
    primary_up = True
    monitor = HealthMonitor(check_interval_seconds=0.05, unhealthy_threshold=1, healthy_threshold=1)
    monitor.register_component("primary", "agent", lambda: primary_up)
    monitor.register_component("backup", "agent", lambda: True)
    failover = FailoverManager(monitor)
    failover.register_backup("primary", "backup")
    samples: list[float] = []
    rng = random.Random(8)
    async with monitor:
        for _ in range(trials):
            while await failover.get_active_component("primary") != "primary":  # noqa: ASYNC110
                await asyncio.sleep(0.001)
            await asyncio.sleep(rng.uniform(0.0, 0.05))
            primary_up = False
            fault = time.perf_counter()
            # Polling like a client would (1 ms), not a listener: it measures what callers see.
            while await failover.get_active_component("primary") != "backup":  # noqa: ASYNC110
                await asyncio.sleep(0.001)
            samples.append(time.perf_counter() - fault)
            primary_up = True
    return samples


async def _passive_trials(trials: int) -> list[float]:
    """A failed call in FailoverManager.call: time until the backup served that call."""
    monitor = HealthMonitor()
    failover = FailoverManager(monitor)
    failover.register_backup("primary", "backup")
    broken = False
    served_at = 0.0

    async def handle(component: str) -> str:
        nonlocal served_at
        if component == "primary" and broken:
            raise ConnectionError("primary down")
        served_at = time.perf_counter()
        return component

    samples: list[float] = []
    for _ in range(trials):
        failover.restore("primary")
        assert await failover.call("primary", handle) == "primary"
        broken = True
        fault = time.perf_counter()
        assert await failover.call("primary", handle) == "backup"
        samples.append(served_at - fault)
        broken = False
    return samples


@pytest.mark.parametrize(
    ("kind", "trials", "target_ms"),
    [("active probes, 50 ms interval", 200, 150.0), ("passive, FailoverManager.call", 2000, 5.0)],
)
def test_failover_time(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    request: pytest.FixtureRequest,
    kind: str,
    trials: int,
    target_ms: float,
) -> None:
    """Every trial ends with the backup serving; p50/p99 of fault-to-backup are reported."""
    if not benchmark.enabled:
        trials = 3
    run = _active_probe_trials if kind.startswith("active") else _passive_trials
    samples: list[float] = []

    def target() -> None:
        samples[:] = bench_loop.run_until_complete(run(trials))

    benchmark.pedantic(target, rounds=1, iterations=1, warmup_rounds=0)
    if not samples:  # pytest-benchmark does not call the target when disabled
        target()
    assert len(samples) == trials
    p50, p99 = _percentiles(samples)
    benchmark.extra_info.update(
        {"figure": f"failover time, {kind}", "p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3}
    )
    if benchmark.enabled:
        verdict = "met" if p99 * 1e3 < target_ms else "MISSED"
        _report(
            request,
            [
                f"failover time, {kind}: p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms"
                f" over {trials} trials (target p99 < {target_ms:g} ms: {verdict};"
                " guide claims < 500 ms)"
            ],
        )
