"""NatsPubSub over a real 3-node NATS cluster: the connected node dies, nothing durable is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from agentkit import NatsPubSub, PubSubMessage
from agentkit.exceptions import ConfigurationError
from agentkit.testing import NatsCluster

pytestmark = [pytest.mark.nats, pytest.mark.timeout(120)]

MESSAGES = 200


@pytest.fixture
def cluster() -> Iterator[NatsCluster]:
    """Three nats-server processes on loopback with routes and clustered JetStream."""
    with NatsCluster(3) as nodes:
        yield nodes


def make_bus(cluster: NatsCluster, name: str) -> NatsPubSub:
    # Same server order for both clients (no shuffling), so both sit on node 0 at first.
    return NatsPubSub(
        cluster.urls,
        name=name,
        stream="FAILOVER",
        dead_letter_stream="FAILOVER_DLQ",
        stream_replicas=3,
        reconnect_time_wait=0.1,
        connect_timeout=1.0,
        durable_publish_timeout=60.0,
        ack_wait=5.0,
        nats_options={"dont_randomize": True},
    )


async def test_killing_the_connected_node_loses_no_durable_message(cluster: NatsCluster) -> None:
    """Mid-stream the node both clients use is killed; every message still arrives at least once."""
    publisher = await make_bus(cluster, "publisher").connect()
    subscriber = await make_bus(cluster, "subscriber").connect()
    received: set[int] = set()
    deliveries = 0
    everything = asyncio.Event()

    async def handle(message: PubSubMessage) -> None:
        nonlocal deliveries
        deliveries += 1
        received.add(message.payload["n"])
        if len(received) == MESSAGES:
            everything.set()

    try:
        await subscriber.subscribe("orders.>", handle, durable="orders-worker")
        connected = publisher._nc.connected_url.netloc
        assert subscriber._nc.connected_url.netloc == connected
        victim = cluster.node_for(connected)
        for n in range(MESSAGES):
            if n == MESSAGES // 2:
                cluster.kill(victim)  # the node both clients are connected to
            await publisher.publish(
                "orders.created",
                PubSubMessage(topic="orders.created", payload={"n": n}),
                durable=True,
            )
            await asyncio.sleep(0.002)
        await asyncio.wait_for(everything.wait(), 60)
        assert received == set(range(MESSAGES))
        assert deliveries >= MESSAGES
        # Both clients moved to a surviving node.
        for bus in (publisher, subscriber):
            assert cluster.node_for(bus._nc.connected_url.netloc) != victim
            assert bus.stats()["reconnects"] >= 1
    finally:
        await publisher.close()
        await subscriber.close()


def test_stream_replicas_is_validated() -> None:
    """stream_replicas outside 1-5 is refused before anything connects."""
    with pytest.raises(ConfigurationError, match="stream_replicas"):
        NatsPubSub("nats://127.0.0.1:4222", stream_replicas=0)
