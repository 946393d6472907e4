"""LocalExecutor: the executor conformance suite plus its pool, backoff and deadlines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit import (
    ConfigurationError,
    LocalExecutor,
    TaskCancelledError,
    TaskNotFoundError,
    TaskState,
    TaskTimeoutError,
)
from agentkit.testing import ExecutorConformance, VirtualClock
from agentkit.testing._executor_suite import ExecutorFactory


class TestLocalExecutor(ExecutorConformance):
    """LocalExecutor keeps the Executor contract."""

    @pytest.fixture
    async def make_executor(self) -> AsyncIterator[ExecutorFactory]:
        """A factory of local executors with a tiny backoff, shut down at teardown."""
        made: list[LocalExecutor] = []

        async def factory() -> LocalExecutor:
            executor = LocalExecutor(backoff_base=0.01)
            made.append(executor)
            return executor

        yield factory
        for executor in made:
            await executor.shutdown()


@pytest.fixture
async def virtual() -> AsyncIterator[tuple[LocalExecutor, VirtualClock]]:
    """A local executor on virtual time: backoff 1 s, idle timeout 10 s, 1 to 4 workers."""
    clock = VirtualClock()
    executor = LocalExecutor(
        clock=clock,
        backoff_base=1.0,
        backoff_max=3.0,
        min_workers=1,
        max_workers=4,
        idle_timeout=10.0,
    )
    yield executor, clock
    await executor.shutdown()


async def test_backoff_doubles_between_attempts(
    virtual: tuple[LocalExecutor, VirtualClock],
) -> None:
    """Attempts come after 1 s, 2 s, then 3 s (the cap) of virtual time."""
    executor, clock = virtual
    calls: list[float] = []

    async def flaky() -> str:
        calls.append(clock.monotonic())
        if len(calls) < 4:
            raise ConnectionError("not yet")
        return "done"

    task_id = await executor.submit(flaky, max_attempts=4)
    await clock.settle()
    assert calls == [0.0]
    await clock.advance(0.99)
    assert len(calls) == 1
    assert executor.state(task_id) is TaskState.PENDING
    await clock.advance(0.01)
    assert calls == [0.0, 1.0]
    await clock.advance(2.0)
    assert calls == [0.0, 1.0, 3.0]
    await clock.advance(3.0)
    assert calls == [0.0, 1.0, 3.0, 6.0]
    outcome = await executor.wait(task_id)
    assert outcome.value == "done"
    assert [attempt.started_at - clock.time() + 6.0 for attempt in outcome.attempts] == calls


async def test_deadline_cancels_a_coroutine(virtual: tuple[LocalExecutor, VirtualClock]) -> None:
    """At its deadline a coroutine task is cancelled for real and ends TIMED_OUT."""
    executor, clock = virtual
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task_id = await executor.submit(slow, timeout=5.0)
    await clock.advance(4.9)
    assert executor.state(task_id) is TaskState.RUNNING
    await clock.advance(0.2)
    assert executor.state(task_id) is TaskState.TIMED_OUT
    assert cancelled.is_set()
    with pytest.raises(TaskTimeoutError):
        await executor.result(task_id)


async def test_wait_timeout_on_virtual_time(virtual: tuple[LocalExecutor, VirtualClock]) -> None:
    """wait(timeout=3) raises TaskTimeoutError after 3 virtual seconds; the task keeps going."""
    executor, clock = virtual
    release = asyncio.Event()

    async def gated() -> int:
        await release.wait()
        return 1

    task_id = await executor.submit(gated)
    waiter = asyncio.ensure_future(executor.wait(task_id, timeout=3.0))
    await clock.advance(2.9)
    assert not waiter.done()
    await clock.advance(0.1)
    with pytest.raises(TaskTimeoutError):
        await waiter
    release.set()
    assert await executor.result(task_id) == 1


async def test_pool_grows_with_queue_and_shrinks_when_idle(
    virtual: tuple[LocalExecutor, VirtualClock],
) -> None:
    """Six waiting tasks grow the pool to its maximum of 4; idle workers retire to 1."""
    executor, clock = virtual
    release = asyncio.Event()
    running = 0
    most = 0

    async def gated() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    ids = [await executor.submit(gated) for _ in range(6)]
    await clock.settle()
    stats = executor.stats()
    assert stats["workers"] == 4
    assert stats["busy_workers"] == 4
    assert stats["queue_depth"] == 2
    assert most == 4
    release.set()
    for task_id in ids:
        await executor.result(task_id)
    assert most == 4
    await clock.advance(10.0)
    stats = executor.stats()
    assert stats["workers"] == 1
    assert stats["peak_workers"] == 4
    assert stats["tasks"]["succeeded"] == 6


async def test_pending_task_cancelled_never_runs() -> None:
    """A task cancelled while queued behind a busy worker never starts."""
    ran: list[str] = []
    release = asyncio.Event()

    async def blocker() -> None:
        await release.wait()

    async def queued() -> None:
        ran.append("queued")

    async with LocalExecutor(max_workers=1) as executor:
        first = await executor.submit(blocker)
        second = await executor.submit(queued)
        assert executor.state(second) is TaskState.PENDING
        assert await executor.cancel(second)
        release.set()
        await executor.result(first)
        with pytest.raises(TaskCancelledError):
            await executor.result(second)
        assert ran == []


async def test_shutdown_cancels_unfinished_tasks() -> None:
    """Shutdown ends running and queued tasks CANCELLED."""
    executor = LocalExecutor(max_workers=1)
    release = asyncio.Event()
    running = await executor.submit(release.wait)
    queued = await executor.submit(release.wait)
    await asyncio.sleep(0)
    await executor.shutdown()
    assert executor.state(running) is TaskState.CANCELLED
    assert executor.state(queued) is TaskState.CANCELLED


async def test_finished_tasks_are_forgotten_beyond_the_bound() -> None:
    """Only the latest keep_finished results are kept; older ids raise TaskNotFoundError."""
    async with LocalExecutor(keep_finished=2) as executor:
        ids = [await executor.submit(abs, -n) for n in range(3)]
        for task_id in ids:
            await executor.wait(task_id)
        with pytest.raises(TaskNotFoundError):
            await executor.wait(ids[0])
        assert await executor.result(ids[2]) == 2


@pytest.mark.parametrize(
    "options",
    [
        {"min_workers": 3, "max_workers": 2},
        {"max_workers": 0},
        {"idle_timeout": 0},
        {"backoff_base": -1},
    ],
)
def test_bad_pool_options(options: dict[str, Any]) -> None:
    """Impossible pool settings raise ConfigurationError."""
    with pytest.raises(ConfigurationError):
        LocalExecutor(**options)


async def test_actor_calls_run_one_at_a_time() -> None:
    """Concurrent calls to one actor never overlap."""

    class Tracker:
        def __init__(self) -> None:
            self.inside = 0
            self.most = 0

        async def visit(self) -> None:
            self.inside += 1
            self.most = max(self.most, self.inside)
            await asyncio.sleep(0.001)
            self.inside -= 1

        def peak(self) -> int:
            return self.most

    async with LocalExecutor() as executor:
        actor = await executor.create_actor(Tracker)
        await asyncio.gather(*(actor.visit() for _ in range(10)))
        assert await actor.peak() == 1
        with pytest.raises(AttributeError):
            actor.no_such_method  # noqa: B018
        with pytest.raises(ConfigurationError):
            await executor.create_actor("not a class")  # type: ignore[arg-type]


@given(
    items=st.lists(st.integers(), max_size=300),
    workers=st.integers(min_value=1, max_value=8),
)
def test_map_preserves_order(items: list[int], workers: int) -> None:
    """map returns fn(item) for every item, in input order, whatever the pool size."""

    async def run() -> list[int]:
        async with LocalExecutor(max_workers=workers) as executor:
            return await executor.map(lambda x: x * 3 - 1, items)

    assert asyncio.run(run()) == [x * 3 - 1 for x in items]
