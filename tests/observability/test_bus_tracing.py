"""Spans and metrics of the buses: publish, delivery, retries, dead letters, request/reply.

The cross-process tests run a subscriber in its own OS process (``_child_bus.py``) over a real
nats-server and join its spans with this process's: one trace from publish to handler.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from agentkit import InMemoryPubSub, NatsPubSub, PubSubMessage
from agentkit.observability import MAX_LABEL_VALUES, OTHER_LABEL, telemetry

from ._spans import assert_one_trace, by_name, load_spans, span_record
from .conftest import Recorded

CHILD = Path(__file__).with_name("_child_bus.py")


def only(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    """The one span called *name*."""
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, f"{len(found)} spans named {name!r} in {[s.name for s in spans]}"
    return found[0]


def named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    """Every span called *name*, oldest first."""
    return [span for span in spans if span.name == name]


def span_id(span: ReadableSpan) -> int:
    """The span's own id."""
    assert span.context is not None
    return int(span.context.span_id)


def trace_id(span: ReadableSpan) -> int:
    """The span's trace id."""
    assert span.context is not None
    return int(span.context.trace_id)


def parent_id(span: ReadableSpan) -> int | None:
    """The id of the span's parent, or None for a root span."""
    return span.parent.span_id if span.parent is not None else None


def attrs(span: ReadableSpan) -> dict[str, Any]:
    """The span's attributes as a dict."""
    return dict(span.attributes or {})


async def test_publish_then_process_is_one_trace(recorded: Recorded) -> None:
    """The process span's parent is the publish span, itself a child of the caller's span."""
    tracer = telemetry.tracer
    assert tracer is not None
    seen: list[PubSubMessage] = []

    async def handle(message: PubSubMessage) -> None:
        with tracer.start_as_current_span("inside handler"):
            seen.append(message)

    async with InMemoryPubSub() as bus:
        await bus.subscribe("orders.*", handle)
        with tracer.start_as_current_span("caller") as caller:
            sent = await bus.publish(
                "orders.1",
                PubSubMessage(topic="orders.1", payload=1, headers={"tenant": "a"}),
            )
        await bus.drain()
    spans = recorded.spans()
    publish = only(spans, "publish orders.1")
    process = only(spans, "process orders.*")
    inner = only(spans, "inside handler")
    assert publish.kind is SpanKind.PRODUCER
    assert process.kind is SpanKind.CONSUMER
    assert parent_id(publish) == caller.get_span_context().span_id
    assert parent_id(process) == span_id(publish)
    assert parent_id(inner) == span_id(process)
    assert {trace_id(publish), trace_id(process), trace_id(inner)} == {
        caller.get_span_context().trace_id
    }
    # The caller's headers are kept beside the trace context.
    assert seen[0].headers["tenant"] == "a"
    assert f"{span_id(publish):016x}" in seen[0].headers["traceparent"]
    assert sent.headers == seen[0].headers
    published = attrs(publish)
    assert published["messaging.system"] == "agentkit"
    assert published["messaging.operation.type"] == "send"
    assert published["messaging.destination.name"] == "orders.1"
    assert published["messaging.message.id"] == sent.message_id
    processed = attrs(process)
    assert processed["messaging.operation.type"] == "process"
    assert processed["messaging.destination.name"] == "orders.1"
    assert processed["messaging.destination.template"] == "orders.*"
    assert processed["messaging.message.id"] == sent.message_id
    assert processed["agentkit.message.attempt"] == 1
    assert process.status.status_code is StatusCode.UNSET


async def test_a_message_without_context_starts_a_root_span(recorded: Recorded) -> None:
    """A message with no traceparent (a foreign publisher) is processed in a root span."""
    tracer = telemetry.tracer
    assert tracer is not None
    async with InMemoryPubSub(copy_messages=False) as bus:
        # Subscribed inside a span: the worker must not take that span as its parent.
        with tracer.start_as_current_span("subscriber setup"):
            await bus.subscribe("jobs", lambda message: None)
        subscription = bus._subscriptions[0]
        subscription.offer(PubSubMessage(topic="jobs", payload=1))
        await bus.drain()
    process = only(recorded.spans(), "process jobs")
    assert process.parent is None


async def test_retries_and_dead_letters_are_events(recorded: Recorded) -> None:
    """Each failed attempt is an ERROR span; a retry and the dead letter are events on them."""

    async def fail(message: PubSubMessage) -> None:
        raise ValueError(f"cannot handle {message.payload}")

    async with InMemoryPubSub(max_attempts=2, retry_delay=0.001) as bus:
        await bus.subscribe("work.>", fail)
        await bus.publish("work.a", {"n": 1})
        await bus.drain()
        assert len(bus.dead_letters()) == 1
        letter = bus.dead_letters()[0]
        depth = recorded.metric_points("agentkit.messaging.dead_letter.depth")
        assert depth == [({"messaging.system": "agentkit"}, 1)]
    spans = recorded.spans()
    publish = only(spans, "publish work.a")
    first, second = named(spans, "process work.>")
    for span in (first, second):
        assert parent_id(span) == span_id(publish)
        assert span.status.status_code is StatusCode.ERROR
        assert attrs(span)["error.type"] == "ValueError"
        assert any(event.name == "exception" for event in span.events)
    assert [attrs(span)["agentkit.message.attempt"] for span in (first, second)] == [1, 2]
    retry = [event for event in first.events if event.name == "retry"]
    assert len(retry) == 1
    retried = dict(retry[0].attributes or {})
    assert retried["agentkit.message.attempt"] == 1
    assert retried["agentkit.retry.delay"] == pytest.approx(0.001)
    assert retried["error.type"] == "ValueError"
    assert "cannot handle" in str(retried["agentkit.retry.reason"])
    assert not [event for event in first.events if event.name == "dead_letter"]
    dead = [event for event in second.events if event.name == "dead_letter"]
    assert len(dead) == 1
    lettered = dict(dead[0].attributes or {})
    assert lettered["agentkit.dead_letter.id"] == letter.dead_letter_id
    assert lettered["agentkit.dead_letter.attempts"] == 2
    assert lettered["error.type"] == "ValueError"
    assert "cannot handle" in str(lettered["agentkit.dead_letter.reason"])
    failed = recorded.metric_points("agentkit.messaging.failed")
    assert failed == [
        (
            {
                "messaging.system": "agentkit",
                "messaging.operation.name": "process",
                "messaging.destination.template": "work.>",
                "error.type": "ValueError",
            },
            2,
        )
    ]
    letters = recorded.metric_points("agentkit.messaging.dead_letters")
    assert [value for _, value in letters] == [1]
    assert letters[0][0]["error.type"] == "ValueError"
    durations = recorded.metric_points("messaging.process.duration")
    assert [(point["error.type"], count) for point, count in durations] == [("ValueError", 2)]


async def test_dead_letter_outside_a_delivery_has_a_span_of_its_own(recorded: Recorded) -> None:
    """A message kept as a dead letter at close, never handled, gets a ``settle`` span."""
    gate = asyncio.Event()

    async def slow(message: PubSubMessage) -> None:
        await gate.wait()

    bus = InMemoryPubSub(cancel_grace=0.1)
    await bus.subscribe("slow", slow)
    await bus.publish("slow", 1)
    await bus.publish("slow", 2)
    await asyncio.sleep(0.01)
    await bus.close(timeout=0.05)
    spans = recorded.spans()
    settle = only(spans, "settle slow")
    publishes = named(spans, "publish slow")
    assert parent_id(settle) in {span_id(span) for span in publishes}
    events = [event for event in settle.events if event.name == "dead_letter"]
    assert len(events) == 1
    assert "bus closed" in str(dict(events[0].attributes or {})["agentkit.dead_letter.reason"])
    assert attrs(settle)["messaging.operation.type"] == "settle"


async def test_request_reply_spans(recorded: Recorded) -> None:
    """request() is a CLIENT span; the responder's process span is its child and sends the reply."""

    async def echo(message: PubSubMessage) -> Any:
        return {"echo": message.payload}

    async with InMemoryPubSub() as bus:
        await bus.subscribe("svc.echo", echo)
        reply = await bus.request("svc.echo", "hi", timeout=5)
    assert reply.payload == {"echo": "hi"}
    spans = recorded.spans()
    request = only(spans, "request svc.echo")
    process = only(spans, "process svc.echo")
    assert request.kind is SpanKind.CLIENT
    assert parent_id(process) == span_id(request)
    # The reply left from inside the process span: it carries that span's context.
    assert f"{span_id(process):016x}" in reply.headers["traceparent"]
    requested = attrs(request)
    assert requested["messaging.operation.name"] == "request"
    assert requested["messaging.message.conversation_id"] == reply.correlation_id
    assert attrs(process)["messaging.message.conversation_id"] == reply.correlation_id


async def test_a_failed_request_marks_its_span(recorded: Recorded) -> None:
    """A request nobody answers ends its span with ERROR and the error type."""
    from agentkit.exceptions import NoRespondersError

    async with InMemoryPubSub() as bus:
        with pytest.raises(NoRespondersError):
            await bus.request("nobody.home", 1, timeout=1)
    request = only(recorded.spans(), "request nobody.home")
    assert request.status.status_code is StatusCode.ERROR
    assert attrs(request)["error.type"] == "NoRespondersError"


async def test_metric_labels_stay_bounded(recorded: Recorded) -> None:
    """500 per-id subjects give at most MAX_LABEL_VALUES + 1 destination labels."""
    async with InMemoryPubSub(copy_messages=False) as bus:
        for index in range(500):
            await bus.publish(f"orders.{index}", index)
    sent = recorded.metric_points("messaging.client.sent.messages")
    labels = {point["messaging.destination.template"] for point, _ in sent}
    assert len(labels) <= MAX_LABEL_VALUES + 1
    assert OTHER_LABEL in labels
    assert sum(int(value) for _, value in sent) == 500  # type: ignore[call-overload]


async def test_publish_is_labelled_by_the_matching_subscription(recorded: Recorded) -> None:
    """A publish and its delivery are labelled by the pattern of the matching subscription."""
    async with InMemoryPubSub(copy_messages=False) as bus:
        await bus.subscribe("orders.*", lambda message: None)
        for index in range(300):
            await bus.publish(f"orders.{index}", index)
        await bus.drain()
    sent = recorded.metric_points("messaging.client.sent.messages")
    assert [(point["messaging.destination.template"], value) for point, value in sent] == [
        ("orders.*", 300)
    ]
    consumed = recorded.metric_points("messaging.client.consumed.messages")
    assert [(point["messaging.destination.template"], value) for point, value in consumed] == [
        ("orders.*", 300)
    ]


async def test_no_context_travels_with_tracing_off() -> None:
    """Without a tracer, a published message carries no traceparent header."""
    assert telemetry.tracer is None
    seen: list[PubSubMessage] = []
    async with InMemoryPubSub() as bus:
        await bus.subscribe("plain", seen.append)
        sent = await bus.publish("plain", PubSubMessage(topic="plain", payload=1))
        await bus.drain()
    assert "traceparent" not in sent.headers
    assert "traceparent" not in seen[0].headers


# -- over NATS ------------------------------------------------------------------------------


async def _run_child(
    nats_url: str, mode: str, subject: str, stream: str
) -> tuple[asyncio.subprocess.Process, asyncio.StreamReader]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        nats_url,
        mode,
        subject,
        stream,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line.strip() == b"ready", line
    return process, process.stdout


async def _child_spans(
    process: asyncio.subprocess.Process, stdout: asyncio.StreamReader
) -> list[dict[str, Any]]:
    out = await asyncio.wait_for(stdout.read(), 40)
    assert await asyncio.wait_for(process.wait(), 10) == 0
    return load_spans(out.decode())


@pytest.mark.nats
@pytest.mark.timeout(60)
async def test_one_trace_across_processes_over_core_nats(recorded: Recorded, nats_url: str) -> None:
    """Published here, handled in another OS process: one trace, process span under publish."""
    subject = f"cross.{uuid.uuid4().hex[:8]}"
    process, stdout = await _run_child(nats_url, "core", subject, "UNUSED")
    try:
        async with NatsPubSub(nats_url) as bus:
            await bus.connect()
            await bus.publish(subject, {"hello": "there"})
        child = await _child_spans(process, stdout)
    finally:
        if process.returncode is None:
            process.kill()
    publish = span_record(only(recorded.spans(), f"publish {subject}"))
    assert publish["attributes"]["messaging.system"] == "nats"
    records = [publish, *child]
    assert_one_trace(records)
    (handled,) = by_name(child, f"process {subject}")
    assert handled["parent_id"] == publish["span_id"]
    assert handled["kind"] == "CONSUMER"
    (work,) = by_name(child, "handler work")
    assert work["parent_id"] == handled["span_id"]


@pytest.mark.nats
@pytest.mark.timeout(60)
async def test_one_trace_across_processes_over_jetstream(recorded: Recorded, nats_url: str) -> None:
    """A stored durable message keeps its context: both attempts in another process join it."""
    subject = f"durable.{uuid.uuid4().hex[:8]}"
    stream = f"T{uuid.uuid4().hex[:8]}"
    # Stored before the subscriber process exists: the context lives in JetStream's headers.
    async with NatsPubSub(nats_url, stream=stream, dead_letter_stream=f"{stream}_DLQ") as bus:
        await bus.connect()
        await bus.publish(subject, {"job": 1}, durable=True)
    process, stdout = await _run_child(nats_url, "durable", subject, stream)
    try:
        child = await _child_spans(process, stdout)
    finally:
        if process.returncode is None:
            process.kill()
    publish = span_record(only(recorded.spans(), f"publish {subject}"))
    assert publish["attributes"]["agentkit.message.durable"] is True
    assert_one_trace([publish, *child])
    attempts = by_name(child, f"process {subject}")
    assert [record["attributes"]["agentkit.message.attempt"] for record in attempts] == [1, 2]
    assert all(record["parent_id"] == publish["span_id"] for record in attempts)
    assert attempts[0]["status"] == "ERROR"
    assert [event["name"] for event in attempts[0]["events"]].count("retry") == 1
    assert attempts[0]["attributes"]["agentkit.subscription.durable"] == "worker"


@pytest.mark.nats
@pytest.mark.timeout(60)
async def test_nats_request_reply_and_undecodable(recorded: Recorded, nats_url: str) -> None:
    """Over NATS: request/process spans nest, and an undecodable body gets a settle span."""

    async def echo(message: PubSubMessage) -> Any:
        return message.payload

    async with NatsPubSub(nats_url) as bus:
        await bus.connect()
        await bus.subscribe("svc.nats.echo", echo)
        await bus.subscribe("svc.nats.raw", lambda message: None)
        await bus.drain()
        assert (await bus.request("svc.nats.echo", 7, timeout=5)).payload == 7
        await bus._nc.publish(
            "svc.nats.raw",
            b"\xc1",
            headers={"agentkit-wire": "2", "content-type": "application/msgpack"},
        )
        await bus.drain()
        for _ in range(100):
            if bus.dead_letters():
                break
            await asyncio.sleep(0.02)
        assert len(bus.dead_letters()) == 1
    spans = recorded.spans()
    request = only(spans, "request svc.nats.echo")
    process = only(spans, "process svc.nats.echo")
    assert parent_id(process) == span_id(request)
    assert attrs(process)["messaging.system"] == "nats"
    settle = only(spans, "settle svc.nats.raw")
    assert [event.name for event in settle.events] == ["dead_letter"]
    assert dict(settle.events[0].attributes or {})["error.type"] == "MessageDecodeError"
