"""The in-memory bus: the conformance suite plus what only InMemoryPubSub does."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import payloads

import agentkit
from agentkit import (
    AgentkitError,
    BackpressureError,
    ConfigurationError,
    InMemoryPubSub,
    MessageDecodeError,
    MessageEncodeError,
    PubSubMessage,
)
from agentkit.testing import BusConformance, VirtualClock
from agentkit.testing._bus_suite import (
    HANDLER_EXCEPTIONS,
    BusFactory,
    HandlerBaseError,
    nested,
    within,
)


class TestInMemoryBus(BusConformance):
    """InMemoryPubSub keeps the Bus contract."""

    @pytest.fixture
    async def make_bus(self) -> AsyncIterator[BusFactory]:
        """A factory of in-memory buses with tiny retry delays, closed at teardown."""
        buses: list[InMemoryPubSub] = []

        async def factory(**options: Any) -> InMemoryPubSub:
            bus = InMemoryPubSub(**{"retry_delay": 0.001, **options})
            buses.append(bus)
            return bus

        yield factory
        for bus in buses:
            await bus.close()


@pytest.fixture
async def memory_bus() -> AsyncIterator[InMemoryPubSub]:
    """An in-memory bus with tiny retry delays, closed at teardown."""
    async with InMemoryPubSub(retry_delay=0.001) as bus:
        yield bus


async def test_publish_timeout_raises_backpressure_error() -> None:
    """A full subscription queue makes ``publish(timeout=...)`` raise BackpressureError."""
    release = asyncio.Event()
    started = asyncio.Event()

    async def handler(message: PubSubMessage) -> None:
        started.set()
        await release.wait()

    async with InMemoryPubSub(queue_size=1) as bus:
        await bus.subscribe("jobs", handler)
        await bus.publish("jobs", "in flight")
        await within(started.wait())
        await bus.publish("jobs", "fills the queue")
        with pytest.raises(BackpressureError):
            await bus.publish("jobs", "no room", timeout=0.05)
        with pytest.raises(TimeoutError):
            await bus.publish("jobs", "no room either", timeout=0.0)
        release.set()
        await within(bus.drain())


async def test_blocked_publish_resumes_when_room_frees_up() -> None:
    """A publish waiting on a full queue goes through once the handler takes a message."""
    release = asyncio.Event()
    started = asyncio.Event()
    handled: list[str] = []

    async def handler(message: PubSubMessage) -> None:
        started.set()
        await release.wait()
        handled.append(message.payload)

    async with InMemoryPubSub(queue_size=1) as bus:
        await bus.subscribe("jobs", handler)
        await bus.publish("jobs", "first")
        await within(started.wait())
        await bus.publish("jobs", "second")
        waiting = asyncio.create_task(bus.publish("jobs", "third"))
        await asyncio.sleep(0)
        assert not waiting.done()
        release.set()
        await within(waiting)
        await within(bus.drain())
        assert handled == ["first", "second", "third"]


async def test_retries_happen_exactly_at_the_backoff_times() -> None:
    """On virtual time a failed message is retried after retry_delay, then twice that."""
    clock = VirtualClock()
    attempts: list[tuple[int, float]] = []
    others: list[float] = []

    async def handler(message: PubSubMessage) -> None:
        if message.payload == "other":
            others.append(clock.monotonic())
            return
        attempts.append((message.attempt, clock.monotonic()))
        raise RuntimeError("still failing")

    async with InMemoryPubSub(clock=clock, retry_delay=1.0, max_attempts=3) as bus:
        await bus.subscribe("jobs", handler)
        await bus.publish("jobs", "job")
        await clock.settle()
        assert attempts == [(1, 0.0)]
        # Other messages go on while the failed one waits for its retry.
        await bus.publish("jobs", "other")
        await clock.settle()
        assert others == [0.0]
        await clock.advance(0.999)
        assert attempts == [(1, 0.0)]
        await clock.advance(0.001)
        assert attempts == [(1, 0.0), (2, 1.0)]
        await clock.advance(1.999)
        assert len(attempts) == 2
        await clock.advance(0.001)
        assert attempts == [(1, 0.0), (2, 1.0), (3, 3.0)]
        await within(bus.drain())
        [letter] = bus.dead_letters()
        assert letter.attempts == 3
        assert letter.failed_at == clock.time()


async def test_backoff_is_capped_by_max_retry_delay() -> None:
    """The exponential backoff never waits longer than max_retry_delay."""
    clock = VirtualClock()
    attempt_times: list[float] = []

    def handler(message: PubSubMessage) -> None:
        attempt_times.append(clock.monotonic())
        raise RuntimeError("nope")

    async with InMemoryPubSub(
        clock=clock, retry_delay=1.0, max_retry_delay=1.5, max_attempts=4
    ) as bus:
        await bus.subscribe("jobs", handler)
        await bus.publish("jobs", "job")
        await clock.settle()
        await clock.run_until_idle()
        await within(bus.drain())
        assert attempt_times == [0.0, 1.0, 2.5, 4.0]
        assert clock.monotonic() == 4.0


async def test_backpressure_timeout_runs_on_the_bus_clock() -> None:
    """``publish(timeout=)`` measures its wait on the bus clock (virtual time here)."""
    clock = VirtualClock()
    release = asyncio.Event()

    async def handler(message: PubSubMessage) -> None:
        await release.wait()

    async with InMemoryPubSub(clock=clock, queue_size=1) as bus:
        await bus.subscribe("jobs", handler)
        await bus.publish("jobs", 1)
        await clock.settle()
        await bus.publish("jobs", 2)
        blocked = asyncio.create_task(bus.publish("jobs", 3, timeout=5.0))
        await clock.advance(4.9)
        assert not blocked.done()
        await clock.advance(0.2)
        with pytest.raises(BackpressureError):
            await within(blocked)
        release.set()
        await within(bus.drain())


async def test_dead_letter_queue_is_bounded() -> None:
    """With dead_letter_size=2 a third dead letter evicts the oldest and counts it."""

    def handler(message: PubSubMessage) -> None:
        raise ValueError(message.payload)

    async with InMemoryPubSub(max_attempts=1, dead_letter_size=2) as bus:
        await bus.subscribe("jobs", handler)
        for payload in ("first", "second", "third"):
            await bus.publish("jobs", payload)
        await within(bus.drain())
        assert [letter.message.payload for letter in bus.dead_letters()] == ["second", "third"]
        stats = bus.stats()
        assert stats["dead_letters_evicted"] == 1
        assert stats["dead_lettered"] == 3
        assert stats["dead_letters"] == 2


async def test_copy_messages_isolates_handlers(memory_bus: InMemoryPubSub) -> None:
    """A handler mutating its payload does not change what another subscription sees."""
    seen: list[dict[str, Any]] = []

    def mutate(message: PubSubMessage) -> None:
        message.payload["items"].append("tampered")
        message.payload["owner"] = "mutator"

    await memory_bus.subscribe("doc", mutate)
    await memory_bus.subscribe("doc", lambda message: seen.append(message.payload))
    original = {"items": [1, 2], "owner": "publisher"}
    sent = await memory_bus.publish("doc", original)
    await within(memory_bus.drain())
    assert seen == [{"items": [1, 2], "owner": "publisher"}]
    assert original == {"items": [1, 2], "owner": "publisher"}
    assert sent.payload == original


async def test_copy_messages_off_shares_the_object() -> None:
    """With copy_messages=False handlers receive the very message object that was published."""
    seen: list[PubSubMessage] = []
    async with InMemoryPubSub(copy_messages=False) as bus:
        await bus.subscribe("doc", seen.append)
        sent = await bus.publish("doc", {"a": 1})
        await within(bus.drain())
    assert seen == [sent]
    assert seen[0] is sent


async def test_connect_memory_url() -> None:
    """``connect("memory://")`` returns an InMemoryPubSub with the given options."""
    bus = await agentkit.connect("memory://", max_attempts=7)
    try:
        assert isinstance(bus, InMemoryPubSub)
        assert bus.max_attempts == 7
    finally:
        await bus.close()


async def test_connect_honours_agentkit_bus_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """``connect()`` without a URL reads AGENTKIT_BUS_URL."""
    monkeypatch.setenv("AGENTKIT_BUS_URL", "memory://from-the-environment")
    bus = await agentkit.connect()
    try:
        assert isinstance(bus, InMemoryPubSub)
    finally:
        await bus.close()
    monkeypatch.setenv("AGENTKIT_BUS_URL", "carrier-pigeon://coop")
    with pytest.raises(ConfigurationError, match="carrier-pigeon://coop"):
        await agentkit.connect()


async def test_connect_defaults_to_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """``connect()`` with neither a URL nor AGENTKIT_BUS_URL gives an in-memory bus."""
    monkeypatch.delenv("AGENTKIT_BUS_URL", raising=False)
    bus = await agentkit.connect()
    try:
        assert isinstance(bus, InMemoryPubSub)
    finally:
        await bus.close()


async def test_connect_unknown_scheme_names_the_hook() -> None:
    """An unknown URL scheme raises ConfigurationError pointing at agentkit_make_bus."""
    with pytest.raises(ConfigurationError, match="agentkit_make_bus"):
        await agentkit.connect("kafka://127.0.0.1:9092")
    with pytest.raises(ConfigurationError, match="no scheme"):
        await agentkit.connect("127.0.0.1:4222")


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": 0},
        {"queue_size": 0},
        {"retry_delay": -1.0},
        {"history_size": -1},
        {"dead_letter_size": 0},
        {"max_payload": 0},
    ],
)
def test_bad_bus_options_raise_configuration_error(options: dict[str, Any]) -> None:
    """Nonsensical bus options raise ConfigurationError (a ValueError) at construction."""
    with pytest.raises(ConfigurationError):
        InMemoryPubSub(**options)
    with pytest.raises(ValueError, match=next(iter(options))):
        InMemoryPubSub(**options)


async def test_bad_subscription_options_raise_configuration_error(
    memory_bus: InMemoryPubSub,
) -> None:
    """Per-subscription max_concurrency, max_attempts and queue_size must be positive."""
    bad: list[dict[str, Any]] = [{"max_concurrency": 0}, {"max_attempts": 0}, {"queue_size": 0}]
    for options in bad:
        with pytest.raises(ConfigurationError):
            await memory_bus.subscribe("jobs", lambda message: None, **options)
    with pytest.raises(ConfigurationError):
        await memory_bus.subscribe("jobs", "not callable")  # type: ignore[arg-type]
    assert memory_bus.stats()["subscriptions"] == []


async def test_message_over_max_payload_is_refused() -> None:
    """A message encoding to more than max_payload raises MessageTooLargeError; none is sent."""
    received: list[object] = []
    async with InMemoryPubSub(max_payload=1024) as bus:
        await bus.subscribe("big", lambda message: received.append(message.payload))
        with pytest.raises(agentkit.MessageTooLargeError):
            await bus.publish("big", "x" * 2048)
        await bus.publish("big", "small")
        await within(bus.drain())
    assert received == ["small"]


async def test_close_dead_letters_messages_still_waiting_for_a_retry() -> None:
    """Closing while a retry waits keeps the message as a dead letter instead of losing it."""
    clock = VirtualClock()

    def handler(message: PubSubMessage) -> None:
        raise RuntimeError("down")

    bus = InMemoryPubSub(clock=clock, retry_delay=60.0, max_attempts=5)
    await bus.subscribe("jobs", handler)
    await bus.publish("jobs", "job")
    await clock.settle()
    assert clock.sleepers == 1
    # close() gives handlers 1 s of bus-clock time to drain; the retry is due at 60 s.
    closing = asyncio.create_task(bus.close(timeout=1.0))
    await clock.advance(1.0)
    await within(closing)
    [letter] = bus.dead_letters()
    assert letter.message.payload == "job"
    assert letter.attempts == 1
    assert letter.error == "down (bus closed before the retry)"


# -- what handlers raise --------------------------------------------------------------------


@pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit])
def test_stop_requests_dead_letter_the_message_and_stop_the_loop(
    raised: type[BaseException],
) -> None:
    """KeyboardInterrupt/SystemExit from a handler stop the event loop as asked, after the
    message became a dead letter; a program that goes on finds the subscription working."""
    loop = asyncio.new_event_loop()
    bus: InMemoryPubSub | None = None
    handled: list[str] = []

    def handler(message: PubSubMessage) -> None:
        if message.payload == "stop":
            raise raised("stop the process")
        handled.append(message.payload)

    async def start() -> None:
        nonlocal bus
        bus = InMemoryPubSub(max_attempts=5)
        await bus.subscribe("jobs", handler, max_concurrency=2)
        await bus.publish("jobs", "stop")
        await asyncio.sleep(3600)

    try:
        with pytest.raises(raised):
            loop.run_until_complete(start())
        assert bus is not None
        [letter] = bus.dead_letters()
        assert (letter.message.payload, letter.error_type, letter.attempts) == (
            "stop",
            raised.__name__,
            1,
        )
        assert "asked the process to stop" in letter.error

        async def go_on() -> None:
            assert bus is not None
            for payload in ("a", "b", "c"):
                await bus.publish("jobs", payload)
            await within(bus.drain())
            await bus.close()

        loop.run_until_complete(go_on())
        assert handled == ["a", "b", "c"]
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


def test_a_handler_cancelling_its_own_worker_keeps_the_message() -> None:
    """A worker task cancelled from outside (here by its own handler) is not a lost message:
    what it was handling becomes a dead letter, and the loop still shuts down cleanly."""

    async def scenario() -> list[agentkit.DeadLetter]:
        bus = InMemoryPubSub()

        async def handler(message: PubSubMessage) -> None:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(1)

        await bus.subscribe("jobs", handler)
        await bus.publish("jobs", "x")
        for _ in range(10):
            await asyncio.sleep(0)
        letters = bus.dead_letters()
        await within(bus.close(timeout=0.1))
        return letters

    [letter] = asyncio.run(scenario())
    assert letter.message.payload == "x"
    assert "cancelled before the handler finished" in letter.error


_EXCEPTION_KINDS = st.sampled_from([*HANDLER_EXCEPTIONS, RuntimeError, KeyError, ArithmeticError])


@settings(max_examples=40)
@given(
    plans=st.lists(
        st.lists(st.one_of(st.none(), _EXCEPTION_KINDS), min_size=1, max_size=4),
        min_size=1,
        max_size=12,
    ),
    max_attempts=st.integers(min_value=1, max_value=3),
    concurrency=st.integers(min_value=1, max_value=3),
    is_async=st.booleans(),
)
def test_any_exception_on_any_attempt_ends_handled_or_dead_lettered_once(
    plans: list[list[type[BaseException] | None]],
    max_attempts: int,
    concurrency: int,
    is_async: bool,
) -> None:
    """Handlers raising random Exception and BaseException classes on random attempts: every
    message ends handled or dead-lettered exactly once, drain returns, the bus still works."""
    outcome: dict[int, str] = {}
    handled: Counter[int] = Counter()

    def act(message: PubSubMessage) -> None:
        index = message.payload
        plan = plans[index]
        raised = plan[message.attempt - 1] if message.attempt <= len(plan) else None
        if raised is not None:
            raise raised(f"message {index}, attempt {message.attempt}")
        handled[index] += 1

    async def async_handler(message: PubSubMessage) -> None:
        await asyncio.sleep(0)
        act(message)

    async def scenario() -> list[agentkit.DeadLetter]:
        async with InMemoryPubSub(retry_delay=0.0, max_attempts=max_attempts) as bus:
            await bus.subscribe(
                "jobs", async_handler if is_async else act, max_concurrency=concurrency
            )
            for index in range(len(plans)):
                await bus.publish("jobs", index)
            await within(bus.drain())
            letters = bus.dead_letters()
            await bus.publish("jobs.after", "x")
            after: list[object] = []
            await bus.subscribe("jobs.after", lambda message: after.append(message.payload))
            await bus.publish("jobs.after", "y")
            await within(bus.drain())
            assert after == ["y"]
            return letters

    letters = asyncio.run(scenario())
    for letter in letters:
        index = letter.message.payload
        assert index not in outcome
        outcome[index] = "dead"
        plan = plans[index]
        assert letter.attempts == max_attempts
        assert letter.error_type == plan[max_attempts - 1].__qualname__  # type: ignore[union-attr]
    for index, count in handled.items():
        assert count == 1
        assert index not in outcome
        outcome[index] = "handled"
    assert sorted(outcome) == list(range(len(plans)))
    for index, plan in enumerate(plans):
        failed_every_time = all(kind is not None for kind in plan[:max_attempts]) and (
            len(plan) >= max_attempts
        )
        assert outcome[index] == ("dead" if failed_every_time else "handled")


# -- close and redrive ------------------------------------------------------------------------


async def test_redrive_that_hits_backpressure_leaves_the_letter() -> None:
    """A redrive whose re-queueing times out on a full queue raises BackpressureError and the
    letter stays; once there is room the same letter is redriven and handled."""
    release = asyncio.Event()
    started = asyncio.Event()
    healed = False
    handled: list[object] = []

    async def handler(message: PubSubMessage) -> None:
        if message.payload == "block":
            started.set()
            await release.wait()
        elif not healed:
            raise RuntimeError("not yet")
        handled.append(message.payload)

    async with InMemoryPubSub(max_attempts=1, queue_size=1) as bus:
        await bus.subscribe("jobs", handler)
        await bus.publish("jobs", "poison")
        await within(bus.drain())
        [letter] = bus.dead_letters()
        await bus.publish("jobs", "block")
        await within(started.wait())
        await bus.publish("jobs", "fills the queue")
        with pytest.raises(BackpressureError):
            await bus.redrive(letter.dead_letter_id, timeout=0.05)
        assert bus.dead_letters() == [letter]
        healed = True
        release.set()
        assert await within(bus.redrive(timeout=5.0)) == 1
        await within(bus.drain())
        assert bus.dead_letters() == []
        assert handled == ["block", "fills the queue", "poison"]


async def test_close_timeout_keeps_messages_waiting_behind_a_full_queue_too() -> None:
    """Messages in flight, queued, and waiting for a retry at close(timeout) all end as dead
    letters: published minus handled equals dead-lettered."""
    never = asyncio.Event()
    handled: list[int] = []

    async def handler(message: PubSubMessage) -> None:
        if message.payload % 5 == 0:
            await never.wait()
        if message.payload % 7 == 0:
            raise RuntimeError("retry me")
        handled.append(message.payload)

    bus = InMemoryPubSub(retry_delay=30.0, max_attempts=3)
    await bus.subscribe("jobs", handler, max_concurrency=4)
    published = list(range(1, 60))
    for index in published:
        await bus.publish("jobs", index)
    await asyncio.sleep(0.01)
    await within(bus.close(timeout=0.05))
    dead = [letter.message.payload for letter in bus.dead_letters()]
    assert sorted(dead + handled) == published
    assert len(set(dead)) == len(dead)


# -- bad input never escapes the hierarchy --------------------------------------------------


class _WeirdText(str):
    """A str subclass whose comparisons raise."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparing")

    __hash__ = str.__hash__


_ANY_OBJECT = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=8),
    st.text(max_size=12),
    st.text(alphabet=st.characters(), max_size=12).map(lambda text: f"a.{text}"),
    st.lists(st.text(max_size=3), max_size=3),
    st.tuples(st.text(max_size=3)),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.builds(object),
    st.builds(_WeirdText, st.text(max_size=8)),
    st.from_type(type).flatmap(st.from_type),
)


def _deep(payload: Any, depth: int) -> Any:
    for _ in range(depth):
        payload = [payload] if depth % 2 else {"k": payload}
    return payload


_ANY_PAYLOAD = st.one_of(
    payloads(),
    _ANY_OBJECT,
    st.tuples(payloads(), st.integers(min_value=0, max_value=20_000)).map(
        lambda pair: _deep(pair[0], pair[1])
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1),
)


@settings(max_examples=60)
@given(topic=_ANY_OBJECT, payload=_ANY_PAYLOAD)
def test_arbitrary_topics_and_payloads_succeed_or_raise_agentkit_errors(
    topic: Any, payload: Any
) -> None:
    """Any object as a topic or payload gives success or an AgentkitError from publish,
    request, subscribe and history, never another exception, and the bus stays usable."""

    async def scenario() -> None:
        async with InMemoryPubSub(retry_delay=0.0, max_attempts=1) as bus:
            received: list[object] = []
            await bus.subscribe(">", lambda message: received.append(message.payload))
            calls = [
                lambda: bus.publish(topic, payload),
                lambda: bus.publish("ok", payload),
                lambda: bus.request(topic, payload, timeout=0.01),
                lambda: bus.subscribe(topic, lambda message: None),
            ]
            for call in calls:
                with contextlib.suppress(AgentkitError):
                    await call()
            with contextlib.suppress(AgentkitError):
                bus.history(topic)
            await within(bus.drain())
            received.clear()
            await bus.publish("still.works", 1)
            await within(bus.drain())
            assert received == [1]
            # Nothing was lost on the way: a handler that failed to get it left a dead letter.
            assert all(letter.error_type for letter in bus.dead_letters())

    asyncio.run(scenario())


@settings(max_examples=30)
@given(depth=st.integers(min_value=900, max_value=1100))
def test_payloads_at_the_nesting_limit_are_refused_or_delivered_never_lost(depth: int) -> None:
    """Near the interpreter's nesting limit a payload is refused at publish, or reaches the
    handler, or (if only the receiving side cannot decode it) becomes a dead letter."""

    async def scenario() -> tuple[str, list[object], list[agentkit.DeadLetter]]:
        async with InMemoryPubSub(retry_delay=0.0, max_attempts=1) as bus:
            received: list[object] = []
            await bus.subscribe("deep", lambda message: received.append(message.payload))
            try:
                await bus.publish("deep", nested(depth))
            except MessageEncodeError:
                return "refused", received, bus.dead_letters()
            await within(bus.drain())
            return "sent", received, bus.dead_letters()

    status, received, letters = asyncio.run(scenario())
    if status == "refused":
        assert (received, letters) == ([], [])
    else:
        assert len(received) + len(letters) == 1
        assert all(letter.error_type == MessageDecodeError.__name__ for letter in letters)


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": "3"},
        {"max_attempts": 2.5},
        {"queue_size": None},
        {"retry_delay": math.nan},
        {"max_retry_delay": math.inf},
        {"max_subject_bytes": 0},
        {"cancel_grace": 0},
        {"history_size": True},
    ],
)
def test_mistyped_bus_options_raise_configuration_error(options: dict[str, Any]) -> None:
    """Options of the wrong type, NaN or infinite raise ConfigurationError naming the option."""
    with pytest.raises(ConfigurationError, match=next(iter(options))):
        InMemoryPubSub(**options)


async def test_mistyped_call_arguments_raise_configuration_error(
    memory_bus: InMemoryPubSub,
) -> None:
    """Bad max_concurrency, timeouts, limits and durable names raise ConfigurationError."""
    bad: list[dict[str, Any]] = [
        {"max_concurrency": "2"},
        {"max_concurrency": 2.0},
        {"max_concurrency": 10**9},
        {"durable": 5},
        {"durable": ""},
        {"max_attempts": math.nan},
    ]
    for options in bad:
        with pytest.raises(ConfigurationError):
            await memory_bus.subscribe("jobs", lambda message: None, **options)
    for timeout in ("1", -1, math.nan):
        with pytest.raises(ConfigurationError, match="timeout"):
            await memory_bus.publish("jobs", 1, timeout=timeout)
        with pytest.raises(ConfigurationError, match="timeout"):
            await memory_bus.request("jobs", 1, timeout=timeout)
        with pytest.raises(ConfigurationError, match="timeout"):
            await memory_bus.redrive(timeout=timeout)
    with pytest.raises(ConfigurationError, match="limit"):
        memory_bus.history("jobs", limit="3")  # type: ignore[arg-type]
    assert memory_bus.stats()["subscriptions"] == []


async def test_max_subject_bytes_is_configurable() -> None:
    """max_subject_bytes lowers or raises the subject limit, and the error names it."""
    async with InMemoryPubSub(max_subject_bytes=16) as small:
        await small.publish("a" * 16, 1)
        with pytest.raises(agentkit.InvalidSubjectError, match="max_subject_bytes"):
            await small.publish("a" * 17, 1)
        with pytest.raises(agentkit.InvalidSubjectError, match="max_subject_bytes"):
            await small.subscribe("é" * 9, lambda message: None)
    async with InMemoryPubSub(max_subject_bytes=10_000) as large:
        got: list[str] = []
        await large.subscribe("b" * 5000, lambda message: got.append(message.topic))
        await large.publish("b" * 5000, 1)
        await within(large.drain())
        assert got == ["b" * 5000]


def test_handler_exception_kinds_include_base_exceptions() -> None:
    """The shared containment cases cover BaseExceptions that are not Exceptions."""
    assert HandlerBaseError in HANDLER_EXCEPTIONS
    assert any(not issubclass(kind, Exception) for kind in HANDLER_EXCEPTIONS)
