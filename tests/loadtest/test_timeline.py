"""Percentiles over time, the percentile distribution and saved results, on virtual time."""

from __future__ import annotations

import base64
import math
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit import ConfigurationError, LoadProfile, LoadTester
from agentkit.loadtest import MAX_TIMELINE_POINTS, PERCENTILE_TICKS, LoadTestResult
from agentkit.loadtest._result import INTERVAL_PRECISION, IntervalHistogram, decode_histogram
from agentkit.testing import VirtualClock


def nearest_rank(values: list[int], percentile: float) -> int:
    """The exact nearest-rank percentile of *values*."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]


@given(
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=300),
    st.sampled_from([0.0, 1.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0]),
)
def test_interval_histogram_is_at_most_its_precision_above_the_truth(
    values: list[int], percentile: float
) -> None:
    """An interval's percentile is never below the true value and at most 0.78 % above it."""
    histogram = IntervalHistogram()
    for value in values:
        histogram.record(value)
    measured_us = histogram.percentiles([percentile])[percentile] * 1000
    true = nearest_rank(values, percentile)
    assert true - 1e-6 <= measured_us <= true * (1 + INTERVAL_PRECISION) + 1e-6


@given(st.lists(st.integers(min_value=0, max_value=10**7), max_size=200), st.integers(1, 5))
def test_merging_interval_histograms_equals_recording_into_one(
    values: list[int], parts: int
) -> None:
    """Merging histograms of parts of the values gives the histogram of all of them."""
    whole = IntervalHistogram()
    pieces = [IntervalHistogram() for _ in range(parts)]
    for index, value in enumerate(values):
        whole.record(value)
        pieces[index % parts].record(value)
    merged = IntervalHistogram()
    for piece in pieces:
        merged.merge(piece)
    assert merged.counts == whole.counts


async def test_points_carry_percentiles_over_time() -> None:
    """Each second of a run whose calls take 10 ms (1 in 20 take 50 ms) reports p50 10 ms and
    p99 50 ms, to the interval precision."""
    clock = VirtualClock()
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1
        await clock.sleep(0.05 if calls % 20 == 0 else 0.01)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target, profile=LoadProfile.ENDURANCE, total_requests=4000, concurrent_requests=10
        )
    )
    full = [point for point in result.timeline if point.requests >= 500]
    assert len(full) >= 3
    for point in full:
        assert point.seconds == 1
        assert 10.0 <= point.latency_p50 <= 10.0 * (1 + INTERVAL_PRECISION)
        assert 50.0 <= point.latency_p99 <= 50.0 * (1 + INTERVAL_PRECISION)
        assert point.raw_p99 is None
        assert point.requests_per_second == point.requests
    assert sum(point.requests for point in result.timeline) == result.total == 4000


async def test_open_model_points_show_corrected_and_raw() -> None:
    """At 100 starts/s with one slot and 20 ms calls, requests queue: corrected latency grows
    over the run while raw latency stays 20 ms."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.02)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target,
            profile=LoadProfile.CONSTANT_RATE,
            rate=100,
            total_requests=None,
            duration_seconds=4,
            concurrent_requests=1,
        )
    )
    points = [point for point in result.timeline if point.requests]
    assert points
    for point in points:
        assert point.raw_p50 is not None
        assert point.raw_max is not None
        assert 20.0 <= point.raw_p50 <= 20.0 * (1 + INTERVAL_PRECISION)
        assert point.latency_p50 >= point.raw_p50
    assert points[-1].latency_p99 > points[0].latency_p99 > 20.0 * (1 + INTERVAL_PRECISION)
    assert result.raw_percentiles is not None
    assert result.raw_percentiles[-1][1] == pytest.approx(20.0, rel=0.001)


async def test_a_long_run_keeps_a_bounded_timeline() -> None:
    """A 1,300 s run keeps at most MAX_TIMELINE_POINTS points, each the same number of seconds,
    and loses no request."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.001)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target,
            profile=LoadProfile.CONSTANT_RATE,
            rate=2,
            total_requests=None,
            duration_seconds=1300,
            concurrent_requests=5,
        )
    )
    assert len(result.timeline) <= MAX_TIMELINE_POINTS
    widths = {point.seconds for point in result.timeline}
    assert widths == {4}
    assert [point.second for point in result.timeline] == [
        4 * index for index in range(len(result.timeline))
    ]
    assert sum(point.requests for point in result.timeline) == result.total == 2600
    assert result.meta["timeline_seconds_per_point"] == 4


async def test_percentile_distribution_and_saved_histogram() -> None:
    """The percentile distribution runs through HdrHistogram's ticks to max, never falls, and
    the saved histogram answers any percentile after a JSON round trip."""
    clock = VirtualClock()
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1
        await clock.sleep(0.001 * (1 + calls % 100))

    result = await clock.run(
        LoadTester(clock).run_load_test(target, total_requests=5000, concurrent_requests=20)
    )
    assert [p for p, _ in result.percentiles] == list(PERCENTILE_TICKS)
    values = [ms for _, ms in result.percentiles]
    assert values == sorted(values)
    assert values[-1] == pytest.approx(result.latency_max)
    again = LoadTestResult.from_json(result.to_json())
    assert again == result
    assert again.latency_at(50) == pytest.approx(result.latency_p50)
    assert again.latency_at(97.5) == pytest.approx(98.0, rel=0.002)
    assert again.meta["target"].endswith("target")
    assert again.meta["host"]["cpus"] >= 1
    with pytest.raises(ConfigurationError, match="raw latencies"):
        again.latency_at(50, raw=True)
    with pytest.raises(ConfigurationError, match=r"0\.\.100"):
        again.latency_at(101)


@pytest.mark.parametrize(
    "encoded",
    [
        "not base64 !!",
        base64.b64encode(b"short").decode(),
        base64.b64encode(b"\x1c\x84\x93\x14\x00\x00\x00\x10" + b"\x00" * 16).decode(),
        "A" * (4 * 1024 * 1024 + 4),
        # a compressed bomb: a few KiB that inflate to 256 MiB
        base64.b64encode(
            b"\x1c\x84\x93\x14\x00\x00\x00\x00" + zlib.compress(b"\x00" * (256 << 20), 9)
        ).decode(),
    ],
    ids=["garbage", "short", "bad-payload", "too-long", "bomb"],
)
def test_a_bad_saved_histogram_is_a_configuration_error(encoded: str) -> None:
    """A saved histogram that is not one (or would inflate past the limit) is refused with a
    ConfigurationError, not a crash or an unbounded allocation."""
    with pytest.raises(ConfigurationError):
        decode_histogram(encoded)


@pytest.mark.parametrize(
    "text",
    ["", "[]", "{}", '{"latency": 3}', "not json", '{"profile": "x", "latency": {"p50": 1}}'],
)
def test_a_file_that_is_not_a_result_is_a_configuration_error(text: str) -> None:
    """from_json refuses what is not a saved load-test result with a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="not a load-test result"):
        LoadTestResult.from_json(text)
