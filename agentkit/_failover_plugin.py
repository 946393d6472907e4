"""The ``failover`` plugin: agentkit's reliability parts, declared like any other plugin.

It is listed under ``[project.entry-points.agentkit]`` so that health monitoring, failover and
circuit breaking load through the path every third-party plugin uses .
The classes themselves live in the core (``agentkit.HealthMonitor``, ``FailoverManager``,
``CircuitBreaker``) and need no extra; no hook is implemented yet, so activating the plugin
only proves it loads. Nothing heavy is imported here.
"""

from __future__ import annotations

from agentkit._breaker import CircuitBreaker
from agentkit._failover import FailoverManager
from agentkit._health import HealthMonitor

__all__ = ["PROVIDES"]

#: What this plugin brings, for ``agentkit plugins show failover`` readers and tests.
PROVIDES = (CircuitBreaker, FailoverManager, HealthMonitor)
