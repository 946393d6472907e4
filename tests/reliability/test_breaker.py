"""CircuitBreaker: transitions, fallbacks, exclusions, listeners and stats, on virtual time."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from agentkit import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    ConfigurationError,
    HealthMonitor,
    HealthStatus,
)
from agentkit.testing import VirtualClock


class Service:
    """A callable that fails while ``failing`` is set, counting the calls that reach it."""

    def __init__(self) -> None:
        self.failing = False
        self.calls = 0

    async def __call__(self, value: int = 1) -> int:
        self.calls += 1
        if self.failing:
            raise ConnectionError("service down")
        return value


async def trip(breaker: CircuitBreaker, service: Service, times: int) -> None:
    service.failing = True
    for _ in range(times):
        with pytest.raises(ConnectionError):
            await breaker.call(service)


async def test_opens_after_consecutive_failures_and_rejects_fast() -> None:
    """Five failures open the circuit; the next call raises CircuitOpenError without a call."""
    clock = VirtualClock()
    breaker = CircuitBreaker("external-api", failure_threshold=5, timeout_seconds=60, clock=clock)
    service = Service()
    await trip(breaker, service, 4)
    assert breaker.state is CircuitState.CLOSED
    await trip(breaker, service, 1)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError, match="external-api"):
        await breaker.call(service)
    assert service.calls == 5
    assert breaker.stats.rejections == 1


async def test_a_success_resets_the_consecutive_count() -> None:
    """Failures separated by a success never reach the threshold."""
    breaker = CircuitBreaker("api", failure_threshold=3, clock=VirtualClock())
    service = Service()
    for _ in range(5):
        await trip(breaker, service, 2)
        service.failing = False
        assert await breaker.call(service, 7) == 7
    assert breaker.state is CircuitState.CLOSED


async def test_half_open_after_timeout_then_closes_on_success() -> None:
    """After timeout_seconds of clock time one probe passes; its success closes the circuit."""
    clock = VirtualClock()
    breaker = CircuitBreaker("api", failure_threshold=1, timeout_seconds=60, clock=clock)
    service = Service()
    await trip(breaker, service, 1)
    await clock.advance(59.9)
    assert breaker.state is CircuitState.OPEN
    await clock.advance(0.1)
    assert breaker.state is CircuitState.HALF_OPEN
    service.failing = False
    assert await breaker.call(service, 3) == 3
    assert breaker.state is CircuitState.CLOSED


async def test_probe_failure_reopens_for_a_full_timeout() -> None:
    """A failed probe opens the circuit again, and the timeout starts over."""
    clock = VirtualClock()
    breaker = CircuitBreaker("api", failure_threshold=1, timeout_seconds=10, clock=clock)
    service = Service()
    await trip(breaker, service, 1)
    await clock.advance(10)
    await trip(breaker, service, 1)
    assert breaker.state is CircuitState.OPEN
    assert breaker.retry_after == pytest.approx(10)
    assert breaker.stats.times_opened == 2


async def test_half_open_admits_at_most_max_calls_concurrently() -> None:
    """With half_open_max_calls=2, a third concurrent caller is rejected while two probe."""
    clock = VirtualClock()
    breaker = CircuitBreaker(
        "api", failure_threshold=1, timeout_seconds=1, half_open_max_calls=2, clock=clock
    )
    await trip(breaker, Service(), 1)
    await clock.advance(1)
    release = asyncio.Event()
    started = 0

    async def slow() -> str:
        nonlocal started
        started += 1
        await release.wait()
        return "ok"

    probes = [asyncio.create_task(breaker.call(slow)) for _ in range(2)]
    await clock.settle()
    with pytest.raises(CircuitOpenError, match="half-open"):
        await breaker.call(slow)
    assert started == 2
    assert breaker.stats.half_open_in_flight == 2
    release.set()
    assert await asyncio.gather(*probes) == ["ok", "ok"]
    assert breaker.state is CircuitState.CLOSED


async def test_success_threshold_needs_that_many_probe_successes() -> None:
    """With success_threshold=3 the circuit stays half-open until the third probe succeeds."""
    clock = VirtualClock()
    breaker = CircuitBreaker(
        "api", failure_threshold=1, timeout_seconds=1, success_threshold=3, clock=clock
    )
    service = Service()
    await trip(breaker, service, 1)
    await clock.advance(1)
    service.failing = False
    for _ in range(2):
        await breaker.call(service)
        assert breaker.state is CircuitState.HALF_OPEN
    await breaker.call(service)
    assert breaker.state is CircuitState.CLOSED


async def test_guide_fallback_without_arguments_is_served_when_open() -> None:
    """The guide's zero-argument fallback answers failures and rejections; the service rests."""
    breaker = CircuitBreaker(
        "external-api", failure_threshold=5, timeout_seconds=60, clock=VirtualClock()
    )
    service = Service()
    service.failing = True

    async def fallback() -> str:
        return "cached"

    results = [await breaker.call(service, fallback=fallback) for _ in range(8)]
    assert results == ["cached"] * 8
    assert service.calls == 5
    assert breaker.stats.fallbacks == 8


async def test_fallback_with_one_argument_receives_the_exception() -> None:
    """A one-argument (sync) fallback is called with the failure, then with CircuitOpenError."""
    breaker = CircuitBreaker("api", failure_threshold=1, clock=VirtualClock())
    seen: list[BaseException] = []

    def fallback(error: BaseException) -> str:
        seen.append(error)
        return type(error).__name__

    service = Service()
    service.failing = True
    assert await breaker.call(service, fallback=fallback) == "ConnectionError"
    assert await breaker.call(service, fallback=fallback) == "CircuitOpenError"
    assert isinstance(seen[1], CircuitOpenError)


async def test_default_fallback_and_per_call_override() -> None:
    """The constructor's fallback is used unless a call passes its own (None: no fallback)."""
    breaker = CircuitBreaker(
        "api", failure_threshold=10, fallback=lambda: "default", clock=VirtualClock()
    )
    service = Service()
    service.failing = True
    assert await breaker.call(service) == "default"
    assert await breaker.call(service, fallback=lambda: "mine") == "mine"
    with pytest.raises(ConnectionError):
        await breaker.call(service, fallback=None)


async def test_fallback_needing_two_arguments_is_refused() -> None:
    """A fallback that needs two arguments is a configuration error, said clearly."""
    with pytest.raises(ConfigurationError, match="fallback"):
        CircuitBreaker("api", fallback=lambda a, b: None)


async def test_excluded_exceptions_never_count_and_skip_the_fallback() -> None:
    """An excluded exception is re-raised as is, counts neither way and keeps the circuit closed."""
    breaker = CircuitBreaker(
        "api",
        failure_threshold=2,
        excluded_exceptions=[KeyError],
        fallback=lambda: "fb",
        clock=VirtualClock(),
    )

    def lookup() -> None:
        raise KeyError("no such user")

    for _ in range(5):
        with pytest.raises(KeyError):
            await breaker.call(lookup)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.stats.ignored == 5
    assert breaker.stats.failures == 0


async def test_is_failure_predicate_decides() -> None:
    """is_failure returning False makes an exception not count."""
    breaker = CircuitBreaker(
        "api",
        failure_threshold=1,
        is_failure=lambda exc: "fatal" in str(exc),
        clock=VirtualClock(),
    )

    def boom(text: str) -> None:
        raise RuntimeError(text)

    with pytest.raises(RuntimeError):
        await breaker.call(boom, "benign")
    assert breaker.state is CircuitState.CLOSED
    with pytest.raises(RuntimeError):
        await breaker.call(boom, "fatal")
    assert breaker.state is CircuitState.OPEN


async def test_failure_rate_window_opens_without_consecutive_failures() -> None:
    """Alternating failures never hit 5 in a row but reach a 50 % rate over a window of 10."""
    breaker = CircuitBreaker(
        "api",
        failure_threshold=5,
        failure_rate_threshold=0.5,
        sliding_window_size=10,
        clock=VirtualClock(),
    )
    service = Service()
    for index in range(9):
        service.failing = index % 2 == 0
        with contextlib.suppress(ConnectionError):
            await breaker.call(service)
        assert breaker.state is CircuitState.CLOSED, index
    service.failing = False
    await breaker.call(service)  # 10 calls, 5 failures: the minimum is reached, rate is 0.5
    assert breaker.state is CircuitState.OPEN
    assert breaker.stats.window_failure_rate == 0.5


async def test_slow_calls_count_as_failures_but_return() -> None:
    """A call slower than slow_call_seconds returns its value and counts as a failure."""
    clock = VirtualClock()
    breaker = CircuitBreaker("api", failure_threshold=2, slow_call_seconds=1.0, clock=clock)

    async def slow() -> str:
        await clock.sleep(2)
        return "late"

    for _ in range(2):
        task = asyncio.create_task(breaker.call(slow))
        await clock.advance(2)
        assert await task == "late"
    assert breaker.state is CircuitState.OPEN
    assert breaker.stats.slow_calls == 2


async def test_sync_functions_run_inline_with_arguments() -> None:
    """A sync function is called inline with its positional and keyword arguments."""
    breaker = CircuitBreaker("api", clock=VirtualClock())
    assert await breaker.call(lambda a, b=0: a + b, 2, b=3) == 5


async def test_late_result_from_an_older_state_does_not_count() -> None:
    """A call admitted while CLOSED that fails after the circuit opened changes nothing."""
    clock = VirtualClock()
    breaker = CircuitBreaker("api", failure_threshold=1, timeout_seconds=5, clock=clock)
    gate = asyncio.Event()

    async def slow_fail() -> None:
        await gate.wait()
        raise ConnectionError("late")

    late = asyncio.create_task(breaker.call(slow_fail))
    await clock.settle()
    await trip(breaker, Service(), 1)
    await clock.advance(5)
    assert breaker.state is CircuitState.HALF_OPEN
    gate.set()
    with pytest.raises(ConnectionError):
        await late
    assert breaker.state is CircuitState.HALF_OPEN


async def test_cancelled_probe_frees_its_slot() -> None:
    """Cancelling a half-open probe lets the next caller probe."""
    clock = VirtualClock()
    breaker = CircuitBreaker("api", failure_threshold=1, timeout_seconds=1, clock=clock)
    await trip(breaker, Service(), 1)
    await clock.advance(1)
    probe = asyncio.create_task(breaker.call(asyncio.Event().wait))
    await clock.settle()
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert await breaker.call(lambda: "next") == "next"
    assert breaker.state is CircuitState.CLOSED


async def test_listeners_hear_each_transition_and_a_bad_one_is_contained() -> None:
    """Sync and async listeners get (breaker, old, new); one that raises breaks nothing."""
    clock = VirtualClock()
    changes: list[tuple[str, str]] = []
    async_changes: list[str] = []

    def broken(*_: Any) -> None:
        raise RuntimeError("listener bug")

    async def later(_: CircuitBreaker, old: CircuitState, new: CircuitState) -> None:
        async_changes.append(new.value)

    breaker = CircuitBreaker(
        "api",
        failure_threshold=1,
        timeout_seconds=1,
        listeners=[broken, lambda b, old, new: changes.append((old.value, new.value))],
        clock=clock,
    )
    breaker.add_listener(later)
    await trip(breaker, Service(), 1)
    await clock.advance(1)
    await breaker.call(lambda: None)
    await clock.settle()
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert async_changes == ["open", "half_open", "closed"]


@pytest.mark.parametrize("error", [asyncio.CancelledError, GeneratorExit, BaseException])
async def test_a_listener_raising_a_base_exception_is_contained(
    error: type[BaseException],
) -> None:
    """A listener raising CancelledError, GeneratorExit or a bare BaseException breaks no call."""
    clock = VirtualClock()
    changes: list[str] = []

    def hostile(*_: Any) -> None:
        raise error()

    breaker = CircuitBreaker(
        "api",
        failure_threshold=1,
        timeout_seconds=1,
        listeners=[hostile, lambda b, old, new: changes.append(new.value)],
        clock=clock,
    )
    await trip(breaker, Service(), 1)
    await clock.advance(1)
    assert await breaker.call(lambda: "ok") == "ok"
    assert changes == ["open", "half_open", "closed"]


async def test_decorator_form_guards_every_call() -> None:
    """@breaker wraps a function so its calls go through the breaker."""
    breaker = CircuitBreaker("api", failure_threshold=1, clock=VirtualClock())
    calls = 0

    @breaker
    async def fetch(x: int) -> int:
        nonlocal calls
        calls += 1
        if x < 0:
            raise ValueError("negative")
        return x * 2

    assert await fetch(2) == 4
    with pytest.raises(ValueError, match="negative"):
        await fetch(-1)
    with pytest.raises(CircuitOpenError):
        await fetch(3)
    assert calls == 2
    assert fetch.__name__ == "fetch"


async def test_reset_and_force_open() -> None:
    """force_open rejects calls at once; reset closes and clears the counts."""
    breaker = CircuitBreaker("api", clock=VirtualClock())
    breaker.force_open()
    with pytest.raises(CircuitOpenError):
        await breaker.call(lambda: 1)
    breaker.reset()
    assert await breaker.call(lambda: 1) == 1
    assert breaker.stats.consecutive_failures == 0


async def test_opening_breaker_marks_the_component_unhealthy() -> None:
    """watch_breaker: the breaker opening is a passive signal that marks the component at once."""
    clock = VirtualClock()
    monitor = HealthMonitor(check_interval_seconds=30, unhealthy_threshold=3, clock=clock)
    monitor.register_component("api", "service")
    breaker = CircuitBreaker("api", failure_threshold=2, timeout_seconds=1, clock=clock)
    monitor.watch_breaker(breaker, "api")
    await trip(breaker, Service(), 2)
    assert monitor.status("api") is HealthStatus.UNHEALTHY
    await clock.advance(1)
    await breaker.call(lambda: None)
    assert monitor.status("api") is HealthStatus.HEALTHY


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"failure_threshold": 2.5}, "failure_threshold"),
        ({"timeout_seconds": -1}, "timeout_seconds"),
        ({"half_open_max_calls": 0}, "half_open_max_calls"),
        ({"success_threshold": True}, "success_threshold"),
        ({"failure_rate_threshold": 1.5}, "failure_rate_threshold"),
        ({"failure_rate_threshold": 0.5, "minimum_calls": 500}, "minimum_calls"),
        ({"slow_call_seconds": 0}, "slow_call_seconds"),
        ({"excluded_exceptions": [int]}, "excluded_exceptions"),
    ],
)
def test_bad_options_are_refused_clearly(options: dict[str, Any], match: str) -> None:
    """Each bad option raises ConfigurationError naming the option."""
    with pytest.raises(ConfigurationError, match=match):
        CircuitBreaker("api", **options)


def test_empty_name_and_bad_listener_are_refused() -> None:
    """A breaker needs a name; a listener must be callable."""
    with pytest.raises(ConfigurationError, match="name"):
        CircuitBreaker("")
    with pytest.raises(ConfigurationError, match="callable"):
        CircuitBreaker("api").add_listener("nope")  # type: ignore[arg-type]


def test_call_sync_counts_failures_and_serves_the_fallback_once_open() -> None:
    """call_sync from plain sync code opens the circuit after the threshold and then falls back."""
    clock = VirtualClock()
    breaker = CircuitBreaker("sync-api", failure_threshold=2, timeout_seconds=10, clock=clock)
    reached: list[int] = []

    def flaky(value: int) -> int:
        reached.append(value)
        raise ConnectionError("down")

    for value in (1, 2):
        with pytest.raises(ConnectionError):
            breaker.call_sync(flaky, value)
    assert breaker.state is CircuitState.OPEN
    assert breaker.call_sync(flaky, 3, fallback=lambda: "cached") == "cached"
    assert breaker.call_sync(flaky, 4, fallback=lambda exc: type(exc).__name__) == (
        "CircuitOpenError"
    )
    with pytest.raises(CircuitOpenError):
        breaker.call_sync(flaky, 5)
    assert reached == [1, 2]


async def test_call_sync_and_call_share_one_state() -> None:
    """A failure counted by call_sync and one by call together reach the threshold."""
    breaker = CircuitBreaker("shared", failure_threshold=2, clock=VirtualClock())
    service = Service()
    service.failing = True

    def failing_sync() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        breaker.call_sync(failing_sync)
    with pytest.raises(ConnectionError):
        await breaker.call(service)
    assert breaker.state is CircuitState.OPEN
    assert breaker.call_sync(lambda: 1, fallback=lambda: 0) == 0


def test_call_sync_refuses_async_functions_and_fallbacks() -> None:
    """Handing call_sync a coroutine function or an async fallback is a clear error, not a leak."""
    breaker = CircuitBreaker("misuse", failure_threshold=1, clock=VirtualClock())

    async def coroutine_function() -> int:
        return 1

    with pytest.raises(ConfigurationError, match="await call"):
        breaker.call_sync(coroutine_function)
    assert breaker.state is CircuitState.CLOSED  # misuse is not a failure of the service

    def failing() -> None:
        raise ConnectionError("down")

    async def async_fallback() -> str:
        return "cached"

    with pytest.raises(ConfigurationError, match="async fallback"):
        breaker.call_sync(failing, fallback=async_fallback)
