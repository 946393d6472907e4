"""Task bookkeeping every executor shares: records, state transitions, waiting, counters.

An executor subclasses :class:`TaskTable` and keeps only how an attempt runs (the local one
on its event loop and threads, the Ray one as Ray tasks); the table owns the records, their
states and counts, deadlines, retries with backoff, and ``wait``/``result``/``state``/``cancel``.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from agentkit._clock import wait_for
from agentkit.exceptions import (
    ConfigurationError,
    ExecutionError,
    TaskNotFoundError,
    TaskTimeoutError,
)
from agentkit.execution import _tracing
from agentkit.execution._types import TaskAttempt, TaskResult, TaskState, backoff_delay
from agentkit.observability import telemetry
from agentkit.protocols import Clock

__all__ = ["TaskRecord", "TaskTable", "describe_error", "task_name", "validate_task_options"]


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


def describe_error(error: BaseException) -> str:
    """``"KeyError: 'x'"``: how a failed attempt's error is written down."""
    return f"{type(error).__name__}: {error}"


class TaskRecord:
    """An executor's record of one submitted task; executors add what their attempts need."""

    __slots__ = (
        "args",
        "attempts",
        "done",
        "error",
        "finished_at",
        "kwargs",
        "max_attempts",
        "name",
        "retry",
        "runner",
        "span",
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
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        max_attempts: int,
        submitted_at: float,
        done: asyncio.Future[None],
    ) -> None:
        self.task_id = task_id
        self.name = name
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
        #: The asyncio task running the current attempt, if the executor uses one.
        self.runner: asyncio.Task[None] | None = None
        #: The backoff sleep before the next attempt.
        self.retry: asyncio.Task[None] | None = None
        #: The task's own deadline.
        self.timer: asyncio.Task[None] | None = None
        #: The task's OpenTelemetry span while it runs, when tracing is on (else None).
        self.span: Any = None

    def result(self) -> TaskResult:
        """The task as it stands, as a :class:`TaskResult`."""
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

    def forget_payload(self) -> None:
        """Drop the references a finished task held, so its payload can be collected."""
        self.args = ()
        self.kwargs = {}


RecordT = TypeVar("RecordT", bound=TaskRecord)


class TaskTable(Generic[RecordT]):
    """The part of an executor that keeps its tasks; subclasses run the attempts.

    A subclass registers a new record with :meth:`_add` and :meth:`_arm_deadline`, reports
    each attempt with :meth:`_record_attempt` and then :meth:`_finish` (success) or
    :meth:`_attempt_failed`, and implements :meth:`_run_again` (start a retried attempt)
    and, if an attempt can be interrupted outside its own asyncio task, :meth:`_abort`.

    With tracing on (see :mod:`agentkit.observability`) each task gets a span ``task <name>``
    from submission to its final state, retries are events on it, and its latency goes to
    the ``agentkit.task.duration`` histogram, labelled with :attr:`executor_kind`.
    """

    #: What spans and metrics call this executor (``agentkit.executor``): "local", "ray", ...
    executor_kind: ClassVar[str] = "custom"

    def __init__(
        self, *, clock: Clock, keep_finished: int, backoff_base: float, backoff_max: float
    ) -> None:
        self.clock = clock
        self.keep_finished = keep_finished
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._tasks: dict[str, RecordT] = {}
        self._finished: collections.OrderedDict[str, RecordT] = collections.OrderedDict()
        self._counts: collections.Counter[str] = collections.Counter()
        self._closed = False
        telemetry.refresh()

    # -- the public task API ---------------------------------------------------------------

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
        """The task's value; see :meth:`agentkit.TaskResult.unwrap` for what it raises."""
        return (await self.wait(task_id, timeout=timeout)).unwrap()

    def state(self, task_id: str, /) -> TaskState:
        """Where the task stands now; ``TaskNotFoundError`` for an unknown id."""
        return self._get(task_id).state

    async def cancel(self, task_id: str, /) -> bool:
        """Cancel the task unless it has finished; return whether it was cancelled."""
        task = self._get(task_id)
        if task.state.is_final:
            return False
        self._end_early(task, TaskState.CANCELLED)
        return True

    # -- for subclasses --------------------------------------------------------------------

    def _abort(self, task: RecordT) -> None:
        """Interrupt *task*'s attempt before it ends early; asyncio helpers are cancelled
        by :meth:`_finish` anyway, so by default there is nothing more to do."""

    def _run_again(self, task: RecordT) -> None:
        """Start the next attempt of *task*, still PENDING after its backoff."""
        raise NotImplementedError

    def _check_open(self) -> None:
        if self._closed:
            raise ExecutionError("the executor was shut down")

    def _close_table(self) -> bool:
        """Mark the executor closed and cancel unfinished tasks; False if it already was."""
        if self._closed:
            return False
        self._closed = True
        for task in list(self._tasks.values()):
            if not task.state.is_final:
                self._end_early(task, TaskState.CANCELLED)
        return True

    def _get(self, task_id: str) -> RecordT:
        task = self._tasks.get(task_id) or self._finished.get(task_id)
        if task is None:
            raise TaskNotFoundError(f"no task with id {task_id!r}")
        return task

    def _add(self, task: RecordT) -> None:
        """Register a new task; with tracing on, start its span under the current one."""
        if telemetry.tracer is not None:
            task.span = _tracing.start_span(telemetry.tracer, task, self.executor_kind)
        self._tasks[task.task_id] = task
        self._counts["submitted"] += 1
        self._counts[TaskState.PENDING] += 1

    def _arm_deadline(self, task: RecordT, timeout: float | None) -> None:
        if timeout is not None:
            task.timer = asyncio.get_running_loop().create_task(self._deadline(task, timeout))

    def _task_counts(self) -> dict[str, int]:
        """Tasks submitted in all, and how many are in each state now (final ones: ever)."""
        return {
            "submitted": self._counts["submitted"],
            **{state.value: self._counts[state] for state in TaskState},
        }

    async def _collect(self, task_ids: list[str]) -> list[Any]:
        """The concatenated list values of map chunks, in order."""
        results: list[Any] = []
        for task_id in task_ids:
            results.extend(await self.result(task_id))
        return results

    def _record_attempt(
        self, task: RecordT, started_at: float, start: float, error: str | None, where: str
    ) -> None:
        """Append the attempt that began at *started_at* (wall) / *start* (monotonic)."""
        task.attempts.append(
            TaskAttempt(
                len(task.attempts) + 1,
                started_at,
                self.clock.monotonic() - start,
                error,
                where,
            )
        )
        task.where = where

    def _attempt_failed(self, task: RecordT, error: BaseException) -> None:
        """After a failed (recorded) attempt: retry after a backoff, or fail the task."""
        if task.state is not TaskState.RUNNING:
            return  # cancelled or timed out meanwhile
        number = len(task.attempts)
        if number < task.max_attempts:
            self._set_state(task, TaskState.PENDING)
            delay = backoff_delay(number, self.backoff_base, self.backoff_max)
            if task.span is not None:
                _tracing.retry_event(task.span, task, error, delay)
            task.retry = asyncio.get_running_loop().create_task(self._retry(task, delay))
        else:
            self._finish(task, TaskState.FAILED, error=error)

    async def _retry(self, task: RecordT, delay: float) -> None:
        await self.clock.sleep(delay)
        task.retry = None
        # A cancel or deadline may have ended the task during the backoff.
        if task.state is TaskState.PENDING and not self._closed:
            self._run_again(task)

    async def _deadline(self, task: RecordT, timeout: float) -> None:
        await self.clock.sleep(timeout)
        task.timer = None
        if not task.state.is_final:
            self._end_early(task, TaskState.TIMED_OUT)

    def _end_early(self, task: RecordT, state: TaskState) -> None:
        self._abort(task)
        self._finish(task, state)

    def _set_state(self, task: RecordT, state: TaskState) -> None:
        self._counts[task.state] -= 1
        self._counts[state] += 1
        task.state = state

    def _finish(
        self,
        task: RecordT,
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
        task.forget_payload()
        if task.span is not None:
            _tracing.finish_task_span(task.span, task, state)
            task.span = None
        metrics = telemetry.metrics
        if metrics is not None:
            _tracing.record_task_duration(metrics, task, state, self.executor_kind)
        if not task.done.done():
            task.done.set_result(None)
        self._tasks.pop(task.task_id, None)
        if self.keep_finished:
            self._finished[task.task_id] = task
            while len(self._finished) > self.keep_finished:
                self._finished.popitem(last=False)
