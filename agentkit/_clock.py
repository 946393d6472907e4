"""The time source: every sleep, timeout and timestamp in agentkit goes through a Clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

from agentkit.protocols import Clock

__all__ = ["SystemClock", "wait_for"]

T = TypeVar("T")


class SystemClock:
    """The real clock: ``time.time``, ``time.monotonic`` and ``asyncio.sleep``."""

    __slots__ = ()

    def time(self) -> float:
        """Seconds since the epoch (wall clock), for timestamps."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for deadlines and durations."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for *seconds*."""
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()


async def wait_for(clock: Clock, awaitable: Awaitable[T], timeout: float | None) -> T:
    """Await *awaitable*, raising ``TimeoutError`` after *timeout* seconds of *clock* time.

    On the system clock this is ``asyncio.timeout`` around the await: no extra task, and a
    cancellation of the caller always propagates (``asyncio.wait_for`` on Python 3.11 can
    swallow one that arrives just as the result does). On any other clock (a virtual one in
    tests) the deadline is a ``clock.sleep`` racing the awaitable, and the loser is cancelled.
    """
    if timeout is None:
        return await awaitable
    if isinstance(clock, SystemClock):
        async with asyncio.timeout(timeout):
            return await awaitable
    work: asyncio.Future[T] = asyncio.ensure_future(awaitable)
    timer = asyncio.ensure_future(clock.sleep(timeout))
    try:
        await asyncio.wait((work, timer), return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        work.cancel()
        timer.cancel()
        raise
    if work.done():
        timer.cancel()
        return work.result()
    work.cancel()
    # asyncio.wait, not ``await work``: a cancellation of the caller arriving now must
    # propagate, not be taken for the work's own cancellation.
    await asyncio.wait((work,))
    if not work.cancelled() and work.exception() is None:
        # It finished in the same tick as the deadline: keep the result.
        return work.result()
    # The work was cancelled, or failed while being cancelled: the timeout wins.
    raise TimeoutError(f"timed out after {timeout} s")
