"""execute_tool traced: one INTERNAL span per call, GenAI attributes, the duration metric."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import agentkit.observability as observability
from agentkit import Tool, ToolRegistry
from agentkit.exceptions import ToolNotFoundError
from agentkit.observability import OTHER_LABEL, telemetry

from .conftest import Recorded

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "times": {"type": "integer", "minimum": 1}},
    "required": ["text"],
    "additionalProperties": False,
}


class RepeatFailed(RuntimeError):
    """What the failing tool raises."""


def repeat(text: str, times: int = 2) -> str:
    """The tool: *text* repeated."""
    return text * times


def explode(text: str, times: int = 1) -> str:
    """A tool that always raises."""
    raise RepeatFailed(f"cannot repeat {text!r}")


def make_registry() -> ToolRegistry:
    """A registry with one good inline tool, one async tool and one tool that raises."""
    registry = ToolRegistry()
    registry.register_tool(
        Tool(name="repeat", description="Repeat.", parameters=PARAMETERS, function=repeat)
    )
    registry.register_tool(
        Tool(
            name="explode",
            description="Fail.",
            parameters=PARAMETERS,
            function=explode,
            blocking=False,
        )
    )
    return registry


def one_span(recorded: Recorded) -> Any:
    """The only finished span."""
    spans = recorded.spans()
    assert len(spans) == 1, [span.name for span in spans]
    return spans[0]


def one_attributes(span: Any) -> dict[str, Any]:
    """*span*'s attributes as a plain dict."""
    return dict(span.attributes or {})


async def test_success_span(recorded: Recorded) -> None:
    """A successful call is one INTERNAL span with the GenAI attributes and status unset."""
    result = await make_registry().execute_tool("repeat", {"text": "ab"}, call_id="call_42")
    assert result.success
    assert result.output == "abab"
    span = one_span(recorded)
    assert span.name == "execute_tool repeat"
    assert span.kind is SpanKind.INTERNAL
    assert span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert span.attributes["gen_ai.tool.name"] == "repeat"
    assert span.attributes["gen_ai.tool.call.id"] == "call_42"
    assert span.attributes["agentkit.tool.success"] is True
    assert "error.type" not in span.attributes
    assert span.status.status_code is StatusCode.UNSET
    assert not span.events


async def test_span_is_current_while_the_tool_runs(recorded: Recorded) -> None:
    """A span the tool itself opens is a child of the call's span, in the caller's trace."""
    tracer = telemetry.tracer
    assert tracer is not None

    async def traced(text: str) -> str:
        with tracer.start_as_current_span("inside the tool"):
            return text

    registry = ToolRegistry()
    registry.register_tool(
        Tool(
            name="traced",
            description="Open a span.",
            parameters={"type": "object", "properties": {"text": {"type": "string"}}},
            function=traced,
        )
    )
    with tracer.start_as_current_span("agent step") as step:
        assert (await registry.execute_tool("traced", {"text": "x"})).success
    spans: dict[str, Any] = {span.name: span for span in recorded.spans()}
    call, inner = spans["execute_tool traced"], spans["inside the tool"]
    assert inner.parent.span_id == call.context.span_id
    assert call.parent.span_id == step.get_span_context().span_id
    assert call.context.trace_id == step.get_span_context().trace_id


async def test_tool_error_span(recorded: Recorded) -> None:
    """A tool that raises: status ERROR, error.type its class, its exception recorded."""
    result = await make_registry().execute_tool("explode", {"text": "ab"})
    assert not result.success
    assert result.error_type == "RepeatFailed"
    span = one_span(recorded)
    assert span.attributes["agentkit.tool.success"] is False
    assert span.attributes["error.type"] == "RepeatFailed"
    assert span.status.status_code is StatusCode.ERROR
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"].endswith("RepeatFailed")
    assert "cannot repeat 'ab'" in event.attributes["exception.message"]
    assert "explode" in event.attributes["exception.stacktrace"]


@pytest.mark.parametrize(
    "params",
    [{"text": 3}, {"text": "ab", "times": 0}, {"text": "ab", "extra": True}, {}, ["text"]],
)
async def test_invalid_arguments_span(recorded: Recorded, params: Any) -> None:
    """Arguments the schema refuses: error.type validation and a ToolInputError recorded."""
    result = await make_registry().execute_tool("repeat", params)
    assert result.error_type == "validation"
    span = one_span(recorded)
    assert span.attributes["error.type"] == "validation"
    assert span.attributes["agentkit.tool.success"] is False
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == result.error
    [event] = span.events
    assert event.attributes["exception.type"].endswith("ToolInputError")
    assert event.attributes["exception.message"] == result.error


async def test_timeout_span(recorded: Recorded) -> None:
    """A call over its timeout: error.type timeout and the TimeoutError recorded."""

    async def slow(text: str) -> str:
        import asyncio

        await asyncio.sleep(10)
        return text

    registry = ToolRegistry()
    registry.register_tool(
        Tool(
            name="slow",
            description="Sleep.",
            parameters={"type": "object", "properties": {"text": {"type": "string"}}},
            function=slow,
        )
    )
    result = await registry.execute_tool("slow", {"text": "x"}, timeout=0.01)
    assert result.error_type == "timeout"
    span = one_span(recorded)
    assert span.attributes["error.type"] == "timeout"
    assert [event.name for event in span.events] == ["exception"]
    assert "TimeoutError" in span.events[0].attributes["exception.type"]


async def test_unknown_tool_span(recorded: Recorded) -> None:
    """An unknown tool still raises ToolNotFoundError; its span says tool_not_found."""
    with pytest.raises(ToolNotFoundError):
        await make_registry().execute_tool("repaet", {"text": "ab"})
    span = one_span(recorded)
    assert span.name == "execute_tool repaet"
    assert span.attributes["error.type"] == "tool_not_found"
    assert span.status.status_code is StatusCode.ERROR
    assert span.events[0].attributes["exception.type"].endswith("ToolNotFoundError")
    assert "did you mean 'repeat'" in span.events[0].attributes["exception.message"]
    [(labels, count)] = recorded.metric_points("agentkit.tool.duration")
    assert labels == {"gen_ai.tool.name": "repaet", "error.type": "tool_not_found"}
    assert count == 1


async def test_unknown_name_of_any_size_is_bounded(recorded: Recorded) -> None:
    """A huge or non-string name is cut for the span name and attribute, never refused."""
    registry = make_registry()
    for name in ("x" * 100_000, 12345):
        with pytest.raises(ToolNotFoundError):
            await registry.execute_tool(name, {})  # type: ignore[arg-type]
    first, second = map(one_attributes, recorded.spans())
    assert first["gen_ai.tool.name"] == "x" * 128
    assert second["gen_ai.tool.name"] == "12345"


async def test_duration_metric_points(recorded: Recorded) -> None:
    """Each call adds to agentkit.tool.duration by tool name, error.type set on failures."""
    registry = make_registry()
    for _ in range(3):
        await registry.execute_tool("repeat", {"text": "a"})
    await registry.execute_tool("repeat", {"text": 1})
    await registry.execute_tool("explode", {"text": "a"})
    points = {
        tuple(sorted(labels.items())): count
        for labels, count in recorded.metric_points("agentkit.tool.duration")
    }
    assert points == {
        (("gen_ai.tool.name", "repeat"),): 3,
        (("error.type", "validation"), ("gen_ai.tool.name", "repeat")): 1,
        (("error.type", "RepeatFailed"), ("gen_ai.tool.name", "explode")): 1,
    }


async def test_metrics_without_tracing(recorded: Recorded) -> None:
    """With a meter provider but no tracer the call is measured and no span is made."""
    assert telemetry.metrics is not None
    tracer, telemetry.tracer = telemetry.tracer, None
    try:
        assert (await make_registry().execute_tool("repeat", {"text": "a"})).success
    finally:
        telemetry.tracer = tracer
    assert recorded.spans() == ()
    assert [count for _, count in recorded.metric_points("agentkit.tool.duration")] == [1]


async def test_tool_names_go_through_the_label_limiter(recorded: Recorded) -> None:
    """Once the tools limiter is full, new tool names are labelled _other in the metric."""
    assert telemetry.metrics is not None
    telemetry.metrics.tools = observability.LabelLimiter(limit=1)
    registry = make_registry()
    await registry.execute_tool("repeat", {"text": "a"})
    await registry.execute_tool("explode", {"text": "a"})
    names = {
        labels["gen_ai.tool.name"] for labels, _ in recorded.metric_points("agentkit.tool.duration")
    }
    assert names == {"repeat", OTHER_LABEL}
    assert {one_attributes(span)["gen_ai.tool.name"] for span in recorded.spans()} == {
        "repeat",
        "explode",
    }


async def test_off_records_nothing() -> None:
    """Without instrument() the same calls give the same results and no telemetry exists."""
    observability.uninstrument()
    assert telemetry.tracer is None
    assert telemetry.metrics is None
    registry = make_registry()
    assert (await registry.execute_tool("repeat", {"text": "a"})).output == "aa"
    assert (await registry.execute_tool("explode", {"text": "a"})).error_type == "RepeatFailed"
    with pytest.raises(ToolNotFoundError):
        await registry.execute_tool("nope", {})
