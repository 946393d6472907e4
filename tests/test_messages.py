"""Messages and their msgpack wire format: round trips, garbage, newer versions."""

from __future__ import annotations

import math
import re

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import messages, payloads

from agentkit import MessageDecodeError, MessageEncodeError, MessagePriority, PubSubMessage
from agentkit._messages import (
    WIRE_VERSION,
    DeadLetter,
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
