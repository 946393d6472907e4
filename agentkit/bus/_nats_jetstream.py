"""The JetStream half of the NATS bus: durable publish, pull consumers and dead letters.

:class:`JetStreamBus` holds what durable delivery needs on top of :class:`BusBase`;
:class:`agentkit.NatsPubSub` adds the connection, core NATS and request/reply. The objects a
pull consumer works with (deliveries, the puller, the wire limits) are in ``_nats_durable``,
which also explains the delivery guarantees.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import Any

import msgspec

from agentkit.bus import _nats_durable as jetstream
from agentkit.bus import _wire as wire
from agentkit.bus._base import REDRIVEN_FROM_HEADER, BusBase
from agentkit.bus._messages import (
    DeadLetter,
    PubSubMessage,
    encode_message,
    new_message_id,
)
from agentkit.bus._nats_durable import DLQ_PREFIX, Delivery, Puller
from agentkit.bus._subscription import BusSubscription, Envelope
from agentkit.exceptions import (
    AgentkitError,
    BusClosedError,
    ConfigurationError,
    ConnectionLostError,
    InvalidSubjectError,
    MessageDecodeError,
    MessageTooLargeError,
)

__all__ = ["STREAM_NAME", "JetStreamBus"]

logger = logging.getLogger("agentkit.bus.nats")

STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class JetStreamBus(BusBase):
    """Durable delivery over JetStream; subclassed by :class:`agentkit.NatsPubSub`."""

    messaging_system = "nats"

    def __init__(
        self,
        *,
        stream: str,
        dead_letter_stream: str,
        durable_publish_timeout: float,
        ack_wait: float,
        stream_replicas: int,
        max_ack_pending: int,
        max_deliveries: int,
        max_control_line: int,
        fetch_timeout: float,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        for label, value in (("stream", stream), ("dead_letter_stream", dead_letter_stream)):
            if not STREAM_NAME.match(value):
                raise ConfigurationError(
                    f"{label} {value!r} must be letters, digits, '_' or '-' (at most 64)"
                )
        if not 1 <= stream_replicas <= 5:
            raise ConfigurationError(f"stream_replicas must be 1 to 5, not {stream_replicas!r}")
        for label, number in (
            ("max_ack_pending", max_ack_pending),
            ("max_deliveries", max_deliveries),
            ("max_control_line", max_control_line),
        ):
            if number < 1:
                raise ConfigurationError(f"{label} must be >= 1, not {number!r}")
        if not fetch_timeout > 0:
            raise ConfigurationError(f"fetch_timeout must be > 0, not {fetch_timeout!r}")
        self.stream = stream
        self.dead_letter_stream = dead_letter_stream
        self.durable_publish_timeout = durable_publish_timeout
        self.ack_wait = ack_wait
        self.stream_replicas = stream_replicas
        self.max_ack_pending = max_ack_pending
        self.max_deliveries = max_deliveries
        self.max_control_line = max_control_line
        self.fetch_timeout = fetch_timeout
        self._nc: Any = None
        self._js: Any = None
        self._nats: Any = None
        self._server_subs: dict[BusSubscription, Any] = {}
        self._pullers: dict[BusSubscription, asyncio.Task[None]] = {}
        self._streams_ready = False
        self._stream_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self.counters.update(
            {"undecodable": 0, "durable_publish_retries": 0, "dead_letter_store_failures": 0}
        )

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

    def _translate(self, exc: Exception, topic: str) -> Exception:
        errors = self._nats.errors
        if isinstance(exc, (UnicodeError, errors.BadSubjectError)):
            return InvalidSubjectError(f"NATS refused the subject {topic!r}: {exc!r}")
        if isinstance(exc, errors.MaxPayloadError):
            return MessageTooLargeError(f"message to {topic!r} exceeds the server's max_payload")
        if isinstance(exc, (errors.ConnectionClosedError, errors.ConnectionDrainingError)):
            return BusClosedError(f"the NATS connection is closed (publishing to {topic!r})")
        return ConnectionLostError(f"NATS failed on {topic!r}: {exc!r}")

    async def _send(
        self, nc: Any, subject: str, reply: str, headers: dict[str, str], body: bytes
    ) -> None:
        """Publish *body* with *headers* on *subject* (implemented by the NATS bus)."""
        raise NotImplementedError

    async def _publish_durable(
        self,
        topic: str,
        message: PubSubMessage,
        wire_headers: dict[str, str],
        data: bytes,
        timeout: float | None,
    ) -> None:
        # JetStream drops a second message with the same Msg-Id (that makes retries safe);
        # a redriven message is a new delivery on purpose, so it gets its own id.
        msg_id = message.message_id
        redriven_from = message.headers.get(REDRIVEN_FROM_HEADER)
        if redriven_from:
            msg_id = f"{msg_id}/{redriven_from}"
        headers = {**wire_headers, "Nats-Msg-Id": msg_id}
        subject = jetstream.durable_subject(self.stream, topic)
        jetstream.check_control_line(self.max_control_line, subject)
        jetstream.check_payload(topic, data, headers, self.max_payload)
        await self._ensure_streams()
        await self._store(subject, data, headers, timeout)
        # Core subscribers of the topic see durable publishes too, as they would on a
        # subject JetStream captures directly.
        try:
            await self._send(self._client(), topic, "", wire_headers, data)
        except Exception as exc:
            logger.debug("core copy of a durable message to %r failed: %r", topic, exc)

    async def _store(
        self, subject: str, data: bytes, headers: dict[str, str], timeout: float | None
    ) -> None:
        """Publish to JetStream and wait for its acknowledgement, retrying through outages."""
        budget = self.durable_publish_timeout if timeout is None else timeout
        deadline = self.clock.monotonic() + budget
        delay = 0.05
        while True:
            try:
                await self._js.publish(
                    subject, data, timeout=min(2.0, max(0.1, budget)), headers=headers
                )
                return
            except Exception as exc:
                if isinstance(exc, (self._nats.errors.MaxPayloadError, UnicodeError)):
                    raise self._translate(exc, subject) from exc
                if self.closed or self.clock.monotonic() + delay > deadline:
                    raise ConnectionLostError(
                        f"JetStream did not store the message to {subject!r} within {budget} s:"
                        f" {exc!r}"
                    ) from exc
                self.counters["durable_publish_retries"] += 1
                await self.clock.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _ensure_streams(self) -> None:
        """Create the durable and dead-letter streams once; new topics need no change."""
        if self._streams_ready:
            return
        try:
            await self._create_streams()
        except AgentkitError:
            raise
        except Exception as exc:
            raise self._translate(exc, f"stream {self.stream}") from exc

    async def _create_streams(self) -> None:
        async with self._stream_lock:
            if self._streams_created():
                return
            await self._ensure_stream(
                self.stream, jetstream.durable_subject(self.stream, ">"), durable=True
            )
            await self._ensure_stream(
                self.dead_letter_stream, f"{DLQ_PREFIX}.{self.stream}.>", durable=False
            )
            self._streams_ready = True

    def _streams_created(self) -> bool:
        return self._streams_ready

    async def _ensure_stream(self, name: str, subjects: str, *, durable: bool) -> None:
        js_api = self._nats.js.api
        try:
            info = await self._js.stream_info(name)
        except self._nats.js.errors.NotFoundError:
            options: dict[str, Any] = {"num_replicas": self.stream_replicas}
            if durable:
                options["storage"] = js_api.StorageType.FILE
                options["retention"] = js_api.RetentionPolicy.LIMITS
            try:
                await self._js.add_stream(name=name, subjects=[subjects], **options)
            except self._nats.js.errors.BadRequestError as exc:
                # Another process created it in the meantime, or the subjects clash.
                try:
                    await self._js.stream_info(name)
                except self._nats.js.errors.NotFoundError:
                    raise ConfigurationError(
                        f"cannot create stream {name!r} for {subjects!r}: {exc}"
                    ) from exc
            return
        current = list(info.config.subjects or [])
        if subjects not in current:
            # A stream made by an older agentkit: one update adds the subject space.
            try:
                await self._js.update_stream(info.config.evolve(subjects=[*current, subjects]))
            except Exception as exc:
                raise ConfigurationError(
                    f"stream {name!r} has subjects {current} and cannot take {subjects!r}:"
                    f" {exc}. Use another stream name (the `stream` option)."
                ) from exc

    def _decode(
        self,
        subscription: BusSubscription,
        msg: Any,
        topic: str,
        delivery: Delivery | None = None,
    ) -> PubSubMessage | None:
        """Decode *msg* (v2, v1 or a plain client's); undecodable ones become dead letters.

        The subject a message arrived on is its topic, whatever its body or headers claim.
        """
        try:
            return wire.decode_wire(msg.data, msg.headers, topic, None)[0]
        except MessageDecodeError as exc:
            self._undecodable(subscription, msg, topic, exc, delivery)
            return None

    def _undecodable(
        self,
        subscription: BusSubscription,
        msg: Any,
        topic: str,
        exc: MessageDecodeError,
        delivery: Delivery | None = None,
    ) -> None:
        """Dead-letter *msg*, which does not decode (after which *delivery* ends)."""
        self.counters["undecodable"] += 1
        # Keep the raw bytes as a dead letter: nothing is dropped silently.
        raw = PubSubMessage(topic=topic, payload=bytes(msg.data))
        envelope = Envelope(raw) if delivery is None else self._envelope(raw, delivery)
        self._spawn(self.dead_letter(subscription, envelope, exc))

    async def _subscribe_durable(self, subscription: BusSubscription) -> None:
        await self._ensure_streams()
        api = self._nats.js.api
        durable = subscription.durable
        config = api.ConsumerConfig(
            name=durable,
            durable_name=durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            # No server-side cap: the server must never give up on a message we have not
            # dead-lettered. Attempts are counted and enforced here (see _nats_durable).
            max_deliver=-1,
            max_ack_pending=self.max_ack_pending,
            filter_subject=jetstream.durable_subject(self.stream, subscription.subject),
            deliver_policy=api.DeliverPolicy.ALL,
        )
        try:
            # Creates the consumer, or updates one made with other settings.
            await self._js.add_consumer(self.stream, config=config)
            pull = await self._js.pull_subscribe_bind(durable=durable, stream=self.stream)
        except self._nats.js.errors.BadRequestError as exc:
            raise ConfigurationError(
                f"cannot create durable consumer {durable!r} on {subscription.subject!r}: {exc}."
                " A durable name keeps its subject; delete_durable() it to change the subject."
            ) from exc
        except Exception as exc:
            raise self._translate(exc, subscription.subject) from exc
        self._server_subs[subscription] = pull
        puller = Puller(subscription, pull, self.ack_wait, self.fetch_timeout)
        subscription.add_close_callback(puller.stop)
        self._pullers[subscription] = asyncio.get_running_loop().create_task(
            self._pull_loop(subscription, puller)
        )

    async def _pull_loop(self, subscription: BusSubscription, puller: Puller) -> None:
        backoff = 0.05
        while subscription.active:
            try:
                messages = await puller.fetch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if isinstance(exc, self._nats.errors.TimeoutError):
                    continue
                if not subscription.active or self.closed:
                    return
                logger.debug("fetch on %r failed: %r; retrying", subscription.durable, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            for msg in messages:
                envelope = self._durable_envelope(subscription, puller, msg)
                if envelope is not None:
                    await subscription.put(envelope, None)

    def _envelope(self, message: PubSubMessage, delivery: Delivery) -> Envelope:
        return Envelope(
            message,
            delivery.attempt,
            ack=delivery.ack,
            nak=delivery.nak,
            term=delivery.term,
        )

    def _durable_envelope(
        self, subscription: BusSubscription, puller: Puller, msg: Any
    ) -> Envelope | None:
        delivered = int(msg.metadata.num_delivered)
        # Deliveries to a process that died count on the server but were never attempts;
        # the handler always gets its last attempt, and its failure is dead-lettered.
        attempt = min(delivered, subscription.max_attempts)
        delivery = puller.hold(msg, attempt)
        topic = jetstream.topic_of(self.stream, msg.subject)
        message = self._decode(subscription, msg, topic, delivery)
        if message is None:
            return None
        if message.attempt != attempt:
            message = msgspec.structs.replace(message, attempt=attempt)
        envelope = self._envelope(message, delivery)
        limit = max(self.max_deliveries, subscription.max_attempts)
        if delivered > limit:
            error = jetstream.delivery_limit_error(topic, delivered, limit)
            self._spawn(self.dead_letter(subscription, envelope, error))
            return None
        return envelope

    async def dead_letter(
        self,
        subscription: BusSubscription,
        envelope: Envelope,
        exc: BaseException | None,
        *,
        note: str | None = None,
    ) -> DeadLetter:
        """Record a message given up on; a durable one is stored in JetStream before its term.

        A durable message that was not handled because the bus is closing (no error, or its
        handler cancelled) is given back to the server instead: it stays in the stream and is
        delivered again, to this durable name's next process.
        """
        delivery = jetstream.delivery_of(envelope)
        if delivery is None:
            return await super().dead_letter(subscription, envelope, exc, note=note)
        if exc is None or isinstance(exc, asyncio.CancelledError):
            await delivery.give_back()
            return DeadLetter(
                dead_letter_id=new_message_id(),
                message=envelope.message,
                subscription=subscription.subject,
                queue=subscription.queue,
                error_type="GivenBack",
                error=note or "returned to the stream for redelivery",
                attempts=envelope.attempt,
                failed_at=self.clock.time(),
                durable=subscription.durable,
            )
        token = jetstream.current_delivery.set(delivery)
        try:
            return await super().dead_letter(subscription, envelope, exc, note=note)
        finally:
            jetstream.current_delivery.reset(token)

    async def _on_dead_letter(self, letter: DeadLetter) -> bool:
        if letter.durable is None or self._js is None:
            return True
        delivery = jetstream.current_delivery.get()
        stored = await self._store_dead_letter(letter)
        if delivery is None:
            return True  # listed locally either way: there is no message to hand back
        if stored:
            await delivery.terminate()
            return True
        # Not stored: not listed, and the server delivers it again, so the next delivery
        # dead-letters it once more. A duplicate at worst, never a loss.
        await delivery.nak(self.retry_delay_for(letter.attempts))
        return False

    async def _store_dead_letter(self, letter: DeadLetter) -> bool:
        subject = f"{DLQ_PREFIX}.{self.stream}.{letter.durable}"
        headers = {"Nats-Msg-Id": letter.dead_letter_id}
        data = encode_message(letter)
        try:
            jetstream.check_payload(subject, data, headers, self.max_payload)
        except MessageTooLargeError:
            # The message itself stays in the durable stream; the letter says so.
            slim = msgspec.structs.replace(
                letter,
                message=msgspec.structs.replace(letter.message, payload=None),
                error=f"{letter.error} (payload too large to copy; it stays in stream"
                f" {self.stream!r})",
            )
            data = encode_message(slim)
        try:
            await self._ensure_streams()
            await self._store(subject, data, headers, None)
        except Exception as exc:
            self.counters["dead_letter_store_failures"] += 1
            logger.error(
                "could not store dead letter %s in JetStream: %r", letter.dead_letter_id, exc
            )
            return False
        return True
