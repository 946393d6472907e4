"""The registry's own bounded pool of threads for sync tool calls.

asyncio's default executor also serves the host's DNS lookups (``getaddrinfo``) and every
``asyncio.to_thread`` user; tool calls that never return (a read of a FIFO, a stuck driver)
would fill it and stall those too. Tool calls get this separate pool instead: at most
``max_threads`` threads, started on demand and reused. A thread cannot be killed, so a call
that overruns its timeout keeps its thread until the function returns and its result is
dropped; meanwhile other calls use the remaining threads or wait in the queue (their own
timeouts still count). The threads are daemons: a stuck tool never holds up interpreter exit.
A thread left idle for ``IDLE_SECONDS`` ends, so a registry no longer used holds no threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, Final, TypeVar

__all__ = ["ToolExit", "ToolThreads"]

T = TypeVar("T")

#: Seconds an idle pool thread waits for work before it ends.
IDLE_SECONDS: Final = 30.0

_Job = tuple[
    asyncio.AbstractEventLoop,
    "asyncio.Future[Any]",
    contextvars.Context,
    Callable[..., Any],
    tuple[Any, ...],
]


class ToolExit(RuntimeError):
    """A tool raised something an asyncio future cannot carry (``SystemExit``, ``StopIteration``).

    Attributes:
        kind: The class name of what the tool raised.
    """

    def __init__(self, original: BaseException) -> None:
        self.kind = type(original).__name__
        super().__init__(f"the tool raised {self.kind}: {original}".rstrip(": "))


class ToolThreads:
    """At most *max_threads* daemon threads running sync functions for an event loop."""

    def __init__(self, max_threads: int) -> None:
        self.max_threads = max_threads
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._threads = 0
        self._busy = 0
        self._names = itertools.count(1)

    @property
    def busy(self) -> int:
        """How many threads are running a function now."""
        return self._busy

    @property
    def started(self) -> int:
        """How many threads the pool has started (never more than ``max_threads``)."""
        return self._threads

    def run(self, function: Callable[..., T], /, *args: Any) -> asyncio.Future[T]:
        """Run ``function(*args)`` in a pool thread, in a copy of the caller's context.

        Cancelling the returned future before a thread takes the job skips the job; after that
        the function runs to its end and its result is dropped.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, contextvars.copy_context(), function, args))
        # An idle thread will take the job; otherwise start one, up to the bound.
        if not self._idle.acquire(blocking=False):
            with self._lock:
                if self._threads < self.max_threads:
                    self._threads += 1
                    threading.Thread(
                        target=self._work,
                        name=f"agentkit-tool-{next(self._names)}",
                        daemon=True,
                    ).start()
        return future

    def _work(self) -> None:
        while True:
            try:
                loop, future, context, function, args = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                # Stop counting as idle, unless a caller already counted on this thread.
                if self._idle.acquire(blocking=False):
                    with self._lock:
                        self._threads -= 1
                    return
                continue
            if not future.cancelled():  # the caller gave up (timeout) before we got here
                with self._lock:
                    self._busy += 1
                try:
                    _settle(loop, future, True, context.run(function, *args))
                except BaseException as exc:  # carried to the caller
                    carried = exc if isinstance(exc, Exception) else ToolExit(exc)
                    if isinstance(exc, StopIteration):
                        carried = ToolExit(exc)
                    _settle(loop, future, False, carried)
                finally:
                    with self._lock:
                        self._busy -= 1
            self._idle.release()


def _settle(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], ok: bool, value: Any
) -> None:
    def settle() -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    # A closed loop raises RuntimeError: nobody is waiting any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle)
