"""The bus conformance suite: every :class:`agentkit.protocols.Bus` implementation runs it.

Subclass :class:`BusConformance` in a ``Test...`` class and give it a ``make_bus`` fixture
(an async factory taking bus options such as ``clock=``, ``max_attempts=``, ``retry_delay=``,
``history_size=``, closing every bus it made at teardown), or just a ``bus`` fixture; tests
that need custom options are skipped, with the reason, when there is no ``make_bus``::

    class TestMyBus(BusConformance):
        @pytest.fixture
        async def make_bus(self):
            buses = []

            async def factory(**options):
                bus = await MyBus(retry_delay=0.001, **options).connect()
                buses.append(bus)
                return bus

            yield factory
            for bus in buses:
                await bus.close()

Besides the ``Bus`` protocol the suite reads ``stats()`` (``published``, ``history_evicted``,
``subscriptions``) and calls ``get_dead_letter``, as :class:`agentkit.BusBase` provides.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

import msgspec
import pytest

from agentkit.bus import (
    MAX_SUBJECT_BYTES,
    DeadLetter,
    MessagePriority,
    PubSubMessage,
    encode_message,
)
from agentkit.exceptions import (
    AgentkitError,
    BusClosedError,
    DeadLetterNotFoundError,
    InvalidSubjectError,
    MessageEncodeError,
    MessageTooLargeError,
    NoRespondersError,
    RequestTimeoutError,
)
from agentkit.protocols import Bus, Subscription

__all__ = ["BusConformance", "BusFactory", "InspectableBus"]

T = TypeVar("T")

#: How long any single wait in the suite may take before the test fails (seconds).
WAIT = 10.0


class InspectableBus(Bus, Protocol):
    """A bus that also reports counters and looks dead letters up by id (as BusBase does)."""

    def stats(self) -> Mapping[str, Any]:
        """Counters, including ``published``, ``history_evicted`` and ``subscriptions``."""
        ...

    def get_dead_letter(self, dead_letter_id: str, /) -> DeadLetter:
        """The dead letter with this id; ``DeadLetterNotFoundError`` when there is none."""
        ...

    async def redrive(
        self, dead_letter_id: str | None = None, /, *, timeout: float | None = None
    ) -> int:
        """Deliver dead letters again; a letter leaves the queue only once it is sent."""
        ...

    async def close(self, *, timeout: float | None = 30.0) -> None:
        """Close, giving handlers *timeout* seconds; what is left becomes dead letters."""
        ...


#: ``await make_bus(**options)``: a new connected bus, closed by the fixture at teardown.
BusFactory = Callable[..., Awaitable[InspectableBus]]


async def within(awaitable: Awaitable[T], what: str = "the bus") -> T:
    """Await *awaitable*, failing the test (not hanging it) after ``WAIT`` seconds."""
    deadline = asyncio.timeout(WAIT)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError:
        # A TimeoutError raised by the awaitable itself (RequestTimeoutError...) is its result.
        if deadline.expired():
            pytest.fail(f"timed out after {WAIT} s waiting for {what}")
        raise


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Poll *condition* until it holds (for states no event reports, e.g. a queue's depth)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {WAIT} s waiting until {what}")
        await asyncio.sleep(0.001)


class HandlerBaseError(BaseException):
    """A BaseException that is neither an Exception nor one the interpreter itself uses."""


#: What handlers raise in the containment cases: none of it may stop a subscription.
HANDLER_EXCEPTIONS: tuple[type[BaseException], ...] = (
    asyncio.CancelledError,
    GeneratorExit,
    HandlerBaseError,
    StopAsyncIteration,
    MemoryError,
    ValueError,
)


class _BrokenZone(datetime.tzinfo):
    """A time zone whose offset cannot be read: encoding a datetime in it raises."""

    def utcoffset(self, dt: datetime.datetime | None) -> datetime.timedelta:
        raise ZeroDivisionError("no offset")

    def dst(self, dt: datetime.datetime | None) -> datetime.timedelta:
        raise ZeroDivisionError("no dst")

    def tzname(self, dt: datetime.datetime | None) -> str:
        return "broken"


class _Unprintable(Exception):
    """An exception whose text cannot be read."""

    def __str__(self) -> str:
        raise RuntimeError("no text")


def nested(depth: int) -> Any:
    """A list nested *depth* levels deep."""
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


class BusConformance:
    """The contract of :class:`agentkit.protocols.Bus`, as tests; subclass it per backend."""

    # -- fixtures ---------------------------------------------------------------------------

    @pytest.fixture
    def make_bus(self) -> BusFactory:
        """Override with a factory of connected buses taking bus options."""
        pytest.skip(f"{type(self).__name__} has no make_bus fixture (a factory taking options)")

    @pytest.fixture
    async def bus(self, make_bus: BusFactory) -> InspectableBus:
        """A connected bus with the backend's test defaults."""
        return await make_bus()

    @pytest.fixture
    def subject(self) -> str:
        """A subject prefix no other test uses, so a shared server never mixes tests."""
        return f"conformance.{uuid.uuid4().hex[:12]}"

    # -- delivery ---------------------------------------------------------------------------

    async def test_publish_delivers_the_message_intact(
        self, bus: InspectableBus, subject: str
    ) -> None:
        """A published message reaches the handler with its payload and fields unchanged."""
        received: list[PubSubMessage] = []
        await bus.subscribe(f"{subject}.events", received.append)
        payload = {
            "text": "héllo",
            "numbers": [1, -2, 2.5, None, True],
            "blob": b"\x00\xff",
            "nested": {"deep": {"list": [[1], []]}},
        }
        message = PubSubMessage(
            topic=f"{subject}.events",
            from_agent="agent-1",
            payload=payload,
            priority=MessagePriority.HIGH,
            headers={"trace": "abc"},
        )
        sent = await bus.publish(f"{subject}.events", message)
        await within(bus.drain())
        assert len(received) == 1
        got = received[0]
        assert got.payload == payload
        assert (got.topic, got.from_agent, got.priority, got.headers) == (
            f"{subject}.events",
            "agent-1",
            MessagePriority.HIGH,
            {"trace": "abc"},
        )
        assert got.message_id == sent.message_id == message.message_id
        assert got.attempt == 1

    async def test_bare_payload_is_wrapped_in_a_message(
        self, bus: InspectableBus, subject: str
    ) -> None:
        """Publishing a bare payload delivers a PubSubMessage on the topic with that payload."""
        received: list[PubSubMessage] = []
        await bus.subscribe(f"{subject}.bare", received.append)
        sent = await bus.publish(f"{subject}.bare", [1, "two"])
        await within(bus.drain())
        assert sent.topic == f"{subject}.bare"
        assert [(m.topic, m.payload, m.priority) for m in received] == [
            (f"{subject}.bare", [1, "two"], MessagePriority.NORMAL)
        ]

    async def test_wildcard_routing(self, bus: InspectableBus, subject: str) -> None:
        """``*`` matches one token, ``>`` one or more; non-matching subjects get nothing."""
        patterns = {
            "star": f"{subject}.*",
            "rest": f"{subject}.>",
            "star_x": f"{subject}.*.x",
            "exact": f"{subject}.a",
        }
        received: dict[str, list[str]] = {name: [] for name in patterns}
        for name, pattern in patterns.items():

            def record(message: PubSubMessage, name: str = name) -> None:
                received[name].append(message.topic)

            await bus.subscribe(pattern, record)
        for topic in (
            subject,
            f"{subject}.a",
            f"{subject}.b.x",
            f"{subject}.b.y",
            f"{subject}.a.b.c",
            f"{subject}x.a",
            f"other.{subject}.a",
        ):
            await bus.publish(topic, topic)
        await within(bus.drain())
        assert {name: sorted(topics) for name, topics in received.items()} == {
            "star": [f"{subject}.a"],
            "rest": sorted(
                [f"{subject}.a", f"{subject}.b.x", f"{subject}.b.y", f"{subject}.a.b.c"]
            ),
            "star_x": [f"{subject}.b.x"],
            "exact": [f"{subject}.a"],
        }

    async def test_priority_order(self, bus: InspectableBus, subject: str) -> None:
        """Queued messages go highest priority first, FIFO within a priority."""
        started = asyncio.Event()
        release = asyncio.Event()
        order: list[str] = []

        async def handler(message: PubSubMessage) -> None:
            if message.payload == "block":
                started.set()
                await release.wait()
            order.append(message.payload)

        topic = f"{subject}.prio"
        subscription = await bus.subscribe(topic, handler, max_concurrency=1)
        await bus.publish(topic, "block")
        await within(started.wait(), "the first message to block the worker")
        sequence = [
            ("low-1", MessagePriority.LOW),
            ("normal-1", MessagePriority.NORMAL),
            ("high-1", MessagePriority.HIGH),
            ("critical-1", MessagePriority.CRITICAL),
            ("low-2", MessagePriority.LOW),
            ("normal-2", MessagePriority.NORMAL),
            ("high-2", MessagePriority.HIGH),
            ("critical-2", MessagePriority.CRITICAL),
        ]
        for payload, priority in sequence:
            await bus.publish(topic, PubSubMessage(topic=topic, payload=payload, priority=priority))
        # Over a network the messages may arrive in several batches: only release the worker
        # once all of them sit in the subscription's queue.
        await eventually(lambda: subscription.pending == 9, "all 9 messages are queued")
        release.set()
        await within(bus.drain())
        assert order == [
            "block",
            "critical-1",
            "critical-2",
            "high-1",
            "high-2",
            "normal-1",
            "normal-2",
            "low-1",
            "low-2",
        ]

    async def test_max_concurrency_bounds_overlap(self, bus: InspectableBus, subject: str) -> None:
        """With max_concurrency=N, N handlers run at once and never more."""
        limit = 3
        active = 0
        peak = 0
        handled = 0
        all_in = asyncio.Event()
        release = asyncio.Event()

        async def handler(message: PubSubMessage) -> None:
            nonlocal active, peak, handled
            active += 1
            peak = max(peak, active)
            if active == limit:
                all_in.set()
            await release.wait()
            await asyncio.sleep(0)
            active -= 1
            handled += 1

        topic = f"{subject}.work"
        await bus.subscribe(topic, handler, max_concurrency=limit)
        for index in range(4 * limit):
            await bus.publish(topic, index)
        await within(all_in.wait(), f"{limit} handlers to overlap")
        assert peak == limit
        release.set()
        await within(bus.drain())
        assert (peak, handled, active) == (limit, 4 * limit, 0)

    async def test_unsubscribe_stops_delivery(self, bus: InspectableBus, subject: str) -> None:
        """After unsubscribe a subscription gets nothing more, while others still do."""
        stopped: list[object] = []
        still: list[object] = []
        topic = f"{subject}.unsub"
        subscription = await bus.subscribe(topic, lambda message: stopped.append(message.payload))
        await bus.subscribe(topic, lambda message: still.append(message.payload))
        await bus.publish(topic, 1)
        await within(bus.drain())
        await within(subscription.unsubscribe())
        await bus.publish(topic, 2)
        await within(bus.drain())
        assert stopped == [1]
        assert still == [1, 2]

    async def test_sync_handlers(self, bus: InspectableBus, subject: str) -> None:
        """A plain (sync) function works as a handler, and its return value is the reply."""
        seen: list[object] = []

        def handler(message: PubSubMessage) -> object:
            seen.append(message.payload)
            return {"double": message.payload * 2}

        topic = f"{subject}.sync"
        await bus.subscribe(topic, handler)
        await bus.publish(topic, 1)
        await within(bus.drain())
        reply = await within(bus.request(topic, 21, timeout=WAIT))
        assert seen == [1, 21]
        assert reply.payload == {"double": 42}

    # -- retries and dead letters -----------------------------------------------------------

    async def test_failing_handler_is_retried_until_it_succeeds(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """A handler that fails twice then succeeds sees attempts 1, 2, 3 and nothing is dead."""
        bus = await make_bus(max_attempts=3, retry_delay=0.001)
        attempts: list[int] = []
        payloads: list[object] = []

        async def handler(message: PubSubMessage) -> str:
            attempts.append(message.attempt)
            payloads.append(message.payload)
            if len(attempts) < 3:
                raise ConnectionError(f"flaky {len(attempts)}")
            return "ok"

        topic = f"{subject}.flaky"
        await bus.subscribe(topic, handler)
        await bus.publish(topic, {"job": 7})
        await within(bus.drain())
        assert attempts == [1, 2, 3]
        assert payloads == [{"job": 7}] * 3
        assert bus.dead_letters() == []

    async def test_always_failing_handler_is_dead_lettered_and_redriven(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """After max_attempts failures the message is a dead letter; redrive delivers it again."""
        bus = await make_bus(max_attempts=3, retry_delay=0.001)
        healed = False
        calls: list[int] = []
        handled: list[object] = []

        async def handler(message: PubSubMessage) -> None:
            calls.append(message.attempt)
            if not healed:
                raise ValueError(f"cannot handle {message.payload['n']}")
            handled.append(message.payload)

        pattern = f"{subject}.jobs.*"
        await bus.subscribe(pattern, handler)
        sent = await bus.publish(f"{subject}.jobs.a", {"n": 1})
        await within(bus.drain())
        assert calls == [1, 2, 3]
        assert handled == []
        [letter] = bus.dead_letters()
        assert letter.error_type == "ValueError"
        assert letter.error == "cannot handle 1"
        assert letter.attempts == 3
        assert letter.subscription == pattern
        assert letter.message.message_id == sent.message_id
        assert letter.message.payload == {"n": 1}

        healed = True
        assert await bus.redrive() == 1
        await within(bus.drain())
        assert handled == [{"n": 1}]
        assert calls[3:] == [1]
        assert bus.dead_letters() == []

    async def test_subscription_max_attempts_overrides_the_bus(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """``subscribe(max_attempts=...)`` wins over the bus default."""
        bus = await make_bus(max_attempts=5, retry_delay=0.001)
        calls: list[int] = []

        def handler(message: PubSubMessage) -> None:
            calls.append(message.attempt)
            raise RuntimeError("always")

        await bus.subscribe(f"{subject}.once", handler, max_attempts=2)
        await bus.publish(f"{subject}.once", None)
        await within(bus.drain())
        assert calls == [1, 2]
        assert [letter.attempts for letter in bus.dead_letters()] == [2]

    async def test_get_dead_letter_and_unknown_ids(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """A dead letter is found by id; unknown ids raise DeadLetterNotFoundError (a KeyError)."""
        bus = await make_bus(max_attempts=1, retry_delay=0.001)
        redelivered: list[int] = []

        def handler(message: PubSubMessage) -> None:
            if message.payload == "poison":
                raise KeyError("poison")
            redelivered.append(message.attempt)

        topic = f"{subject}.dlq"
        await bus.subscribe(topic, handler)
        await bus.publish(topic, "poison")
        await within(bus.drain())
        [letter] = bus.dead_letters()
        assert bus.get_dead_letter(letter.dead_letter_id) == letter
        with pytest.raises(DeadLetterNotFoundError):
            bus.get_dead_letter("no-such-dead-letter")
        with pytest.raises(KeyError):
            bus.get_dead_letter("no-such-dead-letter")
        with pytest.raises(DeadLetterNotFoundError):
            await bus.redrive("no-such-dead-letter")
        # Redriving one letter by id takes it out of the queue (it fails again: a new letter).
        assert await bus.redrive(letter.dead_letter_id) == 1
        with pytest.raises(DeadLetterNotFoundError):
            bus.get_dead_letter(letter.dead_letter_id)
        await within(bus.drain())
        [again] = bus.dead_letters()
        assert again.dead_letter_id != letter.dead_letter_id
        assert again.message.message_id == letter.message.message_id
        assert redelivered == []

    # -- validation -------------------------------------------------------------------------

    async def test_invalid_subjects_are_refused_before_sending(
        self, bus: InspectableBus, subject: str
    ) -> None:
        """Empty, blank, empty-token and misplaced-wildcard subjects raise InvalidSubjectError."""
        received: list[str] = []
        await bus.subscribe(f"{subject}.>", lambda message: received.append(message.topic))
        published_before = bus.stats()["published"]
        bad_publish = [
            "",
            " ",
            f"{subject}..a",
            f"{subject}.",
            f".{subject}",
            f"{subject}.a b",
            f"{subject}.\tb",
            f"{subject}.*",
            f"{subject}.>",
            f"{subject}.*.a",
            f"{subject}.>.a",
            f"{subject}.a*",
        ]
        for topic in bad_publish:
            with pytest.raises(InvalidSubjectError):
                await bus.publish(topic, "x")
            with pytest.raises(InvalidSubjectError):
                await bus.request(topic, "x", timeout=1.0)
        bad_subscribe = [
            "",
            "  ",
            f"{subject}..a",
            f"{subject}.",
            f"{subject}.a b",
            f"{subject}.>.a",
            f">.{subject}",
            f"{subject}.a>",
        ]
        subscriptions_before = len(bus.stats()["subscriptions"])
        for pattern in bad_subscribe:
            with pytest.raises(InvalidSubjectError):
                await bus.subscribe(pattern, lambda message: None)
        assert len(bus.stats()["subscriptions"]) == subscriptions_before
        assert bus.stats()["published"] == published_before
        await bus.publish(f"{subject}.ok", "x")
        await within(bus.drain())
        assert received == [f"{subject}.ok"]

    async def test_unencodable_payload_raises_and_sends_nothing(
        self, bus: InspectableBus, subject: str
    ) -> None:
        """A payload msgpack cannot encode raises MessageEncodeError and nothing is delivered."""
        received: list[object] = []
        topic = f"{subject}.encode"
        await bus.subscribe(topic, lambda message: received.append(message.payload))
        for payload in (object(), 1j, 2**70, {"nested": [lambda: None]}):
            with pytest.raises(MessageEncodeError):
                await bus.publish(topic, payload)
        with pytest.raises(TypeError):
            await bus.publish(topic, object())
        await bus.publish(topic, "fine")
        await within(bus.drain())
        assert received == ["fine"]
        assert [message.payload for message in bus.history(topic)] == ["fine"]

    # -- containment: what a handler raises, what close() and redrive() keep ---------------

    @pytest.mark.parametrize("raised", HANDLER_EXCEPTIONS, ids=lambda kind: kind.__name__)
    async def test_handler_base_exception_is_a_failed_attempt(
        self, make_bus: BusFactory, subject: str, raised: type[BaseException]
    ) -> None:
        """Whatever a handler raises (CancelledError, GeneratorExit, any BaseException) is a
        failed attempt: retried, then dead-lettered, while the subscription goes on."""
        bus = await make_bus(max_attempts=2, retry_delay=0.001)
        calls: list[tuple[str, int]] = []
        handled: list[str] = []

        async def handler(message: PubSubMessage) -> None:
            calls.append((message.payload, message.attempt))
            if message.payload == "poison" or (message.payload == "flaky" and message.attempt < 2):
                raise raised(f"{message.payload} failed")
            handled.append(message.payload)

        def sync_handler(message: PubSubMessage) -> None:
            if message.payload == "poison":
                raise raised("sync poison")
            handled.append(f"sync {message.payload}")

        topic = f"{subject}.contain"
        subscription = await bus.subscribe(topic, handler)
        await bus.subscribe(f"{subject}.sync", sync_handler, max_attempts=1)
        sent = {}
        for payload in ("poison", "flaky", "fine"):
            sent[payload] = await bus.publish(topic, payload)
        await bus.publish(f"{subject}.sync", "poison")
        await within(bus.drain(), "drain after handlers raised")
        assert sorted(handled) == ["fine", "flaky"]
        assert sorted(calls) == [
            ("fine", 1),
            ("flaky", 1),
            ("flaky", 2),
            ("poison", 1),
            ("poison", 2),
        ]
        letters = sorted(bus.dead_letters(), key=lambda letter: letter.subscription)
        assert [(letter.message.payload, letter.attempts) for letter in letters] == [
            ("poison", 2),
            ("poison", 1),
        ]
        assert {letter.error_type for letter in letters} == {raised.__qualname__}
        assert letters[0].message.message_id == sent["poison"].message_id
        assert subscription.pending == 0
        await bus.publish(topic, "after")
        await bus.publish(f"{subject}.sync", "after")
        await within(bus.drain(), "drain of later messages")
        assert sorted(handled) == ["after", "fine", "flaky", "sync after"]

    async def test_unprintable_handler_error_is_still_dead_lettered(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """An exception whose text raises still becomes a dead letter naming its type."""
        bus = await make_bus(max_attempts=1)

        def handler(message: PubSubMessage) -> None:
            raise _Unprintable

        topic = f"{subject}.unprintable"
        await bus.subscribe(topic, handler)
        await bus.publish(topic, "x")
        await within(bus.drain())
        [letter] = bus.dead_letters()
        assert letter.error_type == "_Unprintable"
        assert "could not be read" in letter.error

    async def test_close_timeout_dead_letters_in_flight_and_queued_messages(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """When close(timeout) expires, the N messages being handled and the M queued ones
        all become dead letters with the reason; none is dropped."""
        bus = await make_bus()
        limit, queued = 3, 4
        started: list[object] = []
        all_started = asyncio.Event()
        never = asyncio.Event()

        async def handler(message: PubSubMessage) -> None:
            started.append(message.payload)
            if len(started) == limit:
                all_started.set()
            await never.wait()

        topic = f"{subject}.stuck"
        subscription = await bus.subscribe(topic, handler, max_concurrency=limit)
        sent = [(await bus.publish(topic, index)).message_id for index in range(limit + queued)]
        await within(all_started.wait(), f"{limit} handlers to start")
        await eventually(
            lambda: subscription.pending == limit + queued, "every message is at the subscription"
        )
        await within(bus.close(timeout=0.05), "close(timeout=0.05)")
        letters = bus.dead_letters()
        assert sorted(letter.message.message_id for letter in letters) == sorted(sent)
        assert Counter(letter.error for letter in letters) == {
            "bus closed before the handler finished": limit,
            "bus closed before delivery": queued,
        }
        assert {letter.error_type for letter in letters} == {"BusClosed"}
        in_flight = {
            letter.message.payload
            for letter in letters
            if letter.error == "bus closed before the handler finished"
        }
        assert in_flight == set(started)
        assert len(started) == limit

    async def test_close_abandons_a_handler_that_ignores_cancellation(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """A handler that swallows cancellation cannot hold close(): after cancel_grace its
        message is a dead letter, and finishing later does not count it twice."""
        bus = await make_bus(cancel_grace=0.05)
        started = asyncio.Event()
        release = asyncio.Event()
        swallowed = 0

        async def handler(message: PubSubMessage) -> str:
            nonlocal swallowed
            started.set()
            while not release.is_set():
                try:
                    await release.wait()
                except asyncio.CancelledError:
                    swallowed += 1
            return "late"

        topic = f"{subject}.stubborn"
        subscription = await bus.subscribe(topic, handler)
        sent = await bus.publish(topic, "x")
        await within(started.wait(), "the handler to start")
        await within(bus.close(timeout=0.05), "close() with a stubborn handler")
        assert swallowed >= 1
        [letter] = bus.dead_letters()
        assert letter.message.message_id == sent.message_id
        assert "ignored cancellation" in letter.error
        release.set()
        await eventually(lambda: subscription.pending == 0, "the abandoned handler finishes")
        assert len(bus.dead_letters()) == 1
        assert bus.stats()["dead_lettered"] == 1

    async def test_redrive_keeps_the_letter_when_it_cannot_be_sent(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """A dead letter whose re-publish fails (here: the redrive header pushes it over
        max_payload) stays in the queue; redrive removes a letter only once it is sent."""
        limit = 2048
        bus = await make_bus(max_attempts=1, max_payload=limit)
        topic = f"{subject}.full"
        seen: list[int] = []

        def handler(message: PubSubMessage) -> None:
            seen.append(message.attempt)
            raise RuntimeError("handler down")

        subscription = await bus.subscribe(topic, handler)
        filler = PubSubMessage(topic=topic, payload="")
        filler = msgspec.structs.replace(
            filler, payload="x" * (limit - len(encode_message(filler)) - 2)
        )
        assert limit - 8 < len(encode_message(filler)) <= limit
        await bus.publish(topic, filler)
        await within(bus.drain())
        [letter] = bus.dead_letters()
        # With its subscription gone, redrive publishes the message again, with a header.
        await within(subscription.unsubscribe())
        with pytest.raises(MessageTooLargeError):
            await bus.redrive(letter.dead_letter_id)
        with pytest.raises(MessageTooLargeError):
            await bus.redrive()
        assert bus.dead_letters() == [letter]
        assert bus.get_dead_letter(letter.dead_letter_id) == letter
        assert bus.stats()["redriven"] == 0
        assert seen == [1]

    async def test_redrive_on_a_closed_bus_keeps_every_letter(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """redrive after close raises BusClosedError and the dead letters are still listed."""
        bus = await make_bus(max_attempts=1)

        def handler(message: PubSubMessage) -> None:
            raise RuntimeError("down")

        topic = f"{subject}.later"
        await bus.subscribe(topic, handler)
        for index in range(3):
            await bus.publish(topic, index)
        await within(bus.drain())
        letters = bus.dead_letters()
        await bus.close()
        with pytest.raises(BusClosedError):
            await bus.redrive()
        assert bus.dead_letters() == letters
        assert len(letters) == 3

    # -- bad subjects and payloads at every entry point -------------------------------------

    async def test_non_text_subjects_raise_invalid_subject_error_everywhere(
        self, bus: InspectableBus, subject: str
    ) -> None:
        """A subject that is not a str, not valid UTF-8, holds a control character or is over
        max_subject_bytes raises InvalidSubjectError from publish, subscribe, request and
        history, and the bus stays usable."""
        received: list[str] = []
        await bus.subscribe(f"{subject}.>", lambda message: received.append(message.topic))
        published_before = bus.stats()["published"]
        not_text: list[Any] = [["a"], ("a",), {"a": 1}, b"a.b", 3, 2.5, None, object(), {"a"}]
        bad_text = [
            f"{subject}.\ud800",
            f"{subject}.a\udfff.b",
            f"{subject}.\x00",
            f"{subject}.a\x1bb",
            f"{subject}.\x7f",
            f"{subject}.\u2028",
            f"{subject}." + "a" * MAX_SUBJECT_BYTES,
            f"{subject}." + "é" * (MAX_SUBJECT_BYTES // 2),
        ]
        for topic in [*not_text, *bad_text]:
            with pytest.raises(InvalidSubjectError):
                await bus.publish(topic, "x")
            with pytest.raises(InvalidSubjectError):
                await bus.request(topic, "x", timeout=1.0)
            with pytest.raises(InvalidSubjectError):
                await bus.subscribe(topic, lambda message: None)
        for topic in not_text:
            with pytest.raises(InvalidSubjectError):
                bus.history(topic)
        for queue in (["q"], 5, "a b", "q\ud800", "q\x00", ""):
            with pytest.raises(InvalidSubjectError):
                await bus.subscribe(f"{subject}.q", lambda message: None, queue=queue)  # type: ignore[arg-type]
        for dead_letter_id in (["x"], None, 5):
            with pytest.raises(DeadLetterNotFoundError):
                bus.get_dead_letter(dead_letter_id)  # type: ignore[arg-type]
        assert bus.stats()["published"] == published_before
        await bus.publish(f"{subject}.ok", "x")
        await within(bus.drain())
        assert received == [f"{subject}.ok"]

    async def test_str_subclass_subjects_are_used_as_plain_text(
        self, bus: InspectableBus, subject: str
    ) -> None:
        """A str subclass (a StrEnum member, say) works as a subject, as its plain value."""

        class Topic(str):
            def __hash__(self) -> int:
                raise TypeError("unhashable subject")

        received: list[str] = []
        await bus.subscribe(Topic(f"{subject}.*"), lambda message: received.append(message.topic))
        sent = await bus.publish(Topic(f"{subject}.typed"), "x")
        await within(bus.drain())
        assert received == [f"{subject}.typed"]
        assert type(sent.topic) is str
        assert [message.payload for message in bus.history(Topic(f"{subject}.typed"))] == ["x"]

    async def test_unencodable_payloads_of_every_kind_raise_message_encode_error(
        self, bus: InspectableBus, subject: str
    ) -> None:
        """Deep nesting, lone surrogates, huge ints, objects that raise while read, and
        mistyped message fields all raise MessageEncodeError; the bus stays usable."""
        received: list[object] = []
        topic = f"{subject}.payloads"
        await bus.subscribe(topic, lambda message: received.append(message.payload))
        bad: list[Any] = [
            nested(10_000),
            {"deep": nested(100_000)},
            "\ud800",
            {"\udfff": 1},
            2**64,
            -(2**64),
            datetime.datetime(2024, 1, 1, tzinfo=_BrokenZone()),
            PubSubMessage(topic=topic, headers={1: 2}),  # type: ignore[dict-item]
            PubSubMessage(topic=topic, headers={"a": None}),  # type: ignore[dict-item]
            PubSubMessage(topic=topic, priority=7),  # type: ignore[arg-type]
            PubSubMessage(topic=topic, priority=True),  # type: ignore[arg-type]
            PubSubMessage(topic=topic, attempt="1"),  # type: ignore[arg-type]
            PubSubMessage(topic=topic, from_agent=None),  # type: ignore[arg-type]
            PubSubMessage(topic=topic, reply_to=5),  # type: ignore[arg-type]
            PubSubMessage(topic=topic, timestamp="now"),  # type: ignore[arg-type]
            PubSubMessage(topic=topic, version=99),
            PubSubMessage(topic=topic, headers=[("a", "b")]),  # type: ignore[arg-type]
        ]
        for payload in bad:
            with pytest.raises(MessageEncodeError):
                await bus.publish(topic, payload)
            with pytest.raises(AgentkitError):
                await bus.request(topic, payload, timeout=1.0)
        await bus.publish(topic, nested(100))
        await within(bus.drain())
        assert received == [nested(100)]
        assert bus.dead_letters() == []

    # -- request / reply --------------------------------------------------------------------

    async def test_request_returns_the_handler_result(
        self, bus: InspectableBus, subject: str
    ) -> None:
        """``request`` returns the handler's return value with correlation_id set."""
        requests: list[PubSubMessage] = []

        async def handler(message: PubSubMessage) -> dict[str, Any]:
            requests.append(message)
            return {"answer": message.payload["question"] * 2}

        topic = f"{subject}.rpc"
        await bus.subscribe(topic, handler)
        reply = await within(bus.request(topic, {"question": 21}, timeout=WAIT))
        assert reply.payload == {"answer": 42}
        assert requests[0].reply_to is not None
        assert reply.correlation_id == requests[0].message_id
        explicit = PubSubMessage(topic=topic, payload={"question": 1}, correlation_id="corr-1")
        reply = await within(bus.request(topic, explicit, timeout=WAIT))
        assert reply.payload == {"answer": 2}
        assert reply.correlation_id == "corr-1"

    async def test_request_without_responders(self, bus: InspectableBus, subject: str) -> None:
        """A request nobody listens to raises NoRespondersError."""
        with pytest.raises(NoRespondersError):
            await within(bus.request(f"{subject}.nobody", "anyone?", timeout=WAIT))

    async def test_request_times_out(self, bus: InspectableBus, subject: str) -> None:
        """A request whose handler never answers raises RequestTimeoutError (a TimeoutError)."""
        started = asyncio.Event()
        release = asyncio.Event()

        async def handler(message: PubSubMessage) -> str:
            started.set()
            await release.wait()
            return "too late"

        topic = f"{subject}.slow"
        await bus.subscribe(topic, handler)
        try:
            with pytest.raises(RequestTimeoutError):
                await within(bus.request(topic, "hello", timeout=0.05))
            assert started.is_set()
        finally:
            release.set()
        await within(bus.drain())

    # -- queue groups -----------------------------------------------------------------------

    async def test_queue_group_splits_messages(self, bus: InspectableBus, subject: str) -> None:
        """Each message goes to one queue-group member, the group shares the work, and a plain
        subscription on the same subject still sees every message."""
        topic = f"{subject}.tasks"
        by_member: dict[int, list[int]] = {0: [], 1: [], 2: []}
        everything: list[int] = []
        for member in by_member:

            async def handler(message: PubSubMessage, member: int = member) -> None:
                by_member[member].append(message.payload)
                await asyncio.sleep(0)

            await bus.subscribe(topic, handler, queue="workers")
        await bus.subscribe(topic, lambda message: everything.append(message.payload))
        for index in range(30):
            await bus.publish(topic, index)
        await within(bus.drain())
        delivered = sorted(index for payloads in by_member.values() for index in payloads)
        assert delivered == list(range(30))
        assert sum(1 for payloads in by_member.values() if payloads) > 1
        assert sorted(everything) == list(range(30))

    # -- history ----------------------------------------------------------------------------

    async def test_history_is_bounded_per_topic(self, make_bus: BusFactory, subject: str) -> None:
        """history(topic) keeps the latest history_size messages, counting what it evicted."""
        bus = await make_bus(history_size=3)
        topic = f"{subject}.log"
        for index in range(5):
            await bus.publish(topic, index)
        await bus.publish(f"{subject}.other", "elsewhere")
        assert [message.payload for message in bus.history(topic)] == [2, 3, 4]
        assert [message.payload for message in bus.history(topic, limit=2)] == [3, 4]
        assert [message.payload for message in bus.history(f"{subject}.other")] == ["elsewhere"]
        assert bus.history(f"{subject}.never") == []
        assert bus.stats()["history_evicted"] == 2

    # -- lifecycle --------------------------------------------------------------------------

    async def test_calls_after_close_raise(self, make_bus: BusFactory, subject: str) -> None:
        """publish, subscribe and request on a closed bus raise BusClosedError."""
        bus = await make_bus()
        await bus.close()
        await bus.close()  # closing twice is harmless
        with pytest.raises(BusClosedError):
            await bus.publish(f"{subject}.late", "x")
        with pytest.raises(BusClosedError):
            await bus.subscribe(f"{subject}.late", lambda message: None)
        with pytest.raises(BusClosedError):
            await bus.request(f"{subject}.late", "x", timeout=1.0)

    async def test_close_waits_for_in_flight_and_queued_handlers(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """close() lets a handler that already started, and what is queued behind it, finish."""
        bus = await make_bus()
        started = asyncio.Event()
        release = asyncio.Event()
        finished: list[object] = []

        async def handler(message: PubSubMessage) -> None:
            if message.payload == "slow":
                started.set()
                await release.wait()
            finished.append(message.payload)

        topic = f"{subject}.closing"
        subscription = await bus.subscribe(topic, handler)
        await bus.publish(topic, "slow")
        await bus.publish(topic, "queued")
        await within(started.wait(), "the slow handler to start")
        await eventually(lambda: subscription.pending == 2, "the second message is queued")
        closing = asyncio.create_task(bus.close())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not closing.done()
        with pytest.raises(BusClosedError):
            await bus.publish(topic, "after close began")
        release.set()
        await within(closing, "close()")
        assert finished == ["slow", "queued"]
        assert bus.dead_letters() == []

    async def test_subscription_reports_its_subject(
        self, bus: InspectableBus, subject: str
    ) -> None:
        """subscribe returns a Subscription naming its subject and queue group."""
        plain = await bus.subscribe(f"{subject}.*", lambda message: None)
        grouped = await bus.subscribe(f"{subject}.g", lambda message: None, queue="team")
        assert isinstance(plain, Subscription)
        assert (plain.subject, plain.queue, plain.pending) == (f"{subject}.*", None, 0)
        assert (grouped.subject, grouped.queue) == (f"{subject}.g", "team")

    async def test_close_keeps_a_message_whose_handler_turns_cancellation_into_an_error(
        self, make_bus: BusFactory, subject: str
    ) -> None:
        """A handler that answers close()'s cancellation with another error has its message
        dead-lettered, and the messages queued behind it too; none is retried after close."""
        bus = await make_bus(max_attempts=5)
        started = asyncio.Event()
        calls: list[object] = []

        async def handler(message: PubSubMessage) -> None:
            calls.append(message.payload)
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise RuntimeError("cleanup failed") from None

        topic = f"{subject}.cleanup"
        subscription = await bus.subscribe(topic, handler)
        sent = [(await bus.publish(topic, index)).message_id for index in range(3)]
        await within(started.wait(), "the handler to start")
        await eventually(lambda: subscription.pending == 3, "every message is queued")
        await within(bus.close(timeout=0.05), "close()")
        letters = bus.dead_letters()
        assert sorted(letter.message.message_id for letter in letters) == sorted(sent)
        assert calls == [0]
        [first] = [letter for letter in letters if letter.message.payload == 0]
        assert (first.error_type, first.error) == (
            "RuntimeError",
            "cleanup failed (bus closed before the retry)",
        )
