"""The bus beside its anchors: asyncio.Queue in process, raw nats-py over NATS.

Each figure is an agentkit benchmark and an anchor doing the same work in the same run;
``conftest.py`` prints them paired with the ratio. Run with
``pytest benchmarks --benchmark-only`` (figures) or ``--benchmark-disable`` (a smoke test).
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import nats
import pytest
from _util import Counter, measure, record, rounds

from agentkit import InMemoryPubSub, NatsPubSub, PubSubMessage
from agentkit.testing import NatsServer

#: Messages per round of the delivery figures.
MESSAGES = 20_000
#: Sequential requests per round of the latency figure.
REQUESTS = 2_000
#: Generous: a round takes well under a second; this only stops a hung round.
ROUND_TIMEOUT = 60.0

IN_MEMORY = "in-memory publish→handler"
OVER_NATS = "NATS publish→handler"
REQUEST_REPLY = "NATS request/reply round trip"


# -- 1. in-memory bus vs asyncio.Queue ----------------------------------------------------


class BusDeliveryRound:
    """Publish MESSAGES to one subscription of an InMemoryPubSub until its handler saw all."""

    def __init__(self, *, copy_messages: bool) -> None:
        self.copy_messages = copy_messages
        self.bus: InMemoryPubSub | None = None

    async def open(self) -> BusDeliveryRound:
        self.counter = Counter(MESSAGES)
        self.bus = InMemoryPubSub(copy_messages=self.copy_messages)
        await self.bus.subscribe("bench.x", self.counter.handle)
        return self

    async def run(self) -> int:
        assert self.bus is not None
        publish = self.bus.publish
        for i in range(MESSAGES):
            await publish("bench.x", PubSubMessage(topic="bench.x", payload={"i": i}))
        await asyncio.wait_for(self.counter.done, ROUND_TIMEOUT)
        return self.counter.seen

    async def close(self) -> None:
        bus, self.bus = self.bus, None
        if bus is not None:
            await bus.close()


class QueueDeliveryRound:
    """The anchor: the same messages through a bare asyncio.Queue to one consumer task."""

    async def open(self) -> QueueDeliveryRound:
        self.counter = Counter(MESSAGES)
        self.queue: asyncio.Queue[PubSubMessage] = asyncio.Queue(maxsize=10_000)
        self.consumer: asyncio.Task[None] | None = asyncio.get_running_loop().create_task(
            self._consume()
        )
        return self

    async def _consume(self) -> None:
        get = self.queue.get
        handle = self.counter.handle
        while True:
            await handle(await get())

    async def run(self) -> int:
        put = self.queue.put
        for i in range(MESSAGES):
            await put(PubSubMessage(topic="bench.x", payload={"i": i}))
        await asyncio.wait_for(self.counter.done, ROUND_TIMEOUT)
        return self.counter.seen

    async def close(self) -> None:
        consumer, self.consumer = self.consumer, None
        if consumer is not None:
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)


@pytest.mark.parametrize("copy_messages", [True, False], ids=["copy", "no-copy"])
def test_in_memory_bus(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    copy_messages: bool,
) -> None:
    """InMemoryPubSub delivers every one of 20,000 messages to an async handler."""

    async def make_round() -> BusDeliveryRound:
        return await BusDeliveryRound(copy_messages=copy_messages).open()

    measure(benchmark, bench_loop, make_round, expected=MESSAGES, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=IN_MEMORY,
        role="agentkit",
        label=f"InMemoryPubSub(copy_messages={copy_messages})",
        operations=MESSAGES,
        target=0.5,
    )


def test_in_memory_anchor_queue(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """asyncio.Queue(maxsize=10_000) passes the same 20,000 messages to the same handler."""

    async def make_round() -> QueueDeliveryRound:
        return await QueueDeliveryRound().open()

    measure(benchmark, bench_loop, make_round, expected=MESSAGES, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=IN_MEMORY,
        role="anchor",
        label="asyncio.Queue",
        operations=MESSAGES,
    )


# -- 2. NatsPubSub vs raw nats-py, publish→handler ----------------------------------------


class NatsBusDeliveryRound:
    """Publish MESSAGES through NatsPubSub to one core subscription until its handler saw all."""

    def __init__(self, url: str, subject: str) -> None:
        self.url = url
        self.subject = subject
        self.bus: NatsPubSub | None = None

    async def open(self) -> NatsBusDeliveryRound:
        self.counter = Counter(MESSAGES)
        self.bus = await NatsPubSub(self.url, name="agentkit-bench").connect()
        await self.bus.subscribe(self.subject, self.counter.handle)
        return self

    async def run(self) -> int:
        assert self.bus is not None
        publish = self.bus.publish
        subject = self.subject
        for i in range(MESSAGES):
            await publish(subject, PubSubMessage(topic=subject, payload={"i": i}))
        await asyncio.wait_for(self.counter.done, ROUND_TIMEOUT)
        return self.counter.seen

    async def close(self) -> None:
        bus, self.bus = self.bus, None
        if bus is not None:
            await bus.close()


class RawNatsDeliveryRound:
    """The anchor: nc.subscribe with a counting callback, nc.publish of pre-encoded bytes."""

    def __init__(self, url: str, subject: str) -> None:
        self.url = url
        self.subject = subject
        self.nc: Any = None
        # A dict shaped like an agentkit message, encoded once: the same bytes on the wire.
        sample = PubSubMessage(topic=subject, payload={"i": 0})
        self.data = msgspec.msgpack.encode(msgspec.structs.asdict(sample))

    async def open(self) -> RawNatsDeliveryRound:
        self.counter = Counter(MESSAGES)
        self.nc = await nats.connect(self.url, name="raw-bench")
        await self.nc.subscribe(self.subject, cb=self.counter.handle)
        return self

    async def run(self) -> int:
        publish = self.nc.publish
        subject = self.subject
        data = self.data
        for _ in range(MESSAGES):
            await publish(subject, data)
        await asyncio.wait_for(self.counter.done, ROUND_TIMEOUT)
        return self.counter.seen

    async def close(self) -> None:
        nc, self.nc = self.nc, None
        if nc is not None:
            await nc.close()


@pytest.mark.nats
@pytest.mark.timeout(120)
def test_nats_bus(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    nats_server: NatsServer,
    pytestconfig: pytest.Config,
) -> None:
    """NatsPubSub delivers every one of 20,000 messages to an async handler over NATS."""

    async def make_round() -> NatsBusDeliveryRound:
        return await NatsBusDeliveryRound(nats_server.url, "bench.nats.bus").open()

    measure(benchmark, bench_loop, make_round, expected=MESSAGES, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=OVER_NATS,
        role="agentkit",
        label="NatsPubSub",
        operations=MESSAGES,
        target=0.8,
    )


@pytest.mark.nats
@pytest.mark.timeout(120)
def test_nats_anchor_raw(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    nats_server: NatsServer,
    pytestconfig: pytest.Config,
) -> None:
    """Raw nats-py delivers the same 20,000 messages to a counting callback."""

    async def make_round() -> RawNatsDeliveryRound:
        return await RawNatsDeliveryRound(nats_server.url, "bench.nats.raw").open()

    measure(benchmark, bench_loop, make_round, expected=MESSAGES, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=OVER_NATS,
        role="anchor",
        label="raw nats-py",
        operations=MESSAGES,
    )


# -- 3. request/reply round trip over NATS ------------------------------------------------


class NatsBusRequestRound:
    """REQUESTS sequential NatsPubSub.request calls answered by a NatsPubSub subscription."""

    def __init__(self, url: str, subject: str) -> None:
        self.url = url
        self.subject = subject
        self.requester: NatsPubSub | None = None
        self.responder: NatsPubSub | None = None

    async def open(self) -> NatsBusRequestRound:
        self.responder = await NatsPubSub(self.url, name="agentkit-responder").connect()
        await self.responder.subscribe(self.subject, _echo_payload)
        # A flush round trip: the server has the subscription before the first request.
        await self.responder.drain()
        self.requester = await NatsPubSub(self.url, name="agentkit-requester").connect()
        return self

    async def run(self) -> int:
        assert self.requester is not None
        request = self.requester.request
        subject = self.subject
        answered = 0
        for i in range(REQUESTS):
            reply = await request(subject, {"i": i}, timeout=5.0)
            answered += reply.payload == {"i": i}
        return answered

    async def close(self) -> None:
        for attribute in ("requester", "responder"):
            bus = getattr(self, attribute)
            setattr(self, attribute, None)
            if bus is not None:
                await bus.close()


async def _echo_payload(message: PubSubMessage) -> Any:
    return message.payload


class RawNatsRequestRound:
    """The anchor: REQUESTS sequential nc.request calls answered by a raw responder."""

    def __init__(self, url: str, subject: str) -> None:
        self.url = url
        self.subject = subject
        self.requester: Any = None
        self.responder: Any = None
        sample = PubSubMessage(topic=subject, payload={"i": 0})
        self.data = msgspec.msgpack.encode(msgspec.structs.asdict(sample))

    async def open(self) -> RawNatsRequestRound:
        self.responder = await nats.connect(self.url, name="raw-responder")

        async def respond(msg: Any) -> None:
            await msg.respond(msg.data)

        await self.responder.subscribe(self.subject, cb=respond)
        await self.responder.flush()
        self.requester = await nats.connect(self.url, name="raw-requester")
        return self

    async def run(self) -> int:
        request = self.requester.request
        subject = self.subject
        data = self.data
        answered = 0
        for _ in range(REQUESTS):
            reply = await request(subject, data, timeout=5.0)
            answered += reply.data == data
        return answered

    async def close(self) -> None:
        for attribute in ("requester", "responder"):
            nc = getattr(self, attribute)
            setattr(self, attribute, None)
            if nc is not None:
                await nc.close()


@pytest.mark.nats
@pytest.mark.timeout(120)
def test_request_reply(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    nats_server: NatsServer,
    pytestconfig: pytest.Config,
) -> None:
    """NatsPubSub.request gets 2,000 sequential replies from a NatsPubSub handler."""

    async def make_round() -> NatsBusRequestRound:
        return await NatsBusRequestRound(nats_server.url, "bench.req.bus").open()

    measure(benchmark, bench_loop, make_round, expected=REQUESTS, rounds=rounds(7))
    record(
        benchmark,
        pytestconfig,
        figure=REQUEST_REPLY,
        role="agentkit",
        label="NatsPubSub.request",
        operations=REQUESTS,
        unit="requests/s",
    )


@pytest.mark.nats
@pytest.mark.timeout(120)
def test_request_reply_anchor_raw(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    nats_server: NatsServer,
    pytestconfig: pytest.Config,
) -> None:
    """Raw nc.request gets 2,000 sequential replies from a raw responder."""

    async def make_round() -> RawNatsRequestRound:
        return await RawNatsRequestRound(nats_server.url, "bench.req.raw").open()

    measure(benchmark, bench_loop, make_round, expected=REQUESTS, rounds=rounds(7))
    record(
        benchmark,
        pytestconfig,
        figure=REQUEST_REPLY,
        role="anchor",
        label="raw nc.request",
        operations=REQUESTS,
        unit="requests/s",
    )
