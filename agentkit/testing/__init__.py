"""Test helpers for agentkit and its plugins: virtual time, a real NATS server, conformance.

Third-party backends subclass the conformance suites to prove they keep the contract::

    class TestMyBus(BusConformance):
        @pytest.fixture
        async def bus(self):
            async with MyBus() as bus:
                yield bus
"""

from __future__ import annotations

from agentkit.testing._bus_suite import BusConformance as BusConformance
from agentkit.testing._clock import VirtualClock as VirtualClock
from agentkit.testing._nats_server import NatsServer as NatsServer
from agentkit.testing._nats_server import find_nats_server as find_nats_server
from agentkit.testing._nats_server import free_port as free_port

__all__ = ["BusConformance", "NatsServer", "VirtualClock", "find_nats_server", "free_port"]
