"""What tracing costs execute_tool: off (no SDK), on (spans and metrics), beside today's anchors.

All sides are **interleaved in rounds** in one process (``_interleave``), each round doing
5,000 sequential ``execute_tool`` calls of the trivial inline tool of ``bench_tools.py``:

* **off**: no OpenTelemetry SDK (``uninstrument()``): the path every user without the ``otel``
  extra takes; the issue's mark is at most 2 % over the code before tracing, which is why the
  jsonschema anchor of ``bench_tools.py`` runs in the same rounds (its ratio is comparable
  with the README's figure);
* **on**: ``instrument()`` with an SDK ``TracerProvider`` (a ``SimpleSpanProcessor`` into an
  exporter that drops the spans, so export costs nothing) and an SDK ``MeterProvider`` (an
  in-memory reader): one span ``execute_tool <name>`` and one histogram point per call;
* **jsonschema** (anchor): ``Draft202012Validator.is_valid`` alone on the same parameters;
* **direct** (anchor): ``shorten(**params)``, the floor.

Run with ``pytest benchmarks/bench_tracing_tools.py --benchmark-only -s``
(``AGENTKIT_BENCH_ROUNDS=3`` for a short run); under ``--benchmark-disable`` every side runs
once on a few calls and its answers are checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from _interleave import Side, interleave_async, report
from _util import rounds
from bench_tools import CALLS, _call_sides
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import agentkit.observability as observability


class CountingExporter(SpanExporter):
    """Drops spans, counting them (the sides check every call made one)."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Count *spans* and forget them."""
        self.count += len(spans)
        return SpanExportResult.SUCCESS


def _sides(calls: int) -> dict[str, Callable[[], Any]]:
    """bench_tools' sides (the same registry, tool and anchors), execute_tool off and on."""
    sides = _call_sides(calls)
    execute = sides.pop("execute_tool")
    exporter = CountingExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])

    async def off() -> float:
        observability.uninstrument()
        assert not observability.is_instrumented()
        elapsed: float = await execute()
        return elapsed

    async def on() -> float:
        observability.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        before = exporter.count
        try:
            elapsed: float = await execute()
        finally:
            observability.uninstrument()
        assert exporter.count - before == calls
        return elapsed

    return {"off": off, "on": on, **sides}


def test_execute_tool_tracing(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """execute_tool with tracing off and on, jsonschema alone and the direct call, interleaved."""
    enabled = bool(benchmark.enabled)
    calls = CALLS if enabled else 20
    measured: dict[str, dict[str, list[float]]] = {}

    def run_all() -> None:
        measured["times"] = bench_loop.run_until_complete(
            interleave_async(_sides(calls), rounds(10) if enabled else 1)
        )

    try:
        benchmark.pedantic(run_all, rounds=1, iterations=1)
    finally:
        observability.uninstrument()
    if not enabled:
        return
    times = measured["times"]
    off = Side("off", "agentkit", "execute_tool, tracing off", calls)
    on = Side("on", "agentkit", "execute_tool, spans and metrics on (SDK)", calls)
    report(
        pytestconfig,
        "execute_tool (tracing off) vs jsonschema validation alone",
        off,
        Side("jsonschema", "anchor", "Draft202012Validator.is_valid", calls),
        times,
        target=1.0,
        unit="call",
    )
    report(
        pytestconfig,
        "execute_tool (tracing off) vs calling the function directly",
        off,
        Side("direct", "anchor", "shorten(**params)", calls),
        times,
        unit="call",
    )
    report(
        pytestconfig,
        "execute_tool: tracing on vs off",
        on,
        Side("off", "anchor", "execute_tool, tracing off", calls),
        times,
        unit="call",
    )
