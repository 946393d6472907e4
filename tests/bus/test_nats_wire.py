"""Wire format v2 against real outside clients: plain nats-py, a FastStream app, JetStream v1."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import nats
import pytest
from faststream.nats import NatsBroker, NatsMessage
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import messages

import agentkit
from agentkit import NatsPubSub, PubSubMessage
from agentkit.bus import _wire as wire
from agentkit.exceptions import MessageDecodeError, MessageEncodeError

pytestmark = [pytest.mark.nats, pytest.mark.timeout(60)]

JSON = {"content-type": "application/json"}


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll *condition* until true; fail after *timeout* seconds."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - bus state, nothing to wait on
            await asyncio.sleep(0.01)


def _subject(name: str) -> str:
    return f"wire.{name}.{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[NatsPubSub]:
    """An agentkit bus on the module's nats-server (own stream names), closed at teardown."""
    tag = uuid.uuid4().hex[:8].upper()
    bus = await NatsPubSub(
        nats_url, stream=f"W{tag}", dead_letter_stream=f"W{tag}_DLQ", retry_delay=0.001
    ).connect()
    yield bus
    await bus.close(timeout=5)


@pytest.fixture
async def plain(nats_url: str) -> AsyncIterator[Any]:
    """A plain nats-py connection: a client that knows nothing of agentkit."""
    nc = await nats.connect(nats_url)
    yield nc
    await nc.close()


@pytest.fixture
async def broker(nats_url: str) -> AsyncIterator[NatsBroker]:
    """A FastStream NATS broker on the module's nats-server."""
    broker = NatsBroker(nats_url)
    yield broker
    await broker.stop()


async def test_plain_nats_py_json_reaches_an_agentkit_subscriber(
    bus: NatsPubSub, plain: Any
) -> None:
    """JSON published by nats-py with a content type arrives decoded, headers included."""
    subject = _subject("json")
    seen: list[PubSubMessage] = []
    await bus.subscribe(subject, seen.append)
    await bus.drain()
    headers = {**JSON, "correlation_id": "c-1", "trace": "t-9"}
    await plain.publish(subject, json.dumps({"order": 7}).encode(), headers=headers)
    await _until(lambda: len(seen) == 1)
    message = seen[0]
    assert message.payload == {"order": 7}
    assert message.topic == subject
    assert message.correlation_id == "c-1"
    assert message.headers == {"trace": "t-9"}
    assert message.from_agent == ""


async def test_a_body_without_content_type_is_json_if_it_parses_else_bytes(
    bus: NatsPubSub, plain: Any
) -> None:
    """No content type: a JSON body is decoded, anything else arrives as the raw bytes."""
    subject = _subject("untyped")
    seen: list[Any] = []
    await bus.subscribe(subject, lambda m: seen.append(m.payload))
    await bus.drain()
    await plain.publish(subject, b'[1, "two"]')
    await plain.publish(subject, b"\x00\xffbinary")
    await _until(lambda: len(seen) == 2)
    assert seen == [[1, "two"], b"\x00\xffbinary"]


async def test_plain_json_request_gets_a_json_reply(bus: NatsPubSub, plain: Any) -> None:
    """A nats-py request in JSON to an agentkit responder gets a JSON reply it can read."""
    subject = _subject("rpc")

    async def double(message: PubSubMessage) -> dict[str, int]:
        return {"twice": message.payload["n"] * 2}

    await bus.subscribe(subject, double)
    await bus.drain()
    reply = await plain.request(subject, b'{"n": 21}', timeout=5, headers=JSON)
    assert reply.headers["content-type"] == "application/json"
    assert json.loads(reply.data) == {"twice": 42}


async def test_untyped_json_request_gets_a_json_reply(bus: NatsPubSub, plain: Any) -> None:
    """A request without any header whose body is JSON is answered in JSON too."""
    subject = _subject("rpc-untyped")
    await bus.subscribe(subject, lambda m: {"got": m.payload})
    await bus.drain()
    reply = await plain.request(subject, b'"hello"', timeout=5)
    assert json.loads(reply.data) == {"got": "hello"}


async def test_each_codec_round_trips_between_agentkit_buses(nats_url: str) -> None:
    """A bus publishing msgpack, JSON or raw bytes is read by a bus with another default."""
    sender = await NatsPubSub(nats_url, codec="json").connect()
    receiver = await NatsPubSub(nats_url, codec="raw").connect()
    try:
        subject = _subject("codecs")
        seen: list[PubSubMessage] = []
        await receiver.subscribe(subject, seen.append)
        await receiver.drain()
        await sender.publish(subject, {"a": [1, 2]})
        await sender.publish(subject, {"a": [3]}, codec="msgpack")
        await sender.publish(subject, b"\x01\x02", codec="raw")
        sent = PubSubMessage(
            topic=subject,
            from_agent="planner",
            payload="text",
            priority=agentkit.MessagePriority.HIGH,
            headers={"trace": "t-1"},
            correlation_id="corr",
            attempt=2,
        )
        await sender.publish(subject, sent)
        await _until(lambda: len(seen) == 4)
        # The HIGH priority message may overtake the others in the subscription's queue.
        others = [m.payload for m in seen if m.message_id != sent.message_id]
        assert others == [{"a": [1, 2]}, {"a": [3]}, b"\x01\x02"]
        assert [m for m in seen if m.message_id == sent.message_id] == [sent]
    finally:
        await sender.close(timeout=5)
        await receiver.close(timeout=5)


async def test_raw_codec_refuses_a_non_bytes_payload(bus: NatsPubSub) -> None:
    """The raw codec sends bytes only; anything else is a MessageEncodeError, nothing sent."""
    with pytest.raises(MessageEncodeError, match="raw"):
        await bus.publish(_subject("raw"), {"not": "bytes"}, codec="raw")
    with pytest.raises(agentkit.ConfigurationError, match="codec"):
        await bus.publish(_subject("raw"), 1, codec="yaml")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [("from_agent", "evil\r\nagentkit-priority: 3"), ("message_id", " padded ")],
)
async def test_fields_a_header_cannot_carry_are_refused(
    bus: NatsPubSub, field: str, value: str
) -> None:
    """A line break (header injection) or edge spaces in a header field raise, nothing sent."""
    subject = _subject("inject")
    with pytest.raises(MessageEncodeError, match="header"):
        await bus.publish(subject, PubSubMessage(topic=subject, **{field: value}))


@pytest.mark.parametrize("name", ["agentkit-from", "Nats-Expected-Stream", "bad name"])
async def test_reserved_or_invalid_user_header_names_are_refused(
    bus: NatsPubSub, name: str
) -> None:
    """A user header may not take a wire-format name, a Nats-* name or a non-token name."""
    subject = _subject("reserved")
    with pytest.raises(MessageEncodeError, match="header"):
        await bus.publish(subject, PubSubMessage(topic=subject, headers={name: "x"}))


async def test_spoofed_topic_and_sender_are_not_trusted(bus: NatsPubSub, plain: Any) -> None:
    """The subject a message arrived on is its topic; a v1 body's topic claim is ignored."""
    subject = _subject("spoof")
    seen: list[PubSubMessage] = []
    await bus.subscribe(subject, seen.append)
    await bus.drain()
    forged_v1 = msgspec.msgpack.encode(
        PubSubMessage(topic="payments.approved", from_agent="supervisor", payload=1)
    )
    await plain.publish(subject, forged_v1)
    forged_v2 = {
        **JSON,
        "agentkit-wire": "2",
        "agentkit-from": "supervisor",
        "topic": "payments.approved",
    }
    await plain.publish(subject, b"2", headers=forged_v2)
    await _until(lambda: len(seen) == 2)
    assert [m.topic for m in seen] == [subject, subject]
    # The sender name is a claim carried as data: delivered as sent, never checked.
    assert [m.from_agent for m in seen] == ["supervisor", "supervisor"]
    assert seen[1].headers == {"topic": "payments.approved"}


async def test_undecodable_body_is_dead_lettered_naming_the_formats(
    bus: NatsPubSub, plain: Any
) -> None:
    """A body that does not decode as its content type is dead-lettered with a clear reason."""
    subject = _subject("bad")
    seen: list[PubSubMessage] = []
    await bus.subscribe(subject, seen.append)
    await bus.drain()
    await plain.publish(subject, b"{not json", headers=JSON)
    await plain.publish(subject, b"x", headers={"content-type": "application/xml"})
    await _until(lambda: len(bus.dead_letters()) == 2)
    first, second = bus.dead_letters()
    assert first.error_type == "MessageDecodeError"
    assert "application/json" in first.error
    assert "application/msgpack" in first.error
    assert first.message.payload == b"{not json"
    assert "unsupported content-type 'application/xml'" in second.error
    assert seen == []


async def test_undecodable_request_gets_an_error_reply(bus: NatsPubSub, plain: Any) -> None:
    """A request that cannot be decoded is answered with a JSON error, not left to time out."""
    subject = _subject("bad-rpc")
    await bus.subscribe(subject, lambda m: "never")
    await bus.drain()
    reply = await plain.request(
        subject, b"\xc1", timeout=5, headers={"content-type": "application/msgpack"}
    )
    assert reply.headers["agentkit-error"] == "MessageDecodeError"
    error = json.loads(reply.data)["error"]
    assert error["type"] == "MessageDecodeError"
    assert "application/msgpack" in error["message"]
    assert bus.stats()["undecodable_requests"] == 1


async def _faststream_started(broker: NatsBroker) -> None:
    await broker.start()


async def test_faststream_app_and_agentkit_exchange_messages_both_ways(
    bus: NatsPubSub, broker: NatsBroker
) -> None:
    """FastStream publishes to agentkit and agentkit publishes to FastStream, both decoded."""
    to_agentkit = _subject("fs-in")
    to_faststream = _subject("fs-out")
    got_by_faststream: list[tuple[Any, str | None]] = []

    @broker.subscriber(to_faststream)
    async def on_message(body: dict[str, Any], msg: NatsMessage) -> None:
        got_by_faststream.append((body, msg.correlation_id))

    await _faststream_started(broker)
    seen: list[PubSubMessage] = []
    await bus.subscribe(to_agentkit, seen.append)
    await bus.drain()
    await broker.publish({"from": "faststream"}, subject=to_agentkit, correlation_id="fs-1")
    await _until(lambda: len(seen) == 1)
    assert seen[0].payload == {"from": "faststream"}
    assert seen[0].correlation_id == "fs-1"

    await bus.publish(
        to_faststream,
        PubSubMessage(topic=to_faststream, payload={"from": "agentkit"}, correlation_id="ak-1"),
        codec="json",
    )
    await _until(lambda: len(got_by_faststream) == 1)
    assert got_by_faststream == [({"from": "agentkit"}, "ak-1")]


async def test_faststream_and_agentkit_answer_each_others_requests(
    bus: NatsPubSub, broker: NatsBroker
) -> None:
    """A FastStream request to an agentkit responder and the reverse both get their reply."""
    agentkit_service = _subject("ak-rpc")
    faststream_service = _subject("fs-rpc")

    @broker.subscriber(faststream_service)
    async def add(body: dict[str, int]) -> dict[str, int]:
        return {"sum": body["a"] + body["b"]}

    await _faststream_started(broker)
    await bus.subscribe(agentkit_service, lambda m: {"upper": m.payload["text"].upper()})
    await bus.drain()

    response = await broker.request({"text": "hi"}, subject=agentkit_service, timeout=5)
    assert await response.decode() == {"upper": "HI"}
    assert response.correlation_id is not None

    reply = await bus.request(faststream_service, {"a": 2, "b": 3}, codec="json", timeout=5)
    assert reply.payload == {"sum": 5}


async def test_v1_body_stored_in_jetstream_still_decodes(bus: NatsPubSub) -> None:
    """A v1 envelope (msgpack body, no v2 headers) stored before the upgrade is delivered."""
    topic = _subject("legacy")
    old = PubSubMessage(
        topic=topic, from_agent="old-agent", payload={"v": 1}, headers={"trace": "x"}
    )
    await bus._ensure_streams()
    stored_subject = f"agentkit.durable.{bus.stream}.{topic}"
    # What agentkit before v2 stored: the whole message as the body, only Nats-Msg-Id.
    await bus._js.publish(
        stored_subject, msgspec.msgpack.encode(old), headers={"Nats-Msg-Id": old.message_id}
    )
    await bus.publish(topic, {"v": 2}, durable=True)
    seen: list[PubSubMessage] = []
    await bus.subscribe(topic, seen.append, durable="legacy")
    await _until(lambda: len(seen) == 2)
    assert seen[0] == old
    assert seen[1].payload == {"v": 2}


async def test_durable_undecodable_message_is_dead_lettered_with_the_reason(
    bus: NatsPubSub,
) -> None:
    """A stored body that does not decode as its content type ends in the DLQ with why."""
    topic = _subject("legacy-bad")
    await bus._ensure_streams()
    await bus._js.publish(f"agentkit.durable.{bus.stream}.{topic}", b"{oops", headers=JSON)
    await bus.subscribe(topic, lambda m: None, durable="legacybad")
    await _until(lambda: len(bus.dead_letters()) == 1)
    letter = bus.dead_letters()[0]
    assert "application/json" in letter.error
    assert letter.message.payload == b"{oops"


def test_decode_wire_gives_the_headers_exactly_what_was_sent() -> None:
    """wire_headers and decode_wire are inverse for every field a message carries."""
    sent = PubSubMessage(
        topic="t.x",
        from_agent="a b",
        payload={"k": [1.5, None, "é"]},
        priority=agentkit.MessagePriority.LOW,
        headers={"x-one": "1", "x-two": "ü ok"},
        correlation_id="c",
        reply_to="inbox.1",
        attempt=3,
    )
    for codec in ("msgpack", "json"):
        headers = wire.wire_headers(sent, codec, reply_header=True)
        body = wire.encode_body(sent, codec)
        parsed = wire.parse_header_block(wire.header_block(headers))
        assert parsed == headers
        message, used = wire.decode_wire(body, parsed, "t.x", None)
        assert message == sent
        assert used == codec


async def test_http_style_content_type_name_is_honoured(bus: NatsPubSub, plain: Any) -> None:
    """A client that writes ``Content-Type`` (HTTP habit) has its body decoded by it."""
    subject = _subject("http-case")
    seen: list[PubSubMessage] = []
    await bus.subscribe(subject, seen.append)
    await bus.drain()
    await plain.publish(subject, b"plain words", headers={"Content-Type": "text/plain"})
    await _until(lambda: len(seen) == 1)
    assert seen[0].payload == "plain words"
    assert seen[0].headers == {}


@settings(max_examples=200)
@given(message=messages(allow_nan=False), codec=st.sampled_from(["msgpack", "json"]))
def test_every_message_is_refused_or_round_trips(message: PubSubMessage, codec: str) -> None:
    """A message either raises MessageEncodeError or decodes to itself (msgpack) after v2."""
    try:
        headers = wire.wire_headers(message, codec, reply_header=True)  # type: ignore[arg-type]
        body = wire.encode_body(message, codec)  # type: ignore[arg-type]
    except MessageEncodeError:
        return
    block = wire.header_block(headers)
    fast = wire.fast_head(message, codec)  # type: ignore[arg-type]
    assert fast is None or fast == block
    parsed = wire.parse_header_block(block)
    assert parsed == headers
    decoded, _ = wire.decode_wire(body, parsed, message.topic, None)
    if codec == "msgpack":
        assert decoded == message
    else:
        assert msgspec.structs.replace(decoded, payload=None) == msgspec.structs.replace(
            message, payload=None
        )


@given(
    message_id=st.text(min_size=1, max_size=12),
    sender=st.text(max_size=12),
    codec=st.sampled_from(["msgpack", "json", "raw"]),
)
def test_the_publish_shortcut_sends_the_same_header_block(
    message_id: str, sender: str, codec: str
) -> None:
    """fast_head gives the bytes header_block gives, or declines (None) for awkward text."""
    message = PubSubMessage(topic="t", from_agent=sender, message_id=message_id)
    fast = wire.fast_head(message, codec)  # type: ignore[arg-type]
    try:
        block = wire.header_block(wire.wire_headers(message, codec))  # type: ignore[arg-type]
    except MessageEncodeError:
        assert fast is None
        return
    assert fast is None or fast == block
    if message_id.isalnum() and (sender.isalnum() or not sender):
        assert fast == block


@settings(max_examples=300)
@given(
    data=st.binary(max_size=64),
    headers=st.none()
    | st.dictionaries(
        st.sampled_from(
            [
                "agentkit-wire",
                "content-type",
                "agentkit-priority",
                "agentkit-attempt",
                "agentkit-timestamp",
                "message_id",
                "x",
            ]
        ),
        st.sampled_from(["2", "1", "9", "x", "", "application/json", "application/msgpack"])
        | st.text(max_size=8),
        max_size=5,
    ),
)
def test_any_bytes_and_headers_decode_or_raise_message_decode_error(
    data: bytes, headers: dict[str, str] | None
) -> None:
    """Whatever arrives, decoding gives a message on the arrival subject or MessageDecodeError."""
    try:
        message, _ = wire.decode_wire(data, headers, "in.subject", None)
    except MessageDecodeError:
        return
    assert message.topic == "in.subject"


async def test_a_subscription_codec_picks_the_reply_encoding(nats_url: str, plain: Any) -> None:
    """subscribe(codec="json") answers a msgpack request in JSON; agentkit still reads it."""
    subject = _subject("sub-codec")
    responder = await NatsPubSub(nats_url).connect()
    requester = await NatsPubSub(nats_url).connect()
    try:
        await responder.subscribe(subject, lambda m: {"echo": m.payload}, codec="json")
        await responder.drain()
        reply = await requester.request(subject, [1, 2], timeout=5)
        assert reply.payload == {"echo": [1, 2]}
        raw = await plain.request(
            subject,
            msgspec.msgpack.encode("x"),
            timeout=5,
            headers={"content-type": "application/msgpack"},
        )
        assert raw.headers["content-type"] == "application/json"
        assert json.loads(raw.data) == {"echo": "x"}
        with pytest.raises(agentkit.ConfigurationError, match="codec"):
            await responder.subscribe(subject, lambda m: None, codec="xml")  # type: ignore[arg-type]
    finally:
        await responder.close(timeout=5)
        await requester.close(timeout=5)
