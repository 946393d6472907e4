"""Circuit breaker transitions and failovers as span events, and the breaker metrics."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from agentkit import CircuitBreaker, FailoverManager, HealthMonitor
from agentkit.exceptions import CircuitOpenError
from agentkit.observability import telemetry
from agentkit.testing import VirtualClock

from .conftest import Recorded


def only(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    """The one finished span called *name*."""
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def events(span: ReadableSpan, name: str) -> list[dict[str, object]]:
    """The attributes of *span*'s events called *name*, in order."""
    return [dict(event.attributes or {}) for event in span.events if event.name == name]


async def fail() -> None:
    """A call that always fails."""
    raise TimeoutError("upstream did not answer")


async def succeed() -> str:
    """A call that works."""
    return "ok"


async def test_opening_is_an_event_on_the_current_span(recorded: Recorded) -> None:
    """The failure that trips the breaker adds a state_change event with its reason there."""
    assert telemetry.tracer is not None
    breaker = CircuitBreaker("payments", failure_threshold=2, clock=VirtualClock())
    with telemetry.tracer.start_as_current_span("caller"):
        for _ in range(2):
            with pytest.raises(TimeoutError):
                await breaker.call(fail)
        with pytest.raises(CircuitOpenError):
            await breaker.call(fail)
    caller = only(recorded.spans(), "caller")
    [change] = events(caller, "circuit_breaker.state_change")
    assert change["agentkit.breaker.name"] == "payments"
    assert change["agentkit.breaker.old_state"] == "closed"
    assert change["agentkit.breaker.new_state"] == "open"
    assert change["agentkit.breaker.trigger"] == "failure_threshold"
    assert change["agentkit.breaker.consecutive_failures"] == 2
    assert change["error.type"] == "TimeoutError"
    reason = str(change["agentkit.breaker.reason"])
    assert "2 consecutive failures" in reason
    assert "upstream did not answer" in reason
    assert not any(span.name.startswith("circuit_breaker") for span in recorded.spans())


async def test_a_transition_outside_any_span_gets_a_span_of_its_own(recorded: Recorded) -> None:
    """Without a recording span, each transition is a short span carrying the event."""
    clock = VirtualClock()
    breaker = CircuitBreaker("search", failure_threshold=1, timeout_seconds=5, clock=clock)
    with pytest.raises(TimeoutError):
        await breaker.call(fail)
    await clock.advance(5)
    assert await breaker.call(succeed) == "ok"
    spans = [span for span in recorded.spans() if span.name == "circuit_breaker search"]
    changes = [events(span, "circuit_breaker.state_change")[0] for span in spans]
    moves = [(c["agentkit.breaker.old_state"], c["agentkit.breaker.new_state"]) for c in changes]
    assert moves == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
    assert [c["agentkit.breaker.trigger"] for c in changes] == [
        "failure_threshold",
        "timeout",
        "probes_succeeded",
    ]


async def test_a_failed_probe_and_the_failure_rate_are_reasons(recorded: Recorded) -> None:
    """A failed half-open probe and a tripped failure rate each name their trigger."""
    clock = VirtualClock()
    breaker = CircuitBreaker(
        "rates",
        failure_threshold=100,
        failure_rate_threshold=0.5,
        sliding_window_size=4,
        timeout_seconds=1,
        clock=clock,
    )
    for call in (succeed, fail, succeed):
        with contextlib.suppress(TimeoutError):
            await breaker.call(call)
    with pytest.raises(TimeoutError):
        await breaker.call(fail)  # 2 failures in 4 calls: the rate trips
    await clock.advance(1)
    with pytest.raises(TimeoutError):
        await breaker.call(fail)  # the probe fails
    changes = [
        events(span, "circuit_breaker.state_change")[0]
        for span in recorded.spans()
        if span.name == "circuit_breaker rates"
    ]
    triggers = [change["agentkit.breaker.trigger"] for change in changes]
    assert triggers == ["failure_rate", "timeout", "probe_failed"]
    assert "2 failures in the last 4 calls" in str(changes[0]["agentkit.breaker.reason"])
    assert str(changes[2]["agentkit.breaker.reason"]).startswith("a half-open probe failed")


async def test_breaker_transitions_and_states_are_metrics(recorded: Recorded) -> None:
    """Transitions are counted by the state entered; the gauge reads each live breaker."""
    calm = CircuitBreaker("calm")
    tripped = CircuitBreaker("tripped", failure_threshold=1, clock=VirtualClock())
    with pytest.raises(TimeoutError):
        await tripped.call(fail)
    assert calm.state == "closed"
    transitions = recorded.metric_points("agentkit.breaker.transitions")
    assert ({"agentkit.breaker.name": "tripped", "agentkit.breaker.state": "open"}, 1) in (
        transitions
    )
    states = {
        attributes["agentkit.breaker.name"]: value
        for attributes, value in recorded.metric_points("agentkit.breaker.state")
    }
    assert states["tripped"] == 2
    assert states["calm"] == 0
    tripped.reset()
    states = {
        attributes["agentkit.breaker.name"]: value
        for attributes, value in recorded.metric_points("agentkit.breaker.state")
    }
    assert states["tripped"] == 0


def make_failover() -> tuple[HealthMonitor, FailoverManager]:
    """A failover chain primary -> backup with no health checks."""
    monitor = HealthMonitor(clock=VirtualClock())
    failover = FailoverManager(monitor, retry_after_seconds=60)
    failover.register_backup("primary", "backup")
    return monitor, failover


async def test_a_failover_is_an_event_with_its_reason(recorded: Recorded) -> None:
    """A call that fails on the primary moves to the backup; the caller's span says why."""
    assert telemetry.tracer is not None
    _, failover = make_failover()

    async def use(component: str) -> str:
        if component == "primary":
            raise ConnectionError("primary refused")
        return component

    with telemetry.tracer.start_as_current_span("caller"):
        assert await failover.call("primary", use) == "backup"
    caller = only(recorded.spans(), "caller")
    [switch] = events(caller, "failover")
    assert switch["agentkit.failover.chain"] == "primary"
    assert switch["agentkit.failover.kind"] == "failover"
    assert switch["agentkit.failover.from"] == "primary"
    assert switch["agentkit.failover.to"] == "backup"
    assert "primary refused" in str(switch["agentkit.failover.reason"])
    assert float(str(switch["agentkit.failover.seconds"])) >= 0


async def test_a_failover_outside_any_span_gets_a_span_of_its_own(recorded: Recorded) -> None:
    """With no recording span, a switch is a short span ``failover <chain>`` with the event."""
    monitor, failover = make_failover()
    monitor.register_component("primary", "agent")
    monitor.report_failure("primary", ConnectionError("down"))
    monitor.report_failure("primary", ConnectionError("down"))
    monitor.report_failure("primary", ConnectionError("down"))
    assert failover.active_component("primary") == "backup"
    span = only(recorded.spans(), "failover primary")
    [switch] = events(span, "failover")
    assert switch["agentkit.failover.to"] == "backup"
    assert "unhealthy" in str(switch["agentkit.failover.reason"])


def test_no_opentelemetry_import_when_off() -> None:
    """Without a provider, breaker transitions and failovers never import OpenTelemetry."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from agentkit import CircuitBreaker, FailoverManager, HealthMonitor

        async def main():
            breaker = CircuitBreaker("b", failure_threshold=1)
            try:
                await breaker.call(int, "x")
            except ValueError:
                pass
            assert breaker.state == "open"
            failover = FailoverManager(HealthMonitor())
            failover.register_backup("p", "q")
            def use(component):
                if component == "p":
                    raise OSError("down")
                return component
            assert await failover.call("p", use) == "q"

        asyncio.run(main())
        print(any(name.startswith("opentelemetry") for name in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
