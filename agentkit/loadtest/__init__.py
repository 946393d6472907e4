"""Load testing: open, closed and stress profiles, HDR latency, reports.

The package root re-exports the same names for the quick start.
"""

from __future__ import annotations

from agentkit.loadtest._profiles import LoadProfile
from agentkit.loadtest._result import BreakingPoint, LatencySummary, LoadTestResult, TimelinePoint
from agentkit.loadtest._tester import LoadTester

__all__ = [
    "BreakingPoint",
    "LatencySummary",
    "LoadProfile",
    "LoadTestResult",
    "LoadTester",
    "TimelinePoint",
]
