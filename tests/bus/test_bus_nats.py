"""The NATS bus runs the same conformance suite as the in-memory one, on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import agentkit
from agentkit import NatsPubSub
from agentkit.testing import BusConformance
from agentkit.testing._bus_suite import BusFactory

pytestmark = [pytest.mark.nats, pytest.mark.timeout(60)]


class TestNatsBus(BusConformance):
    """NatsPubSub keeps the Bus contract against the module's nats-server."""

    @pytest.fixture
    async def make_bus(self, nats_url: str) -> AsyncIterator[BusFactory]:
        """A factory of NatsPubSub buses on the module's server, closed at teardown."""
        buses: list[agentkit.Bus] = []

        async def factory(**options: Any) -> Any:
            bus = await agentkit.connect(nats_url, **{"retry_delay": 0.001, **options})
            assert isinstance(bus, NatsPubSub)
            buses.append(bus)
            return bus

        yield factory
        for bus in buses:
            await bus.close()
