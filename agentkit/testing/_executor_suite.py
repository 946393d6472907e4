"""The executor conformance suite: every :class:`agentkit.protocols.Executor` runs it.

Subclass :class:`ExecutorConformance` in a ``Test...`` class and give it a ``make_executor``
fixture: an async factory returning a new, ready executor (small backoff, e.g.
``backoff_base=0.01``), shutting every executor it made down at teardown::

    class TestMyExecutor(ExecutorConformance):
        @pytest.fixture
        async def make_executor(self):
            made = []

            async def factory():
                executor = MyExecutor(backoff_base=0.01)
                made.append(executor)
                return executor

            yield factory
            for executor in made:
                await executor.shutdown()

The functions the suite submits are module-level (picklable by reference) and coordinate
through files in a temporary directory, so they work in threads and in other processes alike.
Tasks that must keep running block until the test releases them (or 30 s pass).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from agentkit.exceptions import (
    ConfigurationError,
    ExecutionError,
    TaskCancelledError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
)
from agentkit.execution import TaskResult, TaskState
from agentkit.protocols import Executor

__all__ = ["ExecutorConformance", "ExecutorFactory", "FlakyCall", "Gate"]

T = TypeVar("T")

#: How long any single wait in the suite may take before the test fails (seconds).
WAIT = 30.0
#: How long a gated task blocks at most when nobody releases it (seconds).
GATE_LIMIT = 30.0

#: ``await make_executor()``: a new executor, shut down by the fixture at teardown.
ExecutorFactory = Callable[[], Awaitable[Executor]]


def add(left: int, right: int) -> int:
    """A plain blocking function."""
    return left + right


async def add_later(left: int, right: int) -> int:
    """A coroutine function."""
    await asyncio.sleep(0)
    return left + right


def fail(message: str) -> None:
    """Always raises ``ValueError(message)``."""
    raise ValueError(message)


def fail_on_negative(value: int) -> int:
    """Squares *value*; raises ``ValueError`` for a negative one."""
    if value < 0:
        raise ValueError(f"negative: {value}")
    return value * value


class FlakyCall:
    """Fails its first *failures* calls, then returns the number of calls.

    The count lives in a file, so retries in other processes (Ray workers) see it too.
    """

    def __init__(self, counter: Path, failures: int) -> None:
        self.counter = str(counter)
        self.failures = failures

    def __call__(self) -> int:
        path = Path(self.counter)
        calls = int(path.read_text()) + 1 if path.exists() else 1
        path.write_text(str(calls))
        if calls <= self.failures:
            raise ConnectionError(f"flaky failure {calls}")
        return calls

    def calls(self) -> int:
        """How many times it was called."""
        path = Path(self.counter)
        return int(path.read_text()) if path.exists() else 0


class Gate:
    """A task that says it started and blocks until the test releases it."""

    def __init__(self, folder: Path) -> None:
        self.started_file = str(folder / "started")
        self.release_file = str(folder / "release")

    def __call__(self, value: Any = "released") -> Any:
        Path(self.started_file).touch()
        deadline = time.monotonic() + GATE_LIMIT
        while not Path(self.release_file).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return value

    def release(self) -> None:
        """Let every gated task return."""
        Path(self.release_file).touch()

    async def started(self) -> None:
        """Wait until a gated task has started (fails the test after ``WAIT``)."""
        await within(_poll(lambda: Path(self.started_file).exists()), "the task to start")


class Counter:
    """An actor: a number that calls change."""

    def __init__(self, start: int = 0) -> None:
        self.value = start

    def increment(self, by: int = 1) -> int:
        """Add *by* and return the new value."""
        self.value += by
        return self.value

    async def read(self) -> int:
        """The current value (a coroutine method)."""
        await asyncio.sleep(0)
        return self.value

    def explode(self) -> None:
        """Raise, leaving the state alone."""
        raise RuntimeError("boom")


async def _poll(condition: Callable[[], bool]) -> None:
    # The condition is a file another process writes: there is no event to wait on.
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def within(awaitable: Awaitable[T], what: str = "the executor") -> T:
    """Await *awaitable*, failing the test (not hanging it) after ``WAIT`` seconds."""
    deadline = asyncio.timeout(WAIT)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError:
        if deadline.expired():
            pytest.fail(f"timed out after {WAIT} s waiting for {what}")
        raise


class ExecutorConformance:
    """The Executor contract; subclass it with a ``make_executor`` fixture."""

    @pytest.fixture
    async def executor(self, make_executor: ExecutorFactory) -> Executor:
        """A new executor from the subclass's factory."""
        return await make_executor()

    @pytest.fixture
    def gate(self, tmp_path: Path) -> Iterator[Gate]:
        """A gated task, released at teardown so no worker stays blocked."""
        folder = tmp_path / "gate"
        folder.mkdir()
        gate = Gate(folder)
        yield gate
        gate.release()

    @pytest.fixture
    async def gated_task(self, executor: Executor, gate: Gate) -> str:
        """The id of a gated task that has started and is blocked."""
        task_id = await executor.submit(gate)
        await gate.started()
        return task_id

    # -- results ---------------------------------------------------------------------------

    async def test_blocking_function_result(self, executor: Executor) -> None:
        """A blocking function's return value is the task's result."""
        task_id = await executor.submit(add, 2, 3)
        assert await within(executor.result(task_id)) == 5
        outcome = await executor.wait(task_id)
        assert outcome.state is TaskState.SUCCEEDED
        assert outcome.ok
        assert len(outcome.attempts) == 1
        assert outcome.attempts[0].error is None
        assert outcome.where

    async def test_coroutine_function_result(self, executor: Executor) -> None:
        """A coroutine function is awaited and its value returned."""
        task_id = await executor.submit(add_later, 4, right=6)
        assert await within(executor.result(task_id)) == 10

    async def test_task_name_is_recorded(self, executor: Executor) -> None:
        """``name=`` names the task in its result; by default it is the function's name."""
        named = await executor.submit(add, 1, 1, name="sum")
        unnamed = await executor.submit(add, 1, 1)
        assert (await within(executor.wait(named))).name == "sum"
        assert (await within(executor.wait(unnamed))).name == "add"

    # -- errors and retries ----------------------------------------------------------------

    async def test_error_raises_task_failed_with_cause(self, executor: Executor) -> None:
        """A task that raises fails with TaskFailedError whose cause is the task's error."""
        task_id = await executor.submit(fail, "broken input")
        with pytest.raises(TaskFailedError, match="broken input") as caught:
            await within(executor.result(task_id))
        assert isinstance(caught.value.__cause__, ValueError)
        outcome = await executor.wait(task_id)
        assert outcome.state is TaskState.FAILED
        assert isinstance(outcome.error, ValueError)

    async def test_retries_until_success(self, executor: Executor, tmp_path: Path) -> None:
        """A task failing twice succeeds on its third attempt; every attempt is recorded."""
        flaky = FlakyCall(tmp_path / "calls", failures=2)
        task_id = await executor.submit(flaky, max_attempts=3)
        assert await within(executor.result(task_id)) == 3
        outcome = await executor.wait(task_id)
        assert [attempt.number for attempt in outcome.attempts] == [1, 2, 3]
        assert [attempt.error is None for attempt in outcome.attempts] == [False, False, True]
        assert "ConnectionError: flaky failure 1" in (outcome.attempts[0].error or "")

    async def test_retries_exhausted(self, executor: Executor, tmp_path: Path) -> None:
        """A task failing on every attempt fails after exactly max_attempts calls."""
        flaky = FlakyCall(tmp_path / "calls", failures=10)
        task_id = await executor.submit(flaky, max_attempts=2)
        with pytest.raises(TaskFailedError) as caught:
            await within(executor.result(task_id))
        assert isinstance(caught.value.__cause__, ConnectionError)
        outcome = await executor.wait(task_id)
        assert outcome.state is TaskState.FAILED
        assert len(outcome.attempts) == 2
        assert flaky.calls() == 2

    async def test_bad_options_are_refused(self, executor: Executor) -> None:
        """A non-callable, max_attempts < 1 or a non-positive timeout raise ConfigurationError."""
        with pytest.raises(ConfigurationError):
            await executor.submit("not callable")  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            await executor.submit(add, 1, 2, max_attempts=0)
        with pytest.raises(ConfigurationError):
            await executor.submit(add, 1, 2, timeout=0)

    async def test_unknown_task_id(self, executor: Executor) -> None:
        """An unknown task id raises TaskNotFoundError, a KeyError."""
        with pytest.raises(TaskNotFoundError):
            await executor.result("no-such-task")
        with pytest.raises(KeyError):
            executor.state("no-such-task")

    # -- timeouts and cancellation ---------------------------------------------------------

    async def test_result_timeout_leaves_task_running(
        self, executor: Executor, gate: Gate, gated_task: str
    ) -> None:
        """Waiting too short raises TaskTimeoutError (a TimeoutError); the task goes on."""
        with pytest.raises(TaskTimeoutError):
            await executor.result(gated_task, timeout=0.05)
        with pytest.raises(TimeoutError):
            await executor.wait(gated_task, timeout=0.05)
        assert not executor.state(gated_task).is_final
        gate.release()
        assert await within(executor.result(gated_task)) == "released"

    async def test_task_deadline_times_out(self, executor: Executor, gate: Gate) -> None:
        """A task past its own deadline ends TIMED_OUT and its result raises TaskTimeoutError."""
        task_id = await executor.submit(gate, timeout=0.2)
        with pytest.raises(TaskTimeoutError):
            await within(executor.result(task_id))
        assert executor.state(task_id) is TaskState.TIMED_OUT

    async def test_cancel_running_task(self, executor: Executor, gated_task: str) -> None:
        """Cancelling a running task ends it CANCELLED; a second cancel returns False."""
        assert await executor.cancel(gated_task) is True
        with pytest.raises(TaskCancelledError):
            await within(executor.result(gated_task))
        assert executor.state(gated_task) is TaskState.CANCELLED
        assert await executor.cancel(gated_task) is False

    async def test_cancel_finished_task(self, executor: Executor) -> None:
        """A finished task cannot be cancelled and keeps its result."""
        task_id = await executor.submit(add, 1, 2)
        assert await within(executor.result(task_id)) == 3
        assert await executor.cancel(task_id) is False
        assert await executor.result(task_id) == 3

    # -- map -------------------------------------------------------------------------------

    async def test_map_preserves_order_with_closures(self, executor: Executor) -> None:
        """map returns results in input order; lambdas and closures work."""
        offset = 7
        values = await within(executor.map(lambda x: x * 2 + offset, range(200)))
        assert values == [x * 2 + offset for x in range(200)]

    async def test_map_of_coroutine_function(self, executor: Executor) -> None:
        """map awaits a coroutine function for each item."""

        async def triple(x: int) -> int:
            await asyncio.sleep(0)
            return 3 * x

        assert await within(executor.map(triple, [3, 1, 2])) == [9, 3, 6]

    async def test_map_failure_raises(self, executor: Executor) -> None:
        """An item that fails makes map raise TaskFailedError naming the error."""
        with pytest.raises(TaskFailedError, match="negative: -1"):
            await within(executor.map(fail_on_negative, [1, 2, -1, 3]))

    async def test_map_of_nothing(self, executor: Executor) -> None:
        """Mapping over no items returns an empty list."""
        assert await executor.map(fail_on_negative, []) == []

    # -- actors ----------------------------------------------------------------------------

    async def test_actor_keeps_state(self, executor: Executor) -> None:
        """An actor's state survives between calls, sync and async methods alike."""
        actor = await executor.create_actor(Counter, 10)
        assert await within(actor.increment()) == 11
        assert await within(actor.increment(by=5)) == 16
        assert await within(actor.read()) == 16

    async def test_actors_are_independent(self, executor: Executor) -> None:
        """Two actors of one class keep separate state."""
        first = await executor.create_actor(Counter)
        second = await executor.create_actor(Counter, 100)
        await within(first.increment())
        assert await within(second.read()) == 100
        assert first.actor_id != second.actor_id

    async def test_actor_error_keeps_actor(self, executor: Executor) -> None:
        """A method that raises gives TaskFailedError; the actor and its state live on."""
        actor = await executor.create_actor(Counter, 1)
        with pytest.raises(TaskFailedError, match="boom"):
            await within(actor.explode())
        assert await within(actor.increment()) == 2

    async def test_killed_actor_refuses_calls(self, executor: Executor) -> None:
        """After kill, calling the actor raises TaskFailedError."""
        actor = await executor.create_actor(Counter)
        await within(actor.increment())
        await actor.kill()
        with pytest.raises(TaskFailedError):
            await within(actor.increment())

    # -- stats and shutdown ----------------------------------------------------------------

    async def test_stats_count_tasks(self, executor: Executor) -> None:
        """stats() reports resources and how many tasks ended in each state."""
        ok = await executor.submit(add, 1, 1)
        bad = await executor.submit(fail, "x")
        await within(executor.wait(ok))
        await within(executor.wait(bad))
        stats = executor.stats()
        assert stats["tasks"]["submitted"] >= 2
        assert stats["tasks"]["succeeded"] >= 1
        assert stats["tasks"]["failed"] >= 1
        assert stats["resources"]["CPU"] >= 1

    async def test_submit_after_shutdown(self, make_executor: ExecutorFactory) -> None:
        """After shutdown, submitting raises ExecutionError; shutdown again is harmless."""
        executor = await make_executor()
        outcome = await executor.submit(add, 1, 1)
        await within(executor.wait(outcome))
        await executor.shutdown()
        await executor.shutdown()
        with pytest.raises(ExecutionError):
            await executor.submit(add, 1, 1)

    async def test_wait_returns_task_result(self, executor: Executor) -> None:
        """wait() returns a TaskResult whose unwrap() gives the value."""
        task_id = await executor.submit(add, 20, 22)
        outcome = await within(executor.wait(task_id))
        assert isinstance(outcome, TaskResult)
        assert outcome.task_id == task_id
        assert outcome.unwrap() == 42
        assert outcome.duration >= 0


def ensure_local_ray(*, num_cpus: int = 2, object_store_mb: int = 300) -> tuple[Any, bool]:
    """Start a small local Ray for tests unless one runs here; return ``(ray, started)``.

    Dashboard off, a capped object store, worker logs not copied to the driver: the settings
    for a shared test machine. Skips the test when ray is not installed.
    """
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        return ray, False
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        object_store_memory=object_store_mb * 1024**2,
        log_to_driver=False,
    )
    return ray, True
