"""Failover: route to the first usable component of a chain, and back when the primary heals.

A chain is a primary and its backups (``register_backup("primary", "backup")``,
``register_backup("backup", "backup2")`` gives primary -> backup -> backup2). A component is
usable unless the monitor says UNHEALTHY or a call through :meth:`FailoverManager.call` just
failed on it (it is then *demoted*). UNKNOWN, including a component the monitor has never
heard of, counts as usable. Each chain has a sticky active component: it moves down the chain
as soon as the active one becomes unusable (a status change is pushed by the monitor), and
moves back up only when a higher component has passed ``failback_threshold`` consecutive checks
(hysteresis: no flapping). Every switch is recorded with the time from the fault to the switch.

With tracing on (see :mod:`agentkit.observability`) every switch is also a span event
``failover`` on the current span (or on a short span ``failover <chain>`` of its own).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from agentkit.exceptions import ConfigurationError, NoHealthyComponentError
from agentkit.observability import telemetry
from agentkit.protocols import Clock
from agentkit.reliability._breaker import span_event
from agentkit.reliability._health import HealthEvent, HealthMonitor, HealthStatus

__all__ = ["FailoverEvent", "FailoverKind", "FailoverListener", "FailoverManager"]

logger = logging.getLogger("agentkit.failover")


class FailoverKind(enum.StrEnum):
    """Which way a chain's active component moved."""

    FAILOVER = "failover"
    """Down the chain, away from a failed component."""
    FAILBACK = "failback"
    """Back up the chain, to a component that recovered."""


@dataclasses.dataclass(frozen=True, slots=True)
class FailoverEvent:
    """One switch of a chain's active component."""

    chain: str
    """The primary that names the chain."""
    kind: FailoverKind
    from_component: str
    to_component: str
    reason: str
    fault_at: float | None
    """Monotonic time of the fault as far as known (first failed check or the failed call)."""
    switched_at: float
    """Monotonic time of the switch."""
    timestamp: float
    """Wall time of the switch."""

    @property
    def failover_seconds(self) -> float | None:
        """Time from the fault to the switch, or None for a failback."""
        return None if self.fault_at is None else self.switched_at - self.fault_at


#: Called with each :class:`FailoverEvent`; sync or async.
FailoverListener = Callable[[FailoverEvent], Any]


class FailoverManager:
    """Picks the active component of each chain from a :class:`HealthMonitor`'s view.

    Args:
        monitor: Where statuses come from; the manager listens to its status changes.
        failback_threshold: Consecutive successful checks a higher component needs before
            traffic moves back to it (default: the monitor's ``healthy_threshold``).
        retry_after_seconds: How long a component the monitor does not probe stays demoted
            after a failed call (a probed one comes back through its checks).
        max_events: Failover records kept (oldest dropped first).
        clock: The time source (default: the monitor's).
    """

    def __init__(
        self,
        monitor: HealthMonitor,
        *,
        failback_threshold: int | None = None,
        retry_after_seconds: float = 30.0,
        max_events: int = 1000,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(monitor, HealthMonitor):
            raise ConfigurationError(f"FailoverManager needs a HealthMonitor, not {monitor!r}")
        threshold = monitor.healthy_threshold if failback_threshold is None else failback_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise ConfigurationError(f"failback_threshold must be >= 1, not {threshold!r}")
        if not retry_after_seconds >= 0:
            raise ConfigurationError(
                f"retry_after_seconds must be >= 0, not {retry_after_seconds!r}"
            )
        self.monitor = monitor
        self.failback_threshold = threshold
        self.retry_after_seconds = float(retry_after_seconds)
        self.clock: Clock = clock if clock is not None else monitor.clock
        self._backups: dict[str, list[str]] = {}
        self._active: dict[str, str] = {}
        self._demoted: dict[str, float] = {}
        self._events: deque[FailoverEvent] = deque(maxlen=max_events)
        self._listeners: list[FailoverListener] = []
        self._background: set[asyncio.Future[Any]] = set()
        monitor.add_listener(self._on_health_event)
        telemetry.refresh()

    def __repr__(self) -> str:
        return f"<FailoverManager {len(self._active)} chains>"

    # -- chains -----------------------------------------------------------------------------

    def register_backup(self, primary: str, backup: str) -> None:
        """Make *backup* the next fallback of *primary* (after any backups it already has)."""
        for label, name in (("primary", primary), ("backup", backup)):
            if not isinstance(name, str) or not name:
                raise ConfigurationError(f"the {label} must be a non-empty name, not {name!r}")
        if primary == backup:
            raise ConfigurationError(f"{primary!r} cannot be its own backup")
        backups = self._backups.setdefault(primary, [])
        if backup not in backups:
            backups.append(backup)
        self._active.setdefault(primary, primary)

    def chain(self, primary: str) -> list[str]:
        """*primary* followed by its backups, their backups, ... (each name once)."""
        order: list[str] = []

        def visit(name: str) -> None:
            if name in order:
                return
            order.append(name)
            for backup in self._backups.get(name, ()):
                visit(backup)

        visit(primary)
        return order

    @property
    def events(self) -> list[FailoverEvent]:
        """Every recorded switch, oldest first."""
        return list(self._events)

    def add_listener(self, listener: FailoverListener) -> None:
        """Call ``listener(event)`` on every switch (sync or async)."""
        if not callable(listener):
            raise ConfigurationError(f"a listener must be callable, not {listener!r}")
        self._listeners.append(listener)

    def restore(self, component: str) -> None:
        """Forget that calls failed on *component*, so it is usable again at once."""
        self._demoted.pop(component, None)

    # -- routing ----------------------------------------------------------------------------

    def _status(self, name: str) -> HealthStatus:
        return self.monitor.status(name) if name in self.monitor else HealthStatus.UNKNOWN

    def _is_demoted(self, name: str) -> bool:
        since = self._demoted.get(name)
        if since is None:
            return False
        if name in self.monitor and self.monitor.get_health(name).has_check:
            health = self.monitor.get_health(name)
            recovered = (
                health.status is HealthStatus.HEALTHY
                and health.consecutive_successes >= self.failback_threshold
            )
        else:
            recovered = self.clock.monotonic() - since >= self.retry_after_seconds
        if recovered:
            del self._demoted[name]
        return not recovered

    def _usable(self, name: str) -> bool:
        return self._status(name) is not HealthStatus.UNHEALTHY and not self._is_demoted(name)

    def _can_fail_back(self, name: str) -> bool:
        if self._is_demoted(name):
            return False
        if name not in self.monitor or not self.monitor.get_health(name).has_check:
            return self._status(name) is not HealthStatus.UNHEALTHY
        health = self.monitor.get_health(name)
        return (
            health.status is HealthStatus.HEALTHY
            and health.consecutive_successes >= self.failback_threshold
        )

    def _evaluate(
        self, primary: str, *, reason: str | None = None, fault_at: float | None = None
    ) -> str:
        """Move the chain's active component if it should move; return the active one."""
        chain = self.chain(primary)
        current = self._active.setdefault(primary, primary)
        index = chain.index(current) if current in chain else 0
        for higher in chain[:index]:
            if self._can_fail_back(higher):
                self._switch(primary, current, higher, FailoverKind.FAILBACK, "recovered", None)
                return higher
        if current in chain and self._usable(current):
            return current
        for candidate in chain:
            if candidate != current and self._usable(candidate):
                if fault_at is None and current in self.monitor:
                    fault_at = self.monitor.get_health(current).failing_since
                why = reason or f"{current!r} is {self._status(current).value}"
                kind = (
                    FailoverKind.FAILOVER
                    if chain.index(candidate) > index
                    else FailoverKind.FAILBACK
                )
                self._switch(primary, current, candidate, kind, why, fault_at)
                return candidate
        raise NoHealthyComponentError(
            f"no component of the chain {' -> '.join(chain)} is usable: "
            + ", ".join(
                f"{name} {'demoted' if name in self._demoted else self._status(name).value}"
                for name in chain
            )
        )

    def _switch(
        self,
        primary: str,
        old: str,
        new: str,
        kind: FailoverKind,
        reason: str,
        fault_at: float | None,
    ) -> None:
        self._active[primary] = new
        event = FailoverEvent(
            chain=primary,
            kind=kind,
            from_component=old,
            to_component=new,
            reason=reason,
            fault_at=fault_at if kind is FailoverKind.FAILOVER else None,
            switched_at=self.clock.monotonic(),
            timestamp=self.clock.time(),
        )
        self._events.append(event)
        logger.warning("%s of %r: %s -> %s (%s)", kind.value, primary, old, new, reason)
        if telemetry.tracer is not None:
            _trace_switch(event)
        for listener in list(self._listeners):
            try:
                outcome = listener(event)
                if inspect.isawaitable(outcome):
                    task = asyncio.ensure_future(outcome)
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
            except Exception:
                logger.exception("failover listener %r failed", listener)

    def _on_health_event(self, event: HealthEvent) -> None:
        for primary in list(self._active):
            if event.component in self.chain(primary):
                try:
                    self._evaluate(primary, fault_at=event.failing_since)
                except NoHealthyComponentError as exc:
                    logger.error("%s", exc)

    def active_component(self, primary: str) -> str:
        """The component of *primary*'s chain to use now (the guide's call, synchronous)."""
        return self._evaluate(primary)

    async def get_active_component(self, primary: str) -> str:
        """The first usable component of *primary*'s chain, failing back with hysteresis.

        Raises:
            NoHealthyComponentError: every component of the chain is unusable.
        """
        return self._evaluate(primary)

    async def call(self, primary: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(component, *args, **kwargs)`` on the active component of *primary*'s chain.

        When it raises, the component is demoted (and the failure reported to the monitor),
        the chain fails over at once and the call runs again on the next usable component.

        Raises:
            NoHealthyComponentError: every component failed or is unusable; ``__cause__`` is
                the last call's error.
        """
        last_error: Exception | None = None
        failed_at = 0.0
        while True:
            try:
                component = self._evaluate(
                    primary,
                    reason=None if last_error is None else f"call failed: {last_error!r}",
                    fault_at=None if last_error is None else failed_at,
                )
            except NoHealthyComponentError as exc:
                if last_error is not None:
                    raise exc from last_error
                raise
            try:
                result = fn(component, *args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:
                failed_at = self.clock.monotonic()
                last_error = exc
                self._demoted[component] = failed_at
                if component in self.monitor:
                    self.monitor.report_failure(component, exc)
                continue
            if component in self.monitor:
                self.monitor.report_success(component)
            return result


def _trace_switch(event: FailoverEvent) -> None:
    """The switch as a span event ``failover`` (only reached when tracing is on)."""
    tracer = telemetry.tracer
    if tracer is None:
        return
    attributes: dict[str, Any] = {
        "agentkit.failover.chain": event.chain,
        "agentkit.failover.kind": event.kind.value,
        "agentkit.failover.from": event.from_component,
        "agentkit.failover.to": event.to_component,
        "agentkit.failover.reason": event.reason,
    }
    seconds = event.failover_seconds
    if seconds is not None:
        attributes["agentkit.failover.seconds"] = seconds
    span_event(tracer, f"failover {event.chain}", "failover", attributes)
