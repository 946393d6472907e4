"""The bus's fast paths agree with their slow references: message checks, history, NATS backlog."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from typing import Any

import nats
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit import InMemoryPubSub, MessageEncodeError, MessagePriority, NatsPubSub, PubSubMessage
from agentkit.bus._base import HISTORY_FILE_EVERY
from agentkit.bus._messages import _check_fields, check_message

# -- check_message: the exact-type fast path accepts exactly what the full check accepts ----

#: Values of every kind a caller might put in a field, valid or not.
_ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.sampled_from(list(MessagePriority)),
    st.dictionaries(
        st.one_of(st.text(max_size=2), st.integers(0, 2)), st.text(max_size=2), max_size=2
    ),
)


class _Text(str):
    """A str subclass: valid where a str is, but off the fast path."""


#: For each field: values on the fast path (exact types), and other values a caller may pass.
_FIELDS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "from_agent": (st.text(max_size=3), st.builds(_Text, st.text(max_size=3))),
    "priority": (st.sampled_from(list(MessagePriority)), st.integers(-1, 4)),
    "message_id": (st.text(min_size=1, max_size=4), st.builds(_Text, st.text(max_size=3))),
    "timestamp": (st.floats(allow_nan=False), st.integers(0, 9)),
    "headers": (
        st.just({}),
        st.dictionaries(st.text(max_size=2), st.text(max_size=2), min_size=1, max_size=2),
    ),
    "correlation_id": (st.one_of(st.none(), st.text(max_size=3)), st.builds(_Text)),
    "reply_to": (st.one_of(st.none(), st.text(max_size=3)), st.builds(_Text)),
    "attempt": (st.integers(0, 3), st.booleans()),
    "version": (st.integers(-1, 1), st.integers(2, 3)),
}


@st.composite
def _fields(draw: Any) -> dict[str, Any]:
    """Keyword arguments for PubSubMessage: fast-path values with a few fields changed.

    A changed field takes a valid value off the fast path or a value of any type.
    """
    changed = draw(st.sets(st.sampled_from(sorted(_FIELDS)), max_size=2))
    return {
        name: draw(st.one_of(other, _ANY_VALUE) if name in changed else fast)
        for name, (fast, other) in _FIELDS.items()
    }


def _raises(check: Any, message: PubSubMessage) -> bool:
    try:
        check(message)
    except MessageEncodeError:
        return True
    return False


@given(fields=_fields())
def test_fast_message_check_agrees_with_the_full_check(fields: dict[str, Any]) -> None:
    """check_message refuses a message exactly when the full field-by-field check does."""
    message = PubSubMessage(topic="t", **fields)
    assert _raises(check_message, message) == _raises(_check_fields, message)


# -- history filed in batches: the same result as filing each message at once ---------------


def _reference_history(
    topics: list[str], size: int, max_topics: int
) -> tuple[dict[str, list[int]], int]:
    """File messages one by one, as the bus did on every publish: histories and evictions."""
    history: OrderedDict[str, deque[int]] = OrderedDict()
    evicted = 0
    for index, topic in enumerate(topics):
        if not size:
            break
        entries = history.get(topic)
        if entries is None:
            if len(history) >= max_topics:
                if not max_topics:
                    continue
                _, dropped = history.popitem(last=False)
                evicted += len(dropped)
            entries = history[topic] = deque(maxlen=size)
        elif len(entries) == size:
            evicted += 1
        entries.append(index)
    return {topic: list(entries) for topic, entries in history.items()}, evicted


@settings(max_examples=40)
@given(
    picks=st.lists(st.integers(0, 5), max_size=3 * HISTORY_FILE_EVERY),
    size=st.integers(0, 4),
    max_topics=st.integers(0, 4),
    reads=st.sets(st.integers(0, 3 * HISTORY_FILE_EVERY), max_size=4),
)
def test_history_filed_in_batches_matches_filing_each_message(
    picks: list[int], size: int, max_topics: int, reads: set[int]
) -> None:
    """History and history_evicted equal a per-message reference, however reads interleave."""
    topics = [f"h.{pick}" for pick in picks]

    async def run() -> None:
        bus = InMemoryPubSub(history_size=size, history_topics=max_topics)
        try:
            for index, topic in enumerate(topics):
                if index in reads:
                    bus.history(topic)  # a read in between files what is pending
                await bus.publish(topic, index)
            expected, evicted = _reference_history(topics, size, max_topics)
            assert bus.stats()["history_evicted"] == evicted
            assert bus.stats()["published"] == len(topics)
            for topic in {f"h.{n}" for n in range(6)}:
                got = [message.payload for message in bus.history(topic)]
                assert got == expected.get(topic, [])
        finally:
            await bus.close()

    asyncio.run(run())


# -- NATS: the backlog drained in one pass keeps priority order and loses nothing ----------


async def _until(condition: Any, seconds: float = 10.0) -> None:
    """Poll *condition* until true; fail after *seconds*."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - a bus counter, nothing to wait on
            await asyncio.sleep(0.005)


@pytest.mark.nats
@pytest.mark.timeout(60)
async def test_nats_backlog_is_handled_in_priority_order(nats_url: str) -> None:
    """Messages arriving while the handler is busy are handled highest priority first, FIFO."""
    bus = await NatsPubSub(nats_url).connect()
    try:
        release = asyncio.Event()
        seen: list[tuple[int, int]] = []

        async def handler(message: PubSubMessage) -> None:
            if message.payload == -1:
                await release.wait()
                return
            seen.append((int(message.priority), message.payload))

        subscription = await bus.subscribe("hot.order", handler)
        await bus.drain()
        await bus.publish("hot.order", -1)
        await _until(lambda: subscription.pending == 1)
        priorities = [MessagePriority(index % 4) for index in range(200)]
        for index, priority in enumerate(priorities):
            await bus.publish(
                "hot.order", PubSubMessage(topic="hot.order", payload=index, priority=priority)
            )
        await _until(lambda: subscription.pending == 201)
        release.set()
        await bus.drain()
        expected = sorted(
            ((int(priority), index) for index, priority in enumerate(priorities)),
            key=lambda pair: (-pair[0], pair[1]),
        )
        assert seen == expected
    finally:
        await bus.close()


@pytest.mark.nats
@pytest.mark.timeout(60)
async def test_nats_backlog_beyond_the_queue_waits_in_the_client(nats_url: str) -> None:
    """With a queue of 5 and a busy handler, 300 messages all arrive, in order, none lost."""
    bus = await NatsPubSub(nats_url).connect()
    try:
        release = asyncio.Event()
        seen: list[int] = []

        async def handler(message: PubSubMessage) -> None:
            await release.wait()
            seen.append(message.payload)

        subscription = await bus.subscribe("hot.full", handler, queue_size=5)
        await bus.drain()
        for index in range(300):
            await bus.publish("hot.full", index)
        # The worker holds one, the queue five; nats-py keeps the rest until there is room.
        await _until(lambda: subscription.pending == 6)
        await asyncio.sleep(0.05)
        assert subscription.pending == 6
        release.set()
        await bus.drain()
        assert seen == list(range(300))
    finally:
        await bus.close()


@pytest.mark.nats
@pytest.mark.timeout(60)
async def test_nats_garbage_inside_a_backlog_is_dead_lettered_alone(nats_url: str) -> None:
    """Undecodable bodies among valid ones become dead letters; every valid one is handled."""
    bus = await NatsPubSub(nats_url).connect()
    raw = await nats.connect(nats_url)
    try:
        release = asyncio.Event()
        seen: list[int] = []

        async def handler(message: PubSubMessage) -> None:
            await release.wait()
            seen.append(message.payload)

        subscription = await bus.subscribe("hot.mixed", handler)
        await bus.drain()
        for index in range(50):
            await bus.publish("hot.mixed", index)
            if index % 10 == 0:
                # Wire v2: a body without a content type is JSON or raw bytes, never garbage;
                # one that claims msgpack and is not is undecodable.
                await raw.publish(
                    "hot.mixed",
                    b"\xc1 not msgpack",
                    headers={"content-type": "application/msgpack"},
                )
        await raw.flush()
        await _until(lambda: subscription.pending == 50)
        release.set()
        await bus.drain()
        await _until(lambda: len(bus.dead_letters()) == 5)
        assert seen == list(range(50))
        assert all(letter.error_type == "MessageDecodeError" for letter in bus.dead_letters())
        assert bus.stats()["undecodable"] == 5
    finally:
        await raw.close()
        await bus.close()
