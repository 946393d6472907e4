"""The in-process executor: coroutines on the event loop, blocking functions in threads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import itertools
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agentkit._clock import SYSTEM_CLOCK, wait_for
from agentkit.exceptions import ConfigurationError
from agentkit.execution._actor_handle import ActorHandleBase, validate_actor_class
from agentkit.execution._task_table import (
    TaskRecord,
    TaskTable,
    describe_error,
    task_name,
    validate_task_options,
)
from agentkit.execution._types import TaskAttempt, TaskState, new_task_id
from agentkit.protocols import Clock

__all__ = ["LocalActorHandle", "LocalExecutor", "task_name", "validate_task_options"]

_logger = logging.getLogger(__name__)

#: Items per chunk handed to one thread by ``map`` for a blocking function, at most.
_MAX_CHUNK = 1024


def _is_async(fn: Callable[..., Any]) -> bool:
    target = fn.func if isinstance(fn, functools.partial) else fn
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


class _Task(TaskRecord):
    """The local executor's record of one task: the record plus the function to call."""

    __slots__ = ("fn",)

    def __init__(
        self,
        task_id: str,
        name: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        max_attempts: int,
        submitted_at: float,
        done: asyncio.Future[None],
    ) -> None:
        super().__init__(task_id, name, args, kwargs, max_attempts, submitted_at, done)
        self.fn = fn

    def forget_payload(self) -> None:
        super().forget_payload()
        self.fn = _forgotten


class LocalExecutor(TaskTable[_Task]):
    """Runs tasks in this process: coroutines on the loop, blocking functions in threads.

    A pool of worker coroutines takes tasks from one queue; it grows (up to *max_workers*)
    while tasks wait and no worker is idle, and shrinks (down to *min_workers*) when a worker
    has been idle for *idle_timeout* seconds. At most *max_workers* tasks run at once, and
    blocking functions share a thread pool of the same size. A task that raises is run again
    after ``backoff_base * 2**(n-1)`` seconds (at most *backoff_max*) until ``max_attempts``.
    Every wait goes through *clock*, so tests can drive it with a ``VirtualClock``.

    A blocking function already running in a thread cannot be interrupted: when such a task
    is cancelled or passes its deadline it ends CANCELLED / TIMED_OUT at once and its thread
    finishes in the background, its result discarded. Coroutines are cancelled for real.

    Finished tasks are kept for :meth:`wait` (the latest *keep_finished* of them); older ones
    are forgotten and raise ``TaskNotFoundError``.

    With tracing on, a task's function runs inside its ``task <name>`` span (in its thread
    too), so spans it makes are children of it.
    """

    executor_kind = "local"

    def __init__(
        self,
        *,
        min_workers: int = 0,
        max_workers: int | None = None,
        idle_timeout: float = 30.0,
        backoff_base: float = 0.1,
        backoff_max: float = 30.0,
        keep_finished: int = 10_000,
        clock: Clock | None = None,
    ) -> None:
        max_workers = max_workers if max_workers is not None else min(32, (os.cpu_count() or 1) + 4)
        if max_workers < 1 or min_workers < 0 or min_workers > max_workers:
            raise ConfigurationError(
                f"need 0 <= min_workers <= max_workers and max_workers >= 1, "
                f"got min_workers={min_workers}, max_workers={max_workers}"
            )
        if idle_timeout <= 0 or backoff_base < 0 or backoff_max < 0 or keep_finished < 0:
            raise ConfigurationError(
                "idle_timeout must be > 0; backoff_base, backoff_max, keep_finished >= 0"
            )
        super().__init__(
            clock=clock or SYSTEM_CLOCK,
            keep_finished=keep_finished,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
        )
        self.min_workers = min_workers
        self.max_workers = max_workers
        self.idle_timeout = idle_timeout
        self._queue: asyncio.Queue[_Task] | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._idle = 0
        self._peak_workers = 0
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._actor_ids = itertools.count(1)

    def __repr__(self) -> str:
        return (
            f"LocalExecutor(workers={len(self._workers)}, "
            f"min_workers={self.min_workers}, max_workers={self.max_workers})"
        )

    async def __aenter__(self) -> LocalExecutor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    # -- submitting and waiting ------------------------------------------------------------

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
        """Queue ``fn(*args, **kwargs)`` and return its task id at once.

        Raises:
            ConfigurationError: *fn* is not callable, ``max_attempts < 1`` or ``timeout <= 0``.
            ExecutionError: the executor was shut down.
        """
        validate_task_options(fn, max_attempts, timeout)
        queue = self._ensure_started()
        loop = asyncio.get_running_loop()
        task = _Task(
            new_task_id(),
            name or task_name(fn),
            fn,
            args,
            kwargs,
            max_attempts,
            self.clock.monotonic(),
            loop.create_future(),
        )
        self._add(task)
        self._arm_deadline(task, timeout)
        queue.put_nowait(task)
        self._grow()
        return task.task_id

    async def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], /, *, max_attempts: int = 1
    ) -> list[Any]:
        """``[fn(item) for item in items]`` in parallel, in input order.

        A coroutine function runs one task per item; a blocking one runs in chunks of items
        per thread, so tiny functions are not dominated by the cost of a task each.

        Raises:
            TaskFailedError: an item failed on every attempt (the first such item, in order).
        """
        validate_task_options(fn, max_attempts, None)
        values = list(items)
        if not values:
            return []
        if _is_async(fn):
            ids = [await self.submit(fn, value, max_attempts=max_attempts) for value in values]
            return [await self.result(task_id) for task_id in ids]
        chunk = max(1, min(_MAX_CHUNK, len(values) // (self.max_workers * 4) or 1))
        chunks = [values[start : start + chunk] for start in range(0, len(values), chunk)]
        ids = [
            await self.submit(
                _apply_each, fn, part, max_attempts=max_attempts, name=f"map:{task_name(fn)}"
            )
            for part in chunks
        ]
        return await self._collect(ids)

    async def create_actor(
        self,
        cls: type[Any],
        /,
        *args: Any,
        max_restarts: int = 0,
        max_task_retries: int = 0,
        **kwargs: Any,
    ) -> LocalActorHandle:
        """Make ``cls(*args, **kwargs)`` an actor in this process.

        A local actor only dies when killed, so *max_restarts* and *max_task_retries* are
        accepted for compatibility and have nothing to do here.
        """
        validate_actor_class(cls)
        self._check_open()
        actor_class: Callable[..., Any] = cls
        make = functools.partial(actor_class, *args, **kwargs)
        instance = await asyncio.get_running_loop().run_in_executor(self._thread_pool(), make)
        return LocalActorHandle(
            f"actor-{cls.__name__}-{next(self._actor_ids)}", instance, self._thread_pool()
        )

    def stats(self) -> dict[str, Any]:
        """Workers, queue depth and task counts (current for pending/running, else totals)."""
        return {
            "executor": "local",
            "resources": {"CPU": float(os.cpu_count() or 1), "workers": float(self.max_workers)},
            "available_resources": {
                "CPU": float(os.cpu_count() or 1),
                "workers": float(self.max_workers - self._busy()),
            },
            "nodes": 1,
            "workers": len(self._workers),
            "idle_workers": self._idle,
            "busy_workers": self._busy(),
            "peak_workers": self._peak_workers,
            "min_workers": self.min_workers,
            "max_workers": self.max_workers,
            "queue_depth": self._queue.qsize() if self._queue is not None else 0,
            "tasks": self._task_counts(),
        }

    async def shutdown(self) -> None:
        """Cancel unfinished tasks, stop the workers and release the threads. Idempotent."""
        if not self._close_table():
            return
        workers = list(self._workers)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if self._threads is not None:
            # Threads cannot be interrupted; do not wait for abandoned ones.
            self._threads.shutdown(wait=False, cancel_futures=True)

    # -- internals -------------------------------------------------------------------------

    def _ensure_started(self) -> asyncio.Queue[_Task]:
        self._check_open()
        if self._queue is None:
            self._queue = asyncio.Queue()
            for _ in range(self.min_workers):
                self._spawn_worker()
        return self._queue

    def _thread_pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._threads is None:
            self._threads = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.max_workers, thread_name_prefix="agentkit-local"
            )
        return self._threads

    def _busy(self) -> int:
        return len(self._workers) - self._idle

    def _grow(self) -> None:
        assert self._queue is not None
        while (
            self._queue.qsize() > self._idle
            and len(self._workers) < self.max_workers
            and not self._closed
        ):
            self._spawn_worker()

    def _spawn_worker(self) -> None:
        worker = asyncio.get_running_loop().create_task(self._work())
        self._workers.add(worker)
        self._peak_workers = max(self._peak_workers, len(self._workers))
        # Counted idle from the start, so a burst of submissions does not over-spawn.
        self._idle += 1

    async def _work(self) -> None:
        assert self._queue is not None
        queue = self._queue
        me = asyncio.current_task()
        try:
            while True:
                task = queue.get_nowait() if queue.qsize() else await self._next(queue)
                if task is None:
                    if len(self._workers) > self.min_workers:
                        return
                    continue
                if task.state is not TaskState.PENDING:
                    continue  # cancelled or timed out while queued
                self._idle -= 1
                try:
                    await self._run_attempt(task)
                finally:
                    self._idle += 1
        finally:
            self._idle -= 1
            if me is not None:
                self._workers.discard(me)

    async def _next(self, queue: asyncio.Queue[_Task]) -> _Task | None:
        """The next queued task, or None after ``idle_timeout`` of the executor's clock."""
        try:
            return await wait_for(self.clock, queue.get(), self.idle_timeout)
        except TimeoutError:
            return None

    async def _run_attempt(self, task: _Task) -> None:
        self._set_state(task, TaskState.RUNNING)
        runner = asyncio.get_running_loop().create_task(self._attempt(task))
        task.runner = runner
        try:
            # asyncio.wait does not raise when the runner is cancelled by cancel()/deadline.
            await asyncio.wait({runner})
        except asyncio.CancelledError:
            runner.cancel()
            raise
        finally:
            task.runner = None

    async def _attempt(self, task: _Task) -> None:
        started_at = self.clock.time()
        start = self.clock.monotonic()
        where = "loop" if _is_async(task.fn) else "thread"
        try:
            if task.span is not None:
                value = await self._call_in_span(task, where)
            elif where == "loop":
                value = await task.fn(*task.args, **task.kwargs)
            else:
                call = functools.partial(task.fn, *task.args, **task.kwargs)
                value = await asyncio.get_running_loop().run_in_executor(self._thread_pool(), call)
            if inspect.isawaitable(value):
                value = await value
        except asyncio.CancelledError:
            # Not _record_attempt: a cancelled attempt does not say where the task ran.
            task.attempts.append(
                TaskAttempt(
                    len(task.attempts) + 1,
                    started_at,
                    self.clock.monotonic() - start,
                    "cancelled",
                    where,
                )
            )
            raise
        except Exception as exc:
            self._record_attempt(task, started_at, start, describe_error(exc), where)
            self._attempt_failed(task, exc)
        else:
            self._record_attempt(task, started_at, start, None, where)
            if task.state is TaskState.RUNNING:
                self._finish(task, TaskState.SUCCEEDED, value=value)

    async def _call_in_span(self, task: _Task, where: str) -> Any:
        """Call the task's function with its span current (copied into the thread as well)."""
        from opentelemetry import context, trace

        token = context.attach(trace.set_span_in_context(task.span))
        try:
            if where == "loop":
                return await task.fn(*task.args, **task.kwargs)
            call = functools.partial(
                contextvars.copy_context().run, task.fn, *task.args, **task.kwargs
            )
            return await asyncio.get_running_loop().run_in_executor(self._thread_pool(), call)
        finally:
            context.detach(token)

    def _run_again(self, task: _Task) -> None:
        assert self._queue is not None
        self._queue.put_nowait(task)
        self._grow()


def _forgotten(*args: Any, **kwargs: Any) -> None:
    """Stands in for the function of a finished task."""


def _apply_each(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return [fn(item) for item in items]


class LocalActorHandle(ActorHandleBase):
    """A stateful object in this process whose methods are awaited one call at a time.

    Coroutine methods run on the event loop, plain methods in the executor's threads; a lock
    keeps calls in order so the actor's state needs no locking of its own.
    """

    def __init__(
        self, actor_id: str, instance: Any, threads: concurrent.futures.ThreadPoolExecutor
    ) -> None:
        super().__init__(actor_id)
        self._instance = instance
        self._threads = threads
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"LocalActorHandle({self._actor_id!r}, dead={self._killed})"

    def _method(self, name: str) -> Any:
        if self._killed:
            return _forgotten  # never called: a killed actor's calls raise first
        method = getattr(self._instance, name)
        if not callable(method):
            raise AttributeError(f"{type(self._instance).__name__}.{name} is not a method")
        return method

    async def _call(
        self,
        name: str,
        method: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
    ) -> Any:
        async with self._lock:
            if self._killed:  # killed while this call waited for the lock
                raise self._killed_error(name)
            try:
                if _is_async(method):
                    return await method(*args, **kwargs)
                call = functools.partial(method, *args, **kwargs)
                value = await asyncio.get_running_loop().run_in_executor(self._threads, call)
                return await value if inspect.isawaitable(value) else value
            except Exception as exc:
                raise self._raised_error(name, exc) from exc

    async def kill(self) -> None:
        """Stop the actor for good; later calls raise ``TaskFailedError``."""
        self._killed = True
        self._instance = None
