"""The telemetry switch: off by default, on with instrument(), context in headers."""

from __future__ import annotations

import subprocess
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

import agentkit.observability as observability
from agentkit.observability import OTHER_LABEL, LabelLimiter, telemetry

from .conftest import Recorded


def test_off_without_an_sdk() -> None:
    """With only the API's proxy providers, agentkit has no tracer and no instruments."""
    observability.uninstrument()
    assert telemetry.tracer is None
    assert telemetry.metrics is None
    assert not observability.is_instrumented()


def test_instrument_and_uninstrument(recorded: Recorded) -> None:
    """instrument() gives a recording tracer and instruments; uninstrument() takes them away."""
    assert telemetry.tracer is not None
    assert telemetry.metrics is not None
    with telemetry.tracer.start_as_current_span("probe") as span:
        assert span.is_recording()
    assert [span.name for span in recorded.spans()] == ["probe"]
    observability.uninstrument()
    assert telemetry.tracer is None
    assert telemetry.metrics is None


def test_context_round_trips_through_headers(recorded: Recorded) -> None:
    """A span's context injected into headers comes back out as the parent of a new span."""
    assert telemetry.tracer is not None
    headers: dict[str, str] = {}
    with telemetry.tracer.start_as_current_span("sender") as sender:
        observability.inject_context(headers)
    assert headers["traceparent"].startswith("00-")
    context = observability.extract_context(headers)
    with telemetry.tracer.start_as_current_span("receiver", context=context) as receiver:
        pass
    assert receiver.parent is not None
    assert receiver.parent.span_id == sender.get_span_context().span_id
    assert observability.extract_context({}) is None


def test_label_limiter_bounds_values() -> None:
    """After its limit of distinct values a limiter maps every new value to OTHER_LABEL."""
    limiter = LabelLimiter(limit=3)
    assert [limiter(value) for value in ["a", "b", "a", "c"]] == ["a", "b", "a", "c"]
    assert limiter("d") == OTHER_LABEL
    assert limiter("b") == "b"


def test_global_provider_is_followed_on_refresh() -> None:
    """A global SDK provider set in a fresh process is picked up when agentkit refreshes."""
    code = (
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from agentkit.observability import telemetry\n"
        "telemetry.refresh(); assert telemetry.tracer is None\n"
        "trace.set_tracer_provider(TracerProvider())\n"
        "telemetry.refresh(); assert telemetry.tracer is not None\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_importing_agentkit_does_not_import_opentelemetry() -> None:
    """`import agentkit` leaves OpenTelemetry unimported (tracing off costs no import time)."""
    code = "import sys, agentkit, agentkit.observability; print('opentelemetry' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "False", result.stderr


def test_sdk_provider_type_is_recognised() -> None:
    """An SDK TracerProvider counts as a real provider, the API's proxy does not."""
    observability.instrument(tracer_provider=TracerProvider())
    try:
        assert telemetry.tracer is not None
        observability.instrument(tracer_provider=trace.NoOpTracerProvider())
        assert telemetry.tracer is None
    finally:
        observability.uninstrument()


def test_without_the_api_agentkit_runs_and_instrument_names_the_extra() -> None:
    """Without OpenTelemetry, messages flow untraced and instrument() names the extra."""
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None  # as if the otel extra were not installed\n"
        "import asyncio, agentkit, agentkit.observability as o\n"
        "async def main():\n"
        "    seen = []\n"
        "    async with agentkit.InMemoryPubSub() as bus:\n"
        "        await bus.subscribe('a.b', seen.append)\n"
        "        sent = await bus.publish('a.b', {'x': 1})\n"
        "        await bus.drain()\n"
        "    assert [m.payload for m in seen] == [{'x': 1}] and not sent.headers\n"
        "asyncio.run(main())\n"
        "try:\n"
        "    o.instrument()\n"
        "except agentkit.MissingExtraError as exc:\n"
        "    print(exc.install_line)\n"
        "print(o.is_instrumented())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.split("\n")[:2] == ["pip install 'agentkit-kernel[otel]'", "False"], (
        result.stderr
    )
