"""JetStream plumbing of the NATS bus: subject spaces, wire limits and the pull loop.

Durable messages live in one stream per bus, created once for a private subject space
(``agentkit.durable.<stream>.<topic>``), so a new topic costs nothing on the server and any
subject pattern can be subscribed to durably.

The pull loop never holds more messages than the subscription's handlers can start at once
(``max_concurrency``): it fetches only into free capacity, and while a message is held (queued
or being handled) it tells the server every third of ``ack_wait`` that work is in progress, so
a long handler is not mistaken for a dead one. The consumer has no server-side delivery cap
(``max_deliver=-1``): the server never gives up on a message behind our back. Instead the bus
counts deliveries (``num_delivered``) and ends every message in exactly one of three ways: ack
after the handler succeeded, nak for a retry, or -- after ``max_attempts`` failures, or after
``max_deliveries`` deliveries that no process settled (a handler that kills its process) --
dead-lettered to the dead-letter stream, and only once JetStream acknowledged that copy, term.
A crash in between yields a duplicate, never a loss.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import TYPE_CHECKING, Any

from agentkit.exceptions import InvalidSubjectError, LimitExceededError, MessageTooLargeError

if TYPE_CHECKING:
    from agentkit.bus._subscription import BusSubscription

__all__ = [
    "DLQ_PREFIX",
    "DURABLE_PREFIX",
    "Delivery",
    "Puller",
    "check_control_line",
    "check_payload",
    "current_delivery",
    "delivery_limit_error",
    "delivery_of",
    "durable_subject",
    "header_block_size",
    "topic_of",
]

logger = logging.getLogger("agentkit.bus.nats")

DURABLE_PREFIX = "agentkit.durable"
DLQ_PREFIX = "agentkit.dlq"

#: Room for a reply inbox (``_INBOX.<nuid>.<token>``) in a control line, with margin.
REPLY_ALLOWANCE = 64
#: Room for the op name, separators, the two sizes and CRLF of a PUB/HPUB control line.
_CONTROL_OVERHEAD = len("HPUB    \r\n") + 2 * 20

#: The delivery whose dead letter is being stored, seen by ``_on_dead_letter`` of the bus.
current_delivery: contextvars.ContextVar[Delivery | None] = contextvars.ContextVar(
    "agentkit_nats_delivery", default=None
)


def durable_subject(stream: str, topic: str) -> str:
    """The subject under which JetStream stores messages of *topic* (or a pattern of topics)."""
    return f"{DURABLE_PREFIX}.{stream}.{topic}"


def topic_of(stream: str, subject: str) -> str:
    """The topic of a message stored under *subject* (the inverse of :func:`durable_subject`)."""
    prefix = f"{DURABLE_PREFIX}.{stream}."
    return subject[len(prefix) :] if subject.startswith(prefix) else subject


def _wire_length(subject: str) -> int:
    try:
        return len(subject.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidSubjectError(
            f"subject {subject!r} cannot be encoded as UTF-8 (a lone surrogate?)"
        ) from None


def check_control_line(max_control_line: int, *parts: str, reply: bool = True) -> None:
    """Refuse a command whose control line would exceed the server's ``max_control_line``.

    nats-server closes the connection on an over-long control line (PUB/HPUB/SUB with the
    subject, reply and sizes), so this is checked before anything is sent.
    """
    length = _CONTROL_OVERHEAD + sum(_wire_length(part) + 1 for part in parts)
    if reply:
        length += REPLY_ALLOWANCE
    if length > max_control_line:
        raise InvalidSubjectError(
            f"subject {parts[0][:60]!r}... ({_wire_length(parts[0])} bytes) makes a NATS"
            f" control line of about {length} bytes, over max_control_line={max_control_line}"
            " (the server's limit, 4096 by default); use a shorter subject, or raise"
            " max_control_line in nats-server and pass the same value to NatsPubSub"
        )


def header_block_size(headers: dict[str, str]) -> int:
    """Bytes of the NATS header block nats-py sends for *headers*."""
    size = len(b"NATS/1.0\r\n") + 2
    for key, value in headers.items():
        size += len(key.encode()) + 2 + len(value.encode()) + 2
    return size


def check_payload(topic: str, data: bytes, headers: dict[str, str], max_payload: int) -> None:
    """Refuse a message whose body plus headers exceed ``max_payload`` before it is sent."""
    total = len(data) + header_block_size(headers)
    if total > max_payload:
        raise MessageTooLargeError(
            f"the message to {topic!r} is {len(data)} bytes plus {total - len(data)} bytes of"
            f" headers, over the server's max_payload of {max_payload}; send a reference (a"
            " URL, an object-store key) instead"
        )


class Delivery:
    """One JetStream message held by this process until it is acked, naked or dead-lettered."""

    __slots__ = ("attempt", "msg", "puller", "settled")

    def __init__(self, puller: Puller, msg: Any, attempt: int) -> None:
        self.puller = puller
        self.msg = msg
        self.attempt = attempt
        self.settled = False

    def _release(self) -> None:
        if not self.settled:
            self.settled = True
            self.puller.release(self)

    async def ack(self) -> None:
        """The handler succeeded."""
        try:
            await self.msg.ack()
        finally:
            self._release()

    async def nak(self, delay: float) -> None:
        """Deliver again after *delay* seconds."""
        try:
            await self.msg.nak(delay=delay)
        finally:
            self._release()

    async def term(self) -> None:
        """Asked for by the engine before dead-lettering; the real term follows the copy."""

    async def terminate(self) -> None:
        """The dead letter is stored: the server may forget the message."""
        try:
            await self.msg.term()
        finally:
            self._release()

    async def give_back(self) -> None:
        """Not handled here (the bus is closing): let the server deliver it again at once."""
        try:
            await self.msg.nak()
        except Exception as exc:
            logger.debug("giving back a durable message failed: %r; ack_wait will", exc)
        finally:
            self._release()


def delivery_of(envelope: Any) -> Delivery | None:
    """The :class:`Delivery` behind an envelope's callbacks, if it carries one."""
    owner = getattr(envelope.term, "__self__", None)
    return owner if isinstance(owner, Delivery) else None


class Puller:
    """Fetches into free handler capacity and keeps held messages alive on the server."""

    def __init__(
        self, subscription: BusSubscription, pull: Any, ack_wait: float, fetch_timeout: float
    ) -> None:
        self.subscription = subscription
        self.pull = pull
        self.ack_wait = ack_wait
        self.fetch_timeout = fetch_timeout
        self.held: dict[Delivery, None] = {}
        self.fetched = 0
        self._freed = asyncio.Event()
        self._keep_alive: asyncio.Task[None] | None = None

    def release(self, delivery: Delivery) -> None:
        """*delivery* is settled: its handler slot is free again."""
        self.held.pop(delivery, None)
        self._freed.set()

    def free(self) -> int:
        """How many more messages the handlers can start now."""
        return self.subscription.max_concurrency - len(self.held)

    async def wait_for_room(self) -> None:
        """Return once at least one handler slot is free."""
        while self.free() <= 0:
            self._freed.clear()
            await self._freed.wait()

    async def fetch(self) -> list[Any]:
        """Up to the free capacity of messages; [] when none came within ``fetch_timeout``."""
        await self.wait_for_room()
        try:
            messages: list[Any] = await self.pull.fetch(self.free(), timeout=self.fetch_timeout)
        except TimeoutError:
            return []
        self.fetched += len(messages)
        return messages

    def hold(self, msg: Any, attempt: int) -> Delivery:
        """Track *msg* until it is settled."""
        delivery = Delivery(self, msg, attempt)
        self.held[delivery] = None
        if self._keep_alive is None:
            self._keep_alive = asyncio.get_running_loop().create_task(self._report_progress())
        return delivery

    async def _report_progress(self) -> None:
        # A third of ack_wait leaves two chances before the server would redeliver.
        interval = max(0.05, self.ack_wait / 3)
        while True:
            await asyncio.sleep(interval)
            for delivery in list(self.held):
                if delivery.settled:
                    continue
                try:
                    await delivery.msg.in_progress()
                except Exception as exc:
                    logger.debug("in-progress ack failed: %r", exc)

    async def stop(self) -> None:
        """The subscription has ended: stop the in-progress acks, give back what is left.

        By now its workers handled or gave back everything queued; a message still held was
        fetched but never queued (the pull loop was stopped in between).
        """
        task, self._keep_alive = self._keep_alive, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for delivery in list(self.held):
            await delivery.give_back()


def delivery_limit_error(subject: str, delivered: int, limit: int) -> LimitExceededError:
    """The reason a message delivered *delivered* times without being settled is given up on."""
    return LimitExceededError(
        f"message on {subject!r} was delivered {delivered} times without being acked or"
        f" failed (max_deliveries={limit}); a handler probably crashed its process each time."
        " Inspect the dead letter, fix the handler and redrive it; raise max_deliveries to"
        " allow more crash redeliveries"
    )
