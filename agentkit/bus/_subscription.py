"""One subscription's delivery engine, shared by every bus backend.

Each subscription owns a bounded priority queue (highest priority first, FIFO within a
priority; one deque per priority level, so queueing is O(1) however deep the queue) and
``max_concurrency`` worker tasks. A handler that raises is retried after an exponential
backoff while other messages go on; after ``max_attempts`` the message is dead-lettered. A
transport with its own redelivery (JetStream) passes ``nak``/``ack``/``term`` callbacks on
the envelope instead of letting the engine retry locally.

A handler is user code, so whatever it raises is contained: any ``Exception`` or
``BaseException`` (``CancelledError`` it raised itself, ``GeneratorExit``...) is a failed
attempt of that one message. Two exceptions are told apart: the worker task itself being
cancelled (``close``, ``unsubscribe``, the event loop shutting down; seen as
``Task.cancelling()``), which keeps the message as a dead letter and stops the worker, and
``KeyboardInterrupt``/``SystemExit``, the user asking the process to stop: the message is
dead-lettered at once (a message that stops the process is not run again on the next
worker), a replacement worker keeps the subscription whole, and the exception propagates to
stop the event loop.

The queue holds the cheapest thing that will do: the message itself, its encoded bytes (the
in-memory bus's copies, decoded by the worker so each subscription gets its own and queued
messages are not objects the garbage collector must walk), or an :class:`Envelope` when there
is an attempt count or transport callbacks to carry.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import msgspec

from agentkit._clock import wait_for
from agentkit.bus import _telemetry
from agentkit.bus._messages import (
    WIRE_VERSION,
    MessagePriority,
    PubSubMessage,
    decode_message,
    decode_raw,
)
from agentkit.exceptions import BackpressureError, MessageDecodeError
from agentkit.observability import telemetry

if TYPE_CHECKING:
    from agentkit.bus._messages import DeadLetter
    from agentkit.protocols import Clock, Handler

__all__ = ["BusSubscription", "Envelope", "QueueItem", "SubscriptionHost", "describe_error"]

logger = logging.getLogger("agentkit.bus")

Settle = Callable[[], Awaitable[None]]
Nak = Callable[[float], Awaitable[None]]


_LOWEST = int(min(MessagePriority))
_HIGHEST = int(max(MessagePriority))
_LEVELS = range(_LOWEST, _HIGHEST + 1)

#: Longest error text kept in a dead letter (an exception may carry megabytes).
_MAX_ERROR_TEXT = 4096

CLOSED_WHILE_HANDLING = "bus closed before the handler finished"
CANCELLED_WHILE_HANDLING = "the subscription's worker was cancelled before the handler finished"
IGNORED_CANCELLATION = (
    "bus closed before the handler finished; the handler ignored cancellation for"
    " cancel_grace seconds and was abandoned"
)
ASKED_TO_STOP = "the handler asked the process to stop"


def describe_error(exc: BaseException) -> str:
    """The text of *exc* for a dead letter or a log line, even when its ``__str__`` raises."""
    try:
        text = str(exc)
    except Exception:
        return f"<{type(exc).__name__} whose text could not be read>"
    return text if len(text) <= _MAX_ERROR_TEXT else f"{text[:_MAX_ERROR_TEXT]}..."


def _as_envelope(item: QueueItem) -> Envelope:
    """*item* as an envelope; bytes that do not decode keep their raw body as the payload."""
    if type(item) is Envelope:
        return item
    if type(item) is PubSubMessage:
        return Envelope(item, item.attempt)
    try:
        message = decode_message(item)  # type: ignore[arg-type]
    except MessageDecodeError:
        message = PubSubMessage(topic="_undecodable", payload=bytes(item))  # type: ignore[arg-type]
    return Envelope(message, message.attempt)


def _stop_requested() -> bool:
    """Whether the running task itself is being cancelled (not just a CancelledError)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class Envelope:
    """A message on its way to one subscription, with the transport's settle callbacks."""

    __slots__ = ("ack", "attempt", "message", "nak", "term")

    def __init__(
        self,
        message: PubSubMessage,
        attempt: int = 1,
        *,
        ack: Settle | None = None,
        nak: Nak | None = None,
        term: Settle | None = None,
    ) -> None:
        self.message = message
        self.attempt = attempt
        self.ack = ack
        self.nak = nak
        self.term = term


#: What a subscription queue holds: a message, its msgpack bytes, or an envelope.
QueueItem: TypeAlias = PubSubMessage | bytes | Envelope


class SubscriptionHost(Protocol):
    """What a subscription needs of the bus that feeds it (``BusBase`` is one).

    Declared here so this module does not import the bus base, which imports it.
    """

    clock: Clock
    cancel_grace: float

    def retry_delay_for(self, attempt: int) -> float:
        """Seconds to wait before *attempt* (the second attempt is attempt 2)."""
        ...

    async def send_reply(self, request: PubSubMessage, result: Any) -> None:
        """Publish a handler's *result* to *request*'s reply subject."""
        ...

    async def dead_letter(
        self,
        subscription: BusSubscription,
        envelope: Envelope,
        exc: BaseException | None,
        *,
        note: str | None = None,
    ) -> DeadLetter:
        """Record a message *subscription* gave up on."""
        ...

    async def remove_subscription(self, subscription: BusSubscription) -> None:
        """Forget *subscription* (it has stopped)."""
        ...


class BusSubscription:
    """A live subscription: queue, workers, retries; implements ``protocols.Subscription``."""

    # Slots: the worker loop and ``offer`` read and write these on every message.
    __slots__ = (
        "__weakref__",
        "_abandoned",
        "_active",
        "_blocked_publishers",
        "_bus",
        "_drain_waiters",
        "_handler",
        "_handler_is_async",
        "_handling",
        "_idle_workers",
        "_in_flight",
        "_levels",
        "_levels_high_first",
        "_on_close",
        "_queue",
        "_queued",
        "_retrying",
        "_stopping",
        "_subject",
        "_workers",
        "delivered",
        "durable",
        "failures",
        "max_attempts",
        "max_concurrency",
        "queue_size",
    )

    def __init__(
        self,
        bus: SubscriptionHost,
        subject: str,
        handler: Handler,
        *,
        queue: str | None,
        max_concurrency: int,
        max_attempts: int,
        queue_size: int,
        durable: str | None,
    ) -> None:
        self._bus = bus
        self._subject = subject
        self._handler: Any = handler
        self._handler_is_async = inspect.iscoroutinefunction(handler)
        self._queue = queue
        self.max_concurrency = max_concurrency
        self.max_attempts = max_attempts
        self.queue_size = queue_size
        self.durable = durable
        self.delivered = 0
        self.failures = 0
        # Index = priority level; a worker takes from the highest non-empty level.
        self._levels: tuple[deque[QueueItem], ...] = tuple(deque() for _ in _LEVELS)
        self._levels_high_first = tuple(reversed(self._levels))
        self._queued = 0
        self._idle_workers: deque[asyncio.Future[None]] = deque()
        self._blocked_publishers: deque[asyncio.Future[None]] = deque()
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._in_flight = 0
        self._retrying: set[asyncio.Task[None]] = set()
        self._active = True
        self._stopping = False
        self._on_close: list[Callable[[], Awaitable[None]]] = []
        # What each worker is handling (by worker index), so close() can keep it.
        self._handling: list[QueueItem | None] = [None] * max_concurrency
        self._abandoned: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()
        self._workers = [loop.create_task(self._work(index)) for index in range(max_concurrency)]

    def __repr__(self) -> str:
        return (
            f"<BusSubscription {self._subject!r} queue={self._queue!r}"
            f" pending={self.pending} durable={self.durable!r}>"
        )

    @property
    def subject(self) -> str:
        """The subject pattern this subscription matches."""
        return self._subject

    @property
    def queue(self) -> str | None:
        """The queue group, or None."""
        return self._queue

    @property
    def active(self) -> bool:
        """False once unsubscribed or the bus closed."""
        return self._active

    @property
    def pending(self) -> int:
        """Messages queued, being handled, or waiting for a retry."""
        return self._queued + self._in_flight + len(self._retrying)

    def add_close_callback(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run *callback* when the subscription ends (a transport releases its side)."""
        self._on_close.append(callback)

    # -- queueing ----------------------------------------------------------------------

    def offer(self, item: QueueItem, priority: int | None = None) -> bool:
        """Queue *item* if there is room; return whether it was queued.

        *priority* is required for encoded bytes; for a message or envelope it is read off it.
        """
        # _push inlined: this is every publish's (and every NATS message's) way in.
        if self._queued >= self.queue_size:
            return False
        if priority is None:
            assert not isinstance(item, bytes), "encoded items need their priority"
            priority = (item if type(item) is PubSubMessage else item.message).priority  # type: ignore[union-attr]
        if not _LOWEST <= priority <= _HIGHEST:
            priority = _LOWEST if priority < _LOWEST else _HIGHEST
        self._levels[priority].append(item)
        self._queued += 1
        if self._idle_workers:
            self._wake_one(self._idle_workers)
        return True

    def has_room(self) -> bool:
        """Whether :meth:`offer` would queue an item now."""
        return self._queued < self.queue_size

    async def put(
        self, item: QueueItem, timeout: float | None, priority: int | None = None
    ) -> None:
        """Queue *item*, waiting for room; BackpressureError after *timeout* seconds."""
        clock = self._bus.clock
        deadline = None if timeout is None else clock.monotonic() + timeout
        while not self.offer(item, priority):
            waiter = asyncio.get_running_loop().create_future()
            self._blocked_publishers.append(waiter)
            remaining = None if deadline is None else max(0.0, deadline - clock.monotonic())
            try:
                await wait_for(clock, waiter, remaining)
            except TimeoutError:
                raise BackpressureError(
                    f"the queue of subscription {self._subject!r} stayed full"
                    f" ({self.queue_size} messages) for {timeout} s; raise queue_size or"
                    " max_concurrency, or publish with a longer timeout"
                ) from None
            finally:
                if waiter in self._blocked_publishers:
                    self._blocked_publishers.remove(waiter)

    def _push(self, item: QueueItem, priority: int | None = None) -> None:
        if priority is None:
            assert not isinstance(item, bytes), "encoded items need their priority"
            message = item if type(item) is PubSubMessage else item.message  # type: ignore[union-attr]
            priority = message.priority
        level: int = priority
        if not _LOWEST <= level <= _HIGHEST:
            level = _LOWEST if level < _LOWEST else _HIGHEST
        self._levels[level].append(item)
        self._queued += 1
        if self._idle_workers:
            self._wake_one(self._idle_workers)

    # -- delivery ----------------------------------------------------------------------

    def _pop(self) -> QueueItem:
        for level in self._levels_high_first:
            if level:
                self._queued -= 1
                return level.popleft()
        raise IndexError("pop from an empty subscription queue")

    async def _work(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        handler = self._handler
        handler_is_async = self._handler_is_async
        handling = self._handling
        levels = self._levels_high_first
        idle_workers = self._idle_workers
        while True:
            if self._stopping:
                # Stopped while a handler swallowed the cancellation: leave the queue to
                # close(), which keeps what is in it.
                return
            if not self._queued:
                waiter = loop.create_future()
                idle_workers.append(waiter)
                await waiter
                continue
            # _pop inlined: the highest non-empty priority level, oldest first.
            for level in levels:
                if level:
                    item = level.popleft()
                    break
            self._queued -= 1
            if self._blocked_publishers:
                self._wake_one(self._blocked_publishers)
            self._in_flight += 1
            handling[index] = item
            try:
                envelope: Envelope | None
                if type(item) is PubSubMessage:
                    message, envelope = item, None
                elif type(item) is Envelope:
                    message, envelope = item.message, item
                else:
                    envelope = None
                    try:
                        # decode_message inlined; it words the error when this fails.
                        message = decode_raw(item)  # type: ignore[arg-type]
                        if message.version > WIRE_VERSION:
                            message = decode_message(item)  # type: ignore[arg-type]
                    except Exception:
                        try:
                            message = decode_message(item)  # type: ignore[arg-type]
                        except MessageDecodeError as exc:
                            await self._bus.dead_letter(self, _as_envelope(item), exc)
                            continue
                if telemetry.tracer is not None or telemetry.metrics is not None:
                    # Tracing or metrics on: the same steps inside a span (see _deliver_traced).
                    await self._deliver_traced(index, item, message, envelope)
                else:
                    try:
                        # The handler call is inlined: this loop is the bus's hot path.
                        if handler_is_async:
                            result = await handler(message)
                        else:
                            result = handler(message)
                            if inspect.isawaitable(result):
                                result = await result
                    except BaseException as exc:
                        await self._attempt_raised(index, item, message, envelope, exc)
                    else:
                        if handling[index] is not item:
                            # Abandoned by close(): its message is a dead letter already.
                            continue
                        self.delivered += 1
                        if message.reply_to is not None or (
                            envelope is not None and envelope.ack is not None
                        ):
                            await self._settle(envelope or Envelope(message), result)
            finally:
                # Whoever clears the slot accounts for the message (close() may have).
                if handling[index] is item:
                    handling[index] = None
                    self._in_flight -= 1
            if self._drain_waiters and not self.pending:
                self._wake_drainers()

    async def _deliver_traced(
        self, index: int, item: QueueItem, message: PubSubMessage, envelope: Envelope | None
    ) -> None:
        """One handler attempt as ``_work`` makes it, inside a ``process`` span.

        The span is current while the handler runs, its reply is sent and its retry or dead
        letter is decided, so those appear on it (events) or under it (child spans).
        """
        handling = self._handling
        processing = _telemetry.processing(self, message, envelope)
        try:
            try:
                handler = self._handler
                if self._handler_is_async:
                    result = await handler(message)
                else:
                    result = handler(message)
                    if inspect.isawaitable(result):
                        result = await result
            except BaseException as exc:
                processing.failed(exc)
                await self._attempt_raised(index, item, message, envelope, exc)
            else:
                if handling[index] is not item:
                    return
                self.delivered += 1
                if message.reply_to is not None or (
                    envelope is not None and envelope.ack is not None
                ):
                    await self._settle(envelope or Envelope(message), result)
        finally:
            processing.end()

    async def _attempt_raised(
        self,
        index: int,
        item: QueueItem,
        message: PubSubMessage,
        envelope: Envelope | None,
        exc: BaseException,
    ) -> None:
        """The handler raised *exc* on *item*: a failed attempt, or this worker being stopped.

        Re-raises a cancellation that stops the worker (after keeping the message) and what
        :meth:`_handler_raised` re-raises.
        """
        envelope = envelope or Envelope(message, message.attempt)
        handling = self._handling
        if isinstance(exc, asyncio.CancelledError) and _stop_requested():
            # This worker is being stopped, not failed by the handler: keep the message
            # (unless close() already did, having given up waiting).
            if handling[index] is item:
                handling[index] = None
                self._in_flight -= 1
                note = CLOSED_WHILE_HANDLING if self._stopping else CANCELLED_WHILE_HANDLING
                await self._give_back(envelope, note)
            raise exc
        if handling[index] is item:
            await self._handler_raised(index, envelope, exc)

    async def _handler_raised(self, index: int, envelope: Envelope, exc: BaseException) -> None:
        """Count a handler's exception as a failed attempt; stop the process if it asked to."""
        self.failures += 1
        if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
            await self._failed(envelope, exc)
            return
        # The user asked the process to stop. Retrying would run the message again on the
        # next worker, so it is dead-lettered now; a replacement worker keeps this
        # subscription whole for a program that goes on after the exception.
        self._handling[index] = None
        self._in_flight -= 1
        await self._give_up(envelope, exc, note=ASKED_TO_STOP)
        if self._active and not self._stopping:
            loop = asyncio.get_running_loop()
            self._workers[index] = loop.create_task(self._work(index))
        raise exc

    @staticmethod
    def _wake_one(waiters: deque[asyncio.Future[None]]) -> None:
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _settle(self, envelope: Envelope, result: Any) -> None:
        message = envelope.message
        if message.reply_to is not None:
            try:
                await self._bus.send_reply(message, result)
            except Exception:
                logger.exception("could not send the reply to %s", message.reply_to)
        if envelope.ack is not None:
            try:
                await envelope.ack()
            except Exception:
                # The transport will redeliver; a handler must be idempotent for durable
                # subscriptions anyway.
                logger.warning("ack of %s failed; it will be redelivered", message.message_id)

    async def _give_up(
        self, envelope: Envelope, exc: BaseException, *, note: str | None = None
    ) -> None:
        """Terminate *envelope* on the transport and keep it as a dead letter."""
        if envelope.term is not None:
            try:
                await envelope.term()
            except Exception:
                logger.warning("term of %s failed", envelope.message.message_id)
        await self._bus.dead_letter(self, envelope, exc, note=note)

    async def _give_back(self, envelope: Envelope, note: str) -> None:
        """Keep a message the subscription cannot finish: the transport's or a dead letter.

        A transport with its own redelivery (JetStream) still holds the message: it gets a
        ``nak`` without delay and redelivers it to another worker. Anything else becomes a
        dead letter with *note* as the reason.
        """
        if envelope.nak is not None:
            try:
                await envelope.nak(0.0)
            except Exception:
                logger.warning(
                    "nak of %s failed; the server redelivers it after ack_wait",
                    envelope.message.message_id,
                )
            return
        await self._bus.dead_letter(self, envelope, None, note=note)

    async def _failed(self, envelope: Envelope, exc: BaseException) -> None:
        attempt = envelope.attempt
        if attempt >= self.max_attempts:
            await self._give_up(envelope, exc)
            return
        if self._stopping and envelope.nak is None:
            # No retry can run any more: keep the message now.
            await self._bus.dead_letter(self, envelope, exc, note="bus closed before the retry")
            return
        delay = self._bus.retry_delay_for(attempt)
        if telemetry.tracer is not None:
            _telemetry.retry_scheduled(envelope, delay, exc, describe_error(exc))
        logger.debug(
            "handler for %r failed on %s (attempt %d/%d): %r; retrying in %.3f s",
            self._subject,
            envelope.message.message_id,
            attempt,
            self.max_attempts,
            exc,
            delay,
        )
        if envelope.nak is not None:
            try:
                await envelope.nak(delay)
            except Exception:
                logger.warning("nak of %s failed", envelope.message.message_id)
            return
        task = asyncio.get_running_loop().create_task(self._retry_later(envelope, delay, exc))
        self._retrying.add(task)

    async def _retry_later(self, envelope: Envelope, delay: float, exc: BaseException) -> None:
        task = asyncio.current_task()
        try:
            await self._bus.clock.sleep(delay)
        except asyncio.CancelledError:
            # The bus is closing: keep the message as a dead letter rather than lose it.
            self._retrying.discard(task)
            await self._bus.dead_letter(self, envelope, exc, note="bus closed before the retry")
            raise
        attempt = envelope.attempt + 1
        retry = Envelope(
            msgspec.structs.replace(envelope.message, attempt=attempt),
            attempt,
            ack=envelope.ack,
            nak=envelope.nak,
            term=envelope.term,
        )
        # Push before leaving the retry set so ``pending`` never reads 0 in between.
        self._push(retry)
        self._retrying.discard(task)

    # -- lifecycle ---------------------------------------------------------------------

    def _wake_drainers(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_idle(self) -> None:
        """Return once nothing is queued, in flight or waiting for a retry."""
        while self.pending:
            waiter = asyncio.get_running_loop().create_future()
            self._drain_waiters.append(waiter)
            await waiter

    async def unsubscribe(self) -> None:
        """Stop receiving; handle what is already queued, then stop the workers."""
        if not self._active:
            return
        self._active = False
        await self._bus.remove_subscription(self)
        await self.wait_idle()
        await self._stop()

    async def _stop(self) -> None:
        self._active = False
        self._stopping = True
        tasks = [*self._workers, *self._retrying]
        for task in tasks:
            task.cancel()
        if tasks:
            # A handler may swallow the cancellation; do not let it hold close() forever.
            done, stuck = await asyncio.wait(tasks, timeout=self._bus.cancel_grace)
            await asyncio.gather(*done, return_exceptions=True)
            for task in stuck:
                await self._abandon(task)
        self._workers.clear()
        self._retrying.clear()
        for envelope in self.drop_queued():
            await self._give_back(envelope, "bus closed before delivery")
        callbacks, self._on_close = self._on_close, []
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                logger.warning("closing subscription %r: cleanup failed", self._subject)
        self._wake_drainers()

    async def _abandon(self, task: asyncio.Task[None]) -> None:
        """Give up on a worker whose handler ignores cancellation; keep what it handled."""
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)
        if task not in self._workers:
            return
        index = self._workers.index(task)
        item = self._handling[index]
        logger.error(
            "subscription %r: a handler ignored cancellation for %s s; abandoning it",
            self._subject,
            self._bus.cancel_grace,
        )
        if item is not None:
            self._handling[index] = None
            self._in_flight -= 1
            await self._give_back(_as_envelope(item), IGNORED_CANCELLATION)

    def drop_queued(self) -> list[Envelope]:
        """Take every queued message out (used when the bus closes without draining)."""
        envelopes = [_as_envelope(item) for level in reversed(self._levels) for item in level]
        for level in self._levels:
            level.clear()
        self._queued = 0
        return envelopes

    def stats(self) -> dict[str, Any]:
        """Counters for this subscription."""
        return {
            "subject": self._subject,
            "queue": self._queue,
            "durable": self.durable,
            "pending": self.pending,
            "delivered": self.delivered,
            "failures": self.failures,
        }
