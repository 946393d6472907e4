"""NATS-only behaviour: JetStream durability, outages, restarts and slow consumers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest

import agentkit
from agentkit import NatsPubSub, PubSubMessage
from agentkit.bus._messages import decode_dead_letter
from agentkit.testing import NatsServer

pytestmark = [pytest.mark.nats, pytest.mark.timeout(90)]

WORKER = Path(__file__).with_name("_durable_worker.py")


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def server() -> Iterator[NatsServer]:
    """A nats-server of this test's own, so it can be killed and restarted freely."""
    with NatsServer() as nats_server:
        yield nats_server


@pytest.fixture
def names() -> dict[str, str]:
    """Stream, subject prefix and durable names no other test uses."""
    stream = _unique("S")
    return {"stream": stream, "dlq": f"{stream}_DLQ", "prefix": _unique("jobs")}


async def _bus(url: str, names: dict[str, str], **options: object) -> NatsPubSub:
    bus = await agentkit.connect(
        url,
        stream=names["stream"],
        dead_letter_stream=names["dlq"],
        reconnect_time_wait=0.1,
        **options,
    )
    assert isinstance(bus, NatsPubSub)
    return bus


@pytest.fixture
async def bus(server: NatsServer, names: dict[str, str]) -> AsyncIterator[NatsPubSub]:
    """A connected NatsPubSub with fast retries on the test's own server."""
    nats_bus = await _bus(server.url, names, retry_delay=0.01, max_retry_delay=0.05)
    yield nats_bus
    await nats_bus.close(timeout=5)


async def _wait_until(predicate: object, *, timeout: float = 30.0) -> None:
    assert callable(predicate)
    async with asyncio.timeout(timeout):
        # Polls state owned by another process or the server: there is no event to await.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_durable_delivers_and_acks_once(bus: NatsPubSub, names: dict[str, str]) -> None:
    """Durable messages reach the handler once each and are acked, so nothing comes back."""
    subject = f"{names['prefix']}.a"
    seen: list[int] = []
    await bus.subscribe(subject, lambda m: seen.append(m.payload), durable="acker")
    for index in range(20):
        await bus.publish(subject, index, durable=True)
    await _wait_until(lambda: len(seen) == 20)
    await asyncio.sleep(0.3)  # a redelivery, if acks were lost, would arrive within ack_wait
    assert seen == list(range(20))
    info = await bus._js.consumer_info(names["stream"], "acker")
    assert info.num_ack_pending == 0
    assert info.num_pending == 0


async def test_durable_failure_is_redelivered_then_dead_lettered(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """A durable handler that always fails is redelivered by the server, then kept in the DLQ."""
    subject = f"{names['prefix']}.bad"
    attempts: list[int] = []

    def always_fails(message: PubSubMessage) -> None:
        attempts.append(message.attempt)
        raise ValueError("cannot process")

    await bus.subscribe(subject, always_fails, durable="failing", max_attempts=3)
    sent = await bus.publish(subject, {"order": 7}, durable=True)
    await _wait_until(lambda: len(bus.dead_letters()) == 1)
    assert attempts == [1, 2, 3]
    letter = bus.dead_letters()[0]
    assert letter.message.message_id == sent.message_id
    assert letter.error_type == "ValueError"
    assert letter.attempts == 3
    assert letter.durable == "failing"
    # The dead letter is also stored in JetStream, so it outlives this process.
    stored = await bus._js.get_last_msg(names["dlq"], f"agentkit.dlq.{names['stream']}.failing")
    assert decode_dead_letter(stored.data).message.payload == {"order": 7}
    # The server terminated the message: no further redelivery.
    await asyncio.sleep(0.3)
    assert attempts == [1, 2, 3]


async def test_durable_redrive_delivers_again(bus: NatsPubSub, names: dict[str, str]) -> None:
    """A redriven durable dead letter is published again and handled once the bug is fixed."""
    subject = f"{names['prefix']}.redrive"
    broken = True
    handled: list[object] = []

    def handler(message: PubSubMessage) -> None:
        if broken:
            raise RuntimeError("downstream down")
        handled.append(message.payload)

    await bus.subscribe(subject, handler, durable="redriver", max_attempts=2)
    await bus.publish(subject, "payment-1", durable=True)
    await _wait_until(lambda: len(bus.dead_letters()) == 1)
    broken = False
    assert await bus.redrive() == 1
    await _wait_until(lambda: handled == ["payment-1"])
    assert bus.dead_letters() == []


async def test_durable_publish_deduplicates_by_message_id(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """Publishing the same message twice durably (a retry) stores and delivers it once."""
    subject = f"{names['prefix']}.dedup"
    seen: list[str] = []
    message = PubSubMessage(topic=subject, payload="once")
    await bus.publish(subject, message, durable=True)
    await bus.publish(subject, message, durable=True)
    await bus.subscribe(subject, lambda m: seen.append(m.message_id), durable="dedup")
    await _wait_until(lambda: len(seen) >= 1)
    await asyncio.sleep(0.3)
    assert seen == [message.message_id]


async def test_durable_survives_server_kill_mid_stream(
    server: NatsServer, bus: NatsPubSub, names: dict[str, str]
) -> None:
    """The server is killed and restarted mid-stream; every durable message is still handled."""
    subject = f"{names['prefix']}.outage"
    seen: set[int] = set()
    await bus.subscribe(subject, lambda m: seen.add(m.payload), durable="survivor")
    total = 60

    async def publish_all() -> None:
        for index in range(total):
            await bus.publish(subject, index, durable=True)
            await asyncio.sleep(0.005)

    publisher = asyncio.create_task(publish_all())
    await _wait_until(lambda: len(seen) >= 10)
    server.kill()
    await asyncio.sleep(0.5)
    server.start()
    await publisher
    await _wait_until(lambda: len(seen) == total, timeout=60)
    assert seen == set(range(total))
    assert bus.stats()["disconnects"] >= 1
    assert bus.stats()["reconnects"] >= 1


async def test_core_subscription_works_after_server_restart(
    server: NatsServer, bus: NatsPubSub, names: dict[str, str]
) -> None:
    """After the server restarts, the client reconnects and core subscriptions receive again."""
    subject = f"{names['prefix']}.core"
    seen: list[str] = []
    await bus.subscribe(subject, lambda m: seen.append(m.payload))
    await bus.publish(subject, "before")
    await _wait_until(lambda: seen == ["before"])
    server.restart()
    await _wait_until(lambda: bus.stats()["reconnects"] >= 1)
    await bus.publish(subject, "after")
    await _wait_until(lambda: seen == ["before", "after"])


def _start_worker(
    url: str, names: dict[str, str], subject: str, out: Path
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, names["stream"], subject, "proc", str(out), "0.02"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


async def test_durable_survives_restart_of_subscribing_process(
    server: NatsServer, bus: NatsPubSub, names: dict[str, str], tmp_path: Path
) -> None:
    """A worker process is killed mid-stream; a new one with the same durable finishes the rest."""
    subject = f"{names['prefix']}.proc"
    out = tmp_path / "handled.txt"
    out.touch()
    total = 40
    await bus._ensure_streams()
    first = await asyncio.to_thread(_start_worker, server.url, names, subject, out)
    try:
        for index in range(total):
            await bus.publish(subject, index, durable=True)
        await _wait_until(lambda: len(out.read_text().splitlines()) >= 5)
    finally:
        first.kill()
        first.wait(timeout=10)
    done_by_first = len(out.read_text().splitlines())
    assert done_by_first < total
    second = await asyncio.to_thread(_start_worker, server.url, names, subject, out)
    try:
        await _wait_until(
            lambda: {int(line) for line in out.read_text().splitlines()} == set(range(total)),
            timeout=60,
        )
    finally:
        second.kill()
        second.wait(timeout=10)


async def test_slow_consumer_is_counted(server: NatsServer, names: dict[str, str]) -> None:
    """A core subscriber too slow for its limits loses messages, and the loss is surfaced."""
    bus = await _bus(server.url, names, queue_size=1, pending_messages_limit=5)
    release = asyncio.Event()

    async def stuck(message: PubSubMessage) -> None:
        await release.wait()

    subject = f"{names['prefix']}.slow"
    await bus.subscribe(subject, stuck)
    for index in range(200):
        await bus.publish(subject, index)
    await _wait_until(lambda: bus.stats()["slow_consumer_events"] > 0)
    release.set()
    await bus.close(timeout=5)


async def test_undecodable_message_is_dead_lettered_with_raw_bytes(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """Bytes that are not an agentkit message are kept as a dead letter, never dropped."""
    subject = f"{names['prefix']}.raw"
    seen: list[object] = []
    await bus.subscribe(subject, lambda m: seen.append(m))
    # Wire v2: without a content type these bytes would be a raw payload; claiming msgpack,
    # they do not decode.
    await bus._nc.publish(
        subject, b"\xc1 not msgpack", headers={"content-type": "application/msgpack"}
    )
    await _wait_until(lambda: len(bus.dead_letters()) == 1)
    letter = bus.dead_letters()[0]
    assert letter.error_type == "MessageDecodeError"
    assert letter.message.payload == b"\xc1 not msgpack"
    assert seen == []
    assert bus.stats()["undecodable"] == 1


async def test_connect_failure_says_how_to_fix() -> None:
    """Connecting where no server listens raises ConnectionLostError naming nats-server."""
    from agentkit.testing import free_port

    with pytest.raises(agentkit.ConnectionLostError, match="nats-server"):
        await agentkit.connect(
            f"nats://127.0.0.1:{free_port()}", connect_timeout=0.2, initial_connect_timeout=1.0
        )


def test_stream_names_are_validated() -> None:
    """A stream name NATS would refuse is rejected when the bus is made."""
    with pytest.raises(agentkit.ConfigurationError, match="stream"):
        NatsPubSub("nats://127.0.0.1:4222", stream="bad name")


async def test_durable_messages_keep_their_wire_format(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """What JetStream stores is the v2 wire format the core bus sends: payload body, headers."""
    subject = f"{names['prefix']}.wire"
    sent = await bus.publish(subject, {"k": [1, 2]}, durable=True)
    stored = await bus._js.get_last_msg(
        names["stream"], f"agentkit.durable.{names['stream']}.{subject}"
    )
    assert msgspec.msgpack.decode(stored.data) == {"k": [1, 2]}
    assert stored.headers["message_id"] == sent.message_id
    assert stored.headers["agentkit-wire"] == "2"
    assert stored.headers["content-type"] == "application/msgpack"


def _stored_subject(names: dict[str, str], topic: str) -> str:
    return f"agentkit.durable.{names['stream']}.{topic}"


async def test_pattern_subscription_after_publish_to_a_concrete_topic(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """A durable publish to x.1 does not stop a durable subscription to x.> (nor new topics)."""
    prefix = names["prefix"]
    seen: list[tuple[str, int]] = []
    await bus.publish(f"{prefix}.1", 1, durable=True)
    await bus.subscribe(f"{prefix}.>", lambda m: seen.append((m.topic, m.payload)), durable="all")
    await bus.publish(f"{prefix}.2.deep", 2, durable=True)
    await _wait_until(lambda: len(seen) == 2)
    assert seen == [(f"{prefix}.1", 1), (f"{prefix}.2.deep", 2)]


async def test_new_durable_topics_leave_the_stream_unchanged(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """Publishing to many new durable topics never updates the stream's subjects."""
    for index in range(50):
        await bus.publish(f"{names['prefix']}.t{index}", index, durable=True)
    info = await bus._js.stream_info(names["stream"])
    assert info.config.subjects == [_stored_subject(names, ">")]
    assert info.state.messages == 50


async def test_durable_publish_also_reaches_core_subscribers(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """A core subscriber of a topic sees durable publishes to it, as on any NATS subject."""
    subject = f"{names['prefix']}.both"
    core: list[int] = []
    await bus.subscribe(subject, lambda m: core.append(m.payload))
    await bus.publish(subject, 5, durable=True)
    await _wait_until(lambda: core == [5])


async def test_consumer_has_no_server_side_delivery_cap(
    server: NatsServer, names: dict[str, str]
) -> None:
    """The consumer never lets the server give up (max_deliver -1) and bounds unacked messages."""
    bus = await _bus(server.url, names, max_ack_pending=64)
    try:
        await bus.subscribe(f"{names['prefix']}.cfg", lambda m: None, durable="cfg")
        info = await bus._js.consumer_info(names["stream"], "cfg")
        assert info.config.max_deliver == -1
        assert info.config.max_ack_pending == 64
    finally:
        await bus.close(timeout=5)


async def test_consumer_made_with_a_delivery_cap_is_updated(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """A durable consumer created earlier with max_deliver set loses the cap on subscribe."""
    import nats.js.api

    await bus._ensure_streams()
    subject = f"{names['prefix']}.old"
    await bus._js.add_consumer(
        names["stream"],
        config=nats.js.api.ConsumerConfig(
            name="old",
            durable_name="old",
            ack_policy=nats.js.api.AckPolicy.EXPLICIT,
            max_deliver=4,
            filter_subject=_stored_subject(names, subject),
        ),
    )
    await bus.subscribe(subject, lambda m: None, durable="old")
    info = await bus._js.consumer_info(names["stream"], "old")
    assert info.config.max_deliver == -1


async def test_pull_holds_no_more_than_the_handlers_can_take(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """Facing a backlog, the consumer never has more than 2 x max_concurrency unacked."""
    subject = f"{names['prefix']}.backlog"
    for index in range(300):
        await bus.publish(subject, index, durable=True)
    seen: list[int] = []

    async def slow(message: PubSubMessage) -> None:
        await asyncio.sleep(0.005)
        seen.append(message.payload)

    await bus.subscribe(subject, slow, durable="slow", max_concurrency=3)
    most = 0
    while len(seen) < 300:
        info = await bus._js.consumer_info(names["stream"], "slow")
        most = max(most, info.num_ack_pending)
        await asyncio.sleep(0.02)
    assert 0 < most <= 6
    assert sorted(seen) == list(range(300))


async def test_long_handler_is_kept_alive_with_in_progress_acks(
    server: NatsServer, names: dict[str, str]
) -> None:
    """A handler running 2.5 x ack_wait is not redelivered: in-progress acks extend it."""
    bus = await _bus(server.url, names, ack_wait=1.0)
    runs: list[int] = []

    async def long(message: PubSubMessage) -> None:
        runs.append(message.attempt)
        await asyncio.sleep(2.5)

    try:
        subject = f"{names['prefix']}.long"
        await bus.subscribe(subject, long, durable="long")
        await bus.publish(subject, "work", durable=True)
        await _wait_until(lambda: runs == [1])
        await asyncio.sleep(3.5)
        assert runs == [1]
        info = await bus._js.consumer_info(names["stream"], "long")
        assert info.num_redelivered == 0
        assert info.num_ack_pending == 0
    finally:
        await bus.close(timeout=5)


async def test_dead_letter_is_stored_before_the_message_is_terminated(
    server: NatsServer, names: dict[str, str]
) -> None:
    """When the dead-letter stream cannot store, the message comes back instead of vanishing."""
    bus = await _bus(server.url, names, durable_publish_timeout=0.3, retry_delay=0.01)
    try:
        subject = f"{names['prefix']}.dlq"
        await bus.subscribe(subject, _always_fails, durable="dlq", max_attempts=1)
        await bus._js.delete_stream(names["dlq"])
        await bus.publish(subject, "precious", durable=True)
        await _wait_until(lambda: bus.stats()["dead_letter_store_failures"] >= 2)
        assert bus.dead_letters() == []
        # The dead-letter stream comes back: the next delivery is stored, then terminated.
        await bus._ensure_stream(names["dlq"], f"agentkit.dlq.{names['stream']}.>", durable=False)
        # Stored, then terminated: nothing is left pending or unacknowledged on the server.
        async with asyncio.timeout(10):
            while True:
                info = await bus._js.consumer_info(names["stream"], "dlq")
                if not info.num_ack_pending and not info.num_pending:
                    break
                await asyncio.sleep(0.05)
        stored = await bus._js.get_last_msg(names["dlq"], f"agentkit.dlq.{names['stream']}.dlq")
        assert decode_dead_letter(stored.data).message.payload == "precious"
        assert len(bus.dead_letters()) == 1
    finally:
        await bus.close(timeout=5)


def _always_fails(message: PubSubMessage) -> None:
    raise ValueError("cannot process")


async def test_crash_redeliveries_end_in_the_dead_letter_stream(
    server: NatsServer, names: dict[str, str]
) -> None:
    """A message delivered more than max_deliveries times unsettled is dead-lettered, not run."""
    import nats.js.api

    bus = await _bus(server.url, names, max_deliveries=2)
    try:
        await bus._ensure_streams()
        subject = f"{names['prefix']}.crashy"
        config = nats.js.api.ConsumerConfig(
            name="crashy",
            durable_name="crashy",
            ack_policy=nats.js.api.AckPolicy.EXPLICIT,
            max_deliver=-1,
            filter_subject=_stored_subject(names, subject),
        )
        await bus._js.add_consumer(names["stream"], config=config)
        await bus.publish(subject, "poison", durable=True)
        # Two processes took it and died without settling it (a nak stands in for ack_wait).
        puller = await bus._js.pull_subscribe_bind(durable="crashy", stream=names["stream"])
        for _ in range(2):
            (msg,) = await puller.fetch(1, timeout=5)
            await msg.nak()
        await puller.unsubscribe()
        ran: list[object] = []
        await bus.subscribe(subject, ran.append, durable="crashy", max_attempts=1)
        await _wait_until(lambda: len(bus.dead_letters()) == 1)
        letter = bus.dead_letters()[0]
        assert letter.error_type == "LimitExceededError"
        assert "max_deliveries" in letter.error
        assert ran == []
    finally:
        await bus.close(timeout=5)


async def test_undecodable_durable_bytes_are_stored_as_a_dead_letter(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """Bytes in the stream that are no agentkit message end in the DLQ stream, then are termed."""
    subject = f"{names['prefix']}.junk"
    await bus._ensure_streams()
    # Wire v2: without a content type the bytes would be a raw payload; claiming msgpack,
    # they do not decode.
    await bus._js.publish(
        _stored_subject(names, subject),
        b"\xc1 not msgpack",
        headers={"content-type": "application/msgpack"},
    )
    await bus.subscribe(subject, lambda m: None, durable="junk")
    await _wait_until(lambda: len(bus.dead_letters()) == 1)
    stored = await bus._js.get_last_msg(names["dlq"], f"agentkit.dlq.{names['stream']}.junk")
    assert decode_dead_letter(stored.data).message.payload == b"\xc1 not msgpack"
    await asyncio.sleep(0.3)
    info = await bus._js.consumer_info(names["stream"], "junk")
    assert info.num_ack_pending == 0
    assert len(bus.dead_letters()) == 1


async def test_topic_is_the_subject_not_what_the_body_claims(
    bus: NatsPubSub, names: dict[str, str]
) -> None:
    """A body claiming another topic is delivered with the topic it was sent to."""
    subject = f"{names['prefix']}.real"
    forged = agentkit.bus._messages.encode_message(PubSubMessage(topic="admin.secret", payload=1))
    core: list[str] = []
    durable: list[str] = []
    await bus.subscribe(subject, lambda m: core.append(m.topic))
    await bus.subscribe(subject, lambda m: durable.append(m.topic), durable="forged")
    await bus._nc.publish(subject, forged)
    await bus._js.publish(_stored_subject(names, subject), forged)
    await _wait_until(lambda: core == [subject] and durable == [subject])


async def test_close_gives_in_flight_durable_messages_back(
    server: NatsServer, names: dict[str, str]
) -> None:
    """close(timeout) with a durable handler still running hands the message to the next process."""
    first = await _bus(server.url, names)
    started = asyncio.Event()

    async def stuck(message: PubSubMessage) -> None:
        started.set()
        await asyncio.Event().wait()

    subject = f"{names['prefix']}.handover"
    await first.subscribe(subject, stuck, durable="handover")
    await first.publish(subject, "job", durable=True)
    await asyncio.wait_for(started.wait(), 10)
    await first.close(timeout=0.2)
    assert first.dead_letters() == []
    second = await _bus(server.url, names)
    try:
        done: list[str] = []
        await second.subscribe(subject, lambda m: done.append(m.payload), durable="handover")
        await _wait_until(lambda: done == ["job"], timeout=10)
    finally:
        await second.close(timeout=5)
