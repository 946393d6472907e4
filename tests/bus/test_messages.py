"""Messages and their msgpack wire format: round trips, garbage, newer versions."""

from __future__ import annotations

import contextlib
import datetime
import math
import re

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import messages, payloads

from agentkit import MessageDecodeError, MessageEncodeError, MessagePriority, PubSubMessage
from agentkit.bus._messages import (
    WIRE_VERSION,
    DeadLetter,
    check_message,
    decode_dead_letter,
    decode_message,
    encode_message,
    new_message_id,
)


@given(message=messages())
def test_round_trip_is_byte_exact(message: PubSubMessage) -> None:
    """Encoding a decoded message gives back exactly the bytes it was decoded from."""
    data = encode_message(message)
    assert encode_message(decode_message(data)) == data


@given(message=messages(allow_nan=False))
def test_round_trip_keeps_every_field(message: PubSubMessage) -> None:
    """A decoded message equals the original, priority still a MessagePriority."""
    decoded = decode_message(encode_message(message))
    assert decoded == message
    assert type(decoded.priority) is MessagePriority


@given(payload=payloads())
def test_bare_nan_and_infinities_survive(payload: object) -> None:
    """Floats keep their exact bits through the wire, NaN included."""
    message = PubSubMessage(topic="a", payload=[payload, math.nan, math.inf, -0.0])
    data = encode_message(message)
    decoded = decode_message(data)
    assert math.isnan(decoded.payload[1])
    assert decoded.payload[2:] == [math.inf, -0.0]
    assert math.copysign(1.0, decoded.payload[3]) == -1.0
    assert encode_message(decoded) == data


@given(data=st.binary(max_size=64))
def test_garbage_only_ever_raises_message_decode_error(data: bytes) -> None:
    """Arbitrary bytes decode to a message or raise MessageDecodeError, nothing else."""
    try:
        decoded = decode_message(data)
    except MessageDecodeError:
        return
    assert isinstance(decoded, PubSubMessage)


@given(message=messages(), cut=st.integers(min_value=1, max_value=64))
def test_truncated_messages_are_refused(message: PubSubMessage, cut: int) -> None:
    """A message missing its last bytes raises MessageDecodeError (a ValueError)."""
    data = encode_message(message)
    with pytest.raises(MessageDecodeError):
        decode_message(data[: max(0, len(data) - cut)])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",
        b'{"topic": "a.b"}',
        msgspec.msgpack.encode([1, 2, 3]),
        msgspec.msgpack.encode({"payload": 1}),
        msgspec.msgpack.encode({"topic": 5}),
        msgspec.msgpack.encode({"topic": "a", "priority": 9}),
        msgspec.msgpack.encode({"topic": "a", "attempt": "one"}),
    ],
)
def test_garbage_examples_are_refused(data: bytes) -> None:
    """Bytes that are not an agentkit message raise MessageDecodeError."""
    with pytest.raises(MessageDecodeError, match="not an agentkit message"):
        decode_message(data)


@given(message=messages(), newer=st.integers(min_value=WIRE_VERSION + 1, max_value=2**31))
def test_newer_wire_version_is_refused(message: PubSubMessage, newer: int) -> None:
    """A message from a newer wire version raises MessageDecodeError naming the version."""
    data = encode_message(msgspec.structs.replace(message, version=newer))
    with pytest.raises(MessageDecodeError, match=f"wire version {newer}"):
        decode_message(data)


def test_unknown_fields_from_a_newer_sender_are_ignored() -> None:
    """A same-version message with a field this agentkit does not know still decodes."""
    data = msgspec.msgpack.encode({"topic": "a.b", "payload": 1, "added_later": True})
    decoded = decode_message(data)
    assert (decoded.topic, decoded.payload, decoded.priority) == ("a.b", 1, MessagePriority.NORMAL)


@pytest.mark.parametrize("payload", [object(), 1j, 2**64, {"f": print}])
def test_unencodable_payloads_raise_message_encode_error(payload: object) -> None:
    """A payload msgpack cannot encode raises MessageEncodeError (a TypeError) naming the topic."""
    with pytest.raises(MessageEncodeError, match=re.escape("'x.y'")):
        encode_message(PubSubMessage(topic="x.y", payload=payload))


def test_dead_letters_round_trip() -> None:
    """A dead letter encodes and decodes with its message intact."""
    letter = DeadLetter(
        dead_letter_id="dl-1",
        message=PubSubMessage(topic="a", payload={"k": [1, b"\x00"]}),
        subscription="a.>",
        queue=None,
        error_type="ValueError",
        error="boom",
        attempts=3,
        failed_at=1.5,
        durable="orders",
    )
    assert decode_dead_letter(encode_message(letter)) == letter
    with pytest.raises(MessageDecodeError):
        decode_dead_letter(b"\x00")


def test_message_ids_are_unique_and_share_a_process_prefix() -> None:
    """new_message_id never repeats and keeps one per-process prefix."""
    ids = [new_message_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert len({message_id.rsplit("-", 1)[0] for message_id in ids}) == 1


def test_messages_are_frozen() -> None:
    """PubSubMessage is immutable; changes go through msgspec.structs.replace."""
    message = PubSubMessage(topic="a")
    with pytest.raises(AttributeError):
        message.topic = "b"  # type: ignore[misc]
    assert message.attempt == 1
    assert message.version == WIRE_VERSION


def _deep_msgpack(depth: int, opener: bytes) -> bytes:
    """A message whose payload is *depth* containers deep, written as raw msgpack."""
    closer = b"\x01" if opener == b"\x91" else b"\xa1k\x01"
    return b"\x82\xa5topic\xa1a\xa7payload" + opener * depth + closer


@pytest.mark.parametrize("depth", [10_000, 100_000, 1_000_000])
@pytest.mark.parametrize("opener", [b"\x91", b"\x81\xa1k"], ids=["arrays", "maps"])
def test_deeply_nested_bodies_raise_message_decode_error(depth: int, opener: bytes) -> None:
    """A body nested 10^4 to 10^6 deep raises MessageDecodeError, never RecursionError."""
    data = _deep_msgpack(depth, opener)
    with pytest.raises(MessageDecodeError, match="not an agentkit message"):
        decode_message(data)
    letter_prefix = msgspec.msgpack.encode({"dead_letter_id": "x", "message": None})[:-1]
    with pytest.raises(MessageDecodeError):
        decode_dead_letter(letter_prefix + b"\x91" * depth + b"\x01")


@given(
    depth=st.integers(min_value=0, max_value=50_000),
    openers=st.lists(st.sampled_from([b"\x91", b"\x81\xa1k", b"\xdc\x00\x01"]), min_size=1),
    tail=st.binary(max_size=8),
)
def test_generated_deep_or_garbage_bodies_only_raise_message_decode_error(
    depth: int, openers: list[bytes], tail: bytes
) -> None:
    """Deep nesting of any container shape followed by any bytes decodes to a message or
    raises MessageDecodeError, nothing else."""
    body = b"".join(openers[index % len(openers)] for index in range(depth))
    data = b"\x82\xa5topic\xa1a\xa7payload" + body + tail
    try:
        decoded = decode_message(data)
    except MessageDecodeError:
        return
    assert isinstance(decoded, PubSubMessage)


class _RaisingZone(datetime.tzinfo):
    """A time zone whose offset raises an arbitrary error when read."""

    def utcoffset(self, dt: datetime.datetime | None) -> datetime.timedelta:
        raise LookupError("no offset")

    def dst(self, dt: datetime.datetime | None) -> datetime.timedelta:
        raise LookupError("no dst")

    def tzname(self, dt: datetime.datetime | None) -> str:
        return "raising"


def _nest(depth: int) -> object:
    value: object = None
    for _ in range(depth):
        value = {"k": [value]}
    return value


@pytest.mark.parametrize(
    "payload",
    [
        _nest(10_000),
        "\ud800",
        {"\udc00": 1},
        -(2**64),
        datetime.datetime(2024, 1, 1, tzinfo=_RaisingZone()),
        [1, 2, object()],
    ],
    ids=["deep", "surrogate", "surrogate-key", "big-int", "raising-tzinfo", "object"],
)
def test_every_kind_of_unencodable_payload_raises_message_encode_error(payload: object) -> None:
    """Deep nesting, lone surrogates, huge ints and objects that raise while read all raise
    MessageEncodeError (a TypeError), never RecursionError or the object's own error."""
    with pytest.raises(MessageEncodeError, match="cannot encode"):
        encode_message(PubSubMessage(topic="x.y", payload=payload))


@given(depth=st.integers(min_value=0, max_value=3000), kind=st.sampled_from(["list", "dict"]))
def test_generated_nesting_encodes_or_raises_message_encode_error(depth: int, kind: str) -> None:
    """A payload of any depth encodes (and decodes back) or raises MessageEncodeError."""
    payload: object = 0
    for _ in range(depth):
        payload = [payload] if kind == "list" else {"k": payload}
    try:
        data = encode_message(PubSubMessage(topic="a", payload=payload))
    except MessageEncodeError:
        return
    try:
        assert decode_message(data).payload == payload
    except MessageDecodeError:
        pass  # decoded deeper in the stack than it was encoded: refused, not crashed
    except RecursionError:
        pass  # comparing two deep payloads is the test's own limit, not the decoder's


@pytest.mark.parametrize(
    "fields",
    [
        {"headers": {1: "a"}},
        {"headers": {"a": 1}},
        {"headers": [("a", "b")]},
        {"priority": 7},
        {"priority": -1},
        {"priority": True},
        {"priority": "HIGH"},
        {"attempt": "2"},
        {"attempt": 2.0},
        {"from_agent": None},
        {"message_id": 5},
        {"timestamp": "now"},
        {"correlation_id": 5},
        {"reply_to": b"inbox"},
        {"version": WIRE_VERSION + 1},
        {"version": "1"},
    ],
)
def test_check_message_refuses_fields_receivers_would_refuse(fields: dict[str, object]) -> None:
    """A message whose field a receiver could not decode is refused before sending, naming
    the field; the same message would indeed fail to decode."""
    message = PubSubMessage(topic="a", **fields)  # type: ignore[arg-type]
    with pytest.raises(MessageEncodeError, match=next(iter(fields))):
        check_message(message)
    with contextlib.suppress(MessageEncodeError):
        data = encode_message(message)
        with pytest.raises(MessageDecodeError):
            decode_message(data)


@given(message=messages())
def test_check_message_accepts_every_well_typed_message(message: PubSubMessage) -> None:
    """check_message passes every message the strategies build with the documented types."""
    check_message(message)
