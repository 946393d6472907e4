"""A clock whose time moves only when a test moves it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["VirtualClock"]

T = TypeVar("T")


class VirtualClock:
    """Virtual time for tests: ``sleep`` parks the task until ``advance`` passes its deadline.

    Pass it as ``clock=`` to anything in agentkit that waits (buses, breakers, monitors) and
    drive time explicitly::

        clock = VirtualClock()
        bus = InMemoryPubSub(clock=clock, retry_delay=1.0)
        ...
        await clock.advance(1.0)  # the retry scheduled for t+1 s runs now

    Nothing here reads the wall clock, so tests on virtual time are exact and never flaky.
    """

    def __init__(self, start: float = 0.0, *, epoch: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._epoch = float(epoch)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._sequence = itertools.count()

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now}, sleepers={self.sleepers})"

    def time(self) -> float:
        """Virtual seconds since the epoch: *epoch* plus the virtual time elapsed."""
        return self._epoch + self._now

    def monotonic(self) -> float:
        """Virtual seconds since the clock was made (plus *start*)."""
        return self._now

    @property
    def sleepers(self) -> int:
        """How many tasks are parked in ``sleep``."""
        return sum(1 for *_, waiter in self._sleepers if not waiter.done())

    @property
    def next_deadline(self) -> float | None:
        """The earliest deadline among parked sleepers, or None."""
        for deadline, _, waiter in sorted(self._sleepers):
            if not waiter.done():
                return deadline
        return None

    async def sleep(self, seconds: float) -> None:
        """Park the calling task until virtual time reaches now + *seconds*."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._sequence), waiter))
        await waiter

    async def settle(self, rounds: int = 20) -> None:
        """Let ready tasks run (yield to the event loop *rounds* times) without moving time."""
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move time forward by *seconds*, waking sleepers in deadline order.

        Each woken task runs (until it next waits) before time moves on, so a task that sleeps
        again within the window is woken in the same call.
        """
        if seconds < 0:
            raise ValueError("a VirtualClock cannot go back in time")
        target = self._now + seconds
        await self.settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, waiter = heapq.heappop(self._sleepers)
            if waiter.done():
                continue
            self._now = max(self._now, deadline)
            waiter.set_result(None)
            await self.settle()
        self._now = target
        await self.settle()

    async def run(self, work: Awaitable[T]) -> T:
        """Run *work* to completion, moving time to each next deadline while it waits.

        Unlike :meth:`run_until_idle`, this keeps going while *work* has not started sleeping
        yet, so it suits driving a whole scenario (a load test, a retry schedule) from a test.
        """
        task = asyncio.ensure_future(work)
        try:
            while not task.done():
                await self.settle()
                deadline = self.next_deadline
                if deadline is None:
                    await asyncio.sleep(0)
                    continue
                await self.advance(max(0.0, deadline - self._now))
        finally:
            if not task.done():
                task.cancel()
        return task.result()

    async def run_until_idle(self, *, limit: float = 3600.0) -> None:
        """Advance to each next deadline until no task sleeps (at most *limit* seconds)."""
        end = self._now + limit
        while (deadline := self.next_deadline) is not None and deadline <= end:
            await self.advance(deadline - self._now)
