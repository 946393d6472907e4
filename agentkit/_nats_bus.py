"""The NATS bus: core NATS for fast at-most-once messaging, JetStream for durable delivery.

nats-py is imported when the bus connects, so the class is importable without the ``nats``
extra and fails then with the exact ``pip install`` line.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from agentkit._bus_base import REDRIVEN_FROM_HEADER, BusBase
from agentkit._messages import (
    DeadLetter,
    PubSubMessage,
    decode_message,
    encode_message,
)
from agentkit._subjects import subject_matches
from agentkit._subscription import BusSubscription, Envelope
from agentkit.exceptions import (
    BusClosedError,
    ConfigurationError,
    ConnectionLostError,
    MessageDecodeError,
    MessageTooLargeError,
    MissingExtraError,
    NoRespondersError,
    RequestTimeoutError,
)
from agentkit.protocols import Handler

if TYPE_CHECKING:
    import ssl

__all__ = ["NatsPubSub"]

logger = logging.getLogger("agentkit.bus.nats")

_STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DLQ_PREFIX = "agentkit.dlq"


def _import_nats() -> Any:
    try:
        import nats
    except ImportError as exc:  # pragma: no cover - exercised in the core-only session
        raise MissingExtraError("the NATS bus", "nats") from exc
    return nats


def _covers(patterns: Sequence[str], topic: str) -> bool:
    """Whether a stream with subjects *patterns* stores messages on *topic*."""
    if "*" in topic or ">" in topic:
        return topic in patterns
    return any(subject_matches(pattern, topic) for pattern in patterns)


class NatsPubSub(BusBase):
    """A bus over NATS: the same contract as :class:`InMemoryPubSub`, across processes.

    Core subscriptions are at-most-once, as core NATS is: a subscriber that falls too far
    behind loses messages on the server or in the client; those events are logged and counted
    in ``stats()["slow_consumer_events"]``. A ``durable="name"`` subscription uses JetStream:
    messages are stored in the stream (``stream``, default ``AGENTKIT``, created and widened to
    the subjects it needs), acknowledged only after the handler succeeds, redelivered with a
    backoff (``nak`` with delay) when it fails, and terminated and copied to the
    ``AGENTKIT_DLQ`` stream (subject ``agentkit.dlq.<stream>.<durable>``) after
    ``max_attempts``. The durable consumer lives on the server, so it survives a restart of
    the subscribing process; processes sharing a durable name share its work.
    ``publish(..., durable=True)`` waits for JetStream's acknowledgement, de-duplicates by
    message id and retries through a server outage for up to ``durable_publish_timeout``
    seconds. ``stream_replicas`` (1-5) sets how many servers of a NATS cluster store the
    streams this bus creates: with 3, durable messages survive the loss of a server.

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
        pending_messages_limit: int = 65_536,
        nats_options: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        for label, value in (("stream", stream), ("dead_letter_stream", dead_letter_stream)):
            if not _STREAM_NAME.match(value):
                raise ConfigurationError(
                    f"{label} {value!r} must be letters, digits, '_' or '-' (at most 64)"
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
        self.stream = stream
        self.dead_letter_stream = dead_letter_stream
        self.durable_publish_timeout = durable_publish_timeout
        self.ack_wait = ack_wait
        if not 1 <= stream_replicas <= 5:
            raise ConfigurationError(f"stream_replicas must be 1 to 5, not {stream_replicas!r}")
        self.stream_replicas = stream_replicas
        self.initial_connect_timeout = initial_connect_timeout
        self.pending_messages_limit = pending_messages_limit
        self._nc: Any = None
        self._js: Any = None
        self._nats: Any = None
        self._server_subs: dict[BusSubscription, Any] = {}
        self._pullers: dict[BusSubscription, asyncio.Task[None]] = {}
        self._stream_subjects: list[str] | None = None
        self._stream_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self.counters.update(
            {
                "slow_consumer_events": 0,
                "disconnects": 0,
                "reconnects": 0,
                "undecodable": 0,
                "durable_publish_retries": 0,
            }
        )

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

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run *work* in the background, holding a reference until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _client(self) -> Any:
        if self._nc is None:
            self._check_open()
            raise ConnectionLostError("NatsPubSub is not connected; `await bus.connect()` first")
        return self._nc

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

    def _translate(self, exc: Exception, topic: str) -> Exception:
        errors = self._nats.errors
        if isinstance(exc, errors.MaxPayloadError):
            return MessageTooLargeError(f"message to {topic!r} exceeds the server's max_payload")
        if isinstance(exc, (errors.ConnectionClosedError, errors.ConnectionDrainingError)):
            return BusClosedError(f"the NATS connection is closed (publishing to {topic!r})")
        return ConnectionLostError(f"NATS failed on {topic!r}: {exc!r}")

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
        message, data = self._prepare(topic, message)
        nc = self._client()
        self.published += 1
        if self._history_size:
            self._remember(message)
        if durable:
            await self._publish_durable(topic, message, data, timeout)
            return message
        try:
            await nc.publish(topic, data)
        except Exception as exc:
            raise self._translate(exc, topic) from exc
        return message

    async def _publish_durable(
        self, topic: str, message: PubSubMessage, data: bytes, timeout: float | None
    ) -> None:
        await self._ensure_stream_covers(topic)
        budget = self.durable_publish_timeout if timeout is None else timeout
        deadline = self.clock.monotonic() + budget
        delay = 0.05
        # JetStream drops a second message with the same Msg-Id (that makes retries safe);
        # a redriven message is a new delivery on purpose, so it gets its own id.
        msg_id = message.message_id
        redriven_from = message.headers.get(REDRIVEN_FROM_HEADER)
        if redriven_from:
            msg_id = f"{msg_id}/{redriven_from}"
        headers = {"Nats-Msg-Id": msg_id}
        while True:
            try:
                await self._js.publish(
                    topic, data, timeout=min(2.0, max(0.1, budget)), headers=headers
                )
                return
            except Exception as exc:
                if isinstance(exc, self._nats.errors.MaxPayloadError):
                    raise self._translate(exc, topic) from exc
                if self.closed or self.clock.monotonic() + delay > deadline:
                    raise ConnectionLostError(
                        f"JetStream did not store the message to {topic!r} within {budget} s:"
                        f" {exc!r}"
                    ) from exc
                self.counters["durable_publish_retries"] += 1
                await self.clock.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _ensure_stream_covers(self, topic: str) -> None:
        """Create the stream, or widen its subjects, so that it stores *topic*."""
        subjects = self._stream_subjects
        if subjects is not None and _covers(subjects, topic):
            return
        async with self._stream_lock:
            js_api = self._nats.js.api
            try:
                info = await self._js.stream_info(self.stream)
                current = list(info.config.subjects or [])
            except self._nats.js.errors.NotFoundError:
                await self._js.add_stream(
                    name=self.stream,
                    subjects=[topic],
                    storage=js_api.StorageType.FILE,
                    retention=js_api.RetentionPolicy.LIMITS,
                    num_replicas=self.stream_replicas,
                )
                self._stream_subjects = [topic]
                return
            if not _covers(current, topic):
                current.append(topic)
                try:
                    await self._js.update_stream(info.config.evolve(subjects=current))
                except Exception as exc:
                    raise ConfigurationError(
                        f"cannot add {topic!r} to stream {self.stream!r} (subjects"
                        f" {current[:-1]}): {exc}. Subjects of one stream may not overlap;"
                        " subscribe durably to the wider pattern instead."
                    ) from exc
            self._stream_subjects = current

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
        if durable is not None and not _STREAM_NAME.match(durable):
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
                await self._subscribe_core(nc, subscription)
            else:
                await self._subscribe_durable(subscription)
        except BaseException:
            self._subscriptions.remove(subscription)
            await subscription._stop()
            raise
        return subscription

    async def _subscribe_core(self, nc: Any, subscription: BusSubscription) -> None:
        async def on_message(msg: Any) -> None:
            message = self._decode(subscription, msg)
            if message is not None and not subscription.offer(message):
                await subscription.put(message, None)

        self._server_subs[subscription] = await nc.subscribe(
            subscription.subject,
            queue=subscription.queue or "",
            cb=on_message,
            pending_msgs_limit=self.pending_messages_limit,
        )

    def _decode(
        self, subscription: BusSubscription, msg: Any, *, core: bool = True
    ) -> PubSubMessage | None:
        try:
            message = decode_message(msg.data)
        except MessageDecodeError as exc:
            self.counters["undecodable"] += 1
            # Keep the raw bytes as a dead letter: nothing is dropped silently.
            raw = PubSubMessage(topic=msg.subject, payload=bytes(msg.data))
            self._spawn(self.dead_letter(subscription, Envelope(raw), exc))
            return None
        # On a JetStream message, msg.reply is the ack subject, not a requester's inbox.
        if core and msg.reply and message.reply_to != msg.reply:
            message = msgspec.structs.replace(message, reply_to=msg.reply)
        return message

    async def _subscribe_durable(self, subscription: BusSubscription) -> None:
        await self._ensure_stream_covers(subscription.subject)
        await self._ensure_dead_letter_stream()
        api = self._nats.js.api
        config = api.ConsumerConfig(
            durable_name=subscription.durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            # We terminate after max_attempts ourselves; the server's cap is a backstop.
            max_deliver=subscription.max_attempts + 1,
            filter_subject=subscription.subject,
            deliver_policy=api.DeliverPolicy.ALL,
        )
        pull = await self._js.pull_subscribe(
            subscription.subject,
            durable=subscription.durable,
            stream=self.stream,
            config=config,
        )
        self._server_subs[subscription] = pull
        self._pullers[subscription] = asyncio.get_running_loop().create_task(
            self._pull_loop(subscription, pull)
        )

    async def _pull_loop(self, subscription: BusSubscription, pull: Any) -> None:
        errors = self._nats.errors
        backoff = 0.05
        while subscription.active:
            room = subscription.queue_size - subscription.pending
            if room <= 0:
                await subscription.wait_idle()
                continue
            # Fetch little beyond what the workers can start, so unstarted messages do not
            # sit in the local queue past the server's ack_wait.
            batch = max(1, min(room, subscription.max_concurrency * 2, 256))
            try:
                messages = await pull.fetch(batch, timeout=1.0)
            except (TimeoutError, errors.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not subscription.active or self.closed:
                    return
                logger.debug("fetch on %r failed: %r; retrying", subscription.durable, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            for msg in messages:
                envelope = self._durable_envelope(subscription, msg)
                if envelope is not None:
                    await subscription.put(envelope, None)

    def _durable_envelope(self, subscription: BusSubscription, msg: Any) -> Envelope | None:
        message = self._decode(subscription, msg, core=False)
        if message is None:
            self._spawn(msg.term())
            return None
        attempt = int(msg.metadata.num_delivered)
        if message.attempt != attempt:
            message = msgspec.structs.replace(message, attempt=attempt)

        async def nak(delay: float) -> None:
            await msg.nak(delay=delay)

        return Envelope(message, attempt, ack=msg.ack, nak=nak, term=msg.term)

    async def _ensure_dead_letter_stream(self) -> None:
        try:
            await self._js.stream_info(self.dead_letter_stream)
        except self._nats.js.errors.NotFoundError:
            await self._js.add_stream(
                name=self.dead_letter_stream,
                subjects=[f"{_DLQ_PREFIX}.{self.stream}.>"],
                num_replicas=self.stream_replicas,
            )

    async def _on_dead_letter(self, letter: DeadLetter) -> None:
        if letter.durable is None or self._js is None:
            return
        try:
            await self._js.publish(
                f"{_DLQ_PREFIX}.{self.stream}.{letter.durable}",
                encode_message(letter),
                headers={"Nats-Msg-Id": letter.dead_letter_id},
            )
        except Exception as exc:
            logger.error(
                "could not store dead letter %s in JetStream: %r", letter.dead_letter_id, exc
            )

    async def delete_durable(self, durable: str, /) -> bool:
        """Delete the server-side durable consumer *durable*; return whether it existed."""
        try:
            return bool(await self._js.delete_consumer(self.stream, durable))
        except self._nats.js.errors.NotFoundError:
            return False

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
                # Fetched-but-unqueued messages stay unacked and are redelivered later;
                # the durable consumer itself stays on the server.
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
        await self._client().publish(reply.topic, data)

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
