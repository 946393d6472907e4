"""HealthMonitor: probe scheduling, consecutive-count transitions and passive signals."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- hostile checks and listeners -------------------------------------------------------------


class OwnBaseException(BaseException):
    """A BaseException subclass user code might define."""


#: What a check (or a dunder of its result) may raise that must count as a failed check.
CONTAINED_ERRORS: list[type[BaseException]] = [
    RuntimeError,
    ValueError,
    RecursionError,
    MemoryError,
    StopIteration,
    StopAsyncIteration,
    GeneratorExit,
    asyncio.CancelledError,
    OwnBaseException,
]


def raising(error: type[BaseException]) -> Any:
    """A method that raises *error*."""

    def method(self: object, *args: object) -> Any:
        raise error("hostile")

    return method


def hostile_result(error: type[BaseException], dunders: frozenset[str]) -> object:
    """A falsy-or-raising result: each dunder in *dunders* raises *error*, and it is never true."""
    namespace: dict[str, Any] = {name: raising(error) for name in dunders}
    if "__bool__" not in dunders:
        namespace["__len__"] = raising(error) if "__len__" in dunders else (lambda self: 0)
    if "__class__" in dunders:
        namespace["__class__"] = property(raising(error))
    return type("Hostile", (), namespace)()


class FakeReport(HealthReport):
    """A HealthReport whose fields raise when read."""

    @property
    def healthy(self) -> bool:
        raise OwnBaseException("no verdict")


class SwallowingCheck:
    """An async check that catches its cancellation and keeps running until released."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.starts = 0
        self.swallowed = 0
        self.released = False

    async def __call__(self) -> bool:
        self.starts += 1
        while not self.released:
            try:
                await self.clock.sleep(60)
            except asyncio.CancelledError:
                self.swallowed += 1
        return True

    async def release(self) -> None:
        """Let every running call end (so no task outlives the test)."""
        self.released = True
        await self.clock.advance(60)


async def test_result_whose_bool_raises_fails_and_the_probe_keeps_probing() -> None:
    """A result whose __bool__ raises is a failed check; the probe survives and goes on."""
    clock = VirtualClock()
    monitor = HealthMonitor(check_interval_seconds=10, unhealthy_threshold=2, clock=clock)
    probe = Probe(hostile_result(RuntimeError, frozenset({"__bool__"})))
    monitor.register_component("db", "service", probe)
    async with monitor:
        await clock.advance(10)
        assert monitor.status("db") is HealthStatus.UNHEALTHY
        health = monitor.get_health("db")
        assert health.last_report is not None
        assert "could not be evaluated: RuntimeError: hostile" in health.last_report.message
        probe.answer = True
        await clock.advance(10)
        assert monitor.status("db") is HealthStatus.HEALTHY
        assert probe.runs == 3


@pytest.mark.parametrize("error", CONTAINED_ERRORS)
@pytest.mark.parametrize("dunder", ["__bool__", "__len__", "__repr__", "__class__"])
async def test_any_dunder_raising_anything_is_a_failed_check(
    error: type[BaseException], dunder: str
) -> None:
    """Whatever a dunder of the result raises (BaseException too), the check simply fails."""
    monitor = HealthMonitor(unhealthy_threshold=1, clock=VirtualClock())
    monitor.register_component("x", "agent", Probe(hostile_result(error, frozenset({dunder}))))
    health = await monitor.check_now("x")
    assert health.status is HealthStatus.UNHEALTHY
    assert health.last_report is not None
    assert len(health.last_report.message) <= 500


async def test_a_fake_report_whose_fields_raise_is_a_failed_check() -> None:
    """A HealthReport subclass whose ``healthy`` raises a BaseException counts as a failure."""
    monitor = HealthMonitor(unhealthy_threshold=1, clock=VirtualClock())
    monitor.register_component("x", "agent", lambda: object.__new__(FakeReport))
    health = await monitor.check_now("x")
    assert health.status is HealthStatus.UNHEALTHY
    assert health.last_report is not None
    assert "OwnBaseException: no verdict" in health.last_report.message


async def test_a_report_with_a_hostile_message_is_kept_short_and_safe() -> None:
    """A report whose message is a huge string or an object with a raising repr is stored safely."""
    monitor = HealthMonitor(unhealthy_threshold=1, clock=VirtualClock())
    monitor.register_component("big", "agent", lambda: HealthReport(False, "x" * 10**6))
    odd_message: Any = hostile_result(ValueError, frozenset({"__repr__"}))
    monitor.register_component("odd", "agent", lambda: HealthReport(True, odd_message))
    big = await monitor.check_now("big")
    odd = await monitor.check_now("odd")
    assert big.status is HealthStatus.UNHEALTHY
    assert big.last_report is not None
    assert len(big.last_report.message) <= 500
    assert odd.status is HealthStatus.HEALTHY
    assert odd.last_report is not None
    assert odd.last_report.message.startswith("<Hostile ")


@pytest.mark.parametrize("error", CONTAINED_ERRORS)
@pytest.mark.parametrize("is_async", [False, True])
async def test_a_check_raising_any_base_exception_fails_and_probing_goes_on(
    error: type[BaseException], is_async: bool
) -> None:
    """GeneratorExit, its own CancelledError or any BaseException from a check is a failure."""
    clock = VirtualClock()
    monitor = HealthMonitor(check_interval_seconds=5, unhealthy_threshold=3, clock=clock)
    runs = 0

    def sync_check() -> bool:
        nonlocal runs
        runs += 1
        raise error("from the check")

    async def async_check() -> bool:
        return sync_check()

    monitor.register_component("x", "agent", async_check if is_async else sync_check)
    async with monitor:
        await clock.advance(10)
        assert monitor.status("x") is HealthStatus.UNHEALTHY
        await clock.advance(10)
        assert runs == 5
        health = monitor.get_health("x")
        assert health.consecutive_failures == 5
        assert health.last_report is not None
        assert health.last_report.message.startswith("check raised ")
        assert error.__name__ in health.last_report.message  # StopIteration comes wrapped


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
async def test_a_sync_check_asking_the_process_to_stop_is_not_swallowed(
    error: type[BaseException],
) -> None:
    """KeyboardInterrupt and SystemExit from a check propagate: they mean stop the process."""
    monitor = HealthMonitor(clock=VirtualClock())
    monitor.register_component("x", "agent", Probe(error()))

    def stop() -> bool:
        raise error()

    monitor.register_component("y", "agent", stop)
    with pytest.raises(error):
        await monitor.check_now("y")


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
def test_an_async_check_asking_the_process_to_stop_stops_the_loop(
    error: type[BaseException],
) -> None:
    """From an async check's task, KeyboardInterrupt and SystemExit end asyncio.run as usual."""

    async def scenario() -> None:
        clock = VirtualClock()
        monitor = HealthMonitor(check_interval_seconds=5, clock=clock)

        async def stop() -> bool:
            raise error()

        monitor.register_component("x", "agent", stop)
        async with monitor:
            await clock.advance(60)

    with pytest.raises(error):
        asyncio.run(scenario())


async def test_a_check_swallowing_cancellation_is_abandoned_and_stop_returns() -> None:
    """A timed-out check that ignores cancellation is abandoned after the grace, never restarted
    while it runs, the component still turns UNHEALTHY, and stop_monitoring returns."""
    clock = VirtualClock()
    monitor = HealthMonitor(
        check_interval_seconds=10,
        unhealthy_threshold=2,
        check_timeout_seconds=5,
        cancel_grace_seconds=2,
        clock=clock,
    )
    check = SwallowingCheck(clock)
    monitor.register_component("stuck", "service", check)
    await monitor.start_monitoring()
    await clock.advance(7)
    health = monitor.get_health("stuck")
    assert health.last_report is not None
    assert "ignored its cancellation for 2.0 s; abandoned" in health.last_report.message
    await clock.advance(10)
    assert monitor.status("stuck") is HealthStatus.UNHEALTHY
    health = monitor.get_health("stuck")
    assert health.last_report is not None
    assert "still runs; no new check was started" in health.last_report.message
    assert check.starts == 1
    stop = asyncio.create_task(monitor.stop_monitoring())
    await clock.settle()
    assert not stop.done()  # it waits the grace for the stuck check ...
    await clock.advance(2)
    await stop  # ... and then returns
    assert not monitor.running
    assert check.swallowed == 2
    await check.release()


async def test_stop_monitoring_returns_while_a_check_swallows_cancellation() -> None:
    """Stopping while a check is running and ignores cancellation returns after the grace."""
    clock = VirtualClock()
    monitor = HealthMonitor(check_interval_seconds=10, cancel_grace_seconds=1, clock=clock)
    check = SwallowingCheck(clock)
    monitor.register_component("stuck", "service", check)
    monitor.register_component("fine", "service", Probe())
    await monitor.start_monitoring()
    await clock.settle()
    stop = asyncio.create_task(monitor.stop_monitoring())
    await clock.advance(1)
    await stop
    assert monitor.status("fine") is HealthStatus.HEALTHY
    await check.release()


@pytest.mark.parametrize("error", CONTAINED_ERRORS)
async def test_listeners_that_raise_anything_break_nothing(error: type[BaseException]) -> None:
    """Sync and async listeners raising any BaseException are logged; the others hear everything."""
    clock = VirtualClock()
    monitor = HealthMonitor(unhealthy_threshold=1, clock=clock)
    seen: list[HealthStatus] = []

    async def async_raiser(event: HealthEvent) -> None:
        raise error("async listener")

    monitor.add_listener(raising(error).__get__(object()))
    monitor.add_listener(async_raiser)
    monitor.add_listener(lambda event: seen.append(event.new))
    probe = Probe()
    monitor.register_component("a", "agent", probe)
    await monitor.check_now("a")
    probe.answer = False
    await monitor.check_now("a")
    monitor.report_success("a")
    await clock.settle()
    assert seen == [HealthStatus.HEALTHY, HealthStatus.UNHEALTHY, HealthStatus.HEALTHY]


async def test_async_listeners_that_hang_or_ignore_cancellation_are_bounded() -> None:
    """A hanging async listener is cancelled after listener_timeout_seconds; one that ignores
    that is abandoned and skipped (not called again) while its call still runs."""
    clock = VirtualClock()
    monitor = HealthMonitor(
        unhealthy_threshold=1, listener_timeout_seconds=3, cancel_grace_seconds=1, clock=clock
    )
    hanging_calls = 0
    swallowing = SwallowingCheck(clock)

    async def hangs(event: HealthEvent) -> None:
        nonlocal hanging_calls
        hanging_calls += 1
        await clock.sleep(3600)

    async def swallows(event: HealthEvent) -> None:
        await swallowing()

    seen: list[HealthStatus] = []
    monitor.add_listener(hangs)
    monitor.add_listener(swallows)
    monitor.add_listener(lambda event: seen.append(event.new))
    probe = Probe()
    monitor.register_component("a", "agent", probe)
    for answer in (True, False, True, False):
        probe.answer = answer
        await monitor.check_now("a")
        await clock.advance(5)
    assert seen == [HealthStatus.HEALTHY, HealthStatus.UNHEALTHY] * 2
    assert hanging_calls == 4
    assert swallowing.starts == 1  # abandoned once, then skipped while it still runs
    assert clock.sleepers == 1  # only the abandoned call is left, not one per event
    await swallowing.release()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"cancel_grace_seconds": -1}, "cancel_grace_seconds"),
        ({"listener_timeout_seconds": 0}, "listener_timeout_seconds"),
    ],
)
def test_bad_grace_and_listener_timeout_are_refused(options: dict[str, Any], match: str) -> None:
    """A negative grace or a non-positive listener timeout raises ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match=match):
        HealthMonitor(**options)


#: One failing behaviour of a check: (kind, exception class, dunders that raise).
failing_behaviours = st.tuples(
    st.sampled_from(["return", "raise", "raise_async", "hang", "swallow", "fake_report"]),
    st.sampled_from(CONTAINED_ERRORS),
    st.frozensets(st.sampled_from(["__bool__", "__len__", "__repr__", "__eq__", "__class__"])),
)

#: How a generated listener misbehaves.
listener_behaviours = st.sampled_from(["raise", "raise_async", "hang", "swallow"])


@settings(max_examples=60)
@given(
    behaviours=st.lists(failing_behaviours, min_size=1, max_size=6),
    listener_kind=listener_behaviours,
    listener_error=st.sampled_from(CONTAINED_ERRORS),
)
def test_generated_hostile_checks_and_listeners_never_stop_the_state_machine(
    behaviours: list[tuple[str, type[BaseException], frozenset[str]]],
    listener_kind: str,
    listener_error: type[BaseException],
) -> None:
    """Checks failing in any generated way make the component UNHEALTHY after the threshold,
    then a passing check makes it HEALTHY; a hostile listener changes none of it, the other
    listener hears every change, and stop_monitoring returns."""

    async def scenario() -> None:
        clock = VirtualClock()
        monitor = HealthMonitor(
            check_interval_seconds=100,
            unhealthy_threshold=len(behaviours),
            check_timeout_seconds=3,
            cancel_grace_seconds=2,
            listener_timeout_seconds=4,
            clock=clock,
        )
        swallowers: list[SwallowingCheck] = []
        released = False  # once set, new swallowing calls end at once
        plan = iter(behaviours)

        async def check() -> object:
            behaviour = next(plan, None)
            if behaviour is None:
                return True
            kind, error, dunders = behaviour
            if kind == "return":
                return hostile_result(error, dunders)
            if kind == "fake_report":
                return object.__new__(FakeReport)
            if kind == "raise_async":
                await clock.sleep(1)
            if kind in ("raise", "raise_async"):
                raise error("generated")
            if kind == "hang":
                await clock.sleep(3600)
            swallower = SwallowingCheck(clock)
            swallower.released = released
            swallowers.append(swallower)
            return await swallower()

        async def hostile_listener(event: HealthEvent) -> None:
            if listener_kind == "raise_async":
                raise listener_error("generated")
            if listener_kind == "hang":
                await clock.sleep(3600)
            if listener_kind == "swallow":
                swallower = SwallowingCheck(clock)
                swallowers.append(swallower)
                await swallower()

        def listener(event: HealthEvent) -> Any:
            if listener_kind == "raise":
                raise listener_error("generated")
            return hostile_listener(event)

        seen: list[HealthStatus] = []
        monitor.add_listener(listener)
        monitor.add_listener(lambda event: seen.append(event.new))
        monitor.register_component("x", "agent", check)
        await monitor.start_monitoring()
        try:
            # Each probe fails within 5 s (timeout 3 + grace 2), the next starts 100 s later.
            await clock.advance(105 * (len(behaviours) - 1) + 5)
            assert monitor.status("x") is HealthStatus.UNHEALTHY
            # A swallowed check blocks new ones until it ends: release it; later ones pass.
            released = True
            for swallower in swallowers:
                swallower.released = True
            await clock.advance(1000)
            assert monitor.status("x") is HealthStatus.HEALTHY
            assert seen == [HealthStatus.UNHEALTHY, HealthStatus.HEALTHY]
            stop = asyncio.create_task(monitor.stop_monitoring())
            await clock.advance(2)
            await stop
        finally:
            for swallower in swallowers:  # no task may outlive asyncio.run
                await swallower.release()

    asyncio.run(scenario())


async def test_a_passive_failure_with_an_unprintable_exception_is_recorded() -> None:
    """report_failure with an exception whose __str__ raises still counts, with a safe message."""
    monitor = HealthMonitor(unhealthy_threshold=1, clock=VirtualClock())
    monitor.register_component("a", "agent")
    unprintable = type("Unprintable", (Exception,), {"__str__": raising(OwnBaseException)})()
    monitor.report_failure("a", unprintable)
    health = monitor.get_health("a")
    assert health.status is HealthStatus.UNHEALTHY
    assert health.last_report == HealthReport(
        False, "passive: Unprintable: <message cannot be shown>"
    )
