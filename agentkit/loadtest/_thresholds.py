"""Pass/fail thresholds on a load test, written as k6 writes them: ``p95<50ms``, ``error_rate<1%``.

A threshold is ``METRIC OPERATOR NUMBER[UNIT]``:

==================  ==========================================  =====================
metric              what                                        units
==================  ==========================================  =====================
``p50`` ... ``pN``  latency at any percentile (``p99.9``, ...)  ``ms`` (default),
``min`` ``mean``    (``avg`` is ``mean``), ``max``              ``s``, ``us``
``raw_pN`` ...      the same on the raw (uncorrected) latencies
                    of an open-model run
``error_rate``      failures / requests                         ``%`` or a fraction
``errors``          failed requests                             a count
``requests``        completed requests                          a count
``rps``             requests per second (``throughput``)        ``/s`` optional
==================  ==========================================  =====================

Operators: ``<``, ``<=``, ``>``, ``>=``. Percentiles are read from the run's full HDR
histogram (0.1 % precision), so ``p97.5`` is as exact as ``p95``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentkit.exceptions import ConfigurationError

if TYPE_CHECKING:
    from agentkit.loadtest._result import LoadTestResult, ThresholdResult

__all__ = ["MAX_THRESHOLDS", "Threshold", "evaluate_thresholds", "parse_threshold"]

#: Thresholds one run may carry.
MAX_THRESHOLDS = 100
#: The longest threshold expression accepted.
_MAX_LENGTH = 200

_EXPRESSION = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*(?P<unit>[A-Za-zµ%/]*)\s*$"
)
_PERCENTILE = re.compile(r"^(?P<raw>raw_)?p(?P<value>[0-9]+(?:\.[0-9]+)?)$")
_LATENCY_UNITS = {"": 1.0, "ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001}
_LATENCY_NAMES = {"min": 0.0, "mean": None, "avg": None, "max": 100.0}
_COUNTS = ("errors", "requests")
_KNOWN = (
    "pN (p50, p95, p99.9, ...), min, mean/avg, max, raw_pN/raw_max for open-model runs, "
    "error_rate, errors, requests, rps/throughput"
)


@dataclass(frozen=True)
class Threshold:
    """One parsed threshold; :func:`parse_threshold` makes it."""

    expression: str
    metric: str
    operator: str
    limit: float
    unit: str
    percentile: float | None = None
    raw: bool = False

    def holds(self, actual: float) -> bool:
        """Whether *actual* keeps the threshold."""
        if self.operator == "<":
            return actual < self.limit
        if self.operator == "<=":
            return actual <= self.limit
        if self.operator == ">":
            return actual > self.limit
        return actual >= self.limit


def parse_threshold(expression: str) -> Threshold:
    """Parse ``p95<50ms``-style *expression* (see the module docstring).

    Raises:
        ConfigurationError: the expression is malformed, names an unknown metric, or has a
            unit that does not fit the metric; the message says what is accepted.
    """
    if not isinstance(expression, str) or len(expression) > _MAX_LENGTH:
        raise ConfigurationError(
            f"a threshold is a string of at most {_MAX_LENGTH} characters, got {expression!r:.80}"
        )
    found = _EXPRESSION.match(expression)
    if found is None:
        raise ConfigurationError(
            f"threshold {expression!r} is not METRIC OPERATOR NUMBER[UNIT], e.g. 'p95<50ms' or "
            "'error_rate<1%'"
        )
    metric, operator = found["metric"].lower(), found["op"]
    number, unit = float(found["number"]), found["unit"]
    if not math.isfinite(number):
        raise ConfigurationError(f"threshold {expression!r}: {found['number']} is not finite")
    percentile_match = _PERCENTILE.match(metric)
    raw = metric.startswith("raw_")
    name = metric.removeprefix("raw_")
    if percentile_match is not None or name in _LATENCY_NAMES:
        if unit not in _LATENCY_UNITS:
            raise ConfigurationError(
                f"threshold {expression!r}: a latency takes ms, s or us, not {unit!r}"
            )
        percentile = (
            float(percentile_match["value"])
            if percentile_match is not None
            else _LATENCY_NAMES[name]
        )
        if percentile is not None and percentile > 100:
            raise ConfigurationError(
                f"threshold {expression!r}: a percentile is at most 100, got {percentile:g}"
            )
        limit = number * _LATENCY_UNITS[unit]
        label = "mean" if name == "avg" else name
        metric = f"raw_{label}" if raw else label
        return Threshold(expression, metric, operator, limit, "ms", percentile, raw)
    if raw:
        raise ConfigurationError(f"threshold {expression!r}: only latencies have raw_ forms")
    if metric == "error_rate":
        if unit == "%":
            number /= 100.0
        elif unit:
            raise ConfigurationError(
                f"threshold {expression!r}: an error rate takes % or a fraction, not {unit!r}"
            )
        return Threshold(expression, metric, operator, number * 100.0, "%")
    if metric in _COUNTS:
        if unit:
            raise ConfigurationError(f"threshold {expression!r}: {metric} is a count, no unit")
        return Threshold(expression, metric, operator, number, "")
    if metric in ("rps", "throughput"):
        if unit not in ("", "/s", "rps"):
            raise ConfigurationError(
                f"threshold {expression!r}: requests per second take /s or no unit"
            )
        return Threshold(expression, "rps", operator, number, "/s")
    raise ConfigurationError(f"threshold {expression!r}: unknown metric {metric!r}; use {_KNOWN}")


def parse_thresholds(expressions: Iterable[str] | str | None) -> list[Threshold]:
    """Parse every expression (a single string is one threshold).

    Raises:
        ConfigurationError: a bad expression, or more than :data:`MAX_THRESHOLDS`.
    """
    if expressions is None:
        return []
    if isinstance(expressions, str):
        expressions = [expressions]
    parsed: list[Threshold] = []
    for expression in expressions:
        if len(parsed) >= MAX_THRESHOLDS:
            raise ConfigurationError(f"at most {MAX_THRESHOLDS} thresholds per run")
        parsed.append(parse_threshold(expression))
    return parsed


def evaluate_thresholds(
    result: LoadTestResult, thresholds: Iterable[Threshold | str]
) -> list[ThresholdResult]:
    """Judge *result* against each threshold; one :class:`ThresholdResult` each, in order.

    Raises:
        ConfigurationError: a bad expression, or a raw_ latency threshold on a closed-model run.
    """
    from agentkit.loadtest._result import ThresholdResult

    judged: list[ThresholdResult] = []
    for item in thresholds:
        threshold = item if isinstance(item, Threshold) else parse_threshold(item)
        actual = _actual(result, threshold)
        judged.append(
            ThresholdResult(
                expression=threshold.expression,
                metric=threshold.metric,
                operator=threshold.operator,
                limit=threshold.limit,
                actual=actual,
                passed=threshold.holds(actual),
                unit=threshold.unit,
            )
        )
    return judged


def _actual(result: LoadTestResult, threshold: Threshold) -> float:
    metric = threshold.metric
    if threshold.unit == "ms":
        if threshold.raw and result.raw_histogram is None and result.total:
            raise ConfigurationError(
                f"threshold {threshold.expression!r}: raw latencies exist only for the "
                "open-model profiles (constant_rate, ramping_rate)"
            )
        if (result.raw_histogram if threshold.raw else result.histogram) is None:
            return 0.0  # nothing succeeded: no latency to judge
        if threshold.percentile is None:
            summary = result.raw_latency if threshold.raw else result.latency
            return summary.mean if summary is not None else 0.0
        return result.latency_at(threshold.percentile, raw=threshold.raw)
    if metric == "error_rate":
        return result.error_rate * 100.0
    if metric == "errors":
        return float(result.failures)
    if metric == "requests":
        return float(result.total)
    return result.requests_per_second
