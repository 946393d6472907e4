"""Load testing: open, closed and stress profiles, HDR latency, thresholds, reports, compare.

The package root re-exports the same names for the quick start.
"""

from __future__ import annotations

from agentkit.loadtest._compare import (
    Comparison,
    PercentileShift,
    compare_results,
    load_result,
)
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
    "BreakingPoint",
    "Comparison",
    "LatencySummary",
    "LoadProfile",
    "LoadTestResult",
    "LoadTester",
    "MAX_TIMELINE_POINTS",
    "PERCENTILE_TICKS",
    "PercentileShift",
    "Threshold",
    "ThresholdResult",
    "TimelinePoint",
    "compare_results",
    "evaluate_thresholds",
    "load_result",
    "parse_threshold",
]
