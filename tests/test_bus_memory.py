"""The in-memory bus: the conformance suite plus what only InMemoryPubSub does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import agentkit
from agentkit import (
    BackpressureError,
    ConfigurationError,
    InMemoryPubSub,
    PubSubMessage,
)
from agentkit.testing import BusConformance, VirtualClock
from agentkit.testing._bus_suite import BusFactory, within


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
