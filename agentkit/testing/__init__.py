"""Test helpers for agentkit and its plugins: virtual time, real NATS servers, conformance.

Third-party backends subclass the conformance suites to prove they keep the contract::

    class TestMyBus(BusConformance):
        @pytest.fixture
        def make_bus(self):
            async def make(**options):
                return await MyBus(**options).connect()
            return make

The suites need pytest; they are loaded on first use, so ``VirtualClock`` and the server
helpers work without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from agentkit.testing._clock import VirtualClock as VirtualClock
from agentkit.testing._nats_server import NatsServer as NatsServer
from agentkit.testing._nats_server import find_nats_server as find_nats_server
from agentkit.testing._nats_server import free_port as free_port

if TYPE_CHECKING:
    from agentkit.testing._bus_suite import BusConformance as BusConformance
    from agentkit.testing._bus_suite import BusFactory as BusFactory
    from agentkit.testing._bus_suite import InspectableBus as InspectableBus
    from agentkit.testing._executor_suite import ExecutorConformance as ExecutorConformance
    from agentkit.testing._executor_suite import ExecutorFactory as ExecutorFactory
    from agentkit.testing._nats_cluster import NatsCluster as NatsCluster

__all__ = [
    "BusConformance",
    "BusFactory",
    "ExecutorConformance",
    "ExecutorFactory",
    "InspectableBus",
    "NatsCluster",
    "NatsServer",
    "VirtualClock",
    "find_nats_server",
    "free_port",
]

_LAZY = {
    "BusConformance": "agentkit.testing._bus_suite",
    "BusFactory": "agentkit.testing._bus_suite",
    "InspectableBus": "agentkit.testing._bus_suite",
    "ExecutorConformance": "agentkit.testing._executor_suite",
    "ExecutorFactory": "agentkit.testing._executor_suite",
    "NatsCluster": "agentkit.testing._nats_cluster",
}
_SUITES = ("agentkit.testing._bus_suite", "agentkit.testing._executor_suite")


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'agentkit.testing' has no attribute {name!r}")
    if module_name in _SUITES:
        import pytest

        # The suites' asserts should explain failures as a test module's do; pytest rewrites
        # them only in modules registered before their import.
        pytest.register_assert_rewrite(*_SUITES)
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
