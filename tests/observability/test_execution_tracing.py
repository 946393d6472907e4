"""Executor tasks as spans and metrics: the local executor and the DistributedEngine."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from agentkit import DistributedEngine, LocalExecutor
from agentkit.exceptions import TaskFailedError
from agentkit.observability import telemetry

from .conftest import Recorded


def only(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    """The one finished span called *name*."""
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def parent_id(span: ReadableSpan) -> int | None:
    """The span id of *span*'s parent, or None for a root."""
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    """*span*'s own span id."""
    context = span.get_span_context()
    assert context is not None
    return context.span_id


async def double(value: int) -> int:
    """A coroutine task."""
    await asyncio.sleep(0)
    return value * 2


def triple(value: int) -> int:
    """A blocking task (runs in a thread)."""
    return value * 3


async def test_a_task_is_a_span_under_the_caller(recorded: Recorded) -> None:
    """A submitted task is an INTERNAL span ``task <name>`` whose parent is the caller's span."""
    assert telemetry.tracer is not None
    async with LocalExecutor() as executor:
        with telemetry.tracer.start_as_current_span("caller") as caller:
            task_id = await executor.submit(double, 21)
        assert await executor.result(task_id, timeout=10) == 42
    task = only(recorded.spans(), "task double")
    assert task.kind is SpanKind.INTERNAL
    assert parent_id(task) == caller.get_span_context().span_id
    assert task.context is not None
    assert task.context.trace_id == caller.get_span_context().trace_id
    attributes = dict(task.attributes or {})
    assert attributes["agentkit.executor"] == "local"
    assert attributes["agentkit.task.id"] == task_id
    assert attributes["agentkit.task.outcome"] == "succeeded"
    assert attributes["agentkit.task.attempt"] == 1
    assert attributes["agentkit.task.where"] == "loop"
    assert "error.type" not in attributes
    assert task.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize("blocking", [False, True], ids=["coroutine", "thread"])
async def test_spans_made_by_the_task_are_its_children(recorded: Recorded, blocking: bool) -> None:
    """Inside the function (on the loop or in a thread) the task's span is the current one."""
    tracer = telemetry.tracer
    assert tracer is not None

    def inner_sync() -> str:
        with tracer.start_as_current_span("inner"):
            return "done"

    async def inner_async() -> str:
        with tracer.start_as_current_span("inner"):
            return "done"

    fn: Any = inner_sync if blocking else inner_async
    async with LocalExecutor() as executor:
        task_id = await executor.submit(fn, name="work")
        assert await executor.result(task_id, timeout=10) == "done"
    spans = recorded.spans()
    task, inner = only(spans, "task work"), only(spans, "inner")
    assert parent_id(inner) == span_id(task)
    assert dict(task.attributes or {})["agentkit.task.where"] == ("thread" if blocking else "loop")


async def test_retries_are_events_on_the_task_span(recorded: Recorded) -> None:
    """Each failed attempt that is retried is a ``retry`` event with its attempt and error."""
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError(f"attempt {calls} failed")
        return "ok"

    async with LocalExecutor(backoff_base=0.001) as executor:
        task_id = await executor.submit(flaky, max_attempts=3)
        assert await executor.result(task_id, timeout=10) == "ok"
    task = only(recorded.spans(), "task test_retries_are_events_on_the_task_span.<locals>.flaky")
    retries = [event for event in task.events if event.name == "retry"]
    assert [dict(event.attributes or {})["agentkit.task.attempt"] for event in retries] == [1, 2]
    first = dict(retries[0].attributes or {})
    assert first["error.type"] == "ConnectionError"
    assert first["exception.message"] == "attempt 1 failed"
    assert first["agentkit.task.next_attempt"] == 2
    attributes = dict(task.attributes or {})
    assert attributes["agentkit.task.attempt"] == 3
    assert attributes["agentkit.task.outcome"] == "succeeded"


async def test_a_failed_task_records_its_error(recorded: Recorded) -> None:
    """A task that fails on every attempt ends its span with ERROR, error.type and the exception."""

    def broken() -> None:
        raise KeyError("missing")

    async with LocalExecutor(backoff_base=0.0) as executor:
        task_id = await executor.submit(broken, max_attempts=2, name="broken")
        with pytest.raises(TaskFailedError):
            await executor.result(task_id, timeout=10)
    task = only(recorded.spans(), "task broken")
    attributes = dict(task.attributes or {})
    assert attributes["agentkit.task.outcome"] == "failed"
    assert attributes["error.type"] == "KeyError"
    assert attributes["agentkit.task.attempt"] == 2
    assert task.status.status_code is StatusCode.ERROR
    assert [event.name for event in task.events] == ["retry", "exception"]
    points = recorded.metric_points("agentkit.task.duration")
    assert (
        {
            "agentkit.executor": "local",
            "agentkit.task.outcome": "failed",
            "agentkit.task.name": "broken",
            "error.type": "KeyError",
        },
        1,
    ) in points


async def test_a_timed_out_task_says_timeout(recorded: Recorded) -> None:
    """A task past its own deadline ends its span as timed_out with error.type ``timeout``."""
    async with LocalExecutor() as executor:
        task_id = await executor.submit(asyncio.sleep, 30, timeout=0.05, name="slow")
        result = await executor.wait(task_id, timeout=10)
    assert result.state == "timed_out"
    task = only(recorded.spans(), "task slow")
    attributes = dict(task.attributes or {})
    assert attributes["agentkit.task.outcome"] == "timed_out"
    assert attributes["error.type"] == "timeout"
    assert task.status.status_code is StatusCode.ERROR


async def test_task_duration_is_measured_by_executor_outcome_and_name(recorded: Recorded) -> None:
    """Every finished task adds one point to agentkit.task.duration, labelled by outcome."""
    async with LocalExecutor() as executor:
        ids = [await executor.submit(triple, value) for value in range(3)]
        cancelled = await executor.submit(asyncio.sleep, 30, name="sleeper")
        assert await executor.cancel(cancelled)
        assert [await executor.result(task_id, timeout=10) for task_id in ids] == [0, 3, 6]
    points = recorded.metric_points("agentkit.task.duration")
    by_outcome = {
        attributes["agentkit.task.outcome"]: (attributes, count) for attributes, count in points
    }
    assert by_outcome["succeeded"] == (
        {
            "agentkit.executor": "local",
            "agentkit.task.outcome": "succeeded",
            "agentkit.task.name": "triple",
        },
        3,
    )
    assert by_outcome["cancelled"][0]["agentkit.task.name"] == "sleeper"
    assert by_outcome["cancelled"][1] == 1


async def test_engine_named_tasks_and_maps_are_spans(recorded: Recorded) -> None:
    """The engine's named task and each map chunk are task spans under the caller."""
    assert telemetry.tracer is not None
    async with DistributedEngine(tasks={"twice": double}) as engine:
        with telemetry.tracer.start_as_current_span("caller") as caller:
            task_id = await engine.submit_task("twice", 4)
            assert await engine.wait_for_task(task_id, timeout_seconds=10) == 8
            assert await engine.parallel_map(triple, [1, 2]) == [3, 6]
    spans = recorded.spans()
    named = only(spans, "task twice")
    chunks = [span for span in spans if span.name == "task map:triple"]
    assert chunks
    for span in (named, *chunks):
        assert parent_id(span) == caller.get_span_context().span_id


def test_no_opentelemetry_import_when_off() -> None:
    """Without a provider, running tasks never imports OpenTelemetry and makes no span."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from agentkit import LocalExecutor

        async def main():
            async with LocalExecutor(backoff_base=0.0) as executor:
                ok = await executor.submit(abs, -3)
                bad = await executor.submit(int, "x", max_attempts=2)
                assert await executor.result(ok) == 3
                assert (await executor.wait(bad)).state == "failed"
                assert executor._get(ok).span is None

        asyncio.run(main())
        print(any(name.startswith("opentelemetry") for name in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
