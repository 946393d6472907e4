"""Health monitoring: periodic checks with consecutive-count thresholds, like Kubernetes probes.

A component starts UNKNOWN. ``unhealthy_threshold`` consecutive failed checks make it
UNHEALTHY, ``healthy_threshold`` consecutive passed checks make it HEALTHY. A check fails when
it returns something falsy (or a ``HealthReport`` with ``healthy=False``), raises, or runs past
``check_timeout_seconds``. Passive signals count too: ``report_failure`` (a failed call) and an
opening circuit breaker (``watch_breaker``) need not wait for the next probe.

Checks and listeners are user code, and the monitor outlives whatever they do. Anything a
check raises, ``BaseException`` included (``GeneratorExit``, a ``CancelledError`` it raises
itself), or anything raised while its result is looked at (a ``__bool__``, ``__len__`` or a
``HealthReport`` attribute that raises) is a failed check, and the probe goes on. The two
exceptions that mean "stop the process", ``KeyboardInterrupt`` and ``SystemExit``, are let
through, as asyncio itself does. An async check runs in a task of its own: when it outlives
``check_timeout_seconds`` it is cancelled, and if it ignores the cancellation for
``cancel_grace_seconds`` it is abandoned (logged), and no new check of that component starts
while it still runs (each probe until then fails), so a stuck check costs one task, not one
per interval. ``stop_monitoring`` waits at most ``cancel_grace_seconds`` the same way. A
listener that raises is logged; an async one that runs past ``listener_timeout_seconds`` is
cancelled (one that ignores that gets no further events until it ends, each skip logged).
Sync checks and listeners run inline on the event loop: they cannot be timed out, so keep them
quick.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from agentkit._clock import SYSTEM_CLOCK
from agentkit.exceptions import ConfigurationError
from agentkit.protocols import Clock, HealthCheck
from agentkit.reliability._probes import collect_probes
from agentkit.reliability._report import HealthReport
from agentkit.reliability._user_code import (
    MAX_MESSAGE_CHARS,
    STOP_PROCESS,
    Outcome,
    clip,
    describe,
    error_text,
    guarded,
    own_cancellation,
    type_name,
    wait_done,
)

if TYPE_CHECKING:
    from agentkit.reliability._breaker import CircuitBreaker, CircuitState

__all__ = [
    "ComponentHealth",
    "HealthEvent",
    "HealthListener",
    "HealthMonitor",
    "HealthReport",
    "HealthStatus",
]

logger = logging.getLogger("agentkit.health")


class HealthStatus(enum.StrEnum):
    """A component's health as the monitor sees it."""

    UNKNOWN = "unknown"
    """No verdict yet (fewer results than either threshold)."""
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


@dataclasses.dataclass(frozen=True, slots=True)
class ComponentHealth:
    """A snapshot of one component's health."""

    name: str
    kind: str
    status: HealthStatus
    consecutive_successes: int
    consecutive_failures: int
    checks: int
    """Results recorded: probes plus passive signals."""
    failures: int
    last_report: HealthReport | None
    last_checked_at: float | None
    """The clock's wall time of the last result, or None."""
    failing_since: float | None
    """Monotonic time of the first failure of the current failure streak, or None."""
    status_since: float
    """Monotonic time of the last status change (or of registration)."""
    has_check: bool
    """Whether the monitor probes it (False: passive signals only)."""
    last_latency_seconds: float | None = None
    """How long the last probe took on the monitor's clock (None: not probed yet)."""
    timeout_seconds: float | None = None
    """This component's own check timeout, or None for the monitor's ``check_timeout_seconds``."""

    @property
    def healthy(self) -> bool:
        """Whether the status is HEALTHY (UNKNOWN is not)."""
        return self.status is HealthStatus.HEALTHY

    def as_dict(self) -> dict[str, Any]:
        """What ``agentkit health --json`` and ``/readyz`` show: name, kind, status, healthy,
        reason (the last report's message), error_type, latency_ms, checked_at and details."""
        report = self.last_report
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status.value,
            "healthy": self.healthy,
            "reason": report.message if report is not None else "not checked yet",
            "error_type": report.error_type if report is not None else None,
            "latency_ms": (
                None
                if self.last_latency_seconds is None
                else round(self.last_latency_seconds * 1000, 3)
            ),
            "checked_at": self.last_checked_at,
            "consecutive_failures": self.consecutive_failures,
            "details": _plain_details(report),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class HealthEvent:
    """A component's status changed."""

    component: str
    kind: str
    old: HealthStatus
    new: HealthStatus
    at: float
    """Monotonic time of the change."""
    report: HealthReport
    """The result that caused it."""
    failing_since: float | None
    """For a change to UNHEALTHY: when the failure streak began (the fault, as far as known)."""


#: Called with each :class:`HealthEvent`; sync or async.
HealthListener = Callable[[HealthEvent], Any]


class _Component:
    __slots__ = (
        "check",
        "check_task",
        "checks",
        "consecutive_failures",
        "consecutive_successes",
        "failing_since",
        "failures",
        "kind",
        "last_checked_at",
        "last_latency",
        "last_report",
        "name",
        "status",
        "status_since",
        "task",
        "timeout",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        check: HealthCheck | None,
        now: float,
        timeout: float | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.last_latency: float | None = None
        self.kind = kind
        self.check = check
        self.status = HealthStatus.UNKNOWN
        self.status_since = now
        self.consecutive_successes = 0
        self.consecutive_failures = 0
        self.checks = 0
        self.failures = 0
        self.last_report: HealthReport | None = None
        self.last_checked_at: float | None = None
        self.failing_since: float | None = None
        self.task: asyncio.Task[None] | None = None
        self.check_task: asyncio.Future[Outcome] | None = None
        """The latest async check; while it runs (say, ignoring cancellation) no new one starts."""

    def snapshot(self) -> ComponentHealth:
        return ComponentHealth(
            name=self.name,
            kind=self.kind,
            status=self.status,
            consecutive_successes=self.consecutive_successes,
            consecutive_failures=self.consecutive_failures,
            checks=self.checks,
            failures=self.failures,
            last_report=self.last_report,
            last_checked_at=self.last_checked_at,
            failing_since=self.failing_since,
            status_since=self.status_since,
            has_check=self.check is not None,
            last_latency_seconds=self.last_latency,
            timeout_seconds=self.timeout,
        )


def _whole(label: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{label} must be a whole number >= 1, not {value!r}")
    return value


class HealthMonitor:
    """Checks registered components every *check_interval_seconds* and tracks their status.

    Args:
        check_interval_seconds: Time between the end of one check and the start of the next.
        unhealthy_threshold: Consecutive failures that make a component UNHEALTHY.
        healthy_threshold: Consecutive successes that make it HEALTHY.
        check_timeout_seconds: A check still running after this fails (default: the interval).
        clock: The time source (``agentkit.testing.VirtualClock`` in tests).
        cancel_grace_seconds: How long a cancelled check (timed out, or stopped by
            ``stop_monitoring``) may take to end before the monitor abandons it (default 5).
        listener_timeout_seconds: How long an async listener may run before it is cancelled
            (default 30).

    Sync checks run inline on the event loop (keep them quick, or make them async: only an
    async check can be timed out). See the module docstring for what happens to checks and
    listeners that raise, hang or ignore cancellation.
    """

    def __init__(
        self,
        check_interval_seconds: float = 30.0,
        unhealthy_threshold: int = 3,
        healthy_threshold: int = 1,
        check_timeout_seconds: float | None = None,
        *,
        clock: Clock | None = None,
        cancel_grace_seconds: float = 5.0,
        listener_timeout_seconds: float = 30.0,
    ) -> None:
        if not cancel_grace_seconds >= 0:
            raise ConfigurationError(
                f"cancel_grace_seconds must be >= 0, not {cancel_grace_seconds!r}"
            )
        if not listener_timeout_seconds > 0:
            raise ConfigurationError(
                f"listener_timeout_seconds must be > 0, not {listener_timeout_seconds!r}"
            )
        if not check_interval_seconds > 0:
            raise ConfigurationError(
                f"check_interval_seconds must be > 0, not {check_interval_seconds!r}"
            )
        if check_timeout_seconds is not None and not check_timeout_seconds > 0:
            raise ConfigurationError(
                f"check_timeout_seconds must be > 0, not {check_timeout_seconds!r}"
            )
        self.check_interval_seconds = float(check_interval_seconds)
        self.unhealthy_threshold = _whole("unhealthy_threshold", unhealthy_threshold)
        self.healthy_threshold = _whole("healthy_threshold", healthy_threshold)
        self.check_timeout_seconds = float(
            check_interval_seconds if check_timeout_seconds is None else check_timeout_seconds
        )
        self.cancel_grace_seconds = float(cancel_grace_seconds)
        self.listener_timeout_seconds = float(listener_timeout_seconds)
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self._components: dict[str, _Component] = {}
        self._listeners: list[HealthListener] = []
        self._background: set[asyncio.Future[Any]] = set()
        # id(listener) -> (listener, its call that ignored cancellation and still runs)
        self._stuck_listeners: dict[int, tuple[HealthListener, asyncio.Future[Outcome]]] = {}
        self._running = False

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"<HealthMonitor {len(self._components)} components {state}>"

    def __contains__(self, name: object) -> bool:
        return name in self._components

    # -- registration -----------------------------------------------------------------------

    def register_component(
        self,
        name: str,
        kind: str,
        check: HealthCheck | None = None,
        *,
        replace: bool = False,
        timeout_seconds: float | None = None,
    ) -> None:
        """Watch component *name* of *kind* (``"agent"``, ``"service"``, ...) through *check*.

        *check* is a sync or async callable returning a truthy value or a ``HealthReport``;
        None registers a component known only through passive signals. Registering a taken
        name raises ``ConfigurationError`` unless *replace* (which keeps no old results).
        *timeout_seconds* is this check's own timeout (default: ``check_timeout_seconds``).
        """
        if not isinstance(name, str) or not name:
            raise ConfigurationError("a component needs a non-empty name")
        if check is not None and not callable(check):
            raise ConfigurationError(f"the check of {name!r} must be callable, not {check!r}")
        if timeout_seconds is not None and (
            isinstance(timeout_seconds, bool)
            or not isinstance(timeout_seconds, int | float)
            or not timeout_seconds > 0
        ):
            raise ConfigurationError(
                f"the timeout of {name!r} must be a number of seconds > 0, not {timeout_seconds!r}"
            )
        old = self._components.get(name)
        if old is not None:
            if not replace:
                raise ConfigurationError(
                    f"component {name!r} is already registered; pass replace=True to swap it"
                )
            self._cancel(old)
        timeout = None if timeout_seconds is None else float(timeout_seconds)
        component = _Component(name, kind, check, self.clock.monotonic(), timeout)
        self._components[name] = component
        if self._running and check is not None:
            component.task = asyncio.get_running_loop().create_task(self._probe_loop(component))

    def register_plugin_checks(
        self, plugins: Any, *, bus: Any = None, executor: Any = None, replace: bool = False
    ) -> list[str]:
        """Register every check the active plugins of *plugins* contribute; return their names.

        *plugins* is a :class:`~agentkit.plugins.PluginManager`; each plugin's
        ``agentkit_health_checks`` hook is asked for :class:`HealthProbe` objects about *bus*
        and *executor* (the core answers for its own buses: ``bus`` checks the connection).
        A plugin whose hook raises or answers with garbage is registered as one failing
        component ``plugin:<name>`` with the reason. A name already registered here raises
        ``ConfigurationError`` unless *replace*. Call before or after ``start_monitoring``.
        """
        probes = collect_probes(plugins, bus=bus, executor=executor)
        if not replace:
            for probe in probes:
                if probe.name in self._components:
                    raise ConfigurationError(
                        f"component {probe.name!r} is already registered; pass replace=True"
                    )
        for probe in probes:
            self.register_component(
                probe.name,
                probe.kind,
                probe.check,
                replace=replace,
                timeout_seconds=probe.timeout_seconds,
            )
        return [probe.name for probe in probes]

    def unregister_component(self, name: str) -> bool:
        """Stop watching *name*; return whether it was registered."""
        component = self._components.pop(name, None)
        if component is None:
            return False
        self._cancel(component)
        return True

    @property
    def components(self) -> list[str]:
        """Registered component names, in registration order."""
        return list(self._components)

    # -- status -----------------------------------------------------------------------------

    def _get(self, name: str) -> _Component:
        try:
            return self._components[name]
        except KeyError:
            raise KeyError(f"no component {name!r} is registered with this monitor") from None

    def status(self, name: str) -> HealthStatus:
        """The status of *name* (``KeyError`` if it is not registered)."""
        return self._get(name).status

    def get_health(self, name: str) -> ComponentHealth:
        """A snapshot of *name* (``KeyError`` if it is not registered)."""
        return self._get(name).snapshot()

    def is_healthy(self, name: str) -> bool:
        """Whether *name* is HEALTHY (UNKNOWN is not)."""
        return self._get(name).status is HealthStatus.HEALTHY

    def snapshot(self) -> dict[str, ComponentHealth]:
        """Every component's health, by name."""
        return {name: component.snapshot() for name, component in self._components.items()}

    def add_listener(self, listener: HealthListener) -> None:
        """Call ``listener(event)`` on every status change (sync or async)."""
        if not callable(listener):
            raise ConfigurationError(f"a listener must be callable, not {listener!r}")
        self._listeners.append(listener)

    def remove_listener(self, listener: HealthListener) -> None:
        """Stop calling *listener*; unknown listeners are ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- results ----------------------------------------------------------------------------

    def report_success(self, name: str, message: str = "passive: call succeeded") -> None:
        """Count a success seen outside the probes (a call that worked)."""
        self._record(self._get(name), HealthReport(True, message))

    def report_failure(
        self, name: str, error: BaseException | str | None = None, *, immediate: bool = False
    ) -> None:
        """Count a failure seen outside the probes (a failed call, an opening breaker).

        With *immediate* the component turns UNHEALTHY at once, whatever the threshold.
        """
        component = self._get(name)
        if isinstance(error, BaseException):
            message = f"passive: {error_text(error)}"
        else:
            message = f"passive: {error or 'call failed'}"
        self._record(component, HealthReport(False, message), immediate=immediate)

    def watch_breaker(self, breaker: CircuitBreaker, name: str) -> None:
        """Make *breaker* report on *name*: opening marks it UNHEALTHY, closing counts a success."""
        from agentkit.reliability._breaker import CircuitState

        self._get(name)

        def on_change(_breaker: CircuitBreaker, old: CircuitState, new: CircuitState) -> None:
            if name not in self._components:
                return
            if new is CircuitState.OPEN:
                self.report_failure(name, f"circuit {breaker.name!r} opened", immediate=True)
            elif new is CircuitState.CLOSED:
                self.report_success(name, f"passive: circuit {breaker.name!r} closed")

        breaker.add_listener(on_change)

    def _record(
        self, component: _Component, report: HealthReport, *, immediate: bool = False
    ) -> None:
        now = self.clock.monotonic()
        component.checks += 1
        component.last_report = report
        component.last_checked_at = self.clock.time()
        old = component.status
        new = old
        if report.healthy:
            component.consecutive_successes += 1
            component.consecutive_failures = 0
            component.failing_since = None
            if component.consecutive_successes >= self.healthy_threshold:
                new = HealthStatus.HEALTHY
        else:
            component.failures += 1
            component.consecutive_failures += 1
            component.consecutive_successes = 0
            if component.failing_since is None:
                component.failing_since = now
            if immediate or component.consecutive_failures >= self.unhealthy_threshold:
                new = HealthStatus.UNHEALTHY
        if new is old:
            return
        component.status = new
        component.status_since = now
        log = logger.warning if new is HealthStatus.UNHEALTHY else logger.info
        log("component %r: %s -> %s (%s)", component.name, old.value, new.value, report.message)
        event = HealthEvent(
            component=component.name,
            kind=component.kind,
            old=old,
            new=new,
            at=now,
            report=report,
            failing_since=component.failing_since,
        )
        for listener in list(self._listeners):
            self._notify(listener, event)

    def _notify(self, listener: HealthListener, event: HealthEvent) -> None:
        """Call *listener*; what it raises is logged, an awaitable it returns runs bounded."""
        stuck = self._stuck_listeners.get(id(listener))
        if stuck is not None and stuck[0] is listener:
            if not stuck[1].done():
                logger.warning(
                    "health listener %s skipped for %s -> %s of %r: its earlier call ignored"
                    " cancellation and still runs",
                    describe(listener),
                    event.old.value,
                    event.new.value,
                    event.component,
                )
                return
            del self._stuck_listeners[id(listener)]
        try:
            outcome = listener(event)
            if inspect.isawaitable(outcome):
                task = asyncio.ensure_future(self._deliver(listener, outcome))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        except STOP_PROCESS:
            raise
        except BaseException as exc:  # a sync listener cannot see a cancellation: it is its own
            logger.error("health listener %s failed: %s", describe(listener), error_text(exc))

    async def _deliver(self, listener: HealthListener, awaitable: Awaitable[Any]) -> None:
        """Await an async listener's call for at most ``listener_timeout_seconds``."""
        call = asyncio.ensure_future(guarded(awaitable))
        try:
            finished = await wait_done(self.clock, [call], self.listener_timeout_seconds)
        except asyncio.CancelledError:
            call.cancel()
            raise
        if finished:
            outcome = call.result() if not call.cancelled() else None
            if outcome is not None and outcome.error is not None:
                text = error_text(outcome.error)
                logger.error("health listener %s failed: %s", describe(listener), text)
            return
        call.cancel()
        if await wait_done(self.clock, [call], self.cancel_grace_seconds):
            logger.warning(
                "health listener %s ran past listener_timeout_seconds=%s and was cancelled",
                describe(listener),
                self.listener_timeout_seconds,
            )
            return
        self._stuck_listeners[id(listener)] = (listener, call)
        logger.warning(
            "health listener %s ignored cancellation for cancel_grace_seconds=%s and was"
            " abandoned; it gets no events until that call ends",
            describe(listener),
            self.cancel_grace_seconds,
        )

    # -- checking ---------------------------------------------------------------------------

    async def _run_check(self, component: _Component) -> HealthReport:
        """Run *component*'s check once; whatever it does (but stop the process) is a report."""
        assert component.check is not None
        previous = component.check_task
        if previous is not None and not previous.done():
            return HealthReport(
                False,
                "the previous check ignored its cancellation and still runs; no new check"
                " was started",
                error_type="TimeoutError",
            )
        try:
            result = component.check()
            pending = inspect.isawaitable(result)
        except STOP_PROCESS:
            raise
        except BaseException as exc:  # a sync call cannot see our cancellation: it is its own
            return HealthReport(False, f"check raised {error_text(exc)}", error_type=type_name(exc))
        if pending:
            call = asyncio.ensure_future(guarded(result))
            component.check_task = call
            timeout = self.check_timeout_seconds if component.timeout is None else component.timeout
            try:
                finished = await wait_done(self.clock, [call], timeout)
            except asyncio.CancelledError:
                call.cancel()
                raise
            if not finished:
                call.cancel()
                message = f"check timed out after {timeout} s"
                if not await wait_done(self.clock, [call], self.cancel_grace_seconds):
                    message += (
                        f" and ignored its cancellation for {self.cancel_grace_seconds} s;"
                        " abandoned"
                    )
                    logger.warning("component %r: %s", component.name, message)
                return HealthReport(False, message, error_type="TimeoutError")
            if call.cancelled():
                return HealthReport(False, "check was cancelled", error_type="CancelledError")
            outcome = call.result()
            if outcome.error is not None:
                return HealthReport(
                    False,
                    f"check raised {error_text(outcome.error)}",
                    error_type=type_name(outcome.error),
                )
            result = outcome.value
        return _report_from(result)

    async def check_now(self, name: str) -> ComponentHealth:
        """Run *name*'s check once, record the result and return the new snapshot."""
        component = self._get(name)
        if component.check is None:
            raise ConfigurationError(f"component {name!r} has no check (passive signals only)")
        report = await self._timed_check(component)
        if self._components.get(name) is component:
            self._record(component, report)
        return component.snapshot()

    async def _timed_check(self, component: _Component) -> HealthReport:
        """Run *component*'s check and keep how long it took on the monitor's clock."""
        started = self.clock.monotonic()
        try:
            return await self._run_check(component)
        finally:
            component.last_latency = max(0.0, self.clock.monotonic() - started)

    async def check_all(self) -> dict[str, ComponentHealth]:
        """Run every check once, concurrently, and return the snapshot."""
        names = [name for name, comp in self._components.items() if comp.check is not None]
        await asyncio.gather(*(self.check_now(name) for name in names))
        return self.snapshot()

    async def _probe_loop(self, component: _Component) -> None:
        while True:
            try:
                report = await self._timed_check(component)
                if self._components.get(component.name) is not component:
                    return
                self._record(component, report)
            except BaseException as exc:
                if isinstance(exc, STOP_PROCESS) or own_cancellation(exc):
                    raise
                # Not expected (checks and listeners are contained), but a probe never dies.
                logger.error("probe of %r failed: %s", component.name, error_text(exc))
            await self.clock.sleep(self.check_interval_seconds)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the probes are scheduled."""
        return self._running

    async def start_monitoring(self) -> None:
        """Schedule every component's probe (the first runs now) and return at once."""
        if self._running:
            return
        self._running = True
        loop = asyncio.get_running_loop()
        for component in self._components.values():
            if component.check is not None and component.task is None:
                component.task = loop.create_task(self._probe_loop(component))

    async def stop_monitoring(self) -> None:
        """Cancel the probes and wait until they ended. Statuses are kept.

        A check that ignores its cancellation is waited for at most ``cancel_grace_seconds``,
        then abandoned (logged): this always returns.
        """
        self._running = False
        probing = [c for c in self._components.values() if c.task is not None]
        waiting: list[asyncio.Future[Any]] = []
        for component in probing:
            assert component.task is not None
            waiting.append(component.task)
            call = component.check_task
            if call is not None and not call.done():
                call.cancel()
                waiting.append(call)
            self._cancel(component)
        if waiting and not await wait_done(self.clock, waiting, self.cancel_grace_seconds):
            stuck = [c.name for c in probing if c.check_task and not c.check_task.done()]
            logger.warning(
                "stop_monitoring: the checks of %s ignored cancellation for"
                " cancel_grace_seconds=%s and were abandoned",
                ", ".join(map(repr, stuck)) or "some components",
                self.cancel_grace_seconds,
            )

    def _cancel(self, component: _Component) -> None:
        task, component.task = component.task, None
        if task is not None:
            task.cancel()

    async def __aenter__(self) -> Self:
        await self.start_monitoring()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_monitoring()


def _report_from(result: object) -> HealthReport:
    """The report a check's *result* stands for; a result that cannot be looked at fails."""
    try:
        if isinstance(result, HealthReport):
            healthy, message, details = result.healthy, result.message, result.details
            if (
                type(result) is HealthReport
                and type(healthy) is bool
                and type(message) is str
                and len(message) <= MAX_MESSAGE_CHARS
                and (result.error_type is None or type(result.error_type) is str)
            ):
                return result
            message = clip(message) if type(message) is str else describe(message)
            error_type = result.error_type
            if error_type is not None:
                error_type = clip(error_type) if type(error_type) is str else "InvalidResult"
            return HealthReport(bool(healthy), message, details, error_type)
        if bool(result):
            return HealthReport(True, "")
        return HealthReport(
            False, f"check returned {describe(result)}", error_type=_falsy_type(result)
        )
    except STOP_PROCESS:
        raise
    except BaseException as exc:  # a sync dunder cannot see a cancellation: it is its own
        return HealthReport(
            False,
            f"check result could not be evaluated: {error_text(exc)}",
            error_type="InvalidResult",
        )


def _plain_details(report: HealthReport | None) -> dict[str, Any]:
    """A report's details as a plain dict; details that cannot be read are replaced by a note."""
    if report is None:
        return {}
    try:
        return {str(key): value for key, value in report.details.items()}
    except STOP_PROCESS:
        raise
    except BaseException as exc:
        return {"unreadable": error_text(exc)}


def _falsy_type(result: object) -> str | None:
    """``False`` is a plain "unhealthy"; any other falsy value (None, 0, "") is garbage."""
    return None if result is False else "InvalidResult"
