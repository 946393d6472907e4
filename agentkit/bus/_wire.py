"""The NATS wire format v2: the payload is the body, the metadata travels in NATS headers.

Any NATS client can speak it: a JSON service, a FastStream app, a Go or JS client. A message
carries these headers (absent when they hold the default):

============================  =================================================================
``agentkit-wire: 2``          marks a v2 message (its absence: v1 or a foreign client)
``content-type``              how the body is encoded: ``application/msgpack`` (the default),
                              ``application/json``, ``application/octet-stream`` (raw bytes);
                              ``text/plain`` is read as text (FastStream sends str so)
``message_id``                the message id (FastStream's name)
``correlation_id``            the correlation id (FastStream's name)
``reply_to``                  where a reply goes when the transport carries no reply subject
                              (a durable message; FastStream's JetStream convention)
``agentkit-from``             the sender's claimed name
``agentkit-priority``         0 to 3 (default 1)
``agentkit-attempt``          the attempt number (default 1)
``agentkit-timestamp``        seconds since the epoch (float)
any other header              a user header (``PubSubMessage.headers``)
============================  =================================================================

The topic is always the subject the message arrived on, never a header or body field.
A message with neither ``agentkit-wire`` nor ``content-type`` is first tried as a v1
envelope (the 11-field msgpack struct agentkit sent before v2, still stored in JetStream
streams with only ``Nats-Msg-Id``); failing that, and for any message with a
``content-type``, the body is decoded by its content type, and a body without one is JSON if
it parses as JSON, else raw bytes.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

import msgspec

from agentkit.bus._messages import (
    WIRE_VERSION,
    MessagePriority,
    PubSubMessage,
    decode_message,
    decode_raw,
    encode_error,
    new_message_id,
)
from agentkit.exceptions import ConfigurationError, MessageDecodeError, MessageEncodeError

__all__ = [
    "ATTEMPT",
    "CODECS",
    "CONTENT_TYPE",
    "CORRELATION_ID",
    "ERROR",
    "FROM",
    "MESSAGE_ID",
    "PRIORITY",
    "REPLY_TO",
    "RESERVED_HEADERS",
    "TIMESTAMP",
    "WIRE",
    "WIRE_V2",
    "Codec",
    "check_codec",
    "codec_of",
    "decode_body",
    "decode_wire",
    "encode_body",
    "fast_head",
    "error_reply",
    "header_block",
    "parse_header_block",
    "wire_headers",
]

#: A body codec: its name, chosen per bus or per subscription.
Codec = Literal["msgpack", "json", "raw"]

WIRE = "agentkit-wire"
WIRE_V2 = "2"
CONTENT_TYPE = "content-type"
MESSAGE_ID = "message_id"
CORRELATION_ID = "correlation_id"
REPLY_TO = "reply_to"
FROM = "agentkit-from"
PRIORITY = "agentkit-priority"
ATTEMPT = "agentkit-attempt"
TIMESTAMP = "agentkit-timestamp"
#: On an error reply: the type of the error (the body says what went wrong, in JSON).
ERROR = "agentkit-error"

MSGPACK = "application/msgpack"
JSON = "application/json"
OCTETS = "application/octet-stream"
TEXT = "text/plain"

#: Codec name to content type.
CODECS: dict[str, str] = {"msgpack": MSGPACK, "json": JSON, "raw": OCTETS}
_CODEC_OF: dict[str, Codec] = {MSGPACK: "msgpack", JSON: "json", OCTETS: "raw"}

#: Headers the wire format owns: a user header may not use these names (nor ``Nats-*``).
RESERVED_HEADERS = frozenset(
    {WIRE, CONTENT_TYPE, MESSAGE_ID, CORRELATION_ID, REPLY_TO, FROM, PRIORITY, ATTEMPT}
    | {TIMESTAMP, ERROR}
)
_RESERVED_LOWER = frozenset(name.lower() for name in RESERVED_HEADERS)

_EXPECTED = (
    "agentkit decodes application/msgpack (the default), application/json,"
    " application/octet-stream (raw bytes) and text/plain bodies, chosen by the content-type"
    " header; a body without one is read as JSON if it parses, else as raw bytes"
)

# NATS header names are RFC 7230 tokens; values may not hold CR or LF, and NATS trims them.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_HEADER_NAME = re.compile(_TOKEN)

_MSGPACK_ENCODER = msgspec.msgpack.Encoder()
_JSON_ENCODER = msgspec.json.Encoder()
_msgpack_decode = msgspec.msgpack.Decoder().decode
_json_decode = msgspec.json.Decoder().decode

_PRIORITY_VALUES = {str(int(p)): p for p in MessagePriority}
_NORMAL = MessagePriority.NORMAL


def check_codec(codec: object) -> Codec:
    """Return *codec* if it names a codec; ConfigurationError otherwise."""
    if not isinstance(codec, str) or codec not in CODECS:
        raise ConfigurationError(f"codec must be one of 'msgpack', 'json' or 'raw', not {codec!r}")
    return codec  # type: ignore[return-value]


def codec_of(headers: dict[str, str] | None) -> Codec | None:
    """The codec a received message's ``content-type`` names, or None."""
    if not headers:
        return None
    content_type = headers.get(CONTENT_TYPE)
    if content_type is None:
        return None
    return _CODEC_OF.get(content_type.split(";", 1)[0].strip().lower())


# -- encoding -------------------------------------------------------------------------------


def encode_body(message: PubSubMessage, codec: Codec) -> bytes:
    """The body of *message* in *codec*; MessageEncodeError if its payload does not fit."""
    payload = message.payload
    try:
        if codec == "msgpack":
            return _MSGPACK_ENCODER.encode(payload)
        if codec == "json":
            return _JSON_ENCODER.encode(payload)
    except Exception as exc:
        raise encode_error(message, exc) from exc
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    raise MessageEncodeError(
        f"cannot send a {type(payload).__name__} payload to {message.topic!r} with the raw"
        " codec: it sends bytes only; pick codec='msgpack' or 'json' for other payloads"
    )


def _check_user_headers(message: PubSubMessage) -> None:
    for key, value in message.headers.items():
        if key.lower() in _RESERVED_LOWER or key[:5].lower() == "nats-":
            raise MessageEncodeError(
                f"header {key!r} of message {message.message_id!r} is reserved for the wire"
                " format (its fields, or NATS's own Nats-* headers); use another name"
            )
        if _HEADER_NAME.fullmatch(key) is None:
            raise MessageEncodeError(
                f"header name {key!r} of message {message.message_id!r} cannot be sent: NATS"
                " header names are letters, digits and !#$%&'*+-.^_`|~"
            )
        _check_value(key, value)


def _check_value(name: str, value: str) -> None:
    """Refuse a header value NATS cannot carry as it is (a line break, edge whitespace)."""
    if not value.isprintable() or value.strip(" ") != value:
        raise MessageEncodeError(
            f"{name} {value[:80]!r} cannot be sent as a NATS header: use printable"
            " characters (no line break or tab) without leading or trailing spaces"
        )


def wire_headers(
    message: PubSubMessage, codec: Codec, *, reply_header: bool = False
) -> dict[str, str]:
    """The v2 headers of *message* (defaults left out); *reply_header* adds ``reply_to``.

    MessageEncodeError for a field or user header a NATS header cannot carry.
    """
    message_id = message.message_id
    if not message_id.isprintable() or message_id.strip(" ") != message_id:
        _check_value(MESSAGE_ID, message_id)
    headers = {WIRE: WIRE_V2, CONTENT_TYPE: CODECS[codec], MESSAGE_ID: message_id}
    sender = message.from_agent
    if sender:
        if not sender.isprintable() or sender.strip(" ") != sender:
            _check_value(FROM, sender)
        headers[FROM] = sender
    if message.priority != _NORMAL:
        headers[PRIORITY] = str(int(message.priority))
    if message.correlation_id is not None:
        _check_value(CORRELATION_ID, message.correlation_id)
        headers[CORRELATION_ID] = message.correlation_id
    if reply_header and message.reply_to is not None:
        _check_value(REPLY_TO, message.reply_to)
        headers[REPLY_TO] = message.reply_to
    if message.attempt != 1:
        headers[ATTEMPT] = str(message.attempt)
    headers[TIMESTAMP] = repr(float(message.timestamp))
    if message.headers:
        _check_user_headers(message)
        headers.update(message.headers)
    return headers


_HEAD_STARTS = {
    codec: f"NATS/1.0\r\n{WIRE}: {WIRE_V2}\r\n{CONTENT_TYPE}: {content_type}\r\n{MESSAGE_ID}: "
    for codec, content_type in CODECS.items()
}


def fast_head(message: PubSubMessage, codec: Codec) -> bytes | None:
    """The header block of a plain message (only id, sender and time), else None.

    The publish hot path's shortcut past :func:`wire_headers` and :func:`header_block`:
    the same bytes for a message with default priority and attempt, no correlation id, no
    reply subject, no user headers and header-safe text.
    """
    if (
        message.headers
        or message.priority is not _NORMAL
        or message.correlation_id is not None
        or message.reply_to is not None
        or message.attempt != 1
        or type(message.timestamp) is not float
    ):
        return None
    message_id = message.message_id
    sender = message.from_agent
    if (
        not message_id
        or not (message_id + sender).isprintable()
        or message_id[0] == " "
        or message_id[-1] == " "
        or (sender and (sender[0] == " " or sender[-1] == " "))
    ):
        return None
    if sender:
        return (
            f"{_HEAD_STARTS[codec]}{message_id}\r\n{FROM}: {sender}\r\n"
            f"{TIMESTAMP}: {message.timestamp!r}\r\n\r\n"
        ).encode()
    return (
        f"{_HEAD_STARTS[codec]}{message_id}\r\n{TIMESTAMP}: {message.timestamp!r}\r\n\r\n".encode()
    )


def header_block(headers: dict[str, str]) -> bytes:
    """The NATS header block for *headers*, as :func:`wire_headers` checked them."""
    return (
        "NATS/1.0\r\n" + "".join([f"{k}: {v}\r\n" for k, v in headers.items()]) + "\r\n"
    ).encode()


def parse_header_block(block: bytes) -> dict[str, str] | None:
    """The headers in a NATS header block without a status line; None: let nats-py parse it.

    Every line must be ``name: value``; names and values are taken as sent (nats-py would
    trim spaces a sender put around them; agentkit never sends such values).
    """
    if len(block) <= 12 or block[-4:] != b"\r\n\r\n":
        return None
    try:
        return dict(
            [line.split(": ", 1) for line in block[10:-4].decode("utf-8", "replace").split("\r\n")]
        )
    except ValueError:
        return None


def error_reply(exc: BaseException) -> tuple[dict[str, str], bytes]:
    """Headers and JSON body of the reply to a request that could not be decoded."""
    headers = {WIRE: WIRE_V2, CONTENT_TYPE: JSON, ERROR: type(exc).__name__}
    body = _JSON_ENCODER.encode({"error": {"type": type(exc).__name__, "message": str(exc)}})
    return headers, body


# -- decoding -------------------------------------------------------------------------------


def decode_body(data: bytes, content_type: str | None) -> tuple[Any, Codec]:
    """The payload in *data* and its codec; MessageDecodeError naming the expected formats."""
    if content_type is None or content_type == "":
        if not data:
            return None, "raw"
        try:
            return _json_decode(data), "json"
        except Exception:
            return bytes(data), "raw"
    kind = content_type.split(";", 1)[0].strip().lower()
    try:
        if kind == MSGPACK:
            return _msgpack_decode(data), "msgpack"
        if kind == JSON or kind.endswith("+json"):
            return (_json_decode(data) if data else None), "json"
        if kind == OCTETS:
            return bytes(data), "raw"
        if kind == TEXT:
            return bytes(data).decode("utf-8"), "json"
    except Exception as exc:
        detail = str(exc)[:200] if not isinstance(exc, RecursionError) else "nested too deeply"
        raise MessageDecodeError(
            f"the body does not decode as its content-type {content_type[:80]!r}: {detail}."
            f" {_EXPECTED}"
        ) from exc
    raise MessageDecodeError(f"unsupported content-type {content_type[:80]!r}. {_EXPECTED}")


def decode_wire(
    data: bytes, headers: dict[str, str] | None, topic: str, reply: str | None
) -> tuple[PubSubMessage, Codec]:
    """The message a NATS message carries, and the codec of its body.

    *topic* is the subject it arrived on (or the topic of its durable subject) and becomes
    the message's topic whatever the body or headers claim; *reply* is the transport's reply
    subject, which wins over a ``reply_to`` header. MessageDecodeError when it cannot be read.
    """
    if headers is None or WIRE not in headers:
        if headers is None or (
            CONTENT_TYPE not in headers and not any(k.lower() == CONTENT_TYPE for k in headers)
        ):
            # No v2 marker and no content type: a v1 envelope (stored in JetStream before
            # v2, with only Nats-* headers), or a plain client's body.
            try:
                message = decode_raw(data)
            except Exception:
                message = None
            if message is not None:
                if message.version > WIRE_VERSION:
                    decode_message(data)  # raises, naming the version
                changes: dict[str, Any] = {}
                if message.topic != topic:
                    changes["topic"] = topic
                if reply and message.reply_to != reply:
                    changes["reply_to"] = reply
                if changes:
                    message = msgspec.structs.replace(message, **changes)
                return message, "msgpack"
        return _foreign(data, headers or {}, topic, reply)
    if headers[WIRE] != WIRE_V2:
        raise MessageDecodeError(
            f"wire version {headers[WIRE][:20]!r} is not one this agentkit understands"
            f" ({WIRE_V2}); upgrade agentkit-kernel"
        )
    fields = headers.copy()
    pop = fields.pop
    del fields[WIRE]
    content_type = pop(CONTENT_TYPE, None)
    if content_type == MSGPACK:
        # The common case, decode_body inlined.
        try:
            payload = _msgpack_decode(data)
        except Exception:
            payload, codec = decode_body(data, content_type)  # raises, wording the error
        codec = "msgpack"
    else:
        payload, codec = decode_body(data, content_type)
    message_id = pop(MESSAGE_ID, None)
    sender = pop(FROM, "")
    priority_text = pop(PRIORITY, None)
    correlation_id = pop(CORRELATION_ID, None)
    reply_header = pop(REPLY_TO, None)
    attempt_text = pop(ATTEMPT, None)
    stamp = pop(TIMESTAMP, None)
    if fields:
        # User headers; NATS's own (Nats-Msg-Id on a durable message) are not passed on.
        fields = {
            key: value
            for key, value in fields.items()
            if key[:5].lower() != "nats-" and key != ERROR
        }
    if priority_text is None:
        priority = _NORMAL
    else:
        priority = _PRIORITY_VALUES.get(priority_text)  # type: ignore[assignment]
        if priority is None:
            raise MessageDecodeError(f"header {PRIORITY} must be 0 to 3, not {priority_text!r:.40}")
    try:
        timestamp = time.time() if stamp is None else float(stamp)
        attempt = 1 if attempt_text is None else int(attempt_text)
    except ValueError:
        raise MessageDecodeError(
            f"header {TIMESTAMP} or {ATTEMPT} is not a number: {stamp!r:.40}, {attempt_text!r:.40}"
        ) from None
    message = PubSubMessage(
        topic=topic,
        from_agent=sender,
        payload=payload,
        priority=priority,
        message_id=new_message_id() if message_id is None else message_id,
        timestamp=timestamp,
        headers=fields,
        correlation_id=correlation_id,
        reply_to=reply or reply_header,
        attempt=attempt,
    )
    return message, codec


def _foreign(
    data: bytes, headers: dict[str, str], topic: str, reply: str | None
) -> tuple[PubSubMessage, Codec]:
    """A message from a client that does not speak agentkit (FastStream, nats-py, Go...).

    Header names are matched without regard to case here (``Content-Type`` from an HTTP
    habit is the content type); reserved names and ``Nats-*`` are not user headers.
    """
    known: dict[str, str] = {}
    user: dict[str, str] = {}
    for key, value in headers.items():
        lower = key.lower()
        if lower in _RESERVED_LOWER:
            known.setdefault(lower, value)
        elif lower[:5] != "nats-":
            user[key] = value
    payload, codec = decode_body(data, known.get(CONTENT_TYPE))
    fields: dict[str, Any] = {}
    message_id = known.get(MESSAGE_ID)
    if message_id:
        fields["message_id"] = message_id
    message = PubSubMessage(
        topic=topic,
        payload=payload,
        headers=user,
        correlation_id=known.get(CORRELATION_ID) or None,
        reply_to=reply or known.get(REPLY_TO) or None,
        **fields,
    )
    return message, codec
