"""Bus messages and their msgpack wire format (encoders built once, reused)."""

from __future__ import annotations

import enum
import itertools
import os
import time
from typing import Any

import msgspec

from agentkit.exceptions import MessageDecodeError, MessageEncodeError

__all__ = [
    "WIRE_VERSION",
    "DeadLetter",
    "MessagePriority",
    "PubSubMessage",
    "decode_message",
    "encode_message",
    "new_message_id",
]

#: Version of the message wire format; a decoder refuses messages from a newer major version.
WIRE_VERSION = 1

# Message ids are cheap: a random per-process prefix and a counter. The prefix is drawn from
# os.urandom, so two processes (or a forked child) do not collide in practice.
_ID_PREFIX = os.urandom(6).hex()
_ID_COUNTER = itertools.count(1)


def new_message_id() -> str:
    """A process-unique message id (random per-process prefix plus a counter)."""
    return f"{_ID_PREFIX}-{next(_ID_COUNTER)}"


class MessagePriority(enum.IntEnum):
    """Delivery priority: a subscription hands out higher priorities first."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    CRITICAL = 3


class PubSubMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message on the bus.

    ``payload`` is anything msgpack can encode (dicts, lists, str, numbers, bytes, datetimes,
    msgspec Structs, dataclasses...); after a trip over the bus, containers arrive as plain
    dicts and lists. Every field but ``topic`` has a default, so new fields never break old
    senders.
    """

    topic: str
    from_agent: str = ""
    payload: Any = None
    priority: MessagePriority = MessagePriority.NORMAL
    message_id: str = msgspec.field(default_factory=new_message_id)
    timestamp: float = msgspec.field(default_factory=time.time)
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    correlation_id: str | None = None
    reply_to: str | None = None
    attempt: int = 1
    version: int = WIRE_VERSION


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A message whose handler kept failing, with why and where."""

    dead_letter_id: str
    message: PubSubMessage
    subscription: str
    queue: str | None
    error_type: str
    error: str
    attempts: int
    failed_at: float
    durable: str | None = None
    version: int = WIRE_VERSION


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(PubSubMessage)
_DEAD_LETTER_DECODER = msgspec.msgpack.Decoder(DeadLetter)


def encode_message(message: PubSubMessage | DeadLetter) -> bytes:
    """Encode *message* as msgpack; raise MessageEncodeError if its payload cannot be."""
    try:
        return _ENCODER.encode(message)
    except (TypeError, ValueError, OverflowError) as exc:
        topic = message.topic if isinstance(message, PubSubMessage) else message.message.topic
        raise MessageEncodeError(
            f"cannot encode the payload of a message to {topic!r}: {exc}. Send dicts, lists,"
            " str, numbers, bytes, datetimes, msgspec Structs or dataclasses."
        ) from exc


def decode_message(data: bytes | bytearray | memoryview) -> PubSubMessage:
    """Decode bytes made by :func:`encode_message`; raise MessageDecodeError otherwise."""
    try:
        message = _DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise MessageDecodeError(f"not an agentkit message: {exc}") from exc
    if message.version > WIRE_VERSION:
        raise MessageDecodeError(
            f"message {message.message_id} uses wire version {message.version}, newer than"
            f" this agentkit understands ({WIRE_VERSION}); upgrade agentkit-kernel"
        )
    return message


def decode_dead_letter(data: bytes | bytearray | memoryview) -> DeadLetter:
    """Decode a dead letter made by :func:`encode_message`."""
    try:
        return _DEAD_LETTER_DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise MessageDecodeError(f"not an agentkit dead letter: {exc}") from exc
