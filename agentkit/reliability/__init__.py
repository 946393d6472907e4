"""Staying up: circuit breakers, health monitoring and failover, on an injectable clock.

These are core, not a plugin: the health protocol (:class:`agentkit.protocols.HealthCheck`) is
part of the core and none of them needs a dependency. The package root re-exports the same
names for the quick start; code that builds on reliability imports them from here.
"""

from __future__ import annotations

from agentkit.reliability._breaker import (
    BreakerStats,
    CircuitBreaker,
    CircuitState,
    StateChangeListener,
)
from agentkit.reliability._failover import (
    FailoverEvent,
    FailoverKind,
    FailoverListener,
    FailoverManager,
)
from agentkit.reliability._health import (
    ComponentHealth,
    HealthEvent,
    HealthListener,
    HealthMonitor,
    HealthReport,
    HealthStatus,
)
from agentkit.reliability._http import HealthServer, readiness
from agentkit.reliability._probes import HealthProbe

__all__ = [
    "BreakerStats",
    "CircuitBreaker",
    "CircuitState",
    "ComponentHealth",
    "FailoverEvent",
    "FailoverKind",
    "FailoverListener",
    "FailoverManager",
    "HealthEvent",
    "HealthListener",
    "HealthMonitor",
    "HealthProbe",
    "HealthReport",
    "HealthServer",
    "HealthStatus",
    "StateChangeListener",
    "readiness",
]
