"""The inline executor: every task runs on the calling event loop, one at a time, in order.

Built on agentkit's executor kit: :class:`~agentkit.execution.TaskTable` keeps the records,
states, attempts, retries with backoff, deadlines and waiting; this module only says how an
attempt runs (called right here) and how an actor's method is called.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agentkit import SystemClock
from agentkit.exceptions import ConfigurationError
from agentkit.execution import (
    ActorHandleBase,
    TaskRecord,
    TaskState,
    TaskTable,
    describe_error,
    new_task_id,
    task_name,
    validate_actor_class,
    validate_task_options,
)
from agentkit.protocols import Clock

__all__ = ["InlineActorHandle", "InlineExecutor"]

#: Where an inline task ran, as written in its attempts and ``TaskResult.where``.
WHERE = "inline"
#: The keyword arguments :class:`InlineExecutor` takes (the plugin refuses any other).
OPTIONS = ("backoff_base", "backoff_max", "keep_finished", "clock")


class _InlineTask(TaskRecord):
    """The record of one task plus the function to call and its deadline (monotonic)."""

    __slots__ = ("deadline", "fn")

    def __init__(
        self,
        task_id: str,
        name: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        max_attempts: int,
        submitted_at: float,
        deadline: float | None,
        done: asyncio.Future[None],
    ) -> None:
        super().__init__(task_id, name, args, kwargs, max_attempts, submitted_at, done)
        self.fn: Callable[..., Any] | None = fn
        self.deadline = deadline

    def forget_payload(self) -> None:
        super().forget_payload()
        self.fn = None


class InlineExecutor(TaskTable[_InlineTask]):
    """Runs tasks in this process on the event loop, one at a time, in submission order.

    A coroutine function is awaited; a plain function is called directly on the loop, so it
    blocks the loop while it runs. Everything happens in the caller's thread, which makes
    tracebacks, breakpoints and test outcomes easy to follow.

    A failed attempt is retried after ``backoff_base * 2**(n-1)`` seconds (at most
    *backoff_max*) until ``max_attempts``; other tasks run meanwhile. Cancelling a task or
    passing its deadline stops a coroutine at once; a plain function cannot be interrupted,
    so one that overran its deadline ends TIMED_OUT when it returns, its value discarded.

    Args:
        backoff_base, backoff_max: the exponential backoff between attempts, in seconds.
        keep_finished: how many finished tasks :meth:`wait` can still find.
        clock: the time source for backoff and deadlines (a ``VirtualClock`` in tests).
    """

    def __init__(
        self,
        *,
        backoff_base: float = 0.1,
        backoff_max: float = 30.0,
        keep_finished: int = 10_000,
        clock: Clock | None = None,
    ) -> None:
        if backoff_base < 0 or backoff_max < 0 or keep_finished < 0:
            raise ConfigurationError("backoff_base, backoff_max and keep_finished must be >= 0")
        super().__init__(
            clock=clock or SystemClock(),
            keep_finished=keep_finished,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )
        self._queue: asyncio.Queue[_InlineTask] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._actor_ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"InlineExecutor(queued={self._queue.qsize()}, closed={self._closed})"

    async def __aenter__(self) -> InlineExecutor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    async def submit(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        max_attempts: int = 1,
        timeout: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Queue ``fn(*args, **kwargs)`` and return its task id; it runs when the loop is free.

        Raises:
            ConfigurationError: *fn* is not callable, ``max_attempts < 1`` or ``timeout <= 0``.
            ExecutionError: the executor was shut down.
        """
        validate_task_options(fn, max_attempts, timeout)
        self._check_open()
        now = self.clock.monotonic()
        loop = asyncio.get_running_loop()
        task = _InlineTask(
            new_task_id(),
            name or task_name(fn),
            fn,
            args,
            kwargs,
            max_attempts,
            now,
            None if timeout is None else now + timeout,
            loop.create_future(),
        )
        self._add(task)
        self._arm_deadline(task, timeout)
        self._run_again(task)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work())
        return task.task_id

    async def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], /, *, max_attempts: int = 1
    ) -> list[Any]:
        """``[fn(item) for item in items]``, one task per item, results in input order.

        Raises:
            TaskFailedError: an item failed on every attempt (the first such item, in order).
        """
        validate_task_options(fn, max_attempts, None)
        ids = [await self.submit(fn, item, max_attempts=max_attempts) for item in items]
        return [await self.result(task_id) for task_id in ids]

    async def create_actor(
        self,
        cls: type[Any],
        /,
        *args: Any,
        max_restarts: int = 0,
        max_task_retries: int = 0,
        **kwargs: Any,
    ) -> InlineActorHandle:
        """Make ``cls(*args, **kwargs)`` an actor in this process; its calls run in order.

        An inline actor only dies when killed, so *max_restarts* and *max_task_retries* are
        accepted for compatibility and have nothing to do.
        """
        validate_actor_class(cls)
        self._check_open()
        actor_id = f"actor-{cls.__name__}-{next(self._actor_ids)}"
        return InlineActorHandle(actor_id, cls(*args, **kwargs))

    def stats(self) -> dict[str, Any]:
        """One "CPU" (the event loop), the queue depth and task counts by state."""
        counts = self._task_counts()
        return {
            "executor": WHERE,
            "resources": {"CPU": 1.0},
            "available_resources": {"CPU": 0.0 if counts["running"] else 1.0},
            "nodes": 1,
            "queue_depth": self._queue.qsize(),
            "tasks": counts,
        }

    async def shutdown(self) -> None:
        """Cancel unfinished tasks and stop the worker. Idempotent."""
        if not self._close_table():
            return
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    # -- how an attempt runs ---------------------------------------------------------------

    def _run_again(self, task: _InlineTask) -> None:
        self._queue.put_nowait(task)

    async def _work(self) -> None:
        """Take the queued tasks one by one; each attempt is its own asyncio task, so
        cancelling the attempt (``cancel``, a deadline) leaves this loop running."""
        while True:
            task = await self._queue.get()
            if task.state is not TaskState.PENDING:
                continue  # cancelled or timed out while queued
            self._set_state(task, TaskState.RUNNING)
            task.runner = asyncio.get_running_loop().create_task(self._attempt(task))
            try:
                await asyncio.wait({task.runner})
            finally:
                task.runner = None

    async def _attempt(self, task: _InlineTask) -> None:
        assert task.fn is not None  # a queued task has not finished
        started_at, start = self.clock.time(), self.clock.monotonic()
        try:
            value = task.fn(*task.args, **task.kwargs)
            if inspect.isawaitable(value):
                value = await value
        except asyncio.CancelledError:
            self._record_attempt(task, started_at, start, "cancelled", WHERE)
            raise
        except Exception as exc:
            self._record_attempt(task, started_at, start, describe_error(exc), WHERE)
            self._attempt_failed(task, exc)
            return
        self._record_attempt(task, started_at, start, None, WHERE)
        if task.deadline is not None and self.clock.monotonic() >= task.deadline:
            self._end_early(task, TaskState.TIMED_OUT)  # a plain function that overran
        else:
            self._finish(task, TaskState.SUCCEEDED, value=value)


class InlineActorHandle(ActorHandleBase):
    """An object in this process whose methods are awaited, one call at a time."""

    def __init__(self, actor_id: str, instance: Any) -> None:
        super().__init__(actor_id)
        self._instance = instance
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"InlineActorHandle({self.actor_id!r}, dead={self._killed})"

    def _method(self, name: str) -> Any:
        if self._killed:
            return None  # never called: a killed actor's calls raise first
        method = getattr(self._instance, name)
        if not callable(method):
            raise AttributeError(f"{type(self._instance).__name__}.{name} is not a method")
        return method

    async def _call(
        self, name: str, method: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Any:
        async with self._lock:
            if self._killed:  # killed while this call waited for the lock
                raise self._killed_error(name)
            try:
                value = method(*args, **kwargs)
                return await value if inspect.isawaitable(value) else value
            except Exception as exc:
                raise self._raised_error(name, exc) from exc

    async def kill(self) -> None:
        """Stop the actor for good; later calls raise ``TaskFailedError``."""
        self._killed = True
        self._instance = None
