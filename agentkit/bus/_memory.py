"""The in-process bus: the default backend, with the same semantics as the NATS one."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import msgspec

from agentkit._clock import wait_for
from agentkit.bus._base import BusBase, check_timeout
from agentkit.bus._messages import PubSubMessage, decode_message, new_message_id
from agentkit.bus._subjects import subject_matches
from agentkit.bus._subscription import BusSubscription
from agentkit.exceptions import NoRespondersError, RequestTimeoutError
from agentkit.protocols import Handler

__all__ = ["InMemoryPubSub"]

_INBOX_PREFIX = "_INBOX."

#: A subscription whose queue was full, with what it still has to take.
_Blocked = tuple[BusSubscription, "bytes | PubSubMessage", int]
_MAX_CACHED_ROUTES = 10_000


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
        self._replies: dict[str, asyncio.Future[PubSubMessage]] = {}

    def __repr__(self) -> str:
        return f"<InMemoryPubSub subscriptions={len(self._subscriptions)} closed={self.closed}>"

    async def connect(self) -> InMemoryPubSub:
        """Nothing to connect; present so every bus is used the same way."""
        return self

    # -- routing ----------------------------------------------------------------------------

    def _routes_changed(self) -> None:
        self._routes.clear()
        self._groups = {key: group for key, group in self._groups.items() if group.members}

    def _route(self, topic: str) -> tuple[tuple[BusSubscription, ...], tuple[_QueueGroup, ...]]:
        route = self._routes.get(topic)
        if route is None:
            plain = []
            groups: dict[int, _QueueGroup] = {}
            for subscription in self._subscriptions:
                if not subject_matches(subscription.subject, topic):
                    continue
                if subscription.queue is None:
                    plain.append(subscription)
                else:
                    group = self._groups[(subscription.subject, subscription.queue)]
                    groups[id(group)] = group
            if len(self._routes) >= _MAX_CACHED_ROUTES:
                self._routes.clear()
            route = self._routes[topic] = (tuple(plain), tuple(groups.values()))
        return route

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
        if subscription.queue is not None:
            key = (subscription.subject, subscription.queue)
            self._groups.setdefault(key, _QueueGroup()).members.append(subscription)
        self._routes.clear()
        return subscription

    async def remove_subscription(self, subscription: BusSubscription) -> None:
        if subscription.queue is not None:
            group = self._groups.get((subscription.subject, subscription.queue))
            if group is not None and subscription in group.members:
                group.members.remove(subscription)
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
        message, data = self._prepare(topic, message)
        timeout = check_timeout("timeout", timeout)
        blocked = self._fan_out(message, data)
        if blocked is not None:
            await self._wait_for_room(blocked, timeout)
        return message

    def _fan_out(self, message: PubSubMessage, data: bytes) -> list[_Blocked] | None:
        """Queue for every matching subscription; return what found its queue full."""
        self.published += 1
        if self._history_size:
            self._remember(message)
        topic = message.topic
        if topic.startswith(_INBOX_PREFIX):
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
