"""What every bus backend shares: options, history, the dead-letter queue, replies, closing.

A backend subclasses :class:`BusBase` and supplies the transport: ``_transmit`` (send an
encoded message), ``_open_subscription`` (start feeding a :class:`BusSubscription`),
``_transmit_request`` and ``_close_transport``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Any

import msgspec

from agentkit._clock import SYSTEM_CLOCK, wait_for
from agentkit.bus import _telemetry
from agentkit.bus._messages import (
    DeadLetter,
    PubSubMessage,
    check_message,
    encode_error,
    encode_raw,
    new_message_id,
)
from agentkit.bus._subjects import (
    MAX_SUBJECT_BYTES,
    as_subject,
    subject_matches,
    validate_publish_subject,
    validate_queue_group,
    validate_subscribe_subject,
)
from agentkit.bus._subscription import BusSubscription, Envelope, describe_error
from agentkit.exceptions import (
    BusClosedError,
    ConfigurationError,
    DeadLetterNotFoundError,
    MessageTooLargeError,
)
from agentkit.observability import telemetry

if TYPE_CHECKING:
    from typing import Self

    from agentkit.protocols import Clock, Handler

__all__ = [
    "HISTORY_FILE_EVERY",
    "MAX_CONCURRENCY",
    "REDRIVEN_FROM_HEADER",
    "SCRATCH_BYTES",
    "BusBase",
    "check_timeout",
]

logger = logging.getLogger("agentkit.bus")

#: NATS's default max_payload; the in-memory bus keeps the same limit so code that works on
#: one backend works on the other.
DEFAULT_MAX_PAYLOAD = 1024 * 1024


_MAX_VALID_TOPICS = 10_000

#: Published messages held before they are filed into the per-topic history.
HISTORY_FILE_EVERY = 256

#: Size of the reused encoding buffer; one grown past 64 times this is replaced.
SCRATCH_BYTES = 1024

#: Most workers one subscription may run (each is a task; more than this is a mistake).
MAX_CONCURRENCY = 10_000

#: Header set on a redriven message: the id of the dead letter it came from.
REDRIVEN_FROM_HEADER = "agentkit-redriven-from"


def _positive(name: str, value: object, *, allow_zero: bool = False, integer: bool = True) -> None:
    """Raise ConfigurationError unless *value* is a positive (or zero) int, or finite float."""
    kinds = "an int" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise ConfigurationError(f"{name} must be {kinds}, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigurationError(f"{name} must be a finite {kinds[2:]} {bound}, got {value!r}")


def check_timeout(name: str, timeout: object) -> float | None:
    """Return *timeout* (seconds or None) or raise ConfigurationError naming *name*."""
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or math.isnan(timeout)
        or timeout < 0
    ):
        raise ConfigurationError(f"{name} must be None or seconds >= 0, not {timeout!r}")
    return float(timeout)


class BusBase:
    """Shared machinery of a bus; see :class:`agentkit.protocols.Bus` for the contract."""

    #: ``messaging.system`` on this bus's spans and metrics.
    messaging_system = "agentkit"

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        max_attempts: int = 3,
        retry_delay: float = 0.05,
        max_retry_delay: float = 5.0,
        queue_size: int = 10_000,
        history_size: int = 100,
        history_topics: int = 1_000,
        dead_letter_size: int = 10_000,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        max_subject_bytes: int = MAX_SUBJECT_BYTES,
        cancel_grace: float = 1.0,
    ) -> None:
        _positive("max_attempts", max_attempts)
        _positive("retry_delay", retry_delay, allow_zero=True, integer=False)
        _positive("max_retry_delay", max_retry_delay, allow_zero=True, integer=False)
        _positive("queue_size", queue_size)
        _positive("history_size", history_size, allow_zero=True)
        _positive("history_topics", history_topics, allow_zero=True)
        _positive("dead_letter_size", dead_letter_size)
        _positive("max_payload", max_payload)
        _positive("max_subject_bytes", max_subject_bytes)
        _positive("cancel_grace", cancel_grace, integer=False)
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.queue_size = queue_size
        self.max_payload = max_payload
        self.max_subject_bytes = max_subject_bytes
        self.cancel_grace = cancel_grace
        self._history_size = history_size
        self._history_topics = history_topics
        self._history: OrderedDict[str, deque[PubSubMessage]] = OrderedDict()
        self._unfiled: list[PubSubMessage] = []
        # Where a publish that needs only the encoded size encodes (see InMemoryPubSub).
        self._scratch = bytearray(SCRATCH_BYTES)
        self._dead_letter_size = dead_letter_size
        self._dead_letters: OrderedDict[str, tuple[DeadLetter, BusSubscription | None]] = (
            OrderedDict()
        )
        self._subscriptions: list[BusSubscription] = []
        self._closed = False
        # Set as soon as close() begins; the hot path checks this one flag.
        self._closing = False
        self._valid_topics: set[str] = set()
        self._redriving: set[str] = set()
        self.published = 0
        self._counters: dict[str, int] = {
            "dead_lettered": 0,
            "history_evicted": 0,
            "dead_letters_evicted": 0,
            "redriven": 0,
        }
        telemetry.refresh()
        if telemetry.metrics is not None:
            _telemetry.watch_bus(self)

    # -- helpers for backends -------------------------------------------------------------

    def retry_delay_for(self, attempt: int) -> float:
        """Backoff before retry number *attempt* (1-based): exponential, capped."""
        return float(min(self.retry_delay * (2 ** (attempt - 1)), self.max_retry_delay))

    def _check_open(self, *, replying: bool = False) -> None:
        if self._closed or (self._closing and not replying):
            raise BusClosedError(f"{type(self).__name__} is closed; create a new bus")

    def _prepare(
        self, topic: str, message: PubSubMessage | Any, *, replying: bool = False
    ) -> tuple[PubSubMessage, bytes]:
        """Validate, wrap and encode an outgoing message; raise before anything is sent.

        *replying* lets a handler's reply out while the bus drains on close. This runs on
        every publish: the common case (a known topic, a message or a bare payload) takes
        no call it can avoid.
        """
        message = self._wrap(topic, message, replying=replying)
        try:
            data = encode_raw(message)
        except Exception as exc:
            raise encode_error(message, exc) from exc
        if len(data) > self.max_payload:
            raise self._too_large(topic, len(data))
        return message, data

    def _wrap(
        self, topic: str, message: PubSubMessage | Any, *, replying: bool = False
    ) -> PubSubMessage:
        """Validate *topic* and *message* (or wrap a bare payload) for sending."""
        if self._closing:
            self._check_open(replying=replying)
        # A non-str (even an unhashable list) or a str subclass takes the slow path.
        if type(topic) is not str or topic not in self._valid_topics:
            topic = self._validate_topic(topic)
        # The exact-type test first: it is the common case and cheaper than isinstance.
        if type(message) is PubSubMessage or isinstance(message, PubSubMessage):
            # Built by the caller: its fields were never type-checked.
            check_message(message)
            if message.topic != topic:
                message = msgspec.structs.replace(message, topic=topic)
            return message
        return PubSubMessage(topic=topic, payload=message)

    def _too_large(self, topic: str, size: int) -> MessageTooLargeError:
        return MessageTooLargeError(
            f"the message to {topic!r} encodes to {size} bytes, over the limit of"
            f" {self.max_payload}; send a reference (a URL, an object-store key) instead"
        )

    def _validate_topic(self, topic: str) -> str:
        """Check a topic not seen before and remember it (a bounded set)."""
        topic = validate_publish_subject(topic, max_bytes=self.max_subject_bytes)
        if len(self._valid_topics) >= _MAX_VALID_TOPICS:
            self._valid_topics.clear()
        self._valid_topics.add(topic)
        return topic

    # -- history: kept off the publish path ---------------------------------------------------
    #
    # A publish appends the message to one list (``_unfiled``); the per-topic history and
    # its eviction counter are brought up to date from that list in one pass when it
    # reaches HISTORY_FILE_EVERY messages or when anything reads them (``history``,
    # ``stats``, ``counters``).

    def _remember(self, message: PubSubMessage) -> None:
        """Add *message* to its topic's history (publish paths inline the append)."""
        if self._history_size:
            unfiled = self._unfiled
            unfiled.append(message)
            if len(unfiled) >= HISTORY_FILE_EVERY:
                self._file_history()

    def _file_history(self) -> None:
        """Move the messages published since the last call into their topics' histories."""
        unfiled = self._unfiled
        if not unfiled:
            return
        self._unfiled = []
        history = self._history
        size = self._history_size
        evicted = 0
        index = 0
        count = len(unfiled)
        while index < count:
            # A run of messages to one topic is filed with one lookup and one extend.
            topic = unfiled[index].topic
            end = index + 1
            while end < count and unfiled[end].topic == topic:
                end += 1
            entries = history.get(topic)
            if entries is None:
                if len(history) >= self._history_topics:
                    if not self._history_topics:
                        index = end
                        continue
                    _, dropped = history.popitem(last=False)
                    evicted += len(dropped)
                entries = history[topic] = deque(maxlen=size)
            evicted += max(0, len(entries) + (end - index) - size)
            entries.extend(unfiled[index:end])
            index = end
        if evicted:
            self._counters["history_evicted"] += evicted

    @property
    def counters(self) -> dict[str, int]:
        """The bus's event counters (history evictions, dead letters, redrives...)."""
        self._file_history()
        return self._counters

    def _new_subscription(
        self,
        topic: str,
        handler: Handler,
        *,
        queue: str | None,
        max_concurrency: int,
        max_attempts: int | None,
        queue_size: int | None,
        durable: str | None,
    ) -> BusSubscription:
        self._check_open()
        telemetry.refresh()
        if telemetry.metrics is not None:
            _telemetry.watch_bus(self)
        topic = validate_subscribe_subject(topic, max_bytes=self.max_subject_bytes)
        if not callable(handler):
            raise ConfigurationError(f"the handler for {topic!r} is not callable: {handler!r}")
        if queue is not None:
            queue = validate_queue_group(queue, max_bytes=self.max_subject_bytes)
        if durable is not None and (not isinstance(durable, str) or not durable):
            raise ConfigurationError(f"durable must be a non-empty name or None, not {durable!r}")
        _positive("max_concurrency", max_concurrency)
        if max_concurrency > MAX_CONCURRENCY:
            raise ConfigurationError(
                f"max_concurrency {max_concurrency} is over the limit of {MAX_CONCURRENCY}"
                " workers per subscription; use several subscriptions in a queue group"
            )
        attempts = self.max_attempts if max_attempts is None else max_attempts
        _positive("max_attempts", attempts)
        size = self.queue_size if queue_size is None else queue_size
        _positive("queue_size", size)
        subscription = BusSubscription(
            self,
            topic,
            handler,
            queue=queue,
            max_concurrency=max_concurrency,
            max_attempts=attempts,
            queue_size=size,
            durable=durable,
        )
        self._subscriptions.append(subscription)
        return subscription

    async def remove_subscription(self, subscription: BusSubscription) -> None:
        """Stop routing to *subscription* (called by its ``unsubscribe``)."""
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
        self._routes_changed()

    def _routes_changed(self) -> None:
        """Backends that cache routes drop the cache here."""

    def _local_pattern(self, topic: str) -> str | None:
        """The pattern of the first subscription of this bus matching *topic*, or None.

        Used to label a publish in metrics by a bounded value (traced paths only).
        """
        for subscription in self._subscriptions:
            if subject_matches(subscription.subject, topic):
                return subscription.subject
        return None

    # -- replies ----------------------------------------------------------------------------

    def _reply_message(self, request: PubSubMessage, result: Any) -> PubSubMessage:
        reply_to = request.reply_to
        assert reply_to is not None
        correlation_id = request.correlation_id or request.message_id
        if isinstance(result, PubSubMessage):
            reply = msgspec.structs.replace(
                result,
                topic=reply_to,
                correlation_id=result.correlation_id or correlation_id,
            )
        else:
            reply = PubSubMessage(
                topic=reply_to,
                from_agent=request.topic,
                payload=result,
                priority=request.priority,
                correlation_id=correlation_id,
            )
        if telemetry.tracer is not None:
            # Sent from inside the handler's process span: the reply carries its context.
            reply = _telemetry.with_context(reply)
        return reply

    async def send_reply(self, request: PubSubMessage, result: Any) -> None:
        """Send *result* (a message or a bare payload) to the request's ``reply_to``."""
        raise NotImplementedError

    # -- dead letters ---------------------------------------------------------------------

    async def dead_letter(
        self,
        subscription: BusSubscription,
        envelope: Envelope,
        exc: BaseException | None,
        *,
        note: str | None = None,
    ) -> DeadLetter:
        """Record a message its subscription gave up on; nothing is dropped silently."""
        text = None if exc is None else describe_error(exc)
        error = note if text is None else text if note is None else f"{text} ({note})"
        letter = DeadLetter(
            dead_letter_id=new_message_id(),
            message=envelope.message,
            subscription=subscription.subject,
            queue=subscription.queue,
            error_type="BusClosed" if exc is None else type(exc).__qualname__,
            error=error or "",
            attempts=envelope.attempt,
            failed_at=self.clock.time(),
            durable=subscription.durable,
        )
        # Persisted first (a backend may store it and settle the message), listed after: a
        # letter the backend could not keep is never seen in dead_letters() or counted.
        if not await self._on_dead_letter(letter):
            return letter
        if len(self._dead_letters) >= self._dead_letter_size:
            evicted_id, (evicted, _) = self._dead_letters.popitem(last=False)
            self._counters["dead_letters_evicted"] += 1
            logger.warning(
                "dead-letter queue full (%d): evicted %s (message %s on %r)",
                self._dead_letter_size,
                evicted_id,
                evicted.message.message_id,
                evicted.message.topic,
            )
        self._dead_letters[letter.dead_letter_id] = (letter, subscription)
        self._counters["dead_lettered"] += 1
        if telemetry.tracer is not None or telemetry.metrics is not None:
            _telemetry.dead_lettered(self, subscription, letter)
        logger.warning(
            "dead-lettered message %s on %r after %d attempt(s): %s: %s",
            envelope.message.message_id,
            envelope.message.topic,
            envelope.attempt,
            letter.error_type,
            letter.error,
        )
        return letter

    async def _on_dead_letter(self, letter: DeadLetter) -> bool:
        """Persist *letter* where the backend keeps dead letters; False: it was not kept.

        The in-memory bus keeps them only in :meth:`dead_letters`; the NATS bus publishes them
        to its dead-letter stream and, when that fails, hands the message back for redelivery.
        """
        return True

    def dead_letters(self) -> list[DeadLetter]:
        """Messages whose handler kept failing, oldest first."""
        return [letter for letter, _ in self._dead_letters.values()]

    def get_dead_letter(self, dead_letter_id: str, /) -> DeadLetter:
        """The dead letter with this id; DeadLetterNotFoundError if there is none."""
        entry = self._dead_letters.get(dead_letter_id) if isinstance(dead_letter_id, str) else None
        if entry is None:
            raise DeadLetterNotFoundError(dead_letter_id)
        return entry[0]

    def purge_dead_letters(self) -> int:
        """Forget every dead letter; return how many there were."""
        count = len(self._dead_letters)
        self._dead_letters.clear()
        return count

    async def redrive(
        self, dead_letter_id: str | None = None, /, *, timeout: float | None = None
    ) -> int:
        """Deliver dead letters again with a fresh attempt count; return how many.

        A letter goes back to the subscription that gave up on it while that subscription is
        active, otherwise it is published again to its topic. A letter leaves the queue only
        once it has been queued or published again: if that fails (the bus closed, a full
        queue for longer than *timeout* seconds, a message now over ``max_payload``) the
        error is raised and that letter, and every one not yet redriven, stays.
        """
        self._check_open()
        timeout = check_timeout("timeout", timeout)
        if dead_letter_id is None:
            ids = list(self._dead_letters)
        elif isinstance(dead_letter_id, str) and dead_letter_id in self._dead_letters:
            ids = [dead_letter_id]
        else:
            raise DeadLetterNotFoundError(dead_letter_id)
        redriven = 0
        for letter_id in ids:
            entry = self._dead_letters.get(letter_id)
            # Gone meanwhile (evicted, purged) or already on its way in a concurrent redrive.
            if entry is None or letter_id in self._redriving:
                continue
            self._redriving.add(letter_id)
            try:
                await self._redeliver(*entry, timeout)
            finally:
                self._redriving.discard(letter_id)
            self._dead_letters.pop(letter_id, None)
            self._counters["redriven"] += 1
            redriven += 1
        return redriven

    async def _redeliver(
        self, letter: DeadLetter, subscription: BusSubscription | None, timeout: float | None
    ) -> None:
        message = msgspec.structs.replace(
            letter.message,
            attempt=1,
            headers={**letter.message.headers, REDRIVEN_FROM_HEADER: letter.dead_letter_id},
        )
        if subscription is not None and subscription.active and not subscription.durable:
            await subscription.put(Envelope(message), timeout)
        else:
            await self.publish(
                message.topic, message, timeout=timeout, durable=letter.durable is not None
            )

    # -- history ----------------------------------------------------------------------------

    def history(self, topic: str, /, *, limit: int | None = None) -> list[PubSubMessage]:
        """The latest messages published to *topic* through this bus, oldest first.

        InvalidSubjectError for a *topic* that is not a str; ConfigurationError for a
        *limit* that is not an int or None.
        """
        topic = as_subject(topic)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ConfigurationError(f"limit must be an int or None, not {limit!r}")
        self._file_history()
        entries = self._history.get(topic)
        if not entries:
            return []
        items = list(entries)
        return items if limit is None else items[-limit:] if limit > 0 else []

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once ``close`` has begun."""
        return self._closed or self._closing

    async def drain(self) -> None:
        """Wait until every subscription has handled (or dead-lettered) what it holds."""
        while True:
            busy = [sub for sub in self._subscriptions if sub.pending]
            if not busy:
                return
            await asyncio.gather(*(sub.wait_idle() for sub in busy))

    async def close(self, *, timeout: float | None = 30.0) -> None:
        """Stop accepting messages, let in-flight handlers finish, release the transport.

        Handlers get *timeout* seconds to drain. Then every worker is cancelled: a message
        still being handled, waiting for a retry or queued is dead-lettered with the reason
        (a transport with its own redelivery, JetStream, gets it back instead), never
        dropped. A handler that ignores the cancellation is abandoned after ``cancel_grace``
        seconds, its message dead-lettered all the same.
        """
        timeout = check_timeout("timeout", timeout)
        if self._closed or self._closing:
            return
        self._closing = True
        try:
            await self._before_drain()
            try:
                await wait_for(self.clock, self.drain(), timeout)
            except TimeoutError:
                logger.warning("close: handlers did not drain within %s s", timeout)
            for subscription in list(self._subscriptions):
                await subscription._stop()
            self._subscriptions.clear()
            self._routes_changed()
        finally:
            self._closed = True
            await self._close_transport()

    async def _before_drain(self) -> None:
        """Backends stop their inbound flow here (e.g. unsubscribe from the server)."""

    async def _close_transport(self) -> None:
        """Backends release their connection here."""

    async def publish(
        self,
        topic: str,
        message: PubSubMessage | Any,
        /,
        *,
        timeout: float | None = None,
        durable: bool = False,
    ) -> PubSubMessage:
        """Send *message*; implemented by each backend."""
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        """Counters and per-subscription figures."""
        return {
            "published": self.published,
            **self.counters,
            "dead_letters": len(self._dead_letters),
            "subscriptions": [sub.stats() for sub in self._subscriptions],
        }

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
