"""Measure the longest event-loop stall while some work runs, with a 1 ms ticker.

Used for figures (benchmarks, closing notes), never for assertions in tests: a stall is
wall-clock time and a shared machine makes it noisy.

    stall_ms, result = await longest_stall(registry.execute_tool("math_calculate", {...}))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

_TICK = 0.001


async def longest_stall(work: Awaitable[T]) -> tuple[float, T]:
    """Await *work* beside a 1 ms ticker; return (longest gap between ticks in ms, result)."""
    longest = 0.0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(_TICK)
            now = time.perf_counter()
            longest = max(longest, now - last - _TICK)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        result = await work
    finally:
        stop.set()
        await task
    return longest * 1000, result
