"""OpenTelemetry traces and metrics for agentkit, through the OpenTelemetry API only.

agentkit emits spans and metrics when an OpenTelemetry SDK is configured and costs nothing
measurable otherwise: every instrumented path reads one attribute (:data:`telemetry`'s
``tracer`` or ``metrics``) and goes on when it is ``None``. The API comes with the ``otel``
extra (``pip install 'agentkit-kernel[otel]'``); without it agentkit never traces.

Two ways to turn it on:

- set the global providers before building buses, registries, swarms and executors
  (``opentelemetry.trace.set_tracer_provider(...)``, ``opentelemetry.metrics.set_meter_provider
  (...)``, or ``opentelemetry-instrument``): agentkit looks for them whenever one of those is
  created or connects, and when a bus starts a subscription;
- or call :func:`instrument` with the providers to use (tests pass an SDK provider with an
  in-memory exporter this way; the global providers can only be set once per process).

:func:`uninstrument` turns it off again (and goes back to following the global providers).

This module imports nothing from OpenTelemetry until tracing or metrics are on, so importing
agentkit stays fast. The names below are public for plugin authors who instrument their own
components the same way (check ``telemetry.tracer``, then use the OpenTelemetry API).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from agentkit._version import __version__
from agentkit.exceptions import MissingExtraError
from agentkit.observability._render import render_trace, traces

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = [
    "INSTRUMENTATION_NAME",
    "Instruments",
    "LabelLimiter",
    "MAX_LABEL_VALUES",
    "OTHER_LABEL",
    "Telemetry",
    "extract_context",
    "inject_context",
    "instrument",
    "is_instrumented",
    "render_trace",
    "telemetry",
    "traces",
    "uninstrument",
]

#: The instrumentation scope name of every agentkit tracer and meter.
INSTRUMENTATION_NAME = "agentkit"
#: The OpenTelemetry semantic conventions the attributes follow.
SCHEMA_URL = "https://opentelemetry.io/schemas/1.30.0"
#: How many distinct values one metric attribute may take before the rest read as OTHER_LABEL.
MAX_LABEL_VALUES = 200
#: The value a metric attribute takes once it has MAX_LABEL_VALUES distinct values.
OTHER_LABEL = "_other"


class LabelLimiter:
    """Bounds the distinct values of one metric attribute (subject patterns, tool names...).

    The first :data:`MAX_LABEL_VALUES` values pass through; any later new value reads as
    :data:`OTHER_LABEL`, so a metric never gets a time series per message id or raw subject.
    """

    __slots__ = ("_limit", "_lock", "_seen")

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        seen = self._seen
        if value in seen:
            return value
        with self._lock:
            if len(seen) >= self._limit:
                return OTHER_LABEL
            seen.add(value)
        return value


class Instruments:
    """The metric instruments agentkit records to, made once per meter provider.

    Names follow OpenTelemetry's messaging conventions where one exists
    (``messaging.client.sent.messages``, ``messaging.client.consumed.messages``,
    ``messaging.process.duration``) and sit under ``agentkit.`` otherwise. Attributes are
    bounded: subject patterns (the subscription's pattern, never a raw subject with ids), tool
    names, voting methods, outcomes, breaker names, error types; each through a
    :class:`LabelLimiter`.
    """

    def __init__(self, provider: MeterProvider) -> None:
        meter = provider.get_meter(INSTRUMENTATION_NAME, __version__, schema_url=SCHEMA_URL)
        self.meter = meter
        #: Messages published, by messaging.system and messaging.destination.template.
        self.sent_messages = meter.create_counter(
            "messaging.client.sent.messages",
            unit="{message}",
            description="Messages a bus published.",
        )
        #: Messages handed to a handler (each attempt), by subscription pattern.
        self.consumed_messages = meter.create_counter(
            "messaging.client.consumed.messages",
            unit="{message}",
            description="Messages delivered to a handler, one per attempt.",
        )
        #: Handler latency in seconds; error.type set when the handler raised.
        self.process_duration = meter.create_histogram(
            "messaging.process.duration",
            unit="s",
            description="How long a handler took with one message.",
        )
        #: Handler attempts that raised, by subscription pattern and error.type.
        self.failed_messages = meter.create_counter(
            "agentkit.messaging.failed",
            unit="{message}",
            description="Handler attempts that raised.",
        )
        #: Messages that became dead letters, by subscription pattern and error.type.
        self.dead_letters = meter.create_counter(
            "agentkit.messaging.dead_letters",
            unit="{message}",
            description="Messages kept as dead letters.",
        )
        #: Tool call latency in seconds, by gen_ai.tool.name and error.type.
        self.tool_duration = meter.create_histogram(
            "agentkit.tool.duration",
            unit="s",
            description="How long execute_tool took, by tool.",
        )
        #: Consensus rounds, by voting method and outcome.
        self.consensus_rounds = meter.create_counter(
            "agentkit.consensus.rounds",
            unit="{round}",
            description="Consensus rounds, by method and outcome.",
        )
        #: Circuit breaker transitions, by breaker name and the state entered.
        self.breaker_transitions = meter.create_counter(
            "agentkit.breaker.transitions",
            unit="{transition}",
            description="Circuit breaker state changes, by the state entered.",
        )
        #: Executor task latency in seconds, by executor and outcome.
        self.task_duration = meter.create_histogram(
            "agentkit.task.duration",
            unit="s",
            description="How long an executor task took, from submit to its result.",
        )
        #: Label limiters, one per attribute that could otherwise grow without bound.
        self.subjects = LabelLimiter()
        self.tools = LabelLimiter()
        self.names = LabelLimiter()
        self.errors = LabelLimiter()


class Telemetry:
    """What the instrumented paths read: a tracer and the instruments, or ``None`` each.

    ``tracer`` is ``None`` unless a real tracer provider is in use; ``metrics`` is ``None``
    unless a real meter provider is. Hot paths read these attributes and nothing else when
    they are ``None``.
    """

    __slots__ = ("_explicit", "_meter_provider", "_tracer_provider", "metrics", "tracer")

    def __init__(self) -> None:
        self.tracer: Tracer | None = None
        self.metrics: Instruments | None = None
        self._explicit = False
        self._tracer_provider: object = None
        self._meter_provider: object = None

    def refresh(self) -> None:
        """Follow the global OpenTelemetry providers, unless :func:`instrument` chose others.

        Cheap when OpenTelemetry was never imported (nobody can have set a provider then):
        one dictionary lookup. Called when buses, registries, swarms and executors are made.
        """
        if self._explicit or "opentelemetry.trace" not in sys.modules:
            return
        from opentelemetry import metrics, trace

        self._use(trace.get_tracer_provider(), metrics.get_meter_provider())

    def _use(self, tracer_provider: object, meter_provider: object) -> None:
        from opentelemetry import metrics, trace

        if tracer_provider is not self._tracer_provider:
            self._tracer_provider = tracer_provider
            # The API's proxy and no-op providers record nothing: leave tracing off for them.
            if isinstance(
                tracer_provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
            ) or not isinstance(tracer_provider, trace.TracerProvider):
                self.tracer = None
            else:
                self.tracer = tracer_provider.get_tracer(
                    INSTRUMENTATION_NAME, __version__, schema_url=SCHEMA_URL
                )
        if meter_provider is not self._meter_provider:
            self._meter_provider = meter_provider
            # The API's proxy meter provider is private; found by name, skipped if it moved.
            noop: tuple[type, ...] = (metrics.NoOpMeterProvider,)
            proxy_type = getattr(getattr(metrics, "_internal", None), "_ProxyMeterProvider", None)
            if isinstance(proxy_type, type):
                noop = (metrics.NoOpMeterProvider, proxy_type)
            if isinstance(meter_provider, noop) or not isinstance(
                meter_provider, metrics.MeterProvider
            ):
                self.metrics = None
            else:
                self.metrics = Instruments(meter_provider)


#: The one telemetry state of the process.
telemetry = Telemetry()


def _require_api() -> None:
    try:
        import opentelemetry.metrics
        import opentelemetry.trace  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("OpenTelemetry tracing and metrics", "otel") from exc


def instrument(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> None:
    """Trace and measure agentkit with these providers (the global ones where ``None``).

    Takes effect at once for every bus, registry, swarm and executor of the process. Raises
    :class:`~agentkit.exceptions.MissingExtraError` without the ``otel`` extra.
    """
    _require_api()
    from opentelemetry import metrics, trace

    telemetry._explicit = True
    telemetry._use(
        tracer_provider if tracer_provider is not None else trace.get_tracer_provider(),
        meter_provider if meter_provider is not None else metrics.get_meter_provider(),
    )


def uninstrument() -> None:
    """Stop tracing and measuring; agentkit follows the global providers again from now on."""
    telemetry._explicit = False
    telemetry.tracer = None
    telemetry.metrics = None
    telemetry._tracer_provider = None
    telemetry._meter_provider = None
    telemetry.refresh()


def is_instrumented() -> bool:
    """True when agentkit records spans or metrics right now."""
    return telemetry.tracer is not None or telemetry.metrics is not None


def inject_context(headers: MutableMapping[str, str], context: Context | None = None) -> None:
    """Write the W3C trace context (``traceparent``, ``tracestate``) of *context* into *headers*.

    *context* defaults to the current one. Uses the globally configured propagator, so a
    process set up for other formats (B3, baggage) sends those too.
    """
    from opentelemetry import propagate

    propagate.inject(headers, context=context)


def extract_context(headers: Mapping[str, str]) -> Context | None:
    """The trace context carried in *headers*, or ``None`` when they carry none."""
    if not headers:
        return None
    from opentelemetry import propagate

    carrier: Any = headers
    return propagate.extract(carrier)
