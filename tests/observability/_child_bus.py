"""A subscriber in its own OS process: handles one message over NATS, prints its spans.

Usage: ``_child_bus.py URL core|durable SUBJECT STREAM``. It instruments agentkit with its own
SDK tracer provider, subscribes (a core subscription, or the durable one named ``worker`` on
*STREAM*), prints ``ready`` once the server has the subscription, handles one message (in
``durable`` mode the first attempt raises, so the message comes back from JetStream for a
second attempt), closes the bus and prints every finished span as a JSON line.
"""

from __future__ import annotations

import asyncio
import sys

from _spans import dump_spans  # type: ignore[import-not-found]
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentkit import NatsPubSub, PubSubMessage
from agentkit.observability import instrument


async def main(url: str, mode: str, subject: str, stream: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument(tracer_provider=provider)
    tracer = provider.get_tracer("child")
    done = asyncio.get_running_loop().create_future()

    async def handle(message: PubSubMessage) -> None:
        with tracer.start_as_current_span("handler work"):
            if mode == "durable" and message.attempt == 1:
                raise RuntimeError("first attempt fails on purpose")
        if not done.done():
            done.set_result(message.attempt)

    bus = NatsPubSub(
        url, stream=stream, dead_letter_stream=f"{stream}_DLQ", retry_delay=0.05, ack_wait=5.0
    )
    await bus.connect()
    durable = "worker" if mode == "durable" else None
    await bus.subscribe(subject, handle, durable=durable)
    await bus.drain()
    print("ready", flush=True)
    await asyncio.wait_for(done, 30)
    await bus.close(timeout=5)
    print(dump_spans(exporter.get_finished_spans()), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
