"""The in-process bus: the default backend, with the same semantics as the NATS one."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import msgspec

from agentkit._clock import wait_for
from agentkit.bus import _telemetry
from agentkit.bus._base import HISTORY_FILE_EVERY, SCRATCH_BYTES, BusBase, check_timeout
from agentkit.bus._messages import (
    PubSubMessage,
    check_message,
    decode_message,
    encode_error,
    encode_into,
    encode_raw,
    new_message_id,
)
from agentkit.bus._sublist import Sublist, is_literal
from agentkit.bus._subscription import BusSubscription
from agentkit.exceptions import NoRespondersError, RequestTimeoutError
from agentkit.observability import telemetry
from agentkit.protocols import Handler

__all__ = ["InMemoryPubSub"]

_INBOX_PREFIX = "_INBOX."

#: A subscription whose queue was full, with what it still has to take.
_Blocked = tuple[BusSubscription, "bytes | PubSubMessage", int]
_MAX_CACHED_ROUTES = 10_000
#: A scratch encoding buffer grown past this (by a large message) is replaced.
SCRATCH_KEEP = 64 * SCRATCH_BYTES


class _QueueGroup:
    """Members of one queue group on one subject: each message goes to one of them."""

    __slots__ = ("members", "turn")

    def __init__(self) -> None:
        self.members: list[BusSubscription] = []
        self.turn = itertools.count()

    def pick(self) -> BusSubscription:
        # Round robin, but skip a member whose queue is full while another has room.
        members = self.members
        start = next(self.turn)
        for offset in range(len(members)):
            member = members[(start + offset) % len(members)]
            if member.pending < member.queue_size:
                return member
        return members[start % len(members)]


class InMemoryPubSub(BusBase):
    """A bus inside one process: NATS subject rules, priorities, retries, dead letters.

    Every message is encoded at publish exactly as the NATS bus would encode it, so what
    works here works there: an unencodable payload fails at ``publish``, and with
    ``copy_messages=True`` (the default) handlers receive a decoded copy, as they would from
    NATS, so one handler cannot change what another sees.

    Options (all keyword-only): ``clock``, ``max_attempts`` (3), ``retry_delay`` (0.05 s,
    doubled per attempt up to ``max_retry_delay``, 5 s), ``queue_size`` per subscription
    (10,000), ``history_size`` per topic (100) over at most ``history_topics`` topics (1,000),
    ``dead_letter_size`` (10,000), ``max_payload`` (1 MiB), ``max_subject_bytes`` (3,072),
    ``cancel_grace`` (1 s for a handler to honour cancellation when ``close`` times out),
    ``copy_messages`` (True).
    A ``durable=`` subscription here behaves like any other: nothing outlives the process.
    """

    def __init__(self, *, copy_messages: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self._copy_messages = copy_messages
        self._routes: dict[str, tuple[tuple[BusSubscription, ...], tuple[_QueueGroup, ...]]] = {}
        self._groups: dict[tuple[str, str], _QueueGroup] = {}
        # Plain subscriptions and queue groups (one entry per group) by subject pattern.
        self._index: Sublist[BusSubscription | _QueueGroup] = Sublist()
        self._replies: dict[str, asyncio.Future[PubSubMessage]] = {}

    def __repr__(self) -> str:
        return f"<InMemoryPubSub subscriptions={len(self._subscriptions)} closed={self.closed}>"

    async def connect(self) -> InMemoryPubSub:
        """Nothing to connect; present so every bus is used the same way."""
        telemetry.refresh()
        return self

    # -- routing ----------------------------------------------------------------------------

    def _routes_changed(self) -> None:
        # Called by BusBase after a removal (already taken out of the index) and by close(),
        # which drops every subscription at once: only then is there anything to do here.
        if not self._subscriptions:
            self._index = Sublist()
            self._groups.clear()
            self._routes.clear()

    def _index_changed(self, pattern: str) -> None:
        """Drop the cached routes an entry added to or removed from *pattern* changes."""
        if is_literal(pattern):
            # Only the subject itself can route to a literal pattern.
            self._routes.pop(pattern, None)
        else:
            # Scanning the cache for subjects this wildcard matches costs more than
            # rebuilding the few hot routes from the index.
            self._routes.clear()

    def _route(self, topic: str) -> tuple[tuple[BusSubscription, ...], tuple[_QueueGroup, ...]]:
        route = self._routes.get(topic)
        if route is None:
            plain: list[BusSubscription] = []
            groups: list[_QueueGroup] = []
            # The topic was validated by _prepare; the index keeps insertion (subscription)
            # order, and a queue group is one entry however many members it has.
            for entry in self._index.match_tokens(topic.split(".")):
                if isinstance(entry, _QueueGroup):
                    groups.append(entry)
                else:
                    plain.append(entry)
            if len(self._routes) >= _MAX_CACHED_ROUTES:
                self._routes.clear()
            route = self._routes[topic] = (tuple(plain), tuple(groups))
        return route

    def _local_pattern(self, topic: str) -> str | None:
        plain, groups = self._route(topic)
        if plain:
            return plain[0].subject
        for group in groups:
            if group.members:
                return group.members[0].subject
        return None

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
        """Call *handler* for each message on subjects matching *topic* (``*``/``>`` allowed).

        With *queue*, subscriptions sharing the subject and queue name split the messages
        between them. The handler may be sync or async; its return value is the reply when
        the message carries ``reply_to``.
        """
        subscription = self._new_subscription(
            topic,
            handler,
            queue=queue,
            max_concurrency=max_concurrency,
            max_attempts=max_attempts,
            queue_size=queue_size,
            durable=durable,
        )
        subject = subscription.subject
        if subscription.queue is None:
            self._index.insert(subject, subscription)
            self._index_changed(subject)
        else:
            key = (subject, subscription.queue)
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = _QueueGroup()
                group.members.append(subscription)
                self._index.insert(subject, group)
                self._index_changed(subject)
            else:
                # Cached routes hold the group itself: a new member changes none of them.
                group.members.append(subscription)
        return subscription

    async def remove_subscription(self, subscription: BusSubscription) -> None:
        if subscription.queue is None:
            if self._index.remove(subscription) is not None:
                self._index_changed(subscription.subject)
        else:
            key = (subscription.subject, subscription.queue)
            group = self._groups.get(key)
            if group is not None and subscription in group.members:
                group.members.remove(subscription)
                if not group.members:
                    del self._groups[key]
                    self._index.remove(group)
                    self._index_changed(subscription.subject)
        await super().remove_subscription(subscription)

    # -- sending ----------------------------------------------------------------------------

    async def publish(
        self,
        topic: str,
        message: PubSubMessage | Any,
        /,
        *,
        timeout: float | None = None,
        durable: bool = False,
    ) -> PubSubMessage:
        """Queue *message* (or a bare payload) for every subscription matching *topic*.

        Returns the message as sent once it is queued everywhere (handlers run later). Waits
        while a subscription's queue is full; with *timeout*, raises ``BackpressureError``
        instead of waiting longer.
        """
        if telemetry.tracer is not None or telemetry.metrics is not None:
            return await self._publish_traced(topic, message, timeout)
        if (
            type(message) is not PubSubMessage
            or self._closing
            or self._replies
            or type(topic) is not str
            or topic not in self._valid_topics
            or message.topic != topic
        ):
            return await self._publish_slow(topic, message, timeout)
        # The hot path, inlined (_prepare and _fan_out): a caller-built message to a known
        # topic, no request waiting. With copies the subscriptions queue the encoded bytes;
        # without, they share the message and only the encoded size is needed, so it is
        # encoded into a reused buffer, not a new bytes object.
        check_message(message)
        item: bytes | PubSubMessage
        try:
            if self._copy_messages:
                item = encode_raw(message)
                size = len(item)
            else:
                item = message
                scratch = self._scratch
                encode_into(message, scratch)
                size = len(scratch)
                if size > SCRATCH_KEEP:
                    self._scratch = bytearray(SCRATCH_BYTES)
        except Exception as exc:
            raise encode_error(message, exc) from exc
        if size > self.max_payload:
            raise self._too_large(topic, size)
        if timeout is not None:
            timeout = check_timeout("timeout", timeout)
        self.published += 1
        if self._history_size:
            unfiled = self._unfiled
            unfiled.append(message)
            if len(unfiled) >= HISTORY_FILE_EVERY:
                self._file_history()
        plain, groups = self._routes.get(topic) or self._route(topic)
        priority = message.priority
        full: list[_Blocked] | None = None
        for subscription in plain:
            if not subscription.offer(item, priority):
                full = [] if full is None else full
                full.append((subscription, item, priority))
        for group in groups:
            member = group.pick()
            if not member.offer(item, priority):
                full = [] if full is None else full
                full.append((member, item, priority))
        if full is not None:
            await self._wait_for_room(full, timeout)
        return message

    async def _publish_slow(
        self, topic: str, message: PubSubMessage | Any, timeout: float | None
    ) -> PubSubMessage:
        """publish() off its inlined hot path: validate, encode, queue everywhere."""
        message, data = self._prepare(topic, message)
        if timeout is not None:
            timeout = check_timeout("timeout", timeout)
        blocked = self._fan_out(message, data)
        if blocked is not None:
            await self._wait_for_room(blocked, timeout)
        return message

    async def _publish_traced(
        self, topic: str, message: PubSubMessage | Any, timeout: float | None
    ) -> PubSubMessage:
        """publish() with tracing or metrics on: a span, the context in the headers."""
        with _telemetry.publishing(self, topic, message) as traced:
            return await self._publish_slow(traced.topic, traced, timeout)

    def _fan_out(self, message: PubSubMessage, data: bytes) -> list[_Blocked] | None:
        """Queue for every matching subscription; return what found its queue full."""
        self.published += 1
        if self._history_size:
            # BusBase._remember inlined: one append; filed into the history later.
            unfiled = self._unfiled
            unfiled.append(message)
            if len(unfiled) >= HISTORY_FILE_EVERY:
                self._file_history()
        topic = message.topic
        if self._replies and topic.startswith(_INBOX_PREFIX):
            waiter = self._replies.get(topic)
            if waiter is not None:
                if not waiter.done():
                    waiter.set_result(decode_message(data) if self._copy_messages else message)
                return None
        plain, groups = self._routes.get(topic) or self._route(topic)
        # With copies, each subscription queues the encoded bytes and its worker decodes its
        # own copy, as from NATS: a handler changing its payload cannot change what another
        # subscription sees. Without, they share the (frozen) message.
        item: bytes | PubSubMessage = data if self._copy_messages else message
        priority = message.priority
        blocked: list[_Blocked] | None = None
        for subscription in plain:
            if not subscription.offer(item, priority):
                blocked = [] if blocked is None else blocked
                blocked.append((subscription, item, priority))
        for group in groups:
            member = group.pick()
            if not member.offer(item, priority):
                blocked = [] if blocked is None else blocked
                blocked.append((member, item, priority))
        return blocked

    async def _wait_for_room(self, blocked: list[_Blocked], timeout: float | None) -> None:
        for subscription, item, priority in blocked:
            await subscription.put(item, timeout, priority)

    async def request(
        self, topic: str, message: PubSubMessage | Any, /, *, timeout: float = 5.0
    ) -> PubSubMessage:
        """Send *message* and return the first reply.

        Raises ``NoRespondersError`` at once when no subscription matches *topic*, and
        ``RequestTimeoutError`` when no reply arrives within *timeout* seconds.
        """
        if telemetry.tracer is not None or telemetry.metrics is not None:
            with _telemetry.requesting(self, topic, message) as traced:
                return await self._request(traced.topic, traced, timeout)
        return await self._request(topic, message, timeout)

    async def _request(
        self, topic: str, message: PubSubMessage | Any, timeout: float
    ) -> PubSubMessage:
        message, _ = self._prepare(topic, message)
        check_timeout("timeout", timeout)
        topic = message.topic
        plain, groups = self._route(topic)
        if not plain and not groups:
            raise NoRespondersError(f"no subscription listens on {topic!r}")
        inbox = f"{_INBOX_PREFIX}{new_message_id()}"
        message = msgspec.structs.replace(
            message,
            reply_to=inbox,
            correlation_id=message.correlation_id or message.message_id,
        )
        message, data = self._prepare(topic, message)
        waiter: asyncio.Future[PubSubMessage] = asyncio.get_running_loop().create_future()
        self._replies[inbox] = waiter
        try:
            blocked = self._fan_out(message, data)
            if blocked is not None:
                await self._wait_for_room(blocked, timeout)
            return await wait_for(self.clock, waiter, timeout)
        except TimeoutError:
            raise RequestTimeoutError(
                f"no reply on {topic!r} within {timeout} s (request {message.message_id})"
            ) from None
        finally:
            self._replies.pop(inbox, None)

    async def send_reply(self, request: PubSubMessage, result: Any) -> None:
        """Send the handler's *result* to the request's ``reply_to`` subject."""
        reply = self._reply_message(request, result)
        # Replies still go out while the bus drains on close.
        reply, data = self._prepare(reply.topic, reply, replying=True)
        blocked = self._fan_out(reply, data)
        if blocked is not None:
            await self._wait_for_room(blocked, None)
