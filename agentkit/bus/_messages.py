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
    "check_message",
    "decode_dead_letter",
    "decode_message",
    "decode_raw",
    "encode_error",
    "encode_into",
    "encode_message",
    "encode_raw",
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
#: The encoder's bound method, for the publish paths that call it directly.
encode_raw = _ENCODER.encode
#: Encode into a reused bytearray (truncated to the message): no bytes object per call.
encode_into = _ENCODER.encode_into
_DECODER = msgspec.msgpack.Decoder(PubSubMessage)
#: The decoder's bound method, for the receive paths that call it directly and fall back to
#: :func:`decode_message` (which checks the version and words the error) when it raises.
decode_raw = _DECODER.decode
_DEAD_LETTER_DECODER = msgspec.msgpack.Decoder(DeadLetter)
_PRIORITIES = frozenset(int(priority) for priority in MessagePriority)


def encode_message(message: PubSubMessage | DeadLetter) -> bytes:
    """Encode *message* as msgpack; raise MessageEncodeError if its payload cannot be.

    Whatever msgspec refuses (a type it does not know, an int over 64 bits, a lone surrogate,
    nesting deeper than the interpreter's recursion limit, an object that raises while it is
    read) becomes a MessageEncodeError; nothing else escapes.
    """
    try:
        return _ENCODER.encode(message)
    except Exception as exc:
        raise encode_error(message, exc) from exc


def encode_error(message: PubSubMessage | DeadLetter, exc: Exception) -> MessageEncodeError:
    """The MessageEncodeError for *message*, whose encoding raised *exc*."""
    topic = message.topic if isinstance(message, PubSubMessage) else message.message.topic
    reason = (
        "it is nested too deeply; flatten it" if isinstance(exc, RecursionError) else _describe(exc)
    )
    return MessageEncodeError(
        f"cannot encode the payload of a message to {topic!r}: {reason}. Send dicts,"
        " lists, str, numbers, bytes, datetimes, msgspec Structs or dataclasses."
    )


def _describe(exc: BaseException) -> str:
    """``type: text`` of *exc*, even when its ``__str__`` raises."""
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable>"
    return f"{type(exc).__name__}: {text[:500]}" if text else type(exc).__name__


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def check_message(message: PubSubMessage) -> None:
    """Raise MessageEncodeError if a field of *message* would not decode on the other side.

    msgspec does not check field types when a Struct is built, so ``PubSubMessage(headers=
    {1: 2})`` or ``priority=7`` would be sent and then refused by every receiver. The payload
    is not walked: it is ``Any``.
    """
    # Typed as Any: the point is to catch values that break the annotations.
    fields: Any = message
    # The common case first, with exact-type tests only (this runs on every publish of a
    # caller-built message); anything else, str subclasses included, takes the full check.
    if (
        type(fields.from_agent) is str
        and type(fields.priority) is MessagePriority
        and type(fields.message_id) is str
        and type(fields.timestamp) is float
        and type(fields.headers) is dict
        and not fields.headers
        and ((correlation_id := fields.correlation_id) is None or type(correlation_id) is str)
        and ((reply_to := fields.reply_to) is None or type(reply_to) is str)
        and type(fields.attempt) is int
        and type(fields.version) is int
        and fields.version <= WIRE_VERSION
    ):
        return
    _check_fields(message)


def _check_fields(message: PubSubMessage) -> None:
    """The full check of :func:`check_message`, for messages off its fast path."""
    fields: Any = message
    problem = None
    if not isinstance(fields.from_agent, str):
        problem = "from_agent must be a str"
    elif type(fields.priority) not in (int, MessagePriority) or (
        fields.priority not in _PRIORITIES
    ):
        problem = "priority must be a MessagePriority (0 to 3)"
    elif not isinstance(fields.message_id, str):
        problem = "message_id must be a str"
    elif isinstance(fields.timestamp, bool) or not isinstance(fields.timestamp, (int, float)):
        problem = "timestamp must be a float"
    elif not isinstance(fields.headers, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in fields.headers.items()
    ):
        problem = "headers must be a dict of str to str"
    elif not _is_optional_str(fields.correlation_id):
        problem = "correlation_id must be a str or None"
    elif not _is_optional_str(fields.reply_to):
        problem = "reply_to must be a str or None"
    elif not _is_int(fields.attempt):
        problem = "attempt must be an int"
    elif not _is_int(fields.version) or fields.version > WIRE_VERSION:
        problem = f"version must be an int of at most {WIRE_VERSION}"
    if problem is not None:
        raise MessageEncodeError(
            f"cannot send message {str(message.message_id)[:80]!r}: {problem}; build"
            " PubSubMessage with the documented field types"
        )


def decode_message(data: bytes | bytearray | memoryview) -> PubSubMessage:
    """Decode bytes made by :func:`encode_message`; raise MessageDecodeError otherwise.

    Garbage, a body nested deeper than the interpreter's recursion limit, or anything else
    msgspec refuses raises MessageDecodeError, never another exception.
    """
    try:
        message = _DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise MessageDecodeError(f"not an agentkit message: {exc}") from exc
    except Exception as exc:  # RecursionError on deep nesting, MemoryError, TypeError
        raise MessageDecodeError(f"not an agentkit message: {_describe(exc)}") from exc
    if message.version > WIRE_VERSION:
        raise MessageDecodeError(
            f"message {message.message_id} uses wire version {message.version}, newer than"
            f" this agentkit understands ({WIRE_VERSION}); upgrade agentkit-kernel"
        )
    return message


def decode_dead_letter(data: bytes | bytearray | memoryview) -> DeadLetter:
    """Decode a dead letter made by :func:`encode_message`; MessageDecodeError otherwise."""
    try:
        return _DEAD_LETTER_DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise MessageDecodeError(f"not an agentkit dead letter: {exc}") from exc
    except Exception as exc:
        raise MessageDecodeError(f"not an agentkit dead letter: {_describe(exc)}") from exc
