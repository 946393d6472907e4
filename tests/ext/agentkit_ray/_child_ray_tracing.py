"""Child process of test_ray_tracing: a second Ray driver whose workers trace to a file.

Usage: ``python _child_ray_tracing.py <ray address> <worker spans file> <repo root>``.

It joins the running Ray as a new job whose ``worker_process_setup_hook`` gives each worker
an SDK tracer provider that appends its finished spans (as JSON lines) to the file; the
driver traces with an in-memory exporter. It runs one task and one task that fails once
under a span "caller", then prints its own span records and ``DRIVER_PID=<pid>``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

ADDRESS, SPANS_FILE, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, ROOT)

import ray  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

import tests.observability._spans as spans_module  # noqa: E402
from agentkit.observability import instrument, telemetry  # noqa: E402
from agentkit_ray import RayExecutor  # noqa: E402

MARKER = SPANS_FILE + ".failed-once"


def setup_worker() -> None:
    """Runs once in every worker process of this job: trace into SPANS_FILE."""
    from collections.abc import Sequence

    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace import TracerProvider as WorkerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class FileExporter(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            with open(SPANS_FILE, "a", encoding="utf-8") as file:
                file.write(spans_module.dump_spans(spans) + "\n")
            return SpanExportResult.SUCCESS

    provider = WorkerProvider()
    provider.add_span_processor(SimpleSpanProcessor(FileExporter()))
    trace.set_tracer_provider(provider)


def work(value: int) -> int:
    """A task that works."""
    return value * 2


def flaky() -> str:
    """A task that fails on its first attempt and works on the next."""
    if not os.path.exists(MARKER):
        Path(MARKER).touch()
        raise ConnectionError("first attempt fails")
    return "ok"


async def main() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument(tracer_provider=provider)
    assert telemetry.tracer is not None
    executor = RayExecutor(backoff_base=0.01)
    executor.start()
    with telemetry.tracer.start_as_current_span("caller"):
        ok = await executor.submit(work, 21, name="work")
        retried = await executor.submit(flaky, max_attempts=2, name="flaky")
    results: list[Any] = [
        await executor.result(ok, timeout=120),
        await executor.result(retried, timeout=120),
    ]
    assert results == [42, "ok"], results
    await executor.shutdown()
    print(spans_module.dump_spans(exporter.get_finished_spans()))
    print(f"DRIVER_PID={os.getpid()}")


if __name__ == "__main__":
    ray.cloudpickle.register_pickle_by_value(spans_module)  # type: ignore[no-untyped-call]
    ray.init(
        address=ADDRESS,
        runtime_env={"worker_process_setup_hook": setup_worker},
        log_to_driver=False,
    )
    try:
        asyncio.run(main())
    finally:
        ray.shutdown()
