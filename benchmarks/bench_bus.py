"""The bus beside its anchors, the sides **interleaved in rounds** in one process.

* in-memory publish→handler: ``InMemoryPubSub(copy_messages=False)`` and the default
  (copying) bus beside an ``asyncio.Queue`` carrying the same ``PubSubMessage`` to one
  consumer task that awaits the same counting handler;
* NATS publish→handler: ``NatsPubSub`` beside raw nats-py that builds the same message,
  encodes it with msgspec and decodes it in the subscription callback (the fair anchor: the
  work agentkit did on top of the transport with the v1 layout: one msgpack body, no
  headers), beside raw nats-py sending the v2 layout through its public API (the payload as
  the body, the same headers: the work agentkit must do now), and beside raw nats-py
  sending pre-encoded bytes to a callback that only counts (the transport alone);
* NATS request/reply: ``NatsPubSub.request`` beside raw ``nc.request``.

Every round times each side once on fresh objects (setup and teardown untimed, a
``gc.collect()`` before each timed run so no side pays for another's garbage), the order of
the sides rotating from round to round, so drift on a shared machine hits every side alike.
The medians, the spread over rounds (min-max) and the ratio of medians are printed (``-s``),
in wall time and in this process's CPU time (what the other jobs on a shared machine do not
distort); the wall-time medians are recorded for the conftest table. Run with
``pytest benchmarks/bench_bus.py --benchmark-only -s``; under ``--benchmark-disable`` each
side runs once and must complete all its work.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import nats
import pytest
from _util import RESULTS_KEY, Counter, Round, release, rounds

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
OVER_NATS_BYTES = "NATS publish→handler, beside pre-encoded bytes"
OVER_NATS_V2 = "NATS publish→handler, beside raw nats-py sending the v2 layout"
REQUEST_REPLY = "NATS request/reply round trip"

MakeRound = Callable[[], Awaitable[Round]]


# -- interleaving ---------------------------------------------------------------------------


async def _timed(make: MakeRound) -> tuple[float, float, int]:
    """Wall and CPU seconds of one fresh round's ``run`` (setup and teardown untimed).

    CPU time is this process's: on a shared machine it leaves out the time other jobs held
    the CPU (for NATS it also leaves out nats-server's work, the same for every side).
    """
    work = await make()
    try:
        gc.collect()
        cpu = time.process_time()
        started = time.perf_counter()
        done = await work.run()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await work.close()
    return seconds, cpu, done


#: CPU seconds per round of each side, kept beside the wall times under the same key.
_CPU = "cpu:"


async def _interleaved(
    sides: dict[str, MakeRound], timed_rounds: int, *, expected: int, warm_up: bool
) -> dict[str, list[float]]:
    """Wall seconds per round of each side (and CPU seconds under ``cpu:<side>``).

    The order of the sides rotates every round.
    """
    names = list(sides)
    if warm_up:
        for name in names:
            await _timed(sides[name])
    times: dict[str, list[float]] = {key: [] for name in names for key in (name, _CPU + name)}
    for index in range(timed_rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, cpu, done = await _timed(sides[name])
            assert done == expected, f"{name}: {done} of {expected} operations in a round"
            times[name].append(seconds)
            times[_CPU + name].append(cpu)
    return times


def _report(
    config: pytest.Config,
    node: str,
    figure: str,
    entries: list[tuple[str, str, str]],
    times: dict[str, list[float]],
    operations: int,
    *,
    unit: str = "msgs/s",
    target: float | None = None,
) -> None:
    """Print each side's median and spread and record it; *entries* are (side, role, label).

    The first entry whose role is ``anchor`` is the figure's anchor; ratios are speeds
    (anchor time / side time), of the medians and per round (min-max over rounds).
    """
    anchor = next(side for side, role, _ in entries if role == "anchor")
    for side, role, label in entries:
        values = times[side]
        median = statistics.median(values)
        per_op = median / operations * 1e6
        spread = f"{min(values) / operations * 1e6:.2f}-{max(values) / operations * 1e6:.2f}"
        rate = operations / median
        cpu = statistics.median(times[_CPU + side]) / operations * 1e6
        line = (
            f"{figure}: {label}: median {per_op:.2f} µs/op wall (rounds {spread}),"
            f" {cpu:.2f} µs/op CPU"
        )
        if side != anchor:
            line += "; speed ratio to the anchor: " + ", ".join(
                _ratio(times[key + anchor], times[key + side]) for key in ("", _CPU)
            )
        print(line)
        info: dict[str, Any] = {
            "name": f"{node}[{side}]",
            "figure": figure,
            "role": role,
            "label": label,
            "unit": unit,
            "rate": rate,
            "median_s": median,
        }
        if unit == "msgs/s":
            info["msgs_per_s"] = rate
        else:
            info["requests_per_s"] = rate
            info["us_per_request"] = per_op
        if target is not None and role == "agentkit":
            info["target_ratio"] = target
        config.stash.setdefault(RESULTS_KEY, []).append(info)


def _ratio(anchor: list[float], side: list[float]) -> str:
    """Anchor time / side time: of the medians, and per round (min-max)."""
    per_round = sorted(a / s for a, s in zip(anchor, side, strict=True))
    ratio = statistics.median(anchor) / statistics.median(side)
    return f"{ratio:.2f}x (per round {per_round[0]:.2f}-{per_round[-1]:.2f}x)"


def _run(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    sides: dict[str, MakeRound],
    *,
    expected: int,
    default_rounds: int = 10,
) -> dict[str, list[float]] | None:
    """Interleave *sides*; None under ``--benchmark-disable`` (each side ran once, checked)."""
    enabled = bool(benchmark.enabled)
    timed_rounds = rounds(default_rounds) if enabled else 1
    measured: dict[str, dict[str, list[float]]] = {}

    def run_all() -> None:
        # The interleaving happens inside; pytest-benchmark times the whole session once.
        measured["times"] = loop.run_until_complete(
            _interleaved(sides, timed_rounds, expected=expected, warm_up=enabled)
        )

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    times = measured["times"]
    assert all(len(values) == timed_rounds for values in times.values())
    return times if enabled else None


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


def test_in_memory(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """Both in-memory buses and asyncio.Queue deliver all 20,000 messages in every round."""
    sides: dict[str, MakeRound] = {
        "queue": lambda: QueueDeliveryRound().open(),
        "no-copy": lambda: BusDeliveryRound(copy_messages=False).open(),
        "copy": lambda: BusDeliveryRound(copy_messages=True).open(),
    }
    times = _run(benchmark, bench_loop, sides, expected=MESSAGES)
    if times is None:
        return
    entries = [
        ("queue", "anchor", "asyncio.Queue"),
        ("no-copy", "agentkit", "InMemoryPubSub(copy_messages=False)"),
        ("copy", "agentkit", "InMemoryPubSub() (copies, default)"),
    ]
    _report(request.config, request.node.name, IN_MEMORY, entries, times, MESSAGES, target=0.8)


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
        await self.bus.drain()  # the server has the subscription before the first publish
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
    """Raw nats-py: ``nc.subscribe`` with a callback, ``nc.publish`` of each message.

    With *codec* (the fair anchor) the producer builds the same ``PubSubMessage`` and encodes
    it with msgspec for every publish, and the callback decodes it before the counting
    handler; without, the same bytes are encoded once and the callback only counts.
    """

    def __init__(self, url: str, subject: str, *, codec: bool) -> None:
        self.url = url
        self.subject = subject
        self.codec = codec
        self.nc: Any = None
        sample = PubSubMessage(topic=subject, payload={"i": 0})
        self.data = msgspec.msgpack.encode(sample)

    async def open(self) -> RawNatsDeliveryRound:
        self.counter = Counter(MESSAGES)
        self.nc = await nats.connect(self.url, name="raw-bench")
        handle = self.counter.handle
        if self.codec:
            decode = msgspec.msgpack.Decoder(PubSubMessage).decode

            async def on_message(msg: Any) -> None:
                await handle(decode(msg.data))

            await self.nc.subscribe(self.subject, cb=on_message)
        else:
            await self.nc.subscribe(self.subject, cb=handle)
        await self.nc.flush()
        return self

    async def run(self) -> int:
        publish = self.nc.publish
        subject = self.subject
        if self.codec:
            encode = msgspec.msgpack.Encoder().encode
            for i in range(MESSAGES):
                await publish(subject, encode(PubSubMessage(topic=subject, payload={"i": i})))
        else:
            data = self.data
            for _ in range(MESSAGES):
                await publish(subject, data)
        await asyncio.wait_for(self.counter.done, ROUND_TIMEOUT)
        return self.counter.seen

    async def close(self) -> None:
        await release(self, "nc")


class RawNatsV2DeliveryRound:
    """Raw nats-py doing by hand what the v2 layout asks: payload body plus headers.

    The producer builds the same ``PubSubMessage``, encodes its payload with msgspec and
    passes the v2 headers (marker, content type, id, timestamp) to ``nc.publish``; the
    callback decodes the body and builds the message from the headers nats-py parsed.
    """

    def __init__(self, url: str, subject: str) -> None:
        self.url = url
        self.subject = subject
        self.nc: Any = None

    async def open(self) -> RawNatsV2DeliveryRound:
        self.counter = Counter(MESSAGES)
        self.nc = await nats.connect(self.url, name="raw-v2-bench")
        handle = self.counter.handle
        decode = msgspec.msgpack.Decoder().decode
        subject = self.subject

        async def on_message(msg: Any) -> None:
            headers = msg.headers
            await handle(
                PubSubMessage(
                    topic=subject,
                    payload=decode(msg.data),
                    message_id=headers["message_id"],
                    timestamp=float(headers["agentkit-timestamp"]),
                )
            )

        await self.nc.subscribe(self.subject, cb=on_message)
        await self.nc.flush()
        return self

    async def run(self) -> int:
        publish = self.nc.publish
        subject = self.subject
        encode = msgspec.msgpack.Encoder().encode
        for i in range(MESSAGES):
            message = PubSubMessage(topic=subject, payload={"i": i})
            headers = {
                "agentkit-wire": "2",
                "content-type": "application/msgpack",
                "message_id": message.message_id,
                "agentkit-timestamp": repr(message.timestamp),
            }
            await publish(subject, encode(message.payload), headers=headers)
        await asyncio.wait_for(self.counter.done, ROUND_TIMEOUT)
        return self.counter.seen

    async def close(self) -> None:
        await release(self, "nc")


@pytest.mark.nats
@pytest.mark.timeout(300)
def test_over_nats(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    nats_server: NatsServer,
    request: pytest.FixtureRequest,
) -> None:
    """NatsPubSub and the three raw nats-py anchors handle all 20,000 messages every round."""
    url = nats_server.url
    sides: dict[str, MakeRound] = {
        "raw-msgspec": lambda: RawNatsDeliveryRound(url, "bench.nats.codec", codec=True).open(),
        "bus": lambda: NatsBusDeliveryRound(url, "bench.nats.bus").open(),
        "raw-bytes": lambda: RawNatsDeliveryRound(url, "bench.nats.raw", codec=False).open(),
        "raw-v2": lambda: RawNatsV2DeliveryRound(url, "bench.nats.v2").open(),
    }
    times = _run(benchmark, bench_loop, sides, expected=MESSAGES)
    if times is None:
        return
    node = request.node.name
    _report(
        request.config,
        node,
        OVER_NATS,
        [
            ("raw-msgspec", "anchor", "raw nats-py, msgspec encode+decode per message"),
            ("bus", "agentkit", "NatsPubSub"),
        ],
        times,
        MESSAGES,
        target=0.8,
    )
    _report(
        request.config,
        node,
        OVER_NATS_BYTES,
        [
            ("raw-bytes", "anchor", "raw nats-py, pre-encoded bytes"),
            ("bus", "agentkit", "NatsPubSub"),
        ],
        times,
        MESSAGES,
    )
    _report(
        request.config,
        node,
        OVER_NATS_V2,
        [
            ("raw-v2", "anchor", "raw nats-py, payload body + v2 headers (public API)"),
            ("bus", "agentkit", "NatsPubSub"),
        ],
        times,
        MESSAGES,
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
        self.data = msgspec.msgpack.encode(sample)

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


@pytest.mark.nats
@pytest.mark.timeout(300)
def test_request_reply(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    nats_server: NatsServer,
    request: pytest.FixtureRequest,
) -> None:
    """NatsPubSub.request and raw nc.request get all 2,000 replies right in every round."""
    url = nats_server.url
    sides: dict[str, MakeRound] = {
        "raw": lambda: RawNatsRequestRound(url, "bench.req.raw").open(),
        "bus": lambda: NatsBusRequestRound(url, "bench.req.bus").open(),
    }
    times = _run(benchmark, bench_loop, sides, expected=REQUESTS, default_rounds=7)
    if times is None:
        return
    entries = [
        ("raw", "anchor", "raw nc.request"),
        ("bus", "agentkit", "NatsPubSub.request"),
    ]
    _report(
        request.config,
        request.node.name,
        REQUEST_REPLY,
        entries,
        times,
        REQUESTS,
        unit="requests/s",
    )
