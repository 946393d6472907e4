"""What executors report: task states, attempts, results, execution modes, Ray availability."""

from __future__ import annotations

import dataclasses
import enum
import importlib.util
import itertools
import os
from typing import Any

from agentkit.exceptions import TaskCancelledError, TaskFailedError, TaskTimeoutError

__all__ = [
    "RAY_AVAILABLE",
    "TaskAttempt",
    "ExecutionMode",
    "TaskResult",
    "TaskState",
    "backoff_delay",
    "new_task_id",
    "ray_available",
]


def ray_available() -> bool:
    """Whether ``ray`` can be imported, judged without importing it (``find_spec``)."""
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):
        return False


#: True when the ``ray`` package is installed (``pip install 'agentkit-kernel[ray]'``).
#: Computed from ``importlib.util.find_spec``: ray itself is never imported for this.
RAY_AVAILABLE: bool = ray_available()


class ExecutionMode(enum.StrEnum):
    """Where a :class:`~agentkit.DistributedEngine` runs its work."""

    LOCAL = "local"
    """In this process: coroutines on the event loop, blocking functions in threads."""
    RAY = "ray"
    """On a Ray cluster (local or remote), through the ``agentkit_ray`` plugin."""


class TaskState(enum.StrEnum):
    """Where a task stands. The last four are final."""

    PENDING = "pending"
    """Submitted, waiting for a worker (or for its next attempt after a backoff)."""
    RUNNING = "running"
    """An attempt is running."""
    SUCCEEDED = "succeeded"
    """An attempt returned; ``TaskResult.value`` holds what it returned."""
    FAILED = "failed"
    """Every attempt raised; ``TaskResult.error`` is the last error."""
    CANCELLED = "cancelled"
    """Cancelled before it finished."""
    TIMED_OUT = "timed_out"
    """The task's own deadline (``timeout=`` at submission) passed before it finished."""

    @property
    def is_final(self) -> bool:
        """Whether the task has finished (successfully or not)."""
        return self in _FINAL_STATES


_FINAL_STATES = frozenset(
    {TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED, TaskState.TIMED_OUT}
)


@dataclasses.dataclass(frozen=True, slots=True)
class TaskAttempt:
    """One run of a task."""

    number: int
    """1 for the first attempt."""
    started_at: float
    """Clock time (seconds since the epoch) when the attempt started."""
    duration: float
    """Seconds the attempt took, on the executor's clock."""
    error: str | None = None
    """``"<ExcType>: <message>"`` when the attempt raised, else None."""
    where: str = ""
    """Where it ran: ``"loop"``, ``"thread"``, or ``"ray:<node id>:<pid>"``."""


@dataclasses.dataclass(frozen=True, slots=True)
class TaskResult:
    """The outcome of a finished task: its value or its error, and every attempt."""

    task_id: str
    name: str
    """The registered task name, or the function's qualified name."""
    state: TaskState
    value: Any = None
    """What the successful attempt returned (None unless ``state`` is SUCCEEDED)."""
    error: BaseException | None = None
    """The last attempt's error for FAILED; None otherwise."""
    attempts: tuple[TaskAttempt, ...] = ()
    duration: float = 0.0
    """Seconds from submission to the final state, on the executor's clock."""
    where: str = ""
    """Where the last attempt ran (see :attr:`TaskAttempt.where`)."""

    @property
    def ok(self) -> bool:
        """Whether the task succeeded."""
        return self.state is TaskState.SUCCEEDED

    def unwrap(self) -> Any:
        """Return the value, or raise what the task's state means.

        Raises:
            TaskFailedError: every attempt raised (``__cause__`` is the last error).
            TaskCancelledError: the task was cancelled.
            TaskTimeoutError: the task's own deadline passed.
        """
        if self.state is TaskState.SUCCEEDED:
            return self.value
        if self.state is TaskState.FAILED:
            raise TaskFailedError(
                f"task {self.task_id} ({self.name}) failed after {len(self.attempts)} "
                f"attempt(s): {type(self.error).__name__}: {self.error}"
            ) from self.error
        if self.state is TaskState.CANCELLED:
            raise TaskCancelledError(f"task {self.task_id} ({self.name}) was cancelled")
        if self.state is TaskState.TIMED_OUT:
            raise TaskTimeoutError(
                f"task {self.task_id} ({self.name}) passed its deadline and was stopped"
            )
        raise TaskFailedError(f"task {self.task_id} has not finished (state {self.state})")


def backoff_delay(attempt: int, base: float, maximum: float) -> float:
    """Seconds to wait after failed attempt number *attempt*: ``base * 2**(attempt-1)``, capped."""
    if base <= 0:
        return 0.0
    return float(min(maximum, base * 2.0 ** (attempt - 1)))


_TASK_PREFIX = os.urandom(4).hex()
_task_counter = itertools.count(1)


def new_task_id() -> str:
    """A task id unique in this process and very likely across processes: prefix + counter."""
    return f"task-{_TASK_PREFIX}-{next(_task_counter)}"
