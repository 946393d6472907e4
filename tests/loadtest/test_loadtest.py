"""The load tester's API: arguments, sync and async targets, errors, exports and progress."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest

from agentkit import ConfigurationError, LoadProfile, LoadTester, LoadTestResult
from agentkit.testing import VirtualClock


async def noop() -> None:
    """An async target that does nothing."""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total_requests": 0}, "total_requests"),
        ({"total_requests": 1.5}, "total_requests"),
        ({"total_requests": None}, "total_requests or duration_seconds"),
        ({"concurrent_requests": 0}, "concurrent_requests"),
        ({"concurrent_requests": True}, "concurrent_requests"),
        ({"duration_seconds": -1}, "duration_seconds"),
        ({"ramp_up_seconds": float("nan")}, "ramp_up_seconds"),
        ({"timeout": 0}, "timeout"),
        ({"profile": "warp"}, "unknown load profile"),
        ({"profile": "constant_rate"}, "needs rate="),
        ({"profile": "constant_rate", "rate": 0}, "rate"),
        ({"rate": 10}, "open-model"),
        ({"max_error_rate": -0.1}, "max_error_rate"),
    ],
)
async def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    """Each bad argument raises ConfigurationError naming it, before any request is sent."""
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1

    with pytest.raises(ConfigurationError, match=message):
        await LoadTester().run_load_test(target, **kwargs)  # type: ignore[arg-type]
    assert calls == 0


async def test_non_callable_target_is_refused() -> None:
    """A target that is not callable raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="callable"):
        await LoadTester().run_load_test("not a function")  # type: ignore[arg-type]


def test_profile_names_parse() -> None:
    """Profiles parse from their value, their name and dashed spellings."""
    assert LoadProfile.parse("ramp-up") is LoadProfile.RAMP_UP
    assert LoadProfile.parse("CONSTANT_RATE") is LoadProfile.CONSTANT_RATE
    assert LoadProfile.parse(LoadProfile.STRESS) is LoadProfile.STRESS
    assert LoadProfile.RAMPING_RATE.is_open
    assert not LoadProfile.SPIKE.is_open


async def test_guide_call_runs_exactly_total_requests() -> None:
    """The guide's call shape runs 1000 async requests and reports throughput and percentiles."""
    result = await LoadTester().run_load_test(
        noop,
        profile=LoadProfile.RAMP_UP,
        total_requests=1000,
        concurrent_requests=50,
        ramp_up_seconds=30,
    )
    assert isinstance(result, LoadTestResult)
    assert result.total == result.successes == 1000
    assert result.requests_per_second > 0
    assert result.latency_p50 <= result.latency_p95 <= result.latency_p99 <= result.latency_max
    assert result.error_rate == 0.0


async def test_sync_target_runs_in_threads() -> None:
    """A plain function runs on worker threads, several at once, never on the event loop thread."""
    loop_thread = threading.get_ident()
    seen: set[int] = set()
    lock = threading.Lock()

    def target() -> int:
        with lock:
            seen.add(threading.get_ident())
        time.sleep(0.001)
        return 1

    result = await LoadTester().run_load_test(
        target, "endurance", total_requests=200, concurrent_requests=4
    )
    assert result.successes == 200
    assert loop_thread not in seen
    assert len(seen) > 1


async def test_errors_are_counted_by_type() -> None:
    """Failures are counted by exception type and give the error rate; latency covers successes."""
    clock = VirtualClock()
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1
        await clock.sleep(0.01)
        if calls % 4 == 0:
            raise KeyError("missing")
        if calls % 10 == 0:
            raise ValueError("bad")

    result = await clock.run(
        LoadTester(clock).run_load_test(target, "endurance", 100, concurrent_requests=1)
    )
    assert result.errors == {"KeyError": 25, "ValueError": 5}
    assert result.failures == 30
    assert result.successes == 70
    assert result.error_rate == pytest.approx(0.3)
    assert result.latency.count == 70


async def test_timeout_counts_as_error() -> None:
    """With timeout= a request slower than it fails with TimeoutError and the run goes on."""
    clock = VirtualClock()
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1
        await clock.sleep(5.0 if calls == 3 else 0.01)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target, "endurance", 10, concurrent_requests=1, timeout=1.0
        ),
    )
    assert result.errors == {"TimeoutError": 1}
    assert result.successes == 9


async def test_duration_bound_run_stops_on_time() -> None:
    """A run with duration_seconds and no total ends after that much (virtual) time."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.1)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target, "endurance", None, concurrent_requests=2, duration_seconds=3
        ),
    )
    assert result.total == 60
    assert result.duration_seconds == pytest.approx(3.0)
    assert result.requests_per_second == pytest.approx(20.0)


async def test_json_and_summary_carry_the_figures() -> None:
    """to_json holds the guide's figures and the timeline; the summary table names them."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.002)

    result = await clock.run(
        LoadTester(clock).run_load_test(
            target, "constant_rate", 300, rate=100, concurrent_requests=5
        ),
    )
    data = json.loads(result.to_json())
    assert data["total"] == 300
    assert data["requests_per_second"] == pytest.approx(result.requests_per_second)
    assert data["latency"]["p95"] == pytest.approx(2.0, rel=0.01)
    assert data["raw_latency"]["p99"] == pytest.approx(2.0, rel=0.01)
    assert len(data["timeline"]) == len(result.timeline) >= 3
    table = result.summary()
    for word in ("throughput", "error rate", "corrected", "raw", "p99.9"):
        assert word in table


async def test_html_report_is_self_contained() -> None:
    """The HTML report has inline SVG charts and loads nothing from a network."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.01)

    result = await clock.run(
        LoadTester(clock).run_load_test(target, "ramp_up", 500, 10, ramp_up_seconds=2)
    )
    page = result.to_html(title="demo <run>")
    assert page.count("<svg") == 4
    assert "<path" in page
    assert "<rect" in page
    assert "demo &lt;run&gt;" in page
    assert page.count("<script>") == page.count("<script") == 1  # the inline hover script
    assert page.count("<link") == page.count('<link rel="icon" href="data:,">')
    for needle in ("src=", "url(", "https://", "http://"):
        assert needle not in page


async def test_progress_bar_draws_for_long_runs() -> None:
    """A run longer than a second draws a progress bar on the given stream and ends the line."""
    clock = VirtualClock()
    stream = io.StringIO()

    async def target() -> None:
        await clock.sleep(0.01)

    await clock.run(
        LoadTester(clock).run_load_test(
            target, "endurance", 400, 2, progress=True, progress_stream=stream
        ),
    )
    text = stream.getvalue()
    assert "\r[" in text
    assert "req/s" in text
    assert "p95" in text
    assert text.endswith("\n")


async def test_progress_bar_stays_quiet_for_short_runs_and_non_terminals() -> None:
    """No bar for runs under a second, nor by default on a stream that is not a terminal."""
    clock = VirtualClock()
    short, piped = io.StringIO(), io.StringIO()

    async def target() -> None:
        await clock.sleep(0.01)

    await clock.run(
        LoadTester(clock).run_load_test(
            target, "endurance", 20, 2, progress=True, progress_stream=short
        ),
    )
    await clock.run(
        LoadTester(clock).run_load_test(target, "endurance", 400, 2, progress_stream=piped)
    )
    assert short.getvalue() == ""
    assert piped.getvalue() == ""
