"""Spans and metrics of the buses; every function here runs only when tracing or metrics are on.

The bus hot paths test ``telemetry.tracer`` / ``telemetry.metrics`` once and, when either is
set, divert to the traced paths, which call in here. OpenTelemetry is imported on first use
(never at import time), so a process without the ``otel`` extra never loads it.

What is emitted (names follow the OpenTelemetry messaging conventions, schema 1.30):

- ``publish <topic>`` (PRODUCER) around each publish; its W3C context is written into the
  message's headers (``traceparent``/``tracestate``), so the receiver continues the trace;
- ``request <topic>`` (CLIENT) around ``request()``; the request carries its context;
- ``process <pattern>`` (CONSUMER) around each handler attempt, child of the context in the
  message's headers (a root span when there is none) and current while the handler runs, so
  what the handler does (spans, publishes, the reply) is its child. A retry being scheduled is
  its event ``retry``, dead-lettering its event ``dead_letter``;
- ``settle <pattern>`` (INTERNAL), a short span of its own for a dead letter made outside a
  delivery (an undecodable body, a message kept when the bus closes, a delivery limit).

Metric attributes are bounded: a delivery is labelled by its subscription's pattern, a publish
by the pattern of the first local subscription that matches the topic, else by the topic
through the ``subjects`` label limiter (so at most ``MAX_LABEL_VALUES`` topics, then
``_other``).
"""

from __future__ import annotations

import contextvars
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import msgspec

from agentkit.bus._messages import PubSubMessage
from agentkit.observability import Instruments, extract_context, inject_context, telemetry

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

    from agentkit.bus._base import BusBase
    from agentkit.bus._messages import DeadLetter
    from agentkit.bus._subscription import BusSubscription, Envelope

__all__ = [
    "DEAD_LETTER_DEPTH",
    "Processing",
    "dead_lettered",
    "processing",
    "publishing",
    "requesting",
    "retry_scheduled",
    "watch_bus",
    "with_context",
]

#: The observable gauge of the dead letters a bus holds (summed per messaging.system).
DEAD_LETTER_DEPTH = "agentkit.messaging.dead_letter.depth"

SYSTEM = "messaging.system"
OPERATION_TYPE = "messaging.operation.type"
OPERATION_NAME = "messaging.operation.name"
DESTINATION = "messaging.destination.name"
TEMPLATE = "messaging.destination.template"
MESSAGE_ID = "messaging.message.id"
CONVERSATION_ID = "messaging.message.conversation_id"
GROUP = "messaging.consumer.group.name"
ERROR_TYPE = "error.type"
ATTEMPT = "agentkit.message.attempt"
DURABLE = "agentkit.subscription.durable"

#: Longest reason text put on a span event.
_MAX_REASON = 512

#: The process span of the delivery the current task is handling (retry/dead_letter events).
_current_delivery: contextvars.ContextVar[Span | None] = contextvars.ContextVar(
    "agentkit_bus_delivery_span", default=None
)

_api: Any = None


def _otel() -> Any:
    """The OpenTelemetry API pieces used here, imported once (tracing is on by now)."""
    global _api
    if _api is None:
        from opentelemetry import context, trace
        from opentelemetry.context import Context
        from opentelemetry.trace import SpanKind, Status, StatusCode

        _api = SimpleNamespace(
            context=context,
            trace=trace,
            Context=Context,
            SpanKind=SpanKind,
            error=Status(StatusCode.ERROR),
        )
    return _api


def system_of(bus: object) -> str:
    """``messaging.system`` of *bus*: ``nats`` for the NATS bus, ``agentkit`` otherwise."""
    return str(getattr(bus, "messaging_system", "agentkit"))


def _parent(message: PubSubMessage) -> Context:
    """The trace context in *message*'s headers, or an empty one (a root span follows)."""
    extracted = extract_context(message.headers) if message.headers else None
    return extracted if extracted is not None else _otel().Context()


def _fail(span: Span, exc: BaseException) -> None:
    span.record_exception(exc)
    span.set_status(_otel().error)
    span.set_attribute(ERROR_TYPE, type(exc).__qualname__)


def with_context(message: PubSubMessage) -> PubSubMessage:
    """*message* with the current trace context added to its headers (its own kept)."""
    carrier = dict(message.headers)
    inject_context(carrier)
    if carrier == message.headers:
        return message
    return msgspec.structs.replace(message, headers=carrier)


# -- sending --------------------------------------------------------------------------------


@contextmanager
def publishing(
    bus: BusBase, topic: str, message: PubSubMessage | Any, *, durable: bool = False
) -> Iterator[PubSubMessage]:
    """Around one publish: a PRODUCER span; yields the message carrying its context."""
    with _sending(bus, topic, message, "publish", durable=durable) as sent:
        yield sent


@contextmanager
def requesting(bus: BusBase, topic: str, message: PubSubMessage | Any) -> Iterator[PubSubMessage]:
    """Around one request: a CLIENT span; yields the request carrying its context."""
    with _sending(bus, topic, message, "request") as sent:
        yield sent


@contextmanager
def _sending(
    bus: BusBase,
    topic: str,
    message: PubSubMessage | Any,
    operation: str,
    *,
    durable: bool = False,
) -> Iterator[PubSubMessage]:
    """A publish (PRODUCER span) or a request (CLIENT span), counted as sent either way."""
    message = bus._wrap(topic, message)
    topic = message.topic
    system = system_of(bus)
    tracer = telemetry.tracer
    metrics = telemetry.metrics
    if tracer is None:
        try:
            yield message
        except BaseException as exc:
            if metrics is not None:
                _count_sent(metrics, bus, topic, system, operation, exc)
            raise
        if metrics is not None:
            _count_sent(metrics, bus, topic, system, operation, None)
        return
    attributes: dict[str, Any] = {
        SYSTEM: system,
        OPERATION_TYPE: "send",
        OPERATION_NAME: operation,
        DESTINATION: topic,
        MESSAGE_ID: message.message_id,
    }
    request = operation == "request"
    if request:
        # A request is a conversation: its id is the one the reply will carry.
        attributes[CONVERSATION_ID] = message.correlation_id or message.message_id
    elif message.correlation_id is not None:
        attributes[CONVERSATION_ID] = message.correlation_id
    if durable:
        attributes["agentkit.message.durable"] = True
    kinds = _otel().SpanKind
    with tracer.start_as_current_span(
        f"{operation} {topic}",
        kind=kinds.CLIENT if request else kinds.PRODUCER,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield with_context(message)
        except BaseException as exc:
            _fail(span, exc)
            if metrics is not None:
                _count_sent(metrics, bus, topic, system, operation, exc)
            raise
    if metrics is not None:
        _count_sent(metrics, bus, topic, system, operation, None)


def _count_sent(
    metrics: Instruments,
    bus: BusBase,
    topic: str,
    system: str,
    operation: str,
    exc: BaseException | None,
) -> None:
    pattern = bus._local_pattern(topic)
    attributes = {
        SYSTEM: system,
        OPERATION_NAME: operation,
        TEMPLATE: metrics.subjects(pattern if pattern is not None else topic),
    }
    if exc is not None:
        attributes[ERROR_TYPE] = metrics.errors(type(exc).__qualname__)
    metrics.sent_messages.add(1, attributes)


# -- delivering -----------------------------------------------------------------------------


class Processing:
    """One handler attempt being traced and measured; :meth:`end` closes it."""

    __slots__ = ("attributes", "error", "metrics", "span", "started", "token")

    def __init__(
        self,
        span: Span | None,
        token: object,
        metrics: Instruments | None,
        attributes: dict[str, str],
    ) -> None:
        self.span = span
        self.token = token
        self.metrics = metrics
        self.attributes = attributes
        self.error: BaseException | None = None
        self.started = time.perf_counter()

    def failed(self, exc: BaseException) -> None:
        """The handler raised *exc*."""
        self.error = exc
        if self.span is not None:
            _fail(self.span, exc)

    def end(self) -> None:
        """The attempt is over (its reply sent, its retry or dead letter decided)."""
        elapsed = time.perf_counter() - self.started
        span = self.span
        if span is not None:
            api = _otel()
            tokens: Any = self.token
            _current_delivery.reset(tokens[1])
            api.context.detach(tokens[0])
            span.end()
        metrics = self.metrics
        if metrics is not None:
            attributes = self.attributes
            metrics.consumed_messages.add(1, attributes)
            if self.error is None:
                metrics.process_duration.record(elapsed, attributes)
            else:
                failed = {**attributes, ERROR_TYPE: metrics.errors(type(self.error).__qualname__)}
                metrics.process_duration.record(elapsed, failed)
                metrics.failed_messages.add(1, failed)


def _metric_attributes(
    metrics: Instruments, system: str, subscription: BusSubscription
) -> dict[str, str]:
    attributes = {
        SYSTEM: system,
        OPERATION_NAME: "process",
        TEMPLATE: metrics.subjects(subscription.subject),
    }
    if subscription.queue is not None:
        attributes[GROUP] = metrics.names(subscription.queue)
    return attributes


def processing(
    subscription: BusSubscription, message: PubSubMessage, envelope: Envelope | None
) -> Processing:
    """Start tracing one handler attempt: its span is current until :meth:`Processing.end`."""
    system = system_of(subscription._bus)
    metrics = telemetry.metrics
    attributes = {} if metrics is None else _metric_attributes(metrics, system, subscription)
    tracer = telemetry.tracer
    if tracer is None:
        return Processing(None, None, metrics, attributes)
    api = _otel()
    pattern = subscription.subject
    span_attributes: dict[str, Any] = {
        SYSTEM: system,
        OPERATION_TYPE: "process",
        OPERATION_NAME: "process",
        DESTINATION: message.topic,
        TEMPLATE: pattern,
        MESSAGE_ID: message.message_id,
        ATTEMPT: envelope.attempt if envelope is not None else message.attempt,
    }
    if message.correlation_id is not None:
        span_attributes[CONVERSATION_ID] = message.correlation_id
    if subscription.queue is not None:
        span_attributes[GROUP] = subscription.queue
    if subscription.durable is not None:
        span_attributes[GROUP] = subscription.durable
        span_attributes[DURABLE] = subscription.durable
    parent = _parent(message)
    span = tracer.start_span(
        f"process {pattern}",
        context=parent,
        kind=api.SpanKind.CONSUMER,
        attributes=span_attributes,
    )
    token = api.context.attach(api.trace.set_span_in_context(span, parent))
    return Processing(span, (token, _current_delivery.set(span)), metrics, attributes)


def _delivery_span() -> Span | None:
    span = _current_delivery.get()
    return span if span is not None and span.is_recording() else None


def retry_scheduled(envelope: Envelope, delay: float, exc: BaseException, reason: str) -> None:
    """Event ``retry`` on the current delivery's span: the attempt failed, another follows."""
    span = _delivery_span()
    if span is None:
        return
    span.add_event(
        "retry",
        {
            ATTEMPT: envelope.attempt,
            "agentkit.retry.delay": float(delay),
            ERROR_TYPE: type(exc).__qualname__,
            "agentkit.retry.reason": reason[:_MAX_REASON],
            "agentkit.retry.by": "jetstream" if envelope.nak is not None else "bus",
        },
    )


def dead_lettered(bus: BusBase, subscription: BusSubscription, letter: DeadLetter) -> None:
    """Event ``dead_letter`` on the delivery's span (or a short span of its own); count it."""
    system = system_of(bus)
    metrics = telemetry.metrics
    if metrics is not None:
        metrics.dead_letters.add(
            1,
            {
                SYSTEM: system,
                TEMPLATE: metrics.subjects(subscription.subject),
                ERROR_TYPE: metrics.errors(letter.error_type),
            },
        )
    tracer = telemetry.tracer
    if tracer is None:
        return
    event: dict[str, Any] = {
        "agentkit.dead_letter.id": letter.dead_letter_id,
        "agentkit.dead_letter.reason": letter.error[:_MAX_REASON],
        "agentkit.dead_letter.attempts": letter.attempts,
        ERROR_TYPE: letter.error_type,
    }
    span = _delivery_span()
    if span is not None:
        span.add_event("dead_letter", event)
        return
    message = letter.message
    pattern = subscription.subject
    attributes: dict[str, Any] = {
        SYSTEM: system,
        OPERATION_TYPE: "settle",
        OPERATION_NAME: "dead_letter",
        DESTINATION: message.topic,
        TEMPLATE: pattern,
        MESSAGE_ID: message.message_id,
        ATTEMPT: letter.attempts,
    }
    with tracer.start_as_current_span(
        f"settle {pattern}",
        context=_parent(message),
        attributes=attributes,
    ) as own:
        own.add_event("dead_letter", event)


# -- the dead-letter depth gauge ------------------------------------------------------------


class _DepthGauge:
    """The observable gauge of one meter provider's instruments, over the buses it watches."""

    def __init__(self, metrics: Instruments) -> None:
        self.buses: weakref.WeakSet[BusBase] = weakref.WeakSet()
        metrics.meter.create_observable_gauge(
            DEAD_LETTER_DEPTH,
            callbacks=[self.observe],
            unit="{message}",
            description="Dead letters a bus holds now, summed per messaging system.",
        )

    def observe(self, options: object) -> Iterable[Any]:
        from opentelemetry.metrics import Observation

        depth: dict[str, int] = {}
        for bus in list(self.buses):
            system = system_of(bus)
            depth[system] = depth.get(system, 0) + len(bus._dead_letters)
        return [Observation(count, {SYSTEM: system}) for system, count in depth.items()]


_gauges: weakref.WeakKeyDictionary[Instruments, _DepthGauge] = weakref.WeakKeyDictionary()


def watch_bus(bus: BusBase) -> None:
    """Report *bus*'s dead letters in the depth gauge (held weakly; metrics are on)."""
    metrics = telemetry.metrics
    if metrics is None:
        return
    gauge = _gauges.get(metrics)
    if gauge is None:
        gauge = _gauges[metrics] = _DepthGauge(metrics)
    gauge.buses.add(bus)
