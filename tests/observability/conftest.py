"""Fixtures for tracing and metrics tests: SDK providers with in-memory exporters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentkit.observability as observability


@dataclass
class Recorded:
    """What agentkit recorded during a test: finished spans and collected metrics."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self) -> tuple[ReadableSpan, ...]:
        """Every finished span so far, oldest first."""
        return self.exporter.get_finished_spans()

    def metric_points(self, name: str) -> list[tuple[dict[str, object], object]]:
        """(attributes, value) of every point of metric *name* (sum or histogram count)."""
        data = self.reader.get_metrics_data()
        points: list[tuple[dict[str, object], object]] = []
        if data is None:
            return points
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name != name:
                        continue
                    for point in metric.data.data_points:
                        value = getattr(point, "value", None)
                        if value is None:
                            value = getattr(point, "count", None)
                        points.append((dict(point.attributes or {}), value))
        return points


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    """agentkit instrumented with SDK providers whose spans and metrics the test can read."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    observability.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        yield Recorded(exporter, reader)
    finally:
        observability.uninstrument()
        tracer_provider.shutdown()
        meter_provider.shutdown()
