"""The in-process executor: coroutines on the event loop, blocking functions in threads."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import inspect
import itertools
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from agentkit._clock import SYSTEM_CLOCK, wait_for
from agentkit._execution import (
    TaskAttempt,
    TaskResult,
    TaskState,
    backoff_delay,
    new_task_id,
)
from agentkit.exceptions import (
    ConfigurationError,
    ExecutionError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
)
from agentkit.protocols import Clock

__all__ = ["LocalActorHandle", "LocalExecutor", "task_name", "validate_task_options"]

_logger = logging.getLogger(__name__)

#: Items per chunk handed to one thread by ``map`` for a blocking function, at most.
_MAX_CHUNK = 1024


def task_name(fn: Callable[..., Any]) -> str:
    """A readable name for *fn*: its qualified name, else its type's."""
    return str(getattr(fn, "__qualname__", None) or type(fn).__qualname__)


def validate_task_options(fn: Any, max_attempts: int, timeout: float | None) -> None:
    """Raise ``ConfigurationError`` for a non-callable *fn* or impossible options."""
    if not callable(fn):
        raise ConfigurationError(f"a task must be callable, got {type(fn).__name__}")
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ConfigurationError(f"max_attempts must be an int >= 1, got {max_attempts!r}")
    if timeout is not None and not timeout > 0:
        raise ConfigurationError(f"timeout must be > 0 seconds or None, got {timeout!r}")


def _is_async(fn: Callable[..., Any]) -> bool:
    target = fn.func if isinstance(fn, functools.partial) else fn
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


class _Task:
    """The executor's record of one submitted task."""

    __slots__ = (
        "args",
        "attempts",
        "done",
        "error",
        "finished_at",
        "fn",
        "kwargs",
        "max_attempts",
        "name",
        "retry",
        "runner",
        "state",
        "submitted_at",
        "task_id",
        "timer",
        "value",
        "where",
    )

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
        self.task_id = task_id
        self.name = name
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.max_attempts = max_attempts
        self.submitted_at = submitted_at
        self.done = done
        self.state = TaskState.PENDING
        self.attempts: list[TaskAttempt] = []
        self.value: Any = None
        self.error: BaseException | None = None
        self.where = ""
        self.finished_at = submitted_at
        self.runner: asyncio.Task[None] | None = None
        self.retry: asyncio.Task[None] | None = None
        self.timer: asyncio.Task[None] | None = None

    def result(self) -> TaskResult:
        return TaskResult(
            task_id=self.task_id,
            name=self.name,
            state=self.state,
            value=self.value,
            error=self.error,
            attempts=tuple(self.attempts),
            duration=self.finished_at - self.submitted_at,
            where=self.where,
        )


class LocalExecutor:
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
    """

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
        self.min_workers = min_workers
        self.max_workers = max_workers
        self.idle_timeout = idle_timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.keep_finished = keep_finished
        self.clock: Clock = clock or SYSTEM_CLOCK
        self._tasks: dict[str, _Task] = {}
        self._finished: collections.OrderedDict[str, _Task] = collections.OrderedDict()
        self._queue: asyncio.Queue[_Task] | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._idle = 0
        self._peak_workers = 0
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._counts: collections.Counter[str] = collections.Counter()
        self._actor_ids = itertools.count(1)
        self._closed = False

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
        self._tasks[task.task_id] = task
        self._counts["submitted"] += 1
        self._counts[TaskState.PENDING] += 1
        if timeout is not None:
            task.timer = loop.create_task(self._deadline(task, timeout))
        queue.put_nowait(task)
        self._grow()
        return task.task_id

    async def wait(self, task_id: str, /, *, timeout: float | None = None) -> TaskResult:
        """Wait until the task is final and return its result.

        Raises:
            TaskNotFoundError: no task has this id (or it was forgotten).
            TaskTimeoutError: it did not finish within *timeout*; it keeps running.
        """
        task = self._get(task_id)
        if not task.done.done():
            try:
                await wait_for(self.clock, asyncio.shield(task.done), timeout)
            except TimeoutError:
                raise TaskTimeoutError(
                    f"task {task_id} ({task.name}) did not finish within {timeout} s; "
                    f"it is still {task.state}"
                ) from None
        return task.result()

    async def result(self, task_id: str, /, *, timeout: float | None = None) -> Any:
        """The task's value; see :meth:`TaskResult.unwrap` for what it raises."""
        return (await self.wait(task_id, timeout=timeout)).unwrap()

    def state(self, task_id: str, /) -> TaskState:
        """Where the task stands now; ``TaskNotFoundError`` for an unknown id."""
        return self._get(task_id).state

    async def cancel(self, task_id: str, /) -> bool:
        """Cancel the task unless it has finished; return whether it was cancelled."""
        task = self._get(task_id)
        if task.state.is_final:
            return False
        self._finish(task, TaskState.CANCELLED)
        return True

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
        results: list[Any] = []
        for task_id in ids:
            results.extend(await self.result(task_id))
        return results

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
        if not isinstance(cls, type):
            raise ConfigurationError(f"an actor needs a class, got {type(cls).__name__}")
        if self._closed:
            raise ExecutionError("the executor was shut down")
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
            "tasks": {
                "submitted": self._counts["submitted"],
                **{state.value: self._counts[state] for state in TaskState},
            },
        }

    async def shutdown(self) -> None:
        """Cancel unfinished tasks, stop the workers and release the threads. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks.values()):
            if not task.state.is_final:
                self._finish(task, TaskState.CANCELLED)
        workers = list(self._workers)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if self._threads is not None:
            # Threads cannot be interrupted; do not wait for abandoned ones.
            self._threads.shutdown(wait=False, cancel_futures=True)

    # -- internals -------------------------------------------------------------------------

    def _ensure_started(self) -> asyncio.Queue[_Task]:
        if self._closed:
            raise ExecutionError("the executor was shut down")
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

    def _get(self, task_id: str) -> _Task:
        task = self._tasks.get(task_id) or self._finished.get(task_id)
        if task is None:
            raise TaskNotFoundError(f"no task with id {task_id!r}")
        return task

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
        """The next queued task, or None after ``idle_timeout`` of the executor's clock.

        Not ``asyncio.wait_for``: on Python 3.11 it can swallow a cancellation that arrives
        as the item does, which would keep a worker alive through shutdown.
        """
        getter = asyncio.ensure_future(queue.get())
        timer = asyncio.ensure_future(self.clock.sleep(self.idle_timeout))
        try:
            await asyncio.wait((getter, timer), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            if getter.done() and not getter.cancelled():
                queue.put_nowait(getter.result())  # taken but not run: give it back
            raise
        finally:
            timer.cancel()
            getter.cancel()
        return getter.result() if getter.done() and not getter.cancelled() else None

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
        number = len(task.attempts) + 1
        started_at = self.clock.time()
        start = self.clock.monotonic()
        where = "loop" if _is_async(task.fn) else "thread"
        try:
            if where == "loop":
                value = await task.fn(*task.args, **task.kwargs)
            else:
                call = functools.partial(task.fn, *task.args, **task.kwargs)
                value = await asyncio.get_running_loop().run_in_executor(self._thread_pool(), call)
            if inspect.isawaitable(value):
                value = await value
        except asyncio.CancelledError:
            task.attempts.append(
                TaskAttempt(number, started_at, self.clock.monotonic() - start, "cancelled", where)
            )
            raise
        except Exception as exc:
            task.attempts.append(
                TaskAttempt(
                    number,
                    started_at,
                    self.clock.monotonic() - start,
                    f"{type(exc).__name__}: {exc}",
                    where,
                )
            )
            task.where = where
            if task.state is not TaskState.RUNNING:
                return
            if number < task.max_attempts:
                self._set_state(task, TaskState.PENDING)
                delay = backoff_delay(number, self.backoff_base, self.backoff_max)
                task.retry = asyncio.get_running_loop().create_task(self._retry(task, delay))
            else:
                self._finish(task, TaskState.FAILED, error=exc)
        else:
            task.attempts.append(
                TaskAttempt(number, started_at, self.clock.monotonic() - start, None, where)
            )
            task.where = where
            if task.state is TaskState.RUNNING:
                self._finish(task, TaskState.SUCCEEDED, value=value)

    async def _retry(self, task: _Task, delay: float) -> None:
        await self.clock.sleep(delay)
        task.retry = None
        if task.state is TaskState.PENDING and self._queue is not None and not self._closed:
            self._queue.put_nowait(task)
            self._grow()

    async def _deadline(self, task: _Task, timeout: float) -> None:
        await self.clock.sleep(timeout)
        task.timer = None
        if not task.state.is_final:
            self._finish(task, TaskState.TIMED_OUT)

    def _set_state(self, task: _Task, state: TaskState) -> None:
        self._counts[task.state] -= 1
        self._counts[state] += 1
        task.state = state

    def _finish(
        self,
        task: _Task,
        state: TaskState,
        *,
        value: Any = None,
        error: BaseException | None = None,
    ) -> None:
        if task.state.is_final:
            return
        self._set_state(task, state)
        task.value = value
        task.error = error
        task.finished_at = self.clock.monotonic()
        current = asyncio.current_task()
        for helper in (task.runner, task.retry, task.timer):
            if helper is not None and helper is not current and not helper.done():
                helper.cancel()
        task.retry = task.timer = None
        # Drop the references the task held so a forgotten payload can be collected.
        task.fn = _forgotten
        task.args = ()
        task.kwargs = {}
        if not task.done.done():
            task.done.set_result(None)
        self._tasks.pop(task.task_id, None)
        if self.keep_finished:
            self._finished[task.task_id] = task
            while len(self._finished) > self.keep_finished:
                self._finished.popitem(last=False)


def _forgotten(*args: Any, **kwargs: Any) -> None:
    """Stands in for the function of a finished task."""


def _apply_each(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return [fn(item) for item in items]


class LocalActorHandle:
    """A stateful object in this process whose methods are awaited one call at a time.

    Coroutine methods run on the event loop, plain methods in the executor's threads; a lock
    keeps calls in order so the actor's state needs no locking of its own.
    """

    def __init__(
        self, actor_id: str, instance: Any, threads: concurrent.futures.ThreadPoolExecutor
    ) -> None:
        self._actor_id = actor_id
        self._instance = instance
        self._threads = threads
        self._lock = asyncio.Lock()
        self._dead = False

    @property
    def actor_id(self) -> str:
        """A unique id for this actor."""
        return self._actor_id

    def __repr__(self) -> str:
        return f"LocalActorHandle({self._actor_id!r}, dead={self._dead})"

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._dead:

            async def dead(*args: Any, **kwargs: Any) -> Any:
                raise TaskFailedError(f"actor {self._actor_id} was killed; {name}() not run")

            return dead
        method = getattr(self._instance, name)
        if not callable(method):
            raise AttributeError(f"{type(self._instance).__name__}.{name} is not a method")

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._call(name, method, args, kwargs)

        call.__name__ = name
        return call

    async def _call(
        self,
        name: str,
        method: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
    ) -> Any:
        async with self._lock:
            if self._dead:
                raise TaskFailedError(f"actor {self._actor_id} was killed; {name}() not run")
            try:
                if _is_async(method):
                    return await method(*args, **kwargs)
                call = functools.partial(method, *args, **kwargs)
                value = await asyncio.get_running_loop().run_in_executor(self._threads, call)
                return await value if inspect.isawaitable(value) else value
            except Exception as exc:
                raise TaskFailedError(
                    f"actor {self._actor_id}: {name}() raised {type(exc).__name__}: {exc}"
                ) from exc

    async def kill(self) -> None:
        """Stop the actor for good; later calls raise ``TaskFailedError``."""
        self._dead = True
        self._instance = None
