"""Accuracy of the load tester, measured on virtual time so every figure is exact."""

from __future__ import annotations

import asyncio
import tracemalloc
from typing import TypeVar

from hypothesis import given
from hypothesis import strategies as st

from agentkit import LoadProfile, LoadTester
from agentkit.loadtest._result import HIGHEST_US, LatencyRecorder
from agentkit.testing import VirtualClock

T = TypeVar("T")
# The histogram keeps three significant digits: any figure is within 0.1 % of the truth.
PRECISION = 0.001


def close_to(measured: float, expected: float) -> bool:
    """True when *measured* is within the histogram's precision of *expected*."""
    return abs(measured - expected) <= expected * PRECISION + 0.001


async def test_known_latency_gives_exact_percentiles() -> None:
    """10 ms for 99 % of calls and 100 ms for 1 % gives p50 and p99 10 ms, p99.9 100 ms."""
    clock = VirtualClock()
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1
        await clock.sleep(0.1 if calls % 100 == 0 else 0.01)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target, profile=LoadProfile.ENDURANCE, total_requests=10_000, concurrent_requests=10
        ),
    )
    assert result.total == result.successes == 10_000
    assert close_to(result.latency_p50, 10.0)
    assert close_to(result.latency_p90, 10.0)
    assert close_to(result.latency_p99, 10.0)  # exactly 1 % are slow: p99 is still a fast call
    assert close_to(result.latency_p999, 100.0)
    assert close_to(result.latency_max, 100.0)
    assert close_to(result.latency_min, 10.0)
    assert close_to(result.latency_mean, 0.99 * 10 + 0.01 * 100)
    assert result.error_rate == 0.0
    assert result.raw_latency is None


async def test_two_percent_slow_calls_move_p99() -> None:
    """With 2 % of calls at 100 ms the p99 is 100 ms and p95 stays at 10 ms."""
    clock = VirtualClock()
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1
        await clock.sleep(0.1 if calls % 50 == 0 else 0.01)

    result = await clock.run(
        LoadTester(clock).run_load_test(target, "endurance", 5_000, concurrent_requests=5)
    )
    assert close_to(result.latency_p95, 10.0)
    assert close_to(result.latency_p99, 100.0)


async def test_open_model_stall_shows_in_corrected_but_not_raw_p99() -> None:
    """A one-second stall is in the corrected p99 of an open-model run and hidden in the raw p99."""
    clock = VirtualClock()
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1
        await clock.sleep(1.0 if calls == 200 else 0.001)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target,
            profile=LoadProfile.CONSTANT_RATE,
            rate=100,
            total_requests=1000,
            concurrent_requests=1,
        ),
    )
    assert result.raw_latency is not None
    assert close_to(result.raw_latency.p99, 1.0)  # the stall is 1 sample in 1000: raw hides it
    assert result.latency_p99 > 800.0  # requests due during the stall waited for it
    assert close_to(result.latency_max, 1000.0)
    assert result.late_starts >= 90
    assert result.dropped_starts == 0
    assert result.total == 1000


async def test_open_model_keeps_its_schedule() -> None:
    """CONSTANT_RATE at 50 req/s for 4 s starts 200 requests on time against a fast target."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.002)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target, "constant_rate", total_requests=None, duration_seconds=4, rate=50
        ),
    )
    assert result.total == 200
    assert result.late_starts == 0
    assert result.dropped_starts == 0
    assert close_to(result.latency_max, 2.0)
    assert [p.requests for p in result.timeline[:4]] == [50, 50, 50, 50]


async def test_open_model_counts_dropped_starts() -> None:
    """Starts that a saturated target never let happen before the duration ends count as dropped."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.1)  # one slot serves 10 req/s; 100 are asked for

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target,
            "constant_rate",
            total_requests=None,
            duration_seconds=2,
            rate=100,
            concurrent_requests=1,
        ),
    )
    assert result.total == 20
    assert result.dropped_starts == 180


async def test_ramping_rate_rises() -> None:
    """RAMPING_RATE to 100 req/s over 4 s completes more requests each second of the ramp."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.001)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target,
            "ramping_rate",
            total_requests=None,
            duration_seconds=6,
            rate=100,
            ramp_up_seconds=4,
        ),
    )
    per_second = [p.requests for p in result.timeline[:6]]
    assert per_second[:4] == sorted(per_second[:4])
    assert per_second[0] < per_second[3]
    assert per_second[4] == per_second[5] == 100
    assert result.total == 400  # 100 * 4 / 2 during the ramp, then 100 a second for 2 s


async def test_ramp_up_concurrency_rises_in_the_timeline() -> None:
    """RAMP_UP to 20 users over 5 s shows 4, 8, 12, 16, 20 users in flight in seconds 0-4."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.05)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target,
            LoadProfile.RAMP_UP,
            total_requests=None,
            concurrent_requests=20,
            ramp_up_seconds=5,
            duration_seconds=8,
        ),
    )
    users = [p.concurrency for p in result.timeline[:8]]
    assert users[:5] == [4, 8, 12, 16, 20]
    assert users[5:8] == [20, 20, 20]
    assert [p.target_concurrency for p in result.timeline[:5]] == [4, 8, 12, 16, 20]


async def test_ramp_up_ends_when_total_requests_are_done() -> None:
    """A RAMP_UP run of 1000 requests with a 30 s ramp ends when they are done, long before 30 s."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.001)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target, total_requests=1000, concurrent_requests=50, ramp_up_seconds=30
        ),
    )
    assert result.total == 1000
    assert result.duration_seconds < 5.0
    assert clock.monotonic() < 5.0


async def test_spike_jumps_and_falls_back() -> None:
    """SPIKE holds a tenth of the users, jumps to all of them for a third of the run, then drops."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.05)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target, "spike", total_requests=None, concurrent_requests=30, duration_seconds=9
        ),
    )
    users = [p.target_concurrency for p in result.timeline[:9]]
    assert users == [3, 3, 3, 30, 30, 30, 3, 3, 3]


async def test_stress_finds_the_breaking_point() -> None:
    """STRESS against a target rejecting beyond 20 concurrent calls breaks at 25 users."""
    clock = VirtualClock()
    in_flight = 0

    class OverloadedError(Exception):
        pass

    async def target() -> None:
        nonlocal in_flight
        in_flight += 1
        try:
            if in_flight > 20:
                await clock.sleep(0.005)
                raise OverloadedError("at capacity")
            await clock.sleep(0.01)
        finally:
            in_flight -= 1

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target,
            LoadProfile.STRESS,
            total_requests=None,
            duration_seconds=100,
            concurrent_requests=50,
            stress_steps=10,
            stress_step_seconds=1,
        ),
    )
    assert result.breaking_point is not None
    assert result.breaking_point.concurrency == 25
    assert "error rate" in result.breaking_point.reason
    assert result.errors["OverloadedError"] > 0
    assert result.duration_seconds < 6.1  # it stopped at the breaking step


async def test_stress_latency_limit() -> None:
    """STRESS with max_latency_ms breaks at the first step where queueing pushes p99 over it."""
    clock = VirtualClock()
    server = asyncio.Semaphore(10)

    async def target() -> None:
        async with server:  # ten workers, 10 ms each: beyond 10 users requests queue
            await clock.sleep(0.01)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target,
            "stress",
            total_requests=None,
            duration_seconds=60,
            concurrent_requests=40,
            stress_steps=4,
            stress_step_seconds=1,
            max_latency_ms=15,
        ),
    )
    assert result.breaking_point is not None
    assert result.breaking_point.concurrency == 20
    assert result.errors == {}


async def test_stress_without_breach_has_no_breaking_point() -> None:
    """A target that copes with every step leaves breaking_point None after the last step."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.01)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target, "stress", None, 10, duration_seconds=100, stress_steps=2, stress_step_seconds=1
        ),
    )
    assert result.breaking_point is None
    assert result.duration_seconds < 2.1


def test_a_million_latencies_keep_memory_flat() -> None:
    """Recording a million latencies leaves the histogram's counters and memory unchanged."""
    import ctypes

    recorder = LatencyRecorder()
    size = recorder.counts_length
    nbytes = ctypes.sizeof(recorder.histogram().counts)
    record = recorder.record
    for value in range(1_000_000):
        record((value * 7919) % 5_000_000)
    assert recorder.count == 1_000_000
    assert recorder.counts_length == size
    assert ctypes.sizeof(recorder.histogram().counts) == nbytes
    tracemalloc.start()  # and another 100,000 allocate nothing that stays
    before = tracemalloc.get_traced_memory()[0]
    for value in range(100_000):
        record((value * 104729) % 50_000_000)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert recorder.count == 1_100_000
    assert after - before < 10_000  # bytes


@given(st.lists(st.integers(min_value=-5, max_value=HIGHEST_US * 2), min_size=1, max_size=200))
def test_recorder_matches_hdrhistogram(values: list[int]) -> None:
    """The inline recorder fills exactly the counters HdrHistogram.record_value would."""
    from hdrh.histogram import HdrHistogram

    recorder = LatencyRecorder()
    reference = HdrHistogram(1, HIGHEST_US, 3)
    for value in values:
        recorder.record(value)
        reference.record_value(min(max(value, 0), HIGHEST_US))
    hist = recorder.histogram()
    assert list(hist.counts) == list(reference.counts)
    assert hist.get_total_count() == reference.get_total_count()
    assert hist.get_max_value() == reference.get_max_value()
    assert hist.get_min_value() == reference.get_min_value()
    assert recorder.clamped == sum(1 for v in values if v > HIGHEST_US)
