"""The NATS bus checks the server's real limits before sending, so no input drops the connection.

nats-server closes a connection that sends a control line over ``max_control_line`` or a
message (headers included) over ``max_payload``; after that every publish would fail. These
tests send inputs at and around those limits and check for a typed error and a bus that still
delivers afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agentkit
from agentkit import NatsPubSub, PubSubMessage
from agentkit.bus._nats_durable import header_block_size
from agentkit.bus._wire import wire_headers
from agentkit.exceptions import (
    AgentkitError,
    InvalidSubjectError,
    LimitExceededError,
    MessageTooLargeError,
)
from agentkit.testing import NatsServer

pytestmark = [pytest.mark.nats, pytest.mark.timeout(120)]

SMALL_PAYLOAD = 16 * 1024
SMALL_CONTROL_LINE = 1024


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A nats-server with small limits (16 KB max_payload, 1 KB control lines)."""
    config = Path(tmp_path_factory.mktemp("nats")) / "small.conf"
    config.write_text(f"max_payload: {SMALL_PAYLOAD}\nmax_control_line: {SMALL_CONTROL_LINE}\n")
    with NatsServer(extra_args=["-c", str(config)]) as server:
        yield server


async def _still_works(bus: NatsPubSub, tag: str) -> None:
    """The connection is up: a core and a durable message both arrive."""
    assert bus._nc.is_connected
    got: list[object] = []
    arrived = asyncio.Event()

    def record(message: PubSubMessage) -> None:
        got.append(message.payload)
        arrived.set()

    subscription = await bus.subscribe(f"alive.{tag}", record)
    await bus.publish(f"alive.{tag}", "core")
    await asyncio.wait_for(arrived.wait(), 10)
    arrived.clear()
    await bus.publish(f"alive.{tag}", "durable", durable=True)
    await asyncio.wait_for(arrived.wait(), 10)
    assert got == ["core", "durable"]
    await subscription.unsubscribe()


async def test_4092_character_subject_is_refused_and_the_bus_stays_up(nats_url: str) -> None:
    """A 4,092-char subject raises InvalidSubjectError on every path; the connection survives."""
    bus = await NatsPubSub(nats_url, stream="LIMITS", dead_letter_stream="LIMITS_DLQ").connect()
    subject = "s" * 4092
    try:
        for attempt in (
            bus.publish(subject, 1),
            bus.publish(subject, 1, durable=True),
            bus.request(subject, 1, timeout=1),
            bus.subscribe(subject, lambda m: None),
            bus.subscribe(subject, lambda m: None, durable="long"),
        ):
            with pytest.raises(InvalidSubjectError):
                await attempt
        await _still_works(bus, "long")
    finally:
        await bus.close(timeout=5)


@pytest.mark.parametrize("durable", [5, b"name", ["name"], "", "has space", "x" * 65])
async def test_a_bad_durable_name_is_a_configuration_error(nats_url: str, durable: object) -> None:
    """A durable name of the wrong type or shape is a ConfigurationError; the bus stays up."""
    bus = await NatsPubSub(nats_url, stream="NAMES", dead_letter_stream="NAMES_DLQ").connect()
    try:
        with pytest.raises(agentkit.ConfigurationError, match="durable name"):
            await bus.subscribe("names.x", lambda m: None, durable=durable)  # type: ignore[arg-type]
        await _still_works(bus, "names")
    finally:
        await bus.close(timeout=5)


async def test_durable_message_near_max_payload_counts_its_headers(nats_url: str) -> None:
    """A durable body a few bytes under max_payload is refused: the Nats-Msg-Id header counts."""
    bus = await NatsPubSub(nats_url, stream="NEAR", dead_letter_stream="NEAR_DLQ").connect()
    try:
        # Wire v2: the v2 headers plus the msgpack bin32 prefix of the body (5 bytes).
        headers = wire_headers(PubSubMessage(topic="near", payload=b""), "msgpack")
        overhead = header_block_size(headers) + 5
        body = b"x" * (bus.max_payload - overhead - 10)
        await bus.publish("near", body)  # fits without the Nats-Msg-Id header
        with pytest.raises(MessageTooLargeError, match="headers"):
            await bus.publish("near", body, durable=True)
        await _still_works(bus, "near")
    finally:
        await bus.close(timeout=5)


def test_wrong_limit_settings_are_refused() -> None:
    """max_control_line, max_ack_pending, max_deliveries and fetch_timeout must be positive."""
    for option in ("max_control_line", "max_ack_pending", "max_deliveries", "fetch_timeout"):
        with pytest.raises(agentkit.ConfigurationError, match=option):
            NatsPubSub("nats://127.0.0.1:4222", **{option: 0})


MODES = ("core", "durable", "request", "subscribe", "durable-subscribe")


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    attempts=st.lists(
        st.tuples(st.sampled_from(MODES), st.integers(SMALL_CONTROL_LINE - 250, 1200)),
        min_size=1,
        max_size=8,
    )
)
def test_subjects_around_the_control_line_limit(
    small_server: NatsServer, attempts: list[tuple[str, int]]
) -> None:
    """Any subject length near max_control_line is sent or refused typed; the bus stays up."""

    async def scenario() -> None:
        bus = await NatsPubSub(
            small_server.url,
            stream="CTL",
            dead_letter_stream="CTL_DLQ",
            max_control_line=SMALL_CONTROL_LINE,
        ).connect()
        try:
            for mode, length in attempts:
                subject = "c" * length
                try:
                    if mode == "core":
                        await bus.publish(subject, 1)
                    elif mode == "durable":
                        await bus.publish(subject, 1, durable=True)
                    elif mode == "request":
                        await bus.request(subject, 1, timeout=0.5)
                    elif mode == "subscribe":
                        await (await bus.subscribe(subject, lambda m: None)).unsubscribe()
                    else:
                        subscription = await bus.subscribe(subject, lambda m: None, durable="d")
                        await subscription.unsubscribe()
                        await bus.delete_durable("d")
                except InvalidSubjectError:
                    assert length > SMALL_CONTROL_LINE - 250
                except (agentkit.NoRespondersError, agentkit.RequestTimeoutError):
                    assert mode == "request"
            await _still_works(bus, "ctl")
        finally:
            await bus.close(timeout=5)

    asyncio.run(scenario())


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    attempts=st.lists(
        st.tuples(st.booleans(), st.integers(SMALL_PAYLOAD - 300, SMALL_PAYLOAD + 50)),
        min_size=1,
        max_size=8,
    )
)
def test_payloads_around_max_payload(
    small_server: NatsServer, attempts: list[tuple[bool, int]]
) -> None:
    """Any body size near max_payload, core or durable, is sent or refused typed; bus stays up."""

    async def scenario() -> None:
        bus = await NatsPubSub(
            small_server.url, stream="PAY", dead_letter_stream="PAY_DLQ"
        ).connect()
        assert bus.max_payload == SMALL_PAYLOAD
        try:
            for durable, size in attempts:
                try:
                    await bus.publish("pay.load", b"p" * size, durable=durable)
                except MessageTooLargeError:
                    assert size > SMALL_PAYLOAD - 300
            await _still_works(bus, "pay")
        finally:
            await bus.close(timeout=5)

    asyncio.run(scenario())


@given(
    subject=st.text(
        alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1
    ).map(lambda bad: f"orders.{bad}")
)
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_lone_surrogates_never_reach_nats_py(small_server: NatsServer, subject: str) -> None:
    """A lone-surrogate subject is an InvalidSubjectError on every path, never UnicodeError."""

    async def scenario() -> None:
        bus = await NatsPubSub(
            small_server.url, stream="SUR", dead_letter_stream="SUR_DLQ"
        ).connect()
        try:
            for attempt in (
                bus.publish(subject, 1),
                bus.publish(subject, 1, durable=True),
                bus.request(subject, 1, timeout=0.5),
                bus.subscribe(subject, lambda m: None),
                bus.subscribe(subject, lambda m: None, durable="sur"),
            ):
                with pytest.raises(InvalidSubjectError):
                    await attempt
            await _still_works(bus, "sur")
        finally:
            await bus.close(timeout=5)

    asyncio.run(scenario())


def test_limit_errors_are_agentkit_errors() -> None:
    """The errors these limits raise sit under AgentkitError and the builtin they resemble."""
    for error in (InvalidSubjectError, MessageTooLargeError, LimitExceededError):
        assert issubclass(error, AgentkitError)
        assert issubclass(error, ValueError)
