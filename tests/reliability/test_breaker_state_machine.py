"""The breaker against a small reference model, driven by hypothesis on virtual time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from agentkit import CircuitBreaker, CircuitOpenError, CircuitState
from agentkit.testing import VirtualClock

FAILURE_THRESHOLD = 3
TIMEOUT = 10.0
HALF_OPEN_MAX = 2
SUCCESS_THRESHOLD = 2


class Excluded(Exception):
    """A business error the breaker is told to ignore."""


@dataclass
class Model:
    """The breaker's rules, written as plainly as possible."""

    state: str = "closed"
    consecutive_failures: int = 0
    opened_at: float = 0.0
    probes_in_flight: int = 0
    probe_successes: int = 0
    generation: int = 0
    failures_counted: int = 0
    ignored: int = 0
    history: list[str] = field(default_factory=list)

    def go(self, state: str, now: float) -> None:
        self.state = state
        self.generation += 1
        self.probes_in_flight = 0
        self.probe_successes = 0
        if state == "open":
            self.opened_at = now
        if state == "closed":
            self.consecutive_failures = 0

    def refresh(self, now: float) -> None:
        if self.state == "open" and now - self.opened_at >= TIMEOUT:
            self.go("half_open", now)

    def admit(self, now: float) -> tuple[bool, int, bool]:
        """(admitted, generation, probe)."""
        self.refresh(now)
        if self.state == "closed":
            return True, self.generation, False
        if self.state == "half_open" and self.probes_in_flight < HALF_OPEN_MAX:
            self.probes_in_flight += 1
            return True, self.generation, True
        return False, self.generation, False

    def finish(self, outcome: str, generation: int, probe: bool, now: float) -> None:
        if outcome == "failure":
            self.failures_counted += 1
        if outcome == "excluded":
            self.ignored += 1
        if generation != self.generation:
            return
        if outcome == "excluded":
            if probe:
                self.probes_in_flight -= 1
            return
        if probe:
            if outcome == "failure":
                self.go("open", now)
                return
            self.probes_in_flight -= 1
            self.probe_successes += 1
            if self.probe_successes >= SUCCESS_THRESHOLD:
                self.go("closed", now)
            return
        if outcome == "success":
            self.consecutive_failures = 0
        else:
            self.consecutive_failures += 1
            if self.consecutive_failures >= FAILURE_THRESHOLD:
                self.go("open", now)


@dataclass
class Pending:
    """A call parked inside the wrapped function until the test decides its outcome."""

    task: asyncio.Task[object]
    gate: asyncio.Future[str]
    generation: int
    probe: bool


class BreakerMachine(RuleBasedStateMachine):
    """Random successes, failures, exclusions, time advances and concurrent (parked) calls."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = VirtualClock()
        self.model = Model()
        self.pending: list[Pending] = []
        self.in_function = 0
        self.max_probes_seen = 0
        self.breaker = CircuitBreaker(
            "model",
            failure_threshold=FAILURE_THRESHOLD,
            timeout_seconds=TIMEOUT,
            half_open_max_calls=HALF_OPEN_MAX,
            success_threshold=SUCCESS_THRESHOLD,
            excluded_exceptions=[Excluded],
            clock=self.clock,
        )

    def teardown(self) -> None:
        for pending in self.pending:
            pending.task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    def run(self, coroutine: object) -> object:
        return self.loop.run_until_complete(coroutine)  # type: ignore[arg-type]

    async def _wrapped(self, gate: asyncio.Future[str]) -> str:
        self.in_function += 1
        self.max_probes_seen = max(self.max_probes_seen, self.breaker.stats.half_open_in_flight)
        try:
            outcome = await gate
        finally:
            self.in_function -= 1
        if outcome == "failure":
            raise ConnectionError("down")
        if outcome == "excluded":
            raise Excluded("not a fault")
        return "ok"

    @initialize()
    def start(self) -> None:
        assert self.breaker.state is CircuitState.CLOSED

    @rule(outcome=st.sampled_from(["success", "failure", "excluded"]))
    def immediate_call(self, outcome: str) -> None:
        """A call that completes at once with *outcome*."""
        now = self.clock.monotonic()
        admitted, generation, probe = self.model.admit(now)

        async def go() -> str:
            gate: asyncio.Future[str] = self.loop.create_future()
            gate.set_result(outcome)
            try:
                await self.breaker.call(self._wrapped, gate)
            except CircuitOpenError:
                return "rejected"
            except (ConnectionError, Excluded):
                return "raised"
            return "ok"

        before = self.breaker.stats.calls
        result = self.run(go())
        if not admitted:
            assert result == "rejected"
            assert self.breaker.stats.calls == before, "a rejected call reached the function"
            return
        assert result != "rejected"
        self.model.finish(outcome, generation, probe, now)

    @rule()
    def start_parked_call(self) -> None:
        """A call that enters the function and waits there (concurrency)."""
        now = self.clock.monotonic()
        admitted, generation, probe = self.model.admit(now)
        gate: asyncio.Future[str] = self.loop.create_future()
        task = self.loop.create_task(self.breaker.call(self._wrapped, gate))
        self.run(self.clock.settle())
        if not admitted:
            assert task.done()
            assert isinstance(task.exception(), CircuitOpenError)
            return
        assert not task.done()
        self.pending.append(Pending(task, gate, generation, probe))

    @precondition(lambda self: bool(self.pending))
    @rule(
        index=st.integers(min_value=0, max_value=50),
        outcome=st.sampled_from(["success", "failure", "excluded"]),
    )
    def finish_parked_call(self, index: int, outcome: str) -> None:
        """Let one parked call finish with *outcome*."""
        pending = self.pending.pop(index % len(self.pending))
        pending.gate.set_result(outcome)
        self.run(asyncio.wait([pending.task]))
        assert pending.task.done()
        pending.task.exception()  # consumed: the failure is expected
        self.model.finish(outcome, pending.generation, pending.probe, self.clock.monotonic())

    @rule(seconds=st.sampled_from([0.5, 3.0, 9.99, 10.0, 25.0]))
    def advance(self, seconds: float) -> None:
        """Move virtual time forward."""
        self.run(self.clock.advance(seconds))

    @invariant()
    def state_matches_the_model(self) -> None:
        self.model.refresh(self.clock.monotonic())
        assert self.breaker.state.value == self.model.state

    @invariant()
    def probes_are_bounded(self) -> None:
        stats = self.breaker.stats
        assert stats.half_open_in_flight <= HALF_OPEN_MAX
        assert self.max_probes_seen <= HALF_OPEN_MAX
        assert stats.half_open_in_flight == self.model.probes_in_flight

    @invariant()
    def excluded_never_count(self) -> None:
        stats = self.breaker.stats
        assert stats.ignored == self.model.ignored
        assert stats.failures == self.model.failures_counted
        assert stats.consecutive_failures == self.model.consecutive_failures


class TestBreakerStateMachine(BreakerMachine.TestCase):  # type: ignore[misc,valid-type]
    """The breaker and the reference model agree on every random run, and the invariants hold."""
