"""The time source: VirtualClock for tests, SystemClock for real, and wait_for on either."""

from __future__ import annotations

import asyncio
import time

import pytest

from agentkit import Clock, SystemClock
from agentkit._clock import wait_for
from agentkit.testing import VirtualClock


async def _sleep_and_record(
    clock: VirtualClock, name: str, seconds: float, woken: list[tuple[str, float]]
) -> None:
    await clock.sleep(seconds)
    woken.append((name, clock.monotonic()))


async def test_sleepers_wake_in_deadline_order() -> None:
    """Sleepers wake in deadline order (FIFO on ties), each at its own deadline."""
    clock = VirtualClock()
    woken: list[tuple[str, float]] = []
    tasks = [
        asyncio.create_task(_sleep_and_record(clock, name, seconds, woken))
        for name, seconds in [("three", 3.0), ("one", 1.0), ("two", 2.0), ("two-again", 2.0)]
    ]
    await clock.settle()
    assert clock.sleepers == 4
    await clock.advance(5.0)
    assert woken == [("one", 1.0), ("two", 2.0), ("two-again", 2.0), ("three", 3.0)]
    assert clock.monotonic() == 5.0
    assert clock.sleepers == 0
    assert all(task.done() for task in tasks)


async def test_advance_wakes_exactly_what_is_due() -> None:
    """advance wakes the sleepers whose deadline it reaches and no others."""
    clock = VirtualClock()
    woken: list[tuple[str, float]] = []
    soon = asyncio.create_task(_sleep_and_record(clock, "soon", 1.0, woken))
    later = asyncio.create_task(_sleep_and_record(clock, "later", 2.0, woken))
    await clock.settle()
    await clock.advance(0.999)
    assert woken == []
    await clock.advance(0.001)
    assert woken == [("soon", 1.0)]
    assert (clock.sleepers, clock.next_deadline) == (1, 2.0)
    await clock.advance(0.5)
    assert woken == [("soon", 1.0)]
    await clock.advance(0.5)
    assert woken == [("soon", 1.0), ("later", 2.0)]
    assert clock.next_deadline is None
    assert soon.done()
    assert later.done()


async def test_a_task_sleeping_again_is_woken_within_the_same_advance() -> None:
    """A task that sleeps again before the advance target is woken again in the same call."""
    clock = VirtualClock()
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(5):
            await clock.sleep(1.0)
            ticks.append(clock.monotonic())

    task = asyncio.create_task(ticker())
    await clock.settle()
    await clock.advance(3.5)
    assert ticks == [1.0, 2.0, 3.0]
    await clock.run_until_idle()
    assert ticks == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert task.done()


async def test_cancelled_sleepers_are_skipped() -> None:
    """A cancelled sleeper no longer counts and does not stop time from moving."""
    clock = VirtualClock()
    woken: list[tuple[str, float]] = []
    cancelled = asyncio.create_task(_sleep_and_record(clock, "cancelled", 1.0, woken))
    kept = asyncio.create_task(_sleep_and_record(clock, "kept", 2.0, woken))
    await clock.settle()
    cancelled.cancel()
    await clock.settle()
    assert (clock.sleepers, clock.next_deadline) == (1, 2.0)
    await clock.advance(2.0)
    assert woken == [("kept", 2.0)]
    assert kept.done()


async def test_virtual_time_and_epoch() -> None:
    """monotonic starts at *start*, time() is epoch plus elapsed, and time never goes back."""
    clock = VirtualClock(10.0, epoch=1000.0)
    assert (clock.monotonic(), clock.time()) == (10.0, 1010.0)
    await clock.advance(2.5)
    assert (clock.monotonic(), clock.time()) == (12.5, 1012.5)
    with pytest.raises(ValueError, match="back in time"):
        await clock.advance(-1.0)
    await clock.sleep(0)
    assert clock.monotonic() == 12.5


async def test_wait_for_times_out_on_virtual_time() -> None:
    """wait_for on a VirtualClock times out when virtual time passes the deadline."""
    clock = VirtualClock()
    never: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    waiting = asyncio.create_task(wait_for(clock, never, 5.0))
    await clock.settle()
    await clock.advance(4.9)
    assert not waiting.done()
    await clock.advance(0.1)
    with pytest.raises(TimeoutError):
        await waiting
    assert never.cancelled()


async def test_wait_for_returns_the_result_before_the_deadline() -> None:
    """wait_for on a VirtualClock returns the awaitable's result and drops its timer."""
    clock = VirtualClock()

    async def answer() -> int:
        await clock.sleep(1.0)
        return 42

    waiting = asyncio.create_task(wait_for(clock, answer(), 5.0))
    await clock.settle()
    await clock.advance(1.0)
    assert await waiting == 42
    await clock.settle()
    assert clock.sleepers == 0


async def test_wait_for_passes_exceptions_through() -> None:
    """An exception from the awaitable reaches the caller unchanged."""
    clock = VirtualClock()

    async def fail() -> None:
        raise KeyError("inner")

    with pytest.raises(KeyError, match="inner"):
        await wait_for(clock, fail(), 5.0)


async def test_wait_for_without_timeout_just_awaits() -> None:
    """With timeout None wait_for awaits the awaitable however long it takes."""
    clock = VirtualClock()

    async def slow() -> str:
        await clock.sleep(1_000_000.0)
        return "done"

    waiting = asyncio.create_task(wait_for(clock, slow(), None))
    await clock.settle()
    assert clock.sleepers == 1
    await clock.advance(1_000_000.0)
    assert await waiting == "done"


async def test_wait_for_on_the_system_clock() -> None:
    """wait_for on SystemClock returns results and raises TimeoutError for what never ends."""
    clock = SystemClock()

    async def answer() -> int:
        return 7

    assert await wait_for(clock, answer(), 10.0) == 7
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    with pytest.raises(TimeoutError):
        await wait_for(clock, never, 0.01)


async def test_wait_for_on_the_system_clock_keeps_a_cancellation_that_meets_the_result() -> None:
    """A cancellation arriving in the tick the result does reaches the caller on SystemClock."""
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    waiting = asyncio.create_task(wait_for(SystemClock(), ready, 10.0))
    await asyncio.sleep(0)
    ready.set_result("value")
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_wait_for_on_virtual_time_keeps_a_cancellation_during_the_timeout() -> None:
    """A caller cancelled while wait_for cancels timed-out work is cancelled, not timed out."""
    clock = VirtualClock()
    stopping = asyncio.Event()
    release = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            stopping.set()
            await release.wait()  # still stopping when the caller is cancelled
            raise

    waiting = asyncio.create_task(wait_for(clock, slow_to_stop(), 1.0))
    await clock.settle()
    await clock.advance(1.0)
    await stopping.wait()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()


async def test_system_clock_basics() -> None:
    """SystemClock reads the real clocks and its sleep yields to the loop."""
    clock = SystemClock()
    before = time.time()
    now = clock.time()
    after = time.time()
    assert before <= now <= after
    first = clock.monotonic()
    await clock.sleep(0)
    assert clock.monotonic() >= first
    assert repr(clock) == "SystemClock()"


def test_both_clocks_implement_the_protocol() -> None:
    """SystemClock and VirtualClock are Clocks."""
    assert isinstance(SystemClock(), Clock)
    assert isinstance(VirtualClock(), Clock)


async def test_run_drives_work_to_completion_on_virtual_time() -> None:
    """VirtualClock.run moves time from deadline to deadline until the work returns its value."""
    clock = VirtualClock()

    async def slow_sum() -> int:
        total = 0
        for step in range(5):
            await clock.sleep(10.0)
            total += step
        return total

    assert await clock.run(slow_sum()) == 10
    assert clock.monotonic() == 50.0
