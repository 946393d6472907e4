"""Spans and metrics of executor tasks, used by :class:`~agentkit.execution.TaskTable`.

Only called when :data:`agentkit.observability.telemetry` has a tracer or instruments, so
OpenTelemetry is imported here lazily, inside each function.

One INTERNAL span ``task <name>`` covers a task from its submission to its final state; it is
a child of the span that was current at submission. A failed attempt that is retried becomes
a ``retry`` event on it; the final state is ``agentkit.task.outcome``, a failure's exception
is recorded and ``error.type`` set. The task's latency (submission to final state, on the
executor's clock) goes to the ``agentkit.task.duration`` histogram.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentkit.execution._types import TaskState

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from agentkit.execution._task_table import TaskRecord
    from agentkit.observability import Instruments

__all__ = ["error_type", "finish_task_span", "record_task_duration", "retry_event", "start_span"]

#: ``error.type`` of a task that passed its own deadline (OpenTelemetry's value for timeouts).
TIMEOUT = "timeout"


def error_type(state: TaskState, error: BaseException | None) -> str | None:
    """``error.type`` of a task that ended in *state*, or None when it did not fail."""
    if state is TaskState.TIMED_OUT:
        return TIMEOUT
    if state is TaskState.FAILED:
        return type(error).__name__ if error is not None else "_OTHER"
    return None


def start_span(tracer: Tracer, task: TaskRecord, executor: str) -> Span:
    """Start the task's span as a child of the current span (not made current)."""
    from opentelemetry.trace import SpanKind

    return tracer.start_span(
        f"task {task.name}",
        kind=SpanKind.INTERNAL,
        attributes={
            "agentkit.executor": executor,
            "agentkit.task.id": task.task_id,
            "agentkit.task.name": task.name,
            "agentkit.task.max_attempts": task.max_attempts,
        },
    )


def retry_event(span: Span, task: TaskRecord, error: BaseException, delay: float) -> None:
    """Note on the task's span that attempt N failed and attempt N+1 follows after *delay*."""
    number = len(task.attempts)
    span.add_event(
        "retry",
        {
            "agentkit.task.attempt": number,
            "agentkit.task.next_attempt": number + 1,
            "agentkit.task.retry_delay": delay,
            "error.type": type(error).__name__,
            "exception.message": str(error),
        },
    )


def finish_task_span(span: Span, task: TaskRecord, state: TaskState) -> None:
    """Set the outcome, attempts and error on the task's span and end it."""
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("agentkit.task.outcome", state.value)
    span.set_attribute("agentkit.task.attempt", len(task.attempts))
    if task.where:
        span.set_attribute("agentkit.task.where", task.where)
    kind = error_type(state, task.error)
    if kind is not None:
        span.set_attribute("error.type", kind)
        if task.error is not None:
            span.record_exception(task.error)
        span.set_status(Status(StatusCode.ERROR, f"task {state.value}"))
    span.end()


def record_task_duration(
    metrics: Instruments, task: TaskRecord, state: TaskState, executor: str
) -> None:
    """Record the task's latency with bounded attributes (task name and error through limiters)."""
    attributes: dict[str, Any] = {
        "agentkit.executor": executor,
        "agentkit.task.outcome": state.value,
        "agentkit.task.name": metrics.names(task.name),
    }
    kind = error_type(state, task.error)
    if kind is not None:
        attributes["error.type"] = metrics.errors(kind)
    metrics.task_duration.record(max(0.0, task.finished_at - task.submitted_at), attributes)
