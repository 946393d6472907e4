"""The circuit breaker: stop calling what keeps failing, probe it, close again when it works.

States and transitions::

    CLOSED --failure_threshold consecutive failures (or the failure rate)--> OPEN
    OPEN --timeout_seconds of clock time (checked when a call arrives)--> HALF_OPEN
    HALF_OPEN --success_threshold probe successes--> CLOSED
    HALF_OPEN --one probe failure--> OPEN

State lives in plain attributes changed only between awaits, so nothing is locked and nothing
is held while the wrapped function runs (unlike pybreaker, which locks around every call). A
call's result counts only in the state it was admitted in: a call admitted while CLOSED that
fails after the circuit opened changes nothing. One breaker belongs to one event loop.

With tracing on (see :mod:`agentkit.observability`) every transition is a span event
``circuit_breaker.state_change`` (on the current span, or on a short span of its own when
none records), counted in ``agentkit.breaker.transitions``; the observable gauge
``agentkit.breaker.state`` reports each live breaker's state (0 closed, 1 half-open, 2 open).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import inspect
import logging
import threading
import types
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from agentkit._clock import SYSTEM_CLOCK
from agentkit.exceptions import CircuitOpenError, ConfigurationError
from agentkit.observability import telemetry
from agentkit.protocols import Clock

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Observation
    from opentelemetry.trace import Tracer

    from agentkit.observability import Instruments

__all__ = ["BreakerStats", "CircuitBreaker", "CircuitState", "StateChangeListener"]

logger = logging.getLogger("agentkit.breaker")

P = ParamSpec("P")
T = TypeVar("T")

#: Called as ``listener(breaker, old_state, new_state)`` on every transition; sync or async.
StateChangeListener = Callable[["CircuitBreaker", "CircuitState", "CircuitState"], Any]

_MISSING: Any = object()
_COROUTINE = types.CoroutineType


class CircuitState(enum.StrEnum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"
    """Calls pass; failures are counted."""
    OPEN = "open"
    """Calls are rejected at once (or served by the fallback) until the timeout passes."""
    HALF_OPEN = "half_open"
    """Up to ``half_open_max_calls`` probe calls pass; the rest are rejected."""


@dataclasses.dataclass(frozen=True, slots=True)
class BreakerStats:
    """A snapshot of one breaker's state and counters."""

    name: str
    state: CircuitState
    calls: int
    """Calls that reached the wrapped function."""
    successes: int
    failures: int
    """Calls that counted as failures (raised, or slower than ``slow_call_seconds``)."""
    ignored: int
    """Calls that raised an excluded exception (counted neither way)."""
    slow_calls: int
    rejections: int
    """Calls rejected without reaching the function (open, or half-open and full)."""
    fallbacks: int
    """Times a fallback was used (after a failure or a rejection)."""
    consecutive_failures: int
    times_opened: int
    half_open_in_flight: int
    window_failure_rate: float | None
    """Failures / calls in the sliding window, or None without a failure-rate window."""
    state_changed_at: float
    """The clock's monotonic time of the last transition (or of creation)."""
    last_failure: str | None
    """``"<ExcType>: <message>"`` of the last failure, or None."""


def _fallback_takes_error(fallback: Callable[..., Any]) -> bool:
    """Whether *fallback* is called with the exception (one argument) or with nothing."""
    try:
        signature = inspect.signature(fallback)
    except (TypeError, ValueError):
        return False
    positional = 0
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            return True
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            positional += 1
            if parameter.default is parameter.empty and positional > 1:
                raise ConfigurationError(
                    f"a fallback takes the exception or nothing; {fallback!r} needs more"
                )
    return positional >= 1


class CircuitBreaker:
    """Wraps calls to something that may fail, and stops calling it while it does.

    ``await breaker.call(fn, *args, fallback=..., **kwargs)`` runs *fn* (sync functions run
    inline, coroutine functions are awaited). A failure is an exception that is not in
    *excluded_exceptions* and for which *is_failure* (if given) returns True; a call slower
    than *slow_call_seconds* also counts as a failure (its result is still returned). When the
    circuit rejects a call, ``CircuitOpenError`` is raised, or the fallback runs. The fallback
    also runs when a counted failure happens; it is called with the exception if it takes one
    argument and with nothing if it takes none (the Enterprise Features Guide's form).
    Excluded exceptions are re-raised as they are and never reach the fallback.

    Args:
        name: Shown in errors, logs and stats.
        failure_threshold: Consecutive failures that open the circuit.
        timeout_seconds: How long the circuit stays open before it admits probes.
        half_open_max_calls: Probes allowed in flight at once while half-open.
        success_threshold: Probe successes that close the circuit again.
        failure_rate_threshold: Optional fraction in (0, 1]: open when the failures among the
            last *sliding_window_size* calls reach it (after *minimum_calls* calls).
        sliding_window_size: Calls in the count-based window.
        minimum_calls: Calls the window needs before the rate is judged (default: the size).
        slow_call_seconds: Optional duration past which a successful call counts as failed.
        excluded_exceptions: Exception types that are not failures (business errors).
        is_failure: Optional predicate; an exception for which it returns False does not count.
        fallback: Default fallback for calls that do not give one.
        listeners: State-change listeners, ``listener(breaker, old, new)``.
        clock: The time source (``agentkit.testing.VirtualClock`` in tests).
    """

    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        timeout_seconds: float = 60.0,
        *,
        half_open_max_calls: int = 1,
        success_threshold: int = 1,
        failure_rate_threshold: float | None = None,
        sliding_window_size: int = 100,
        minimum_calls: int | None = None,
        slow_call_seconds: float | None = None,
        excluded_exceptions: Iterable[type[BaseException]] = (),
        is_failure: Callable[[BaseException], bool] | None = None,
        fallback: Callable[..., Any] | None = None,
        listeners: Iterable[StateChangeListener] = (),
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError("a circuit breaker needs a non-empty name")
        for label, count in (
            ("failure_threshold", failure_threshold),
            ("half_open_max_calls", half_open_max_calls),
            ("success_threshold", success_threshold),
            ("sliding_window_size", sliding_window_size),
        ):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ConfigurationError(f"{label} must be a whole number >= 1, not {count!r}")
        if not timeout_seconds >= 0:
            raise ConfigurationError(f"timeout_seconds must be >= 0, not {timeout_seconds!r}")
        if failure_rate_threshold is not None and not 0 < failure_rate_threshold <= 1:
            raise ConfigurationError(
                f"failure_rate_threshold must be in (0, 1], not {failure_rate_threshold!r}"
            )
        if minimum_calls is None:
            minimum_calls = sliding_window_size
        if not 1 <= minimum_calls <= sliding_window_size:
            raise ConfigurationError(
                f"minimum_calls must be in [1, sliding_window_size], not {minimum_calls!r}"
            )
        if slow_call_seconds is not None and not slow_call_seconds > 0:
            raise ConfigurationError(f"slow_call_seconds must be > 0, not {slow_call_seconds!r}")
        excluded = tuple(excluded_exceptions)
        for kind in excluded:
            if not (isinstance(kind, type) and issubclass(kind, BaseException)):
                raise ConfigurationError(f"excluded_exceptions holds {kind!r}, not an exception")
        if fallback is not None:
            _fallback_takes_error(fallback)
        self.name = name
        self.failure_threshold = failure_threshold
        self.timeout_seconds = float(timeout_seconds)
        self.half_open_max_calls = half_open_max_calls
        self.success_threshold = success_threshold
        self.failure_rate_threshold = failure_rate_threshold
        self.sliding_window_size = sliding_window_size
        self.minimum_calls = minimum_calls
        self.slow_call_seconds = slow_call_seconds
        self.excluded_exceptions = excluded
        self.is_failure = is_failure
        self.fallback = fallback
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self._listeners: list[StateChangeListener] = list(listeners)
        self._background: set[asyncio.Future[Any]] = set()
        self._state = CircuitState.CLOSED
        # Bumped on every transition; a call's outcome counts only in the state that admitted it.
        self._generation = 0
        self._state_changed_at = self.clock.monotonic()
        self._opened_at = 0.0
        self._consecutive_failures = 0
        self._half_open_in_flight = 0
        self._half_open_successes = 0
        self._window: deque[bool] | None = (
            deque(maxlen=sliding_window_size) if failure_rate_threshold is not None else None
        )
        self._window_failures = 0
        self._calls = self._successes = self._failures = self._ignored = 0
        self._slow_calls = self._rejections = self._fallbacks = self._times_opened = 0
        self._last_failure: str | None = None
        with _live_lock:
            _live_breakers.add(self)
        telemetry.refresh()
        if telemetry.metrics is not None:
            _watch_states(telemetry.metrics)

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name!r} {self._state.value}>"

    # -- state ------------------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The current state; an OPEN circuit whose timeout has passed turns HALF_OPEN here."""
        if self._state is CircuitState.OPEN and self._open_expired():
            self._transition(CircuitState.HALF_OPEN, "timeout")
        return self._state

    @property
    def stats(self) -> BreakerStats:
        """A snapshot of the state and counters."""
        window = self._window
        rate = self._window_failures / len(window) if window else None
        if window is not None and not window:
            rate = 0.0
        return BreakerStats(
            name=self.name,
            state=self.state,
            calls=self._calls,
            successes=self._successes,
            failures=self._failures,
            ignored=self._ignored,
            slow_calls=self._slow_calls,
            rejections=self._rejections,
            fallbacks=self._fallbacks,
            consecutive_failures=self._consecutive_failures,
            times_opened=self._times_opened,
            half_open_in_flight=self._half_open_in_flight,
            window_failure_rate=rate,
            state_changed_at=self._state_changed_at,
            last_failure=self._last_failure,
        )

    @property
    def retry_after(self) -> float:
        """Seconds until an OPEN circuit admits probes (0 when it is not open)."""
        if self._state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.timeout_seconds - self.clock.monotonic())

    def add_listener(self, listener: StateChangeListener) -> None:
        """Call ``listener(breaker, old, new)`` on every transition (sync or async)."""
        if not callable(listener):
            raise ConfigurationError(f"a listener must be callable, not {listener!r}")
        self._listeners.append(listener)

    def remove_listener(self, listener: StateChangeListener) -> None:
        """Stop calling *listener*; unknown listeners are ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def reset(self) -> None:
        """Close the circuit by hand and forget the counted failures."""
        self._transition(CircuitState.CLOSED, "reset")

    def force_open(self) -> None:
        """Open the circuit by hand (for ``timeout_seconds``, as if it had tripped)."""
        self._transition(CircuitState.OPEN, "forced")

    def _open_expired(self) -> bool:
        return self.clock.monotonic() - self._opened_at >= self.timeout_seconds

    def _transition(self, new: CircuitState, trigger: str = "") -> None:
        """Enter *new*; *trigger* says why (``failure_threshold``, ``timeout``, ...)."""
        old = self._state
        self._generation += 1
        self._state = new
        self._state_changed_at = now = self.clock.monotonic()
        self._half_open_in_flight = 0
        self._half_open_successes = 0
        if new is CircuitState.OPEN:
            self._opened_at = now
            self._times_opened += 1
        elif new is CircuitState.CLOSED:
            self._consecutive_failures = 0
            if self._window is not None:
                self._window.clear()
                self._window_failures = 0
        if old is new:
            return
        log = logger.warning if new is CircuitState.OPEN else logger.info
        log("circuit %r: %s -> %s", self.name, old.value, new.value)
        if telemetry.tracer is not None or telemetry.metrics is not None:
            _observe_transition(self, old, new, trigger)
        for listener in list(self._listeners):
            try:
                outcome = listener(self, old, new)
                if inspect.isawaitable(outcome):
                    task = asyncio.ensure_future(outcome)
                    self._background.add(task)
                    task.add_done_callback(self._listener_done)
            except (KeyboardInterrupt, SystemExit):
                raise  # the user asked the process to stop
            except BaseException:  # a listener's CancelledError or GeneratorExit is its own
                logger.exception("listener %r of circuit %r failed", listener, self.name)

    def _listener_done(self, task: asyncio.Future[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("listener of circuit %r failed", self.name, exc_info=task.exception())

    # -- admission and outcomes ---------------------------------------------------------------

    def _admit(self) -> bool:
        """Admit a call when not CLOSED; return whether it is a half-open probe, or raise."""
        state = self.state
        if state is CircuitState.HALF_OPEN:
            if self._half_open_in_flight < self.half_open_max_calls:
                self._half_open_in_flight += 1
                return True
            self._rejections += 1
            raise CircuitOpenError(
                f"circuit {self.name!r} is half-open and its {self.half_open_max_calls}"
                " probe slot(s) are taken"
            )
        if state is CircuitState.OPEN:
            self._rejections += 1
            error = CircuitOpenError(
                f"circuit {self.name!r} is open; it admits a probe in {self.retry_after:.3g} s"
            )
            raise error
        return False

    def _record_success(self, generation: int, probe: bool) -> None:
        self._successes += 1
        if generation != self._generation:
            return
        if probe:
            self._half_open_in_flight -= 1
            self._half_open_successes += 1
            if self._half_open_successes >= self.success_threshold:
                self._transition(CircuitState.CLOSED, "probes_succeeded")
            return
        self._consecutive_failures = 0
        if self._window is not None and self._window_trips(True):
            self._transition(CircuitState.OPEN, "failure_rate")

    def _record_failure(self, generation: int, probe: bool, description: str) -> None:
        self._failures += 1
        self._last_failure = description
        if generation != self._generation:
            return
        if probe:
            self._transition(CircuitState.OPEN, "probe_failed")
            return
        self._consecutive_failures += 1
        trigger = (
            "failure_threshold" if self._consecutive_failures >= self.failure_threshold else ""
        )
        if self._window is not None and self._window_trips(False):
            trigger = trigger or "failure_rate"
        if trigger:
            self._transition(CircuitState.OPEN, trigger)

    def _window_trips(self, success: bool) -> bool:
        """Add an outcome to the sliding window; whether the failure rate now trips it."""
        window = self._window
        assert window is not None
        if len(window) == window.maxlen and not window[0]:
            self._window_failures -= 1
        window.append(success)
        if not success:
            self._window_failures += 1
        threshold = self.failure_rate_threshold
        return (
            threshold is not None
            and len(window) >= self.minimum_calls
            and self._window_failures >= threshold * len(window)
        )

    def _release(self, generation: int, probe: bool) -> None:
        """A call that ended without counting (excluded error, cancellation) frees its slot."""
        if probe and generation == self._generation:
            self._half_open_in_flight -= 1

    def _counts_as_failure(self, exc: BaseException) -> bool:
        if self.excluded_exceptions and isinstance(exc, self.excluded_exceptions):
            return False
        return self.is_failure is None or bool(self.is_failure(exc))

    # -- calling ------------------------------------------------------------------------------

    def _enter(self) -> tuple[bool, int, float]:
        """Admit a call: (is it a probe, the generation, its start time); raise when rejected."""
        probe = False if self._state is CircuitState.CLOSED else self._admit()
        self._calls += 1
        started = self.clock.monotonic() if self.slow_call_seconds is not None else 0.0
        return probe, self._generation, started

    def _succeeded(self, probe: bool, generation: int, started: float) -> None:
        slow_after = self.slow_call_seconds
        if slow_after is not None and self.clock.monotonic() - started >= slow_after:
            self._slow_calls += 1
            self._record_failure(generation, probe, f"slow call: over {slow_after} s")
        else:
            self._record_success(generation, probe)

    def _failed(
        self,
        exc: BaseException,
        probe: bool,
        generation: int,
        fallback: Callable[..., Any] | None,
    ) -> Callable[..., Any] | None:
        """Count a failure; return the fallback to run, or None when *exc* must propagate."""
        if not isinstance(exc, Exception):
            self._release(generation, probe)
            return None
        if not self._counts_as_failure(exc):
            self._ignored += 1
            self._release(generation, probe)
            return None
        self._record_failure(generation, probe, f"{type(exc).__name__}: {exc}")
        return self._choose_fallback(fallback)

    def _choose_fallback(self, fallback: Callable[..., Any] | None) -> Callable[..., Any] | None:
        return self.fallback if fallback is _MISSING else fallback

    async def call(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        fallback: Callable[..., Any] | None = _MISSING,
        **kwargs: Any,
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` through the breaker and return its result.

        *fn* and *fallback* may be sync or async; a sync one runs inline.

        Raises:
            CircuitOpenError: the circuit rejected the call and there is no fallback.
            Exception: whatever *fn* raised, when there is no fallback (or it was excluded).
        """
        try:
            probe, generation, started = self._enter()
        except CircuitOpenError as rejection:
            chosen = self._choose_fallback(fallback)
            if chosen is None:
                raise
            return await self._run_fallback(chosen, rejection)
        try:
            result = fn(*args, **kwargs)
            if type(result) is _COROUTINE or inspect.isawaitable(result):
                result = await result
        except BaseException as exc:
            chosen = self._failed(exc, probe, generation, fallback)
            if chosen is None:
                raise
            return await self._run_fallback(chosen, exc)
        self._succeeded(probe, generation, started)
        return result

    def call_sync(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        fallback: Callable[..., Any] | None = _MISSING,
        **kwargs: Any,
    ) -> Any:
        """:meth:`call` for a sync *fn* and fallback, from sync code: no coroutine, no loop.

        The same breaker can serve ``call`` and ``call_sync`` callers at once.
        """
        try:
            probe, generation, started = self._enter()
        except CircuitOpenError as rejection:
            chosen = self._choose_fallback(fallback)
            if chosen is None:
                raise
            return self._run_fallback_sync(chosen, rejection)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            chosen = self._failed(exc, probe, generation, fallback)
            if chosen is None:
                raise
            return self._run_fallback_sync(chosen, exc)
        # An exact type test: inspect.isawaitable would double the cost of the whole call.
        if type(result) is _COROUTINE:
            self._release(generation, probe)
            _discard(result)
            raise ConfigurationError(
                f"circuit {self.name!r}: call_sync got an async function; use `await call(...)`"
            )
        self._succeeded(probe, generation, started)
        return result

    def _run_fallback_sync(self, fallback: Callable[..., Any], error: BaseException) -> Any:
        self._fallbacks += 1
        result = fallback(error) if _fallback_takes_error(fallback) else fallback()
        if inspect.isawaitable(result):
            _discard(result)
            raise ConfigurationError(
                f"circuit {self.name!r}: call_sync got an async fallback; use `await call(...)`"
            )
        return result

    async def _run_fallback(self, fallback: Callable[..., Any], error: BaseException) -> Any:
        self._fallbacks += 1
        result = fallback(error) if _fallback_takes_error(fallback) else fallback()
        if inspect.isawaitable(result):
            result = await result
        return result

    @overload
    def __call__(self, fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]: ...

    @overload
    def __call__(self, fn: Callable[P, T]) -> Callable[P, Awaitable[T]]: ...

    def __call__(self, fn: Callable[P, Any]) -> Callable[P, Awaitable[Any]]:
        """Decorator form: ``@breaker`` makes every call of *fn* go through the breaker.

        The wrapped function is always a coroutine function (a sync *fn* still runs inline).
        """
        if not callable(fn):
            raise ConfigurationError(f"@{self.name} decorates a function, not {fn!r}")

        @functools.wraps(fn)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> Any:
            return await self.call(fn, *args, **kwargs)  # type: ignore[arg-type]

        guarded.breaker = self  # type: ignore[attr-defined]
        return guarded


# -- tracing and metrics (only reached when telemetry is on) ---------------------------------

#: Every breaker alive in the process, for the ``agentkit.breaker.state`` gauge.
_live_breakers: weakref.WeakSet[CircuitBreaker] = weakref.WeakSet()
_live_lock = threading.Lock()
#: The instruments whose meter already has the state gauge.
_watched: weakref.WeakSet[Instruments] = weakref.WeakSet()
_STATE_VALUES = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


def span_event(
    tracer: Tracer, span_name: str, event_name: str, attributes: Mapping[str, Any]
) -> None:
    """Add an event to the current span, or to a short span of its own when none records."""
    from opentelemetry import trace

    current = trace.get_current_span()
    if current.is_recording():
        current.add_event(event_name, attributes)
        return
    span = tracer.start_span(span_name, kind=trace.SpanKind.INTERNAL)
    span.add_event(event_name, attributes)
    span.end()


def _reason(breaker: CircuitBreaker, trigger: str) -> str:
    last = breaker._last_failure
    if trigger == "failure_threshold":
        return (
            f"{breaker._consecutive_failures} consecutive failures "
            f"(threshold {breaker.failure_threshold}); last: {last}"
        )
    if trigger == "failure_rate":
        window = breaker._window or ()
        return (
            f"{breaker._window_failures} failures in the last {len(window)} calls "
            f"(rate threshold {breaker.failure_rate_threshold}); last: {last}"
        )
    if trigger == "probe_failed":
        return f"a half-open probe failed: {last}"
    if trigger == "timeout":
        return f"open for {breaker.timeout_seconds} s; admitting probes"
    if trigger == "probes_succeeded":
        return f"{breaker.success_threshold} probe(s) succeeded"
    if trigger == "reset":
        return "reset by hand"
    if trigger == "forced":
        return "forced open by hand"
    return trigger


def _observe_transition(
    breaker: CircuitBreaker, old: CircuitState, new: CircuitState, trigger: str
) -> None:
    tracer = telemetry.tracer
    if tracer is not None:
        attributes: dict[str, Any] = {
            "agentkit.breaker.name": breaker.name,
            "agentkit.breaker.old_state": old.value,
            "agentkit.breaker.new_state": new.value,
            "agentkit.breaker.trigger": trigger,
            "agentkit.breaker.reason": _reason(breaker, trigger),
            "agentkit.breaker.consecutive_failures": breaker._consecutive_failures,
        }
        if trigger in ("failure_threshold", "failure_rate", "probe_failed"):
            last = breaker._last_failure
            if last:
                attributes["error.type"] = last.partition(":")[0]
        span_event(
            tracer, f"circuit_breaker {breaker.name}", "circuit_breaker.state_change", attributes
        )
    metrics = telemetry.metrics
    if metrics is not None:
        _watch_states(metrics)
        metrics.breaker_transitions.add(
            1,
            {
                "agentkit.breaker.name": metrics.names(breaker.name),
                "agentkit.breaker.state": new.value,
            },
        )


def _watch_states(metrics: Instruments) -> None:
    """Register the ``agentkit.breaker.state`` gauge on *metrics*' meter, once."""
    with _live_lock:
        if metrics in _watched:
            return
        _watched.add(metrics)

    def observe(options: CallbackOptions) -> Iterator[Observation]:
        from opentelemetry.metrics import Observation

        with _live_lock:
            breakers = list(_live_breakers)
        worst: dict[str, int] = {}
        for breaker in breakers:
            name = metrics.names(breaker.name)
            worst[name] = max(worst.get(name, 0), _STATE_VALUES[breaker._state])
        for name, value in worst.items():
            yield Observation(value, {"agentkit.breaker.name": name})

    metrics.meter.create_observable_gauge(
        "agentkit.breaker.state",
        callbacks=[observe],
        unit="{state}",
        description="Each circuit breaker's state: 0 closed, 1 half-open, 2 open.",
    )


def _discard(awaitable: object) -> None:
    """Close a coroutine that will never be awaited, so Python does not warn about it."""
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
