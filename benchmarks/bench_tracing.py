"""What tracing costs the buses: publish→handler with tracing off and on, beside the anchors.

Each figure interleaves, in rounds in one process (``_interleave``), the anchor of
``bench_bus`` (``asyncio.Queue`` for the in-memory bus, raw nats-py with a msgspec encode and
decode per message for NATS), the bus with tracing **off** (no provider: the hot paths read
``telemetry.tracer``/``telemetry.metrics`` and go on) and the bus with tracing **on** (an SDK
``TracerProvider`` with a ``SimpleSpanProcessor`` over an exporter that drops every span, so
the figure is agentkit's and the SDK's span work, not an exporter's). The off ratio can be set
beside the ratio ``bench_bus`` publishes; the on/off ratio is printed too.

``test_api_not_installed`` measures the off path in whole processes: the same in-memory loop
in a child process that blocks the import of OpenTelemetry (``sys.modules["opentelemetry"] =
None`` before agentkit is imported) and in one that may import it, each beside its own
``asyncio.Queue`` anchor. Run with
``AGENTKIT_BENCH_ROUNDS=5 pytest benchmarks/bench_tracing.py --benchmark-only -s``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from _interleave import Side, report, run_interleaved
from _util import Round, rounds
from bench_bus import (
    MESSAGES,
    BusDeliveryRound,
    NatsBusDeliveryRound,
    QueueDeliveryRound,
    RawNatsDeliveryRound,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import agentkit.observability as observability
from agentkit.testing import NatsServer

IN_MEMORY = "in-memory publish→handler, tracing"
OVER_NATS = "NATS publish→handler, tracing"


class DropSpans(SpanExporter):
    """An exporter that does nothing: what is measured is making the spans."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Drop *spans*."""
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""


def _provider() -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(DropSpans()))
    return provider


def _side(make: Callable[[], Awaitable[Round]], *, traced: bool) -> Callable[[], Awaitable[float]]:
    """One round of *make* (setup and teardown untimed), with tracing on if *traced*."""
    provider = _provider() if traced else None

    async def timed() -> float:
        if provider is not None:
            observability.instrument(tracer_provider=provider)
        try:
            work = await make()
            try:
                loop = asyncio.get_running_loop()
                started = loop.time()
                done = await work.run()
                seconds = loop.time() - started
            finally:
                await work.close()
        finally:
            if provider is not None:
                observability.uninstrument()
        assert done == MESSAGES, f"{done} of {MESSAGES} messages handled"
        return seconds

    return timed


def _report_all(
    config: pytest.Config,
    figure: str,
    anchor: Side,
    off: Side,
    on: Side,
    times: dict[str, list[float]],
) -> None:
    report(config, f"{figure} off", off, anchor, times, unit="msg")
    report(config, f"{figure} on", on, anchor, times, unit="msg")
    per_round = sorted(o / t for o, t in zip(times[off.key], times[on.key], strict=True))
    ratio = statistics.median(times[off.key]) / statistics.median(times[on.key])
    print(f"{figure}: speed on/off {ratio:.2f}x (per round {per_round[0]:.2f}-{per_round[-1]:.2f})")


def test_in_memory(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """The in-memory bus (no copies) with tracing off and on handles every message per round."""
    runs = {
        "queue": _side(lambda: QueueDeliveryRound().open(), traced=False),
        "off": _side(lambda: BusDeliveryRound(copy_messages=False).open(), traced=False),
        "on": _side(lambda: BusDeliveryRound(copy_messages=False).open(), traced=True),
    }
    times = run_interleaved(benchmark, bench_loop, runs, rounds(10))
    if times is None:
        return
    _report_all(
        request.config,
        IN_MEMORY,
        Side("queue", "anchor", "asyncio.Queue", MESSAGES),
        Side("off", "agentkit", "InMemoryPubSub(copy_messages=False), tracing off", MESSAGES),
        Side("on", "agentkit", "InMemoryPubSub(copy_messages=False), tracing on", MESSAGES),
        times,
    )


@pytest.mark.nats
@pytest.mark.timeout(600)
def test_over_nats(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    nats_server: NatsServer,
    request: pytest.FixtureRequest,
) -> None:
    """NatsPubSub with tracing off and on, beside raw nats-py, handles every message per round."""
    url = nats_server.url
    runs = {
        "raw": _side(
            lambda: RawNatsDeliveryRound(url, "trace.raw", codec=True).open(), traced=False
        ),
        "off": _side(lambda: NatsBusDeliveryRound(url, "trace.off").open(), traced=False),
        "on": _side(lambda: NatsBusDeliveryRound(url, "trace.on").open(), traced=True),
    }
    times = run_interleaved(benchmark, bench_loop, runs, rounds(10))
    if times is None:
        return
    _report_all(
        request.config,
        OVER_NATS,
        Side("raw", "anchor", "raw nats-py, msgspec encode+decode per message", MESSAGES),
        Side("off", "agentkit", "NatsPubSub, tracing off", MESSAGES),
        Side("on", "agentkit", "NatsPubSub, tracing on", MESSAGES),
        times,
    )


# -- the API not installed: whole processes -------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import asyncio, json, statistics, sys, time
    if sys.argv[1] == "blocked":
        sys.modules["opentelemetry"] = None  # import opentelemetry now raises ImportError
    from agentkit import InMemoryPubSub, PubSubMessage
    from agentkit.observability import telemetry

    MESSAGES = int(sys.argv[2])
    ROUNDS = int(sys.argv[3])

    class Counter:
        def __init__(self):
            self.seen = 0
            self.done = asyncio.get_running_loop().create_future()
        async def handle(self, message):
            self.seen += 1
            if self.seen == MESSAGES:
                self.done.set_result(None)

    async def bus_round():
        counter = Counter()
        bus = InMemoryPubSub(copy_messages=False)
        await bus.subscribe("bench.x", counter.handle)
        started = time.perf_counter()
        for i in range(MESSAGES):
            await bus.publish("bench.x", PubSubMessage(topic="bench.x", payload={"i": i}))
        await counter.done
        seconds = time.perf_counter() - started
        await bus.close()
        return seconds

    async def queue_round():
        counter = Counter()
        queue = asyncio.Queue(maxsize=10_000)
        async def consume():
            while True:
                await counter.handle(await queue.get())
        task = asyncio.get_running_loop().create_task(consume())
        started = time.perf_counter()
        for i in range(MESSAGES):
            await queue.put(PubSubMessage(topic="bench.x", payload={"i": i}))
        await counter.done
        seconds = time.perf_counter() - started
        task.cancel()
        return seconds

    async def main():
        telemetry.refresh()
        assert telemetry.tracer is None and telemetry.metrics is None
        sides = {"queue": queue_round, "bus": bus_round}
        times = {key: [] for key in sides}
        for index in range(ROUNDS + 1):
            order = list(sides) if index % 2 else list(reversed(sides))
            for key in order:
                seconds = await sides[key]()
                if index:
                    times[key].append(seconds / MESSAGES * 1e6)
        print(json.dumps({
            "otel_imported": "opentelemetry.trace" in sys.modules,
            **{key: values for key, values in times.items()},
        }))

    asyncio.run(main())
    """
)


def _child(mode: str, count: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(MESSAGES), str(count)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        cwd=Path(__file__).parent,
    )
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def test_api_not_installed(benchmark: Any) -> None:
    """The off path in a process that cannot import OpenTelemetry, beside one that can."""
    count = rounds(10) if benchmark.enabled else 1
    measured: dict[str, dict[str, Any]] = {}

    def run_all() -> None:
        # Alternate the two kinds of process so drift hits both alike.
        for index in range(2):
            for mode in ("blocked", "allowed") if index % 2 == 0 else ("allowed", "blocked"):
                data = _child(mode, max(1, count // 2))
                entry = measured.setdefault(mode, {"queue": [], "bus": []})
                entry["otel_imported"] = data["otel_imported"]
                entry["queue"] += data["queue"]
                entry["bus"] += data["bus"]

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    assert measured["blocked"]["otel_imported"] is False
    if not benchmark.enabled:
        return
    for mode, entry in measured.items():
        queue, bus = entry["queue"], entry["bus"]
        ratios = sorted(q / b for q, b in zip(queue, bus, strict=True))
        print(
            f"\nin-memory publish→handler, OpenTelemetry {mode}: bus median"
            f" {statistics.median(bus):.2f} µs/msg (rounds {min(bus):.2f}-{max(bus):.2f}),"
            f" asyncio.Queue {statistics.median(queue):.2f} µs/msg; speed ratio"
            f" {statistics.median(queue) / statistics.median(bus):.2f}x"
            f" (per round {ratios[0]:.2f}-{ratios[-1]:.2f})",
            end="",
        )
    print()
