"""The bus beside its anchors: asyncio.Queue in process, raw nats-py over NATS.

Each figure is an agentkit benchmark and an anchor doing the same work in the same run;
``conftest.py`` prints them paired with the ratio. Run with
``pytest benchmarks --benchmark-only`` (figures) or ``--benchmark-disable`` (a smoke test).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import msgspec
import nats
import pytest
from _util import Counter, Figure, Round, release, run_figure

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
        await release(self, "bus")


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


#: The in-memory figure's sides: the bus copying messages or not, and the queue.
IN_MEMORY_SIDES = [
    pytest.param(
        partial(BusDeliveryRound, copy_messages=True),
        Figure(IN_MEMORY, "agentkit", "InMemoryPubSub(copy_messages=True)", MESSAGES, target=0.5),
        id="copy",
    ),
    pytest.param(
        partial(BusDeliveryRound, copy_messages=False),
        Figure(IN_MEMORY, "agentkit", "InMemoryPubSub(copy_messages=False)", MESSAGES, target=0.5),
        id="no-copy",
    ),
    pytest.param(
        QueueDeliveryRound,
        Figure(IN_MEMORY, "anchor", "asyncio.Queue", MESSAGES),
        id="anchor-queue",
    ),
]


@pytest.mark.parametrize(("make", "spec"), IN_MEMORY_SIDES)
def test_in_memory(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    make: Callable[[], BusDeliveryRound | QueueDeliveryRound],
    spec: Figure,
) -> None:
    """InMemoryPubSub (copying or not) and asyncio.Queue deliver all 20,000 messages."""

    async def make_round() -> Round:
        return await make().open()

    run_figure(benchmark, bench_loop, pytestconfig, make_round, spec)


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
        await release(self, "bus")


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
        await release(self, "nc")


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
        await release(self, "requester", "responder")


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
        await release(self, "requester", "responder")


# -- the NATS figures: publish→handler and request/reply, each beside raw nats-py --------------


#: Both NATS figures, each side with the subject it uses.
NATS_SIDES = [
    pytest.param(
        partial(NatsBusDeliveryRound, subject="bench.nats.bus"),
        Figure(OVER_NATS, "agentkit", "NatsPubSub", MESSAGES, target=0.8),
        id="publish",
    ),
    pytest.param(
        partial(RawNatsDeliveryRound, subject="bench.nats.raw"),
        Figure(OVER_NATS, "anchor", "raw nats-py", MESSAGES),
        id="publish-anchor-raw",
    ),
    pytest.param(
        partial(NatsBusRequestRound, subject="bench.req.bus"),
        Figure(REQUEST_REPLY, "agentkit", "NatsPubSub.request", REQUESTS, 7, "requests/s"),
        id="request-reply",
    ),
    pytest.param(
        partial(RawNatsRequestRound, subject="bench.req.raw"),
        Figure(REQUEST_REPLY, "anchor", "raw nc.request", REQUESTS, 7, "requests/s"),
        id="request-reply-anchor-raw",
    ),
]


@pytest.mark.nats
@pytest.mark.timeout(120)
@pytest.mark.parametrize(("make", "spec"), NATS_SIDES)
def test_over_nats(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    nats_server: NatsServer,
    pytestconfig: pytest.Config,
    make: Callable[[str], Any],
    spec: Figure,
) -> None:
    """Each NATS side handles all 20,000 messages, or gets all 2,000 replies right, per round."""

    async def make_round() -> Round:
        return await make(nats_server.url).open()  # type: ignore[no-any-return]

    run_figure(benchmark, bench_loop, pytestconfig, make_round, spec)
