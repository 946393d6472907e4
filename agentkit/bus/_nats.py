"""The NATS bus: core NATS for fast at-most-once messaging, JetStream for durable delivery.

nats-py is imported when the bus connects, so the class is importable without the ``nats``
extra and fails then with the exact ``pip install`` line.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from agentkit.bus import _nats_durable as jetstream
from agentkit.bus import _telemetry
from agentkit.bus import _wire as wire
from agentkit.bus._base import HISTORY_FILE_EVERY
from agentkit.bus._messages import PubSubMessage, check_message
from agentkit.bus._nats_jetstream import STREAM_NAME, JetStreamBus
from agentkit.bus._subscription import BusSubscription
from agentkit.exceptions import (
    ConfigurationError,
    ConnectionLostError,
    MessageDecodeError,
    MissingExtraError,
    NoRespondersError,
    RequestTimeoutError,
)
from agentkit.observability import telemetry
from agentkit.protocols import Handler

if TYPE_CHECKING:
    import ssl

__all__ = ["NatsPubSub"]

logger = logging.getLogger("agentkit.bus.nats")

#: Most topics remembered as fitting the server's control line before the set is cleared.
_MAX_SHORT_TOPICS = 10_000
#: Most requests whose reply codec is remembered while their handlers run.
_MAX_REPLY_CODECS = 10_000


def _fast_header_parser(nc: Any) -> Any:
    """A header parser for *nc* with nats-py's results, without its per-character loops.

    nats-py parses every received header block in Python before the callback runs (about
    2 µs a header); v2 messages carry several. Blocks with a status line, or anything
    :func:`wire.parse_header_block` does not take, go to nats-py's own parser.
    """
    original = nc._process_headers
    parse = wire.parse_header_block

    async def process_headers(headers: bytes) -> dict[str, str] | None:
        if headers and headers[8:10] == b"\r\n":
            parsed = parse(headers)
            if parsed is not None:
                return parsed or None
        return await original(headers)  # type: ignore[no-any-return]

    return process_headers


def _import_nats() -> Any:
    try:
        import nats
    except ImportError as exc:  # pragma: no cover - exercised in the core-only session
        raise MissingExtraError("the NATS bus", "nats") from exc
    return nats


class NatsPubSub(JetStreamBus):
    """A bus over NATS: the same contract as :class:`InMemoryPubSub`, across processes.

    Core subscriptions are at-most-once, as core NATS is: a subscriber that falls too far
    behind loses messages on the server or in the client; those events are logged and counted
    in ``stats()["slow_consumer_events"]``. A ``durable="name"`` subscription uses JetStream
    and receives what is published with ``durable=True``: messages are stored in one stream
    (``stream``, default ``AGENTKIT``, created once for the subjects
    ``agentkit.durable.<stream>.>``, so a new topic costs nothing), fetched only as far as the
    handlers have room (``max_concurrency``), kept alive with in-progress acks while held,
    acknowledged only after the handler succeeds, redelivered with a backoff (``nak`` with
    delay) when it fails, and after ``max_attempts`` failures -- or ``max_deliveries``
    deliveries no process settled -- copied to the ``AGENTKIT_DLQ`` stream (subject
    ``agentkit.dlq.<stream>.<durable>``) and only then terminated: every message is handled or
    dead-lettered, a crash at any point can only duplicate. The durable consumer lives on the
    server, so it survives a restart of the subscribing process; processes sharing a durable
    name share its work. ``publish(..., durable=True)`` waits for JetStream's
    acknowledgement, de-duplicates by message id, retries through a server outage for up to
    ``durable_publish_timeout`` seconds, and also reaches core subscribers of the topic.

    The wire format (v2, see ``docs/messaging.md``): the payload is the NATS body, encoded by
    ``codec`` -- ``"msgpack"`` (default), ``"json"`` or ``"raw"`` (bytes payloads only) --
    for the bus, or per ``publish``/``subscribe`` call; the metadata travels in NATS headers
    that FastStream reads too (``content-type``, ``message_id``, ``correlation_id``). A
    subscriber decodes each message by its ``content-type``, so plain NATS clients can
    publish JSON to agentkit and get JSON replies. The subject a message arrived on is its
    topic; the sender name it carries is a claim. v1 messages (a msgpack envelope body)
    still decode.
    ``stream_replicas`` (1-5) sets how many servers of a NATS cluster store the streams this
    bus creates: with 3, durable messages survive the loss of a server.

    Limits checked before sending, so no message can make the server drop the connection:
    subject, reply and sizes against ``max_control_line`` (nats-server's default 4096 bytes;
    pass the server's value if you changed it) and body plus headers against the server's
    ``max_payload``. ``max_ack_pending`` (1000) caps unacknowledged messages per durable
    consumer across all processes; ``max_deliveries`` (20) is how often a message may be
    delivered without any process settling it; ``fetch_timeout`` (1 s) is how long one pull
    waits for messages.

    Connection options are nats-py's: ``servers``, ``name``, ``token``, ``user``,
    ``password``, ``creds`` (a credentials file), ``tls`` (an ``ssl.SSLContext``),
    ``tls_hostname``, ``connect_timeout`` (per attempt), ``initial_connect_timeout`` (how
    long ``connect`` keeps trying before it raises), ``reconnect_time_wait``,
    ``max_reconnect_attempts`` (-1: forever), plus anything else in ``nats_options``.
    ``pending_messages_limit`` caps what the client buffers per core subscription beyond the
    subscription's own queue; past it NATS drops messages (a slow-consumer event). Bus
    options (``clock``, ``max_attempts``, ``retry_delay``, ...) are those of every bus.
    """

    def __init__(
        self,
        servers: str | Sequence[str] = "nats://127.0.0.1:4222",
        *,
        name: str | None = "agentkit",
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        creds: str | None = None,
        tls: ssl.SSLContext | None = None,
        tls_hostname: str | None = None,
        connect_timeout: float = 2.0,
        initial_connect_timeout: float = 10.0,
        reconnect_time_wait: float = 2.0,
        max_reconnect_attempts: int = -1,
        stream: str = "AGENTKIT",
        dead_letter_stream: str = "AGENTKIT_DLQ",
        durable_publish_timeout: float = 30.0,
        ack_wait: float = 30.0,
        stream_replicas: int = 1,
        max_ack_pending: int = 1_000,
        max_deliveries: int = 20,
        max_control_line: int = 4096,
        fetch_timeout: float = 1.0,
        pending_messages_limit: int = 65_536,
        codec: wire.Codec = "msgpack",
        nats_options: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            stream=stream,
            dead_letter_stream=dead_letter_stream,
            durable_publish_timeout=durable_publish_timeout,
            ack_wait=ack_wait,
            stream_replicas=stream_replicas,
            max_ack_pending=max_ack_pending,
            max_deliveries=max_deliveries,
            max_control_line=max_control_line,
            fetch_timeout=fetch_timeout,
            **options,
        )
        self.servers = [servers] if isinstance(servers, str) else list(servers)
        if not self.servers:
            raise ConfigurationError("give at least one NATS server URL")
        connect_options: dict[str, object] = {
            "servers": self.servers,
            "name": name,
            "connect_timeout": connect_timeout,
            "reconnect_time_wait": reconnect_time_wait,
            "max_reconnect_attempts": max_reconnect_attempts,
        }
        credentials: tuple[tuple[str, object], ...] = (
            ("token", token),
            ("user", user),
            ("password", password),
            ("user_credentials", creds),
            ("tls", tls),
            ("tls_hostname", tls_hostname),
        )
        for key, setting in credentials:
            if setting is not None:
                connect_options[key] = setting
        connect_options.update(nats_options or {})
        self._connect_options = connect_options
        self.initial_connect_timeout = initial_connect_timeout
        self.pending_messages_limit = pending_messages_limit
        self.codec: wire.Codec = wire.check_codec(codec)
        # Per subscription: the codec its replies use, when the subscription chose one.
        self._sub_codecs: dict[BusSubscription, wire.Codec] = {}
        # Reply subject -> the codec of the request, while its handler runs (bounded).
        self._reply_codecs: OrderedDict[str, tuple[wire.Codec, wire.Codec | None]] = OrderedDict()
        # Header blocks of the constant part of v2 headers, per codec.
        self._fast_send = False
        self.counters.update({"undecodable_requests": 0})
        self.counters.update({"slow_consumer_events": 0, "disconnects": 0, "reconnects": 0})
        # Topics whose PUB control line is known to fit max_control_line (bounded).
        self._short_topics: set[str] = set()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "connected" if self._nc is not None else "new"
        return f"<NatsPubSub {self.servers} {state}>"

    # -- connection -------------------------------------------------------------------------

    async def connect(self) -> NatsPubSub:
        """Connect to the servers; ``ConnectionLostError`` says how to fix a failure."""
        self._check_open()
        telemetry.refresh()
        if telemetry.metrics is not None:
            _telemetry.watch_bus(self)
        if self._nc is not None:
            return self
        nats = self._nats = _import_nats()
        try:
            # nats-py retries a failed first connect forever when reconnects are unlimited;
            # a wrong URL should fail fast instead, so the first connect has a deadline.
            self._nc = await asyncio.wait_for(
                nats.connect(
                    **self._connect_options,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnect,
                    reconnected_cb=self._on_reconnect,
                    allow_reconnect=True,
                ),
                self.initial_connect_timeout,
            )
        except Exception as exc:
            raise ConnectionLostError(
                f"cannot connect to NATS at {', '.join(self.servers)}: {exc!r}. Is nats-server"
                " running there (start one with `nats-server -js`)? Check the URL, credentials"
                " and TLS settings."
            ) from exc
        self._js = self._nc.jetstream()
        self.max_payload = min(self.max_payload, int(self._nc.max_payload))
        nc = self._nc
        # Sending and parsing headers through nats-py costs more than the rest of a message;
        # with the internals this nats-py has, both take a shorter path (same bytes).
        self._fast_send = all(
            hasattr(nc, name)
            for name in ("_send_command", "_flush_queue", "_flush_pending", "_max_payload")
        )
        if hasattr(nc, "_process_headers"):
            nc._process_headers = _fast_header_parser(nc)
        return self

    async def _send(
        self,
        nc: Any,
        subject: str,
        reply: str,
        headers: dict[str, str] | None,
        body: bytes,
        head: bytes | None = None,
    ) -> None:
        """Publish *body* with *headers* on *subject*; *head* is their block, if made.

        *headers* may be None only with *head* and the fast path (see ``connect``).
        """
        if not self._fast_send:
            await nc.publish(subject, body, reply=reply, headers=headers)
            return
        errors = self._nats.errors
        if nc.is_closed:
            raise errors.ConnectionClosedError
        if nc.is_draining_pubs:
            raise errors.ConnectionDrainingError
        size = len(body)
        if not nc.is_connected and (
            nc._max_pending_size <= 0 or size + nc._pending_data_size > nc._max_pending_size
        ):
            raise errors.OutboundBufferLimitError
        if head is None:
            assert headers is not None
            head = wire.header_block(headers)
        nc.stats["out_msgs"] += 1
        nc.stats["out_bytes"] += size
        await nc._send_command(
            f"HPUB {subject} {reply} {len(head)} {len(head) + size}\r\n".encode()
            + head
            + body
            + b"\r\n"
        )
        if nc._flush_queue is not None and nc._flush_queue.empty():
            await nc._flush_pending()

    def _encode(
        self, message: PubSubMessage, codec: wire.Codec, *, reply_header: bool = False
    ) -> tuple[dict[str, str], bytes, bytes]:
        """Headers, header block and body of *message*; raise before sending what NATS
        would refuse (a header it cannot carry, more than max_payload)."""
        body = wire.encode_body(message, codec)
        headers = wire.wire_headers(message, codec, reply_header=reply_header)
        head = wire.header_block(headers)
        if len(head) + len(body) > self.max_payload:
            jetstream.check_payload(message.topic, body, headers, self.max_payload)
        return headers, head, body

    async def _on_error(self, exc: Exception) -> None:
        if self._nats is not None and isinstance(exc, self._nats.errors.SlowConsumerError):
            self.counters["slow_consumer_events"] += 1
            logger.error(
                "slow consumer on %r: NATS dropped a message for this subscription; raise"
                " max_concurrency or handle faster",
                getattr(exc, "subject", "?"),
            )
            return
        if self._nc is None:
            logger.debug("connecting to NATS: %r", exc)
        else:
            logger.warning("NATS error: %r", exc)

    async def _on_disconnect(self) -> None:
        if not self._closed:
            self.counters["disconnects"] += 1
            logger.warning("disconnected from NATS; reconnecting")

    async def _on_reconnect(self) -> None:
        self.counters["reconnects"] += 1
        logger.info("reconnected to NATS at %s", getattr(self._nc, "connected_url", None))

    # -- publishing -------------------------------------------------------------------------

    async def publish(
        self,
        topic: str,
        message: PubSubMessage | Any,
        /,
        *,
        timeout: float | None = None,
        durable: bool = False,
        codec: wire.Codec | None = None,
    ) -> PubSubMessage:
        """Hand *message* to the server; with *durable*, wait until JetStream stored it.

        *codec* encodes the payload (default: the bus's ``codec``). A durable publish
        de-duplicates by ``message_id`` and retries through an outage for up to
        ``durable_publish_timeout`` seconds (or *timeout*), then raises
        ``ConnectionLostError``.
        """
        if telemetry.tracer is not None or telemetry.metrics is not None:
            return await self._publish_traced(topic, message, timeout, durable, codec)
        nc = self._nc
        codec = self.codec if codec is None else wire.check_codec(codec)
        if (
            type(message) is PubSubMessage
            and not durable
            and nc is not None
            and not self._closing
            and type(topic) is str
            and topic in self._short_topics
            and message.topic == topic
        ):
            # The hot path: a caller-built message to a topic already validated and known
            # to fit the control line.
            check_message(message)
            head = wire.fast_head(message, codec) if self._fast_send else None
            if head is None:
                headers, head, data = self._encode(message, codec, reply_header=True)
            else:
                data = wire.encode_body(message, codec)
                headers = None
                if len(head) + len(data) > self.max_payload:
                    headers, head, data = self._encode(message, codec, reply_header=True)
        else:
            return await self._publish_slow(topic, message, timeout, durable, codec)
        self.published += 1
        if self._history_size:
            # BusBase._remember inlined: one append; filed into the history later.
            unfiled = self._unfiled
            unfiled.append(message)
            if len(unfiled) >= HISTORY_FILE_EVERY:
                self._file_history()
        try:
            await self._send(nc, topic, "", headers, data, head)
        except Exception as exc:
            raise self._translate(exc, topic) from exc
        return message

    async def _publish_slow(
        self,
        topic: str,
        message: PubSubMessage | Any,
        timeout: float | None,
        durable: bool,
        codec: wire.Codec,
    ) -> PubSubMessage:
        """publish() off its hot path: validate, encode, check the limits, send or store."""
        message = self._wrap(topic, message)
        headers, head, data = self._encode(message, codec, reply_header=True)
        nc = self._nc if self._nc is not None else self._client()
        # The validated topic: a plain str, even when the caller passed a str subclass.
        topic = message.topic
        if not durable and topic not in self._short_topics:
            jetstream.check_control_line(self.max_control_line, topic, reply=False)
            if len(self._short_topics) >= _MAX_SHORT_TOPICS:
                self._short_topics.clear()
            self._short_topics.add(topic)
        self.published += 1
        if self._history_size:
            self._remember(message)
        if durable:
            await self._publish_durable(topic, message, headers, data, timeout)
            return message
        try:
            await self._send(nc, topic, "", headers, data, head)
        except Exception as exc:
            raise self._translate(exc, topic) from exc
        return message

    async def _publish_traced(
        self,
        topic: str,
        message: PubSubMessage | Any,
        timeout: float | None,
        durable: bool,
        codec: wire.Codec | None,
    ) -> PubSubMessage:
        """publish() with tracing or metrics on: a span, the context in the NATS headers."""
        codec = self.codec if codec is None else wire.check_codec(codec)
        with _telemetry.publishing(self, topic, message, durable=durable) as traced:
            return await self._publish_slow(traced.topic, traced, timeout, durable, codec)

    # -- subscribing ------------------------------------------------------------------------

    async def subscribe(
        self,
        topic: str,
        handler: Handler,
        /,
        *,
        queue: str | None = None,
        max_concurrency: int = 1,
        max_attempts: int | None = None,
        queue_size: int | None = None,
        durable: str | None = None,
        codec: wire.Codec | None = None,
    ) -> BusSubscription:
        """Call *handler* for each message matching *topic*; see the class doc for *durable*.

        Each message is decoded by its own ``content-type``; *codec* picks the encoding of
        the replies this subscription's handler sends (default: the request's own codec).
        """
        nc = self._client()
        if codec is not None:
            codec = wire.check_codec(codec)
        if durable is not None and not (isinstance(durable, str) and STREAM_NAME.match(durable)):
            raise ConfigurationError(
                f"durable name {durable!r} must be letters, digits, '_' or '-' (at most 64)"
            )
        subscription = self._new_subscription(
            topic,
            handler,
            queue=queue,
            max_concurrency=max_concurrency,
            max_attempts=max_attempts,
            queue_size=queue_size,
            durable=durable,
        )
        if codec is not None:
            self._sub_codecs[subscription] = codec
        try:
            if durable is None:
                jetstream.check_control_line(self.max_control_line, topic, queue or "")
                await self._subscribe_core(nc, subscription)
            else:
                # The consumer is created with its filter in the API subject.
                jetstream.check_control_line(
                    self.max_control_line,
                    jetstream.durable_subject(self.stream, topic),
                    f"$JS.API.CONSUMER.CREATE.{self.stream}.{durable}",
                )
                await self._subscribe_durable(subscription)
        except BaseException:
            self._subscriptions.remove(subscription)
            self._sub_codecs.pop(subscription, None)
            await subscription._stop()
            raise
        return subscription

    async def _subscribe_core(self, nc: Any, subscription: BusSubscription) -> None:
        server_subs = self._server_subs
        offer = subscription.offer
        inbound = self._inbound
        decode_wire = wire.decode_wire

        async def on_message(msg: Any) -> None:
            # nats-py calls this from the subscription's own task, one message at a time.
            if msg.reply:
                message = inbound(subscription, msg)
            else:
                try:
                    message = decode_wire(msg.data, msg.headers, msg.subject, None)[0]
                except Exception:
                    message = inbound(subscription, msg)
            if message is None:
                return
            if not offer(message):
                await subscription.put(message, None)
            # Then take the rest of nats-py's backlog into our priority queue in one pass,
            # as far as the queue has room, instead of one callback per message: priority
            # order is decided among everything that has arrived.
            server_sub: Any = server_subs.get(subscription)
            pending = getattr(server_sub, "_pending_queue", None)
            if pending is None:
                return
            while pending.qsize() and subscription.has_room():
                msg = pending.get_nowait()
                try:
                    server_sub._pending_size -= len(msg.data)
                    if msg.reply:
                        message = inbound(subscription, msg)
                    else:
                        try:
                            message = decode_wire(msg.data, msg.headers, msg.subject, None)[0]
                        except Exception:
                            message = inbound(subscription, msg)
                    if message is None:
                        continue
                    offer(message)
                finally:
                    pending.task_done()

        self._server_subs[subscription] = await nc.subscribe(
            subscription.subject,
            queue=subscription.queue or "",
            cb=on_message,
            pending_msgs_limit=self.pending_messages_limit,
        )

    def _inbound(self, subscription: BusSubscription, msg: Any) -> PubSubMessage | None:
        """A core message off the fast path: a request, or one that does not decode."""
        # On a core message, msg.reply is the requester's inbox.
        reply = msg.reply or None
        try:
            message, codec = wire.decode_wire(msg.data, msg.headers, msg.subject, reply)
        except MessageDecodeError as exc:
            self._undecodable(subscription, msg, msg.subject, exc)
            if reply:
                self.counters["undecodable_requests"] += 1
                self._spawn(self._send_error_reply(reply, exc))
            return None
        if reply:
            codecs = self._reply_codecs
            if len(codecs) >= _MAX_REPLY_CODECS:
                codecs.popitem(last=False)
            codecs[reply] = (codec, self._sub_codecs.get(subscription))
        return message

    async def _send_error_reply(self, reply: str, exc: MessageDecodeError) -> None:
        """Tell a requester its request could not be decoded (JSON, with agentkit-error)."""
        headers, body = wire.error_reply(exc)
        try:
            await self._send(self._client(), reply, "", headers, body)
        except Exception as error:
            logger.warning("could not send the error reply to %s: %r", reply, error)

    async def delete_durable(self, durable: str, /) -> bool:
        """Delete the server-side durable consumer *durable*; return whether it existed."""
        js = self._js
        if js is None:
            self._client()
        try:
            return bool(await js.delete_consumer(self.stream, durable))
        except self._nats.js.errors.NotFoundError:
            return False
        except Exception as exc:
            raise self._translate(exc, durable) from exc

    async def remove_subscription(self, subscription: BusSubscription) -> None:
        await self._stop_inbound(subscription)
        self._sub_codecs.pop(subscription, None)
        await super().remove_subscription(subscription)

    async def _stop_inbound(self, subscription: BusSubscription) -> None:
        puller = self._pullers.pop(subscription, None)
        if puller is not None:
            puller.cancel()
            await asyncio.gather(puller, return_exceptions=True)
        server_sub = self._server_subs.pop(subscription, None)
        if server_sub is None:
            return
        try:
            if puller is None:
                # Handle what the client already holds, then stop.
                await server_sub.drain()
            else:
                # Messages still held are handled or given back; the durable consumer
                # itself stays on the server.
                await server_sub.unsubscribe()
        except Exception as exc:
            logger.debug("stopping the server subscription %r: %r", subscription.subject, exc)

    # -- request / reply --------------------------------------------------------------------

    async def request(
        self,
        topic: str,
        message: PubSubMessage | Any,
        /,
        *,
        timeout: float = 5.0,
        codec: wire.Codec | None = None,
    ) -> PubSubMessage:
        """Send *message* and return the first reply (decoded by its content type).

        ``NoRespondersError`` when nothing subscribes to *topic*; ``RequestTimeoutError``
        when no reply comes within *timeout* seconds; ``MessageDecodeError`` when the
        responder could not decode the request (its error reply) or the reply cannot be.
        """
        if telemetry.tracer is not None or telemetry.metrics is not None:
            with _telemetry.requesting(self, topic, message) as traced:
                return await self._request(traced.topic, traced, timeout, codec)
        return await self._request(topic, message, timeout, codec)

    async def _request(
        self,
        topic: str,
        message: PubSubMessage | Any,
        timeout: float,
        codec: wire.Codec | None,
    ) -> PubSubMessage:
        codec = self.codec if codec is None else wire.check_codec(codec)
        if not isinstance(message, PubSubMessage):
            message = PubSubMessage(topic=topic, payload=message)
        if message.correlation_id is None:
            message = msgspec.structs.replace(message, correlation_id=message.message_id)
        message = self._wrap(topic, message)
        headers, _, data = self._encode(message, codec)
        nc = self._client()
        jetstream.check_control_line(self.max_control_line, topic)
        self.published += 1
        if self._history_size:
            self._remember(message)
        errors = self._nats.errors
        try:
            reply = await nc.request(topic, data, timeout=timeout, headers=headers)
        except errors.NoRespondersError:
            raise NoRespondersError(f"no subscription listens on {topic!r}") from None
        except errors.TimeoutError:
            raise RequestTimeoutError(
                f"no reply on {topic!r} within {timeout} s (request {message.message_id})"
            ) from None
        except Exception as exc:
            raise self._translate(exc, topic) from exc
        reply_headers = reply.headers
        if reply_headers and wire.ERROR in reply_headers:
            raise MessageDecodeError(
                f"the responder on {topic!r} could not decode the request"
                f" {message.message_id}: {bytes(reply.data)[:1000].decode('utf-8', 'replace')}"
            )
        return wire.decode_wire(reply.data, reply_headers, reply.subject, None)[0]

    async def send_reply(self, request: PubSubMessage, result: Any) -> None:
        """Publish the handler's *result* to the request's reply subject.

        The reply is encoded with the subscription's codec if it chose one, else with the
        request's (a JSON request gets a JSON reply; a raw one gets raw bytes when the result
        is bytes, else the bus's codec).
        """
        reply = self._reply_message(request, result)
        reply = self._wrap(reply.topic, reply, replying=True)
        request_codec, chosen = self._reply_codecs.pop(reply.topic, (self.codec, None))
        codec = chosen or request_codec
        if codec == "raw" and not isinstance(reply.payload, (bytes, bytearray, memoryview)):
            codec = self.codec if self.codec != "raw" else "msgpack"
        headers, head, data = self._encode(reply, codec)
        jetstream.check_control_line(self.max_control_line, reply.topic, reply=False)
        try:
            await self._send(self._client(), reply.topic, "", headers, data, head)
        except Exception as exc:
            raise self._translate(exc, reply.topic) from exc

    # -- lifecycle --------------------------------------------------------------------------

    async def _round_trip(self) -> None:
        """Wait until the server has what we sent and we have what it sent before that."""
        if self._nc is None or not self._nc.is_connected:
            return
        # nats-py (2.16) writes flush()'s PING straight to the socket, ahead of commands
        # still in its buffer, so the first PONG can come back before our publishes reached
        # the server. That flush does push the buffer out; the second PING follows it.
        try:
            for _ in range(2):
                await self._nc.flush(timeout=5)
        except Exception as exc:
            logger.debug("flush failed: %r", exc)

    async def drain(self) -> None:
        """Wait until the server has our publishes and every handler has caught up."""
        await self._round_trip()
        while True:
            in_client = sum(
                getattr(sub, "pending_msgs", 0) or 0 for sub in self._server_subs.values()
            )
            if not in_client:
                break
            await asyncio.sleep(0.001)
        await super().drain()

    async def _before_drain(self) -> None:
        # Take in what was published before close() so it is handled, not dropped.
        await self._round_trip()
        for subscription in list(self._server_subs):
            await self._stop_inbound(subscription)

    async def _close_transport(self) -> None:
        nc, self._nc = self._nc, None
        if nc is None:
            return
        try:
            await nc.flush(timeout=2)
        except Exception as exc:
            logger.debug("final flush failed: %r", exc)
        try:
            await nc.close()
        except Exception as exc:
            logger.debug("closing the NATS connection: %r", exc)
