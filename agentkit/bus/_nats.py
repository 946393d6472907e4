"""The NATS bus: core NATS for fast at-most-once messaging, JetStream for durable delivery.

nats-py is imported when the bus connects, so the class is importable without the ``nats``
extra and fails then with the exact ``pip install`` line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from agentkit.bus import _nats_durable as jetstream
from agentkit.bus._base import HISTORY_FILE_EVERY
from agentkit.bus._messages import (
    WIRE_VERSION,
    PubSubMessage,
    check_message,
    decode_message,
    decode_raw,
    encode_error,
    encode_raw,
)
from agentkit.bus._nats_jetstream import STREAM_NAME, JetStreamBus
from agentkit.bus._subscription import BusSubscription
from agentkit.exceptions import (
    ConfigurationError,
    ConnectionLostError,
    MissingExtraError,
    NoRespondersError,
    RequestTimeoutError,
)
from agentkit.protocols import Handler

if TYPE_CHECKING:
    import ssl

__all__ = ["NatsPubSub"]

logger = logging.getLogger("agentkit.bus.nats")

#: Most topics remembered as fitting the server's control line before the set is cleared.
_MAX_SHORT_TOPICS = 10_000


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
        return self

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
    ) -> PubSubMessage:
        """Hand *message* to the server; with *durable*, wait until JetStream stored it.

        A durable publish de-duplicates by ``message_id`` and retries through an outage for up
        to ``durable_publish_timeout`` seconds (or *timeout*), then raises
        ``ConnectionLostError``.
        """
        nc = self._nc
        if (
            type(message) is PubSubMessage
            and not durable
            and nc is not None
            and not self._closing
            and type(topic) is str
            and topic in self._short_topics
            and message.topic == topic
        ):
            # The hot path, _prepare inlined: a caller-built message to a topic already
            # validated and known to fit the control line.
            check_message(message)
            try:
                data = encode_raw(message)
            except Exception as exc:
                raise encode_error(message, exc) from exc
            if len(data) > self.max_payload:
                raise self._too_large(topic, len(data))
        else:
            message, data = self._prepare(topic, message)
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
            # BusBase._remember inlined: one append; filed into the history later.
            unfiled = self._unfiled
            unfiled.append(message)
            if len(unfiled) >= HISTORY_FILE_EVERY:
                self._file_history()
        if durable:
            await self._publish_durable(topic, message, data, timeout)
            return message
        try:
            await nc.publish(topic, data)
        except Exception as exc:
            raise self._translate(exc, topic) from exc
        return message

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
    ) -> BusSubscription:
        """Call *handler* for each message matching *topic*; see the class doc for *durable*."""
        nc = self._client()
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
            await subscription._stop()
            raise
        return subscription

    async def _subscribe_core(self, nc: Any, subscription: BusSubscription) -> None:
        server_subs = self._server_subs
        offer = subscription.offer
        inbound = self._inbound

        async def on_message(msg: Any) -> None:
            # nats-py calls this from the subscription's own task, one message at a time.
            # The common case is inlined: a well-formed body whose topic is the subject.
            try:
                message = decode_raw(msg.data)
            except Exception:
                message = None
            if (
                message is None
                or message.version > WIRE_VERSION
                or message.topic != msg.subject
                or (msg.reply and message.reply_to != msg.reply)
            ):
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
                    try:
                        message = decode_raw(msg.data)
                    except Exception:
                        message = None
                    if (
                        message is None
                        or message.version > WIRE_VERSION
                        or message.topic != msg.subject
                        or (msg.reply and message.reply_to != msg.reply)
                    ):
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
        """A core message off the fast path: undecodable, renamed, or a request."""
        message = self._decode(subscription, msg, msg.subject)
        # On a core message, msg.reply is the requester's inbox.
        if message is not None and msg.reply and message.reply_to != msg.reply:
            message = msgspec.structs.replace(message, reply_to=msg.reply)
        return message

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
        self, topic: str, message: PubSubMessage | Any, /, *, timeout: float = 5.0
    ) -> PubSubMessage:
        """Send *message* and return the first reply.

        ``NoRespondersError`` when nothing subscribes to *topic*; ``RequestTimeoutError``
        when no reply comes within *timeout* seconds.
        """
        if not isinstance(message, PubSubMessage):
            message = PubSubMessage(topic=topic, payload=message)
        if message.correlation_id is None:
            message = msgspec.structs.replace(message, correlation_id=message.message_id)
        message, data = self._prepare(topic, message)
        nc = self._client()
        jetstream.check_control_line(self.max_control_line, topic)
        self.published += 1
        if self._history_size:
            self._remember(message)
        errors = self._nats.errors
        try:
            reply = await nc.request(topic, data, timeout=timeout)
        except errors.NoRespondersError:
            raise NoRespondersError(f"no subscription listens on {topic!r}") from None
        except errors.TimeoutError:
            raise RequestTimeoutError(
                f"no reply on {topic!r} within {timeout} s (request {message.message_id})"
            ) from None
        except Exception as exc:
            raise self._translate(exc, topic) from exc
        return decode_message(reply.data)

    async def send_reply(self, request: PubSubMessage, result: Any) -> None:
        """Publish the handler's *result* to the request's reply subject."""
        reply = self._reply_message(request, result)
        reply, data = self._prepare(reply.topic, reply, replying=True)
        jetstream.check_control_line(self.max_control_line, reply.topic, reply=False)
        try:
            await self._client().publish(reply.topic, data)
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
