"""HealthMonitor: probe scheduling, consecutive-count transitions and passive signals."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentkit import (
    ConfigurationError,
    HealthEvent,
    HealthMonitor,
    HealthReport,
    HealthStatus,
)
from agentkit.testing import VirtualClock


class Probe:
    """A health check whose answer the test sets; counts how often it ran."""

    def __init__(self, answer: Any = True) -> None:
        self.answer = answer
        self.runs = 0

    async def __call__(self) -> Any:
        self.runs += 1
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


async def test_start_monitoring_returns_at_once_and_probes_each_interval() -> None:
    """start_monitoring schedules the probes (first one now) and returns; they repeat."""
    clock = VirtualClock()
    monitor = HealthMonitor(check_interval_seconds=30, unhealthy_threshold=3, clock=clock)
    probe = Probe()
    monitor.register_component("primary", "agent", probe)
    assert monitor.status("primary") is HealthStatus.UNKNOWN
    await monitor.start_monitoring()
    assert monitor.running
    await clock.settle()
    assert probe.runs == 1
    assert monitor.status("primary") is HealthStatus.HEALTHY
    await clock.advance(90)
    assert probe.runs == 4
    await monitor.stop_monitoring()
    await clock.advance(90)
    assert probe.runs == 4
    assert clock.sleepers == 0


async def test_unhealthy_after_threshold_consecutive_failures() -> None:
    """Two failures leave a HEALTHY component healthy; the third makes it UNHEALTHY."""
    clock = VirtualClock()
    monitor = HealthMonitor(check_interval_seconds=10, unhealthy_threshold=3, clock=clock)
    probe = Probe()
    monitor.register_component("db", "service", probe)
    async with monitor:
        await clock.settle()
        probe.answer = False
        await clock.advance(20)
        assert monitor.status("db") is HealthStatus.HEALTHY
        assert monitor.get_health("db").consecutive_failures == 2
        await clock.advance(10)
        assert monitor.status("db") is HealthStatus.UNHEALTHY
        assert monitor.get_health("db").failing_since == 10


async def test_healthy_threshold_needs_consecutive_successes() -> None:
    """With healthy_threshold=2 an UNHEALTHY component needs two passes in a row to recover."""
    clock = VirtualClock()
    monitor = HealthMonitor(
        check_interval_seconds=1, unhealthy_threshold=1, healthy_threshold=2, clock=clock
    )
    probe = Probe(False)
    monitor.register_component("db", "service", probe)
    await monitor.check_now("db")
    assert monitor.status("db") is HealthStatus.UNHEALTHY
    probe.answer = True
    await monitor.check_now("db")
    assert monitor.status("db") is HealthStatus.UNHEALTHY
    probe.answer = False
    await monitor.check_now("db")
    probe.answer = True
    await monitor.check_now("db")
    assert monitor.status("db") is HealthStatus.UNHEALTHY
    await monitor.check_now("db")
    assert monitor.status("db") is HealthStatus.HEALTHY


@pytest.mark.parametrize(
    "answer",
    [False, None, 0, "", HealthReport(False, "disk full"), RuntimeError("boom")],
)
async def test_falsy_results_reports_and_exceptions_fail(answer: Any) -> None:
    """Falsy values, an unhealthy HealthReport and an exception all count as failed checks."""
    monitor = HealthMonitor(unhealthy_threshold=1, clock=VirtualClock())
    monitor.register_component("x", "service", Probe(answer))
    health = await monitor.check_now("x")
    assert health.status is HealthStatus.UNHEALTHY
    assert health.last_report is not None
    assert not health.last_report.healthy


async def test_a_check_that_hangs_times_out() -> None:
    """A check still running after check_timeout_seconds fails with a timeout message."""
    clock = VirtualClock()
    monitor = HealthMonitor(
        check_interval_seconds=30, unhealthy_threshold=1, check_timeout_seconds=5, clock=clock
    )

    async def hangs() -> bool:
        await clock.sleep(3600)
        return True

    monitor.register_component("slow", "service", hangs)
    check = asyncio.create_task(monitor.check_now("slow"))
    await clock.advance(5)
    health = await check
    assert health.status is HealthStatus.UNHEALTHY
    assert health.last_report is not None
    assert "timed out after 5.0 s" in health.last_report.message


async def test_sync_checks_and_reports_are_accepted() -> None:
    """A sync check returning a healthy HealthReport passes, with its message kept."""
    monitor = HealthMonitor(clock=VirtualClock())
    monitor.register_component("cache", "service", lambda: HealthReport(True, "hit rate 98 %"))
    health = await monitor.check_now("cache")
    assert health.status is HealthStatus.HEALTHY
    assert health.last_report == HealthReport(True, "hit rate 98 %")


async def test_listeners_get_status_changes_only() -> None:
    """Listeners (sync and async) hear UNKNOWN->HEALTHY and HEALTHY->UNHEALTHY, not repeats."""
    clock = VirtualClock()
    monitor = HealthMonitor(unhealthy_threshold=1, clock=clock)
    seen: list[tuple[str, str]] = []
    async_seen: list[HealthEvent] = []

    async def later(event: HealthEvent) -> None:
        async_seen.append(event)

    monitor.add_listener(lambda event: seen.append((event.old.value, event.new.value)))
    monitor.add_listener(later)
    monitor.add_listener(lambda event: 1 / 0)  # a broken listener breaks nothing
    probe = Probe()
    monitor.register_component("a", "agent", probe)
    await monitor.check_now("a")
    await monitor.check_now("a")
    probe.answer = False
    await monitor.check_now("a")
    await monitor.check_now("a")
    await clock.settle()
    assert seen == [("unknown", "healthy"), ("healthy", "unhealthy")]
    assert [event.new for event in async_seen] == [HealthStatus.HEALTHY, HealthStatus.UNHEALTHY]


async def test_passive_failures_count_toward_the_threshold() -> None:
    """report_failure counts like a failed probe; immediate=True marks UNHEALTHY at once."""
    monitor = HealthMonitor(unhealthy_threshold=3, clock=VirtualClock())
    monitor.register_component("a", "agent")
    monitor.report_failure("a", ConnectionError("refused"))
    monitor.report_failure("a")
    assert monitor.status("a") is HealthStatus.UNKNOWN
    monitor.report_failure("a")
    assert monitor.status("a") is HealthStatus.UNHEALTHY
    monitor.report_success("a")
    assert monitor.status("a") is HealthStatus.HEALTHY
    monitor.report_failure("a", "breaker opened", immediate=True)
    assert monitor.status("a") is HealthStatus.UNHEALTHY
    assert monitor.get_health("a").last_report == HealthReport(False, "passive: breaker opened")


async def test_components_added_while_running_are_probed() -> None:
    """A component registered after start_monitoring gets its probe at once."""
    clock = VirtualClock()
    monitor = HealthMonitor(check_interval_seconds=5, clock=clock)
    async with monitor:
        probe = Probe()
        monitor.register_component("late", "agent", probe)
        await clock.settle()
        assert probe.runs == 1
        monitor.unregister_component("late")
        await clock.advance(20)
        assert probe.runs == 1


async def test_check_all_and_snapshot() -> None:
    """check_all runs every check once and snapshot lists each component."""
    monitor = HealthMonitor(unhealthy_threshold=1, clock=VirtualClock())
    monitor.register_component("up", "agent", Probe(True))
    monitor.register_component("down", "agent", Probe(False))
    monitor.register_component("passive", "agent")
    snapshot = await monitor.check_all()
    assert {name: h.status for name, h in snapshot.items()} == {
        "up": HealthStatus.HEALTHY,
        "down": HealthStatus.UNHEALTHY,
        "passive": HealthStatus.UNKNOWN,
    }
    assert monitor.components == ["up", "down", "passive"]
    assert monitor.is_healthy("up")
    assert not monitor.is_healthy("passive")


async def test_bad_registrations_and_unknown_names_are_refused() -> None:
    """Duplicate names, non-callable checks and unknown names fail with clear errors."""
    monitor = HealthMonitor(clock=VirtualClock())
    monitor.register_component("a", "agent", Probe())
    with pytest.raises(ConfigurationError, match="already registered"):
        monitor.register_component("a", "agent", Probe())
    monitor.register_component("a", "agent", Probe(False), replace=True)
    with pytest.raises(ConfigurationError, match="callable"):
        monitor.register_component("b", "agent", "not a function")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="non-empty"):
        monitor.register_component("", "agent", Probe())
    with pytest.raises(KeyError, match="nope"):
        monitor.status("nope")
    with pytest.raises(KeyError, match="nope"):
        monitor.report_failure("nope")
    monitor.register_component("p", "agent")
    with pytest.raises(ConfigurationError, match="no check"):
        await monitor.check_now("p")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"check_interval_seconds": 0}, "check_interval_seconds"),
        ({"unhealthy_threshold": 0}, "unhealthy_threshold"),
        ({"healthy_threshold": 1.5}, "healthy_threshold"),
        ({"check_timeout_seconds": -1}, "check_timeout_seconds"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], match: str) -> None:
    """Each bad option raises ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match=match):
        HealthMonitor(**options)
