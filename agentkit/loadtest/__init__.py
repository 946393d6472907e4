"""Load testing: open, closed and stress profiles, HDR latency, reports.

The package root re-exports the same names for the quick start.
"""

from __future__ import annotations

from agentkit.loadtest._profiles import LoadProfile
from agentkit.loadtest._result import (
    PERCENTILE_TICKS,
    BreakingPoint,
    LatencySummary,
    LoadTestResult,
    ThresholdResult,
    TimelinePoint,
)
from agentkit.loadtest._tester import MAX_TIMELINE_POINTS, LoadTester
from agentkit.loadtest._thresholds import Threshold, evaluate_thresholds, parse_threshold

__all__ = [
    "MAX_TIMELINE_POINTS",
    "PERCENTILE_TICKS",
    "BreakingPoint",
    "LatencySummary",
    "LoadProfile",
    "LoadTestResult",
    "LoadTester",
    "Threshold",
    "ThresholdResult",
    "TimelinePoint",
    "evaluate_thresholds",
    "parse_threshold",
]
