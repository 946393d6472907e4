"""What a load test measured: fixed-memory latency histograms, the timeline and the result."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "BreakingPoint",
    "LatencyRecorder",
    "LatencySummary",
    "LoadTestResult",
    "TimelinePoint",
]

#: The histogram's range: 1 microsecond to one hour, three significant digits (0.1 % error).
LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_FIGURES = 3


class LatencyRecorder:
    """Latencies in microseconds, in an ``hdrh`` HDR histogram whose memory never grows.

    :meth:`record` computes the histogram's bucket index inline (the same arithmetic as
    ``HdrHistogram.record_value``, about five times faster) and bumps the count; the
    histogram's totals are brought up to date by :meth:`histogram`. Values above one hour are
    clamped to one hour and counted in :attr:`clamped`.
    """

    __slots__ = ("_counts", "_half_mag", "_hist", "_mask", "_max", "_min", "_total", "clamped")

    def __init__(self) -> None:
        from hdrh.histogram import HdrHistogram

        self._hist = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
        self._counts = self._hist.counts
        self._mask: int = self._hist.sub_bucket_mask
        self._half_mag: int = self._hist.sub_bucket_half_count_magnitude
        self._total = 0
        self._min = sys.maxsize
        self._max = 0
        self.clamped = 0

    def record(self, microseconds: int) -> None:
        """Record one latency of *microseconds* (negative values count as 0)."""
        value = microseconds
        if value < 0:
            value = 0
        elif value > HIGHEST_US:
            value = HIGHEST_US
            self.clamped += 1
        half_mag = self._half_mag
        bucket = (value | self._mask).bit_length() - half_mag - 1
        self._counts[((bucket + 1) << half_mag) + (value >> bucket) - (1 << half_mag)] += 1
        self._total += 1
        if value < self._min:
            self._min = value
        if value > self._max:
            self._max = value

    @property
    def count(self) -> int:
        """How many latencies were recorded."""
        return self._total

    @property
    def counts_length(self) -> int:
        """The number of counters in the histogram: fixed at construction."""
        return len(self._counts)

    def histogram(self) -> Any:
        """The underlying ``hdrh.histogram.HdrHistogram``, with its totals brought up to date."""
        hist = self._hist
        hist.total_count = self._total
        hist.min_value = self._min
        hist.max_value = self._max
        return hist

    def summary(self) -> LatencySummary:
        """Min, mean, percentiles and max of what was recorded, in milliseconds."""
        hist = self.histogram()
        if not self._total:
            return LatencySummary()
        pct = hist.get_percentile_to_value_dict([50.0, 90.0, 95.0, 99.0, 99.9])
        ms = 1000.0
        return LatencySummary(
            min=hist.get_min_value() / ms,
            mean=hist.get_mean_value() / ms,
            p50=pct[50.0] / ms,
            p90=pct[90.0] / ms,
            p95=pct[95.0] / ms,
            p99=pct[99.0] / ms,
            p999=pct[99.9] / ms,
            max=hist.get_max_value() / ms,
            count=self._total,
        )

    def distribution(self, buckets_per_decade: int = 10) -> list[tuple[float, int]]:
        """``(upper bound in ms, count)`` over logarithmic buckets, for histogram charts."""
        hist = self.histogram()
        if not self._total:
            return []
        out: list[tuple[float, int]] = []
        factor = 10 ** (1 / buckets_per_decade)
        bound = 1.0
        for item in hist.get_recorded_iterator():
            value = item.value_iterated_to
            while value > bound:
                bound *= factor
            upper = round(bound / 1000.0, 6)
            if out and out[-1][0] == upper:
                out[-1] = (upper, out[-1][1] + item.count_at_value_iterated_to)
            else:
                out.append((upper, item.count_at_value_iterated_to))
        return out


@dataclass(frozen=True)
class LatencySummary:
    """Latency figures in milliseconds (all 0.0 when nothing was recorded)."""

    min: float = 0.0
    mean: float = 0.0
    p50: float = 0.0
    p90: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    p999: float = 0.0
    max: float = 0.0
    count: int = 0


@dataclass
class TimelinePoint:
    """One second of the run: what completed in it and how many requests were in flight."""

    second: int
    requests: int = 0
    errors: int = 0
    latency_mean: float = 0.0
    latency_max: float = 0.0
    concurrency: int = 0
    target_concurrency: int = 0


@dataclass(frozen=True)
class BreakingPoint:
    """Where a STRESS run broke: the first step whose error rate or latency passed the limit."""

    concurrency: int
    requests_per_second: float
    error_rate: float
    latency_p99: float
    reason: str


@dataclass
class LoadTestResult:
    """The outcome of :meth:`agentkit.LoadTester.run_load_test`.

    ``latency`` holds the figures the run is judged by: for open-model profiles these are
    *corrected* (measured from each request's intended start, so a stall is not hidden);
    ``raw_latency`` then holds the figures measured from the actual start. For closed-model
    profiles the two are the same measurement and ``raw_latency`` is None. Latency figures
    cover successful requests; failures are counted in ``errors`` by exception type.
    """

    profile: str
    total: int
    successes: int
    errors: dict[str, int]
    duration_seconds: float
    latency: LatencySummary
    raw_latency: LatencySummary | None = None
    timeline: list[TimelinePoint] = field(default_factory=list)
    late_starts: int = 0
    dropped_starts: int = 0
    breaking_point: BreakingPoint | None = None
    distribution: list[tuple[float, int]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        """How many requests raised."""
        return sum(self.errors.values())

    @property
    def error_rate(self) -> float:
        """Failures over total requests (0.0 for an empty run)."""
        return self.failures / self.total if self.total else 0.0

    @property
    def requests_per_second(self) -> float:
        """Completed requests per second of run time."""
        return self.total / self.duration_seconds if self.duration_seconds > 0 else 0.0

    @property
    def latency_min(self) -> float:
        """Fastest request, ms."""
        return self.latency.min

    @property
    def latency_mean(self) -> float:
        """Mean latency, ms."""
        return self.latency.mean

    @property
    def latency_p50(self) -> float:
        """Median latency, ms."""
        return self.latency.p50

    @property
    def latency_p90(self) -> float:
        """90th percentile latency, ms."""
        return self.latency.p90

    @property
    def latency_p95(self) -> float:
        """95th percentile latency, ms."""
        return self.latency.p95

    @property
    def latency_p99(self) -> float:
        """99th percentile latency, ms."""
        return self.latency.p99

    @property
    def latency_p999(self) -> float:
        """99.9th percentile latency, ms."""
        return self.latency.p999

    @property
    def latency_max(self) -> float:
        """Slowest request, ms."""
        return self.latency.max

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-ready values."""
        data = asdict(self)
        data.update(
            failures=self.failures,
            error_rate=self.error_rate,
            requests_per_second=self.requests_per_second,
        )
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        """The result as a JSON document."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    def to_html(self, *, title: str = "agentkit load test") -> str:
        """A self-contained HTML report with inline SVG charts (opens without a network)."""
        from agentkit.loadtest._report import render_html

        return render_html(self, title=title)

    def summary(self) -> str:
        """A readable table of the run."""
        lines = [
            f"profile            {self.profile}",
            f"requests           {self.total} ({self.successes} ok, {self.failures} failed)",
            f"duration           {self.duration_seconds:.3f} s",
            f"throughput         {self.requests_per_second:.1f} req/s",
            f"error rate         {self.error_rate:.2%}",
        ]
        for name, count in sorted(self.errors.items()):
            lines.append(f"  {name:<16} {count}")
        if self.raw_latency is not None:
            lines.append(f"late / dropped     {self.late_starts} / {self.dropped_starts}")
        header = "latency (ms)       " + "".join(
            f"{h:>10}" for h in ("min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max")
        )
        lines.append(header)
        rows = [("corrected" if self.raw_latency is not None else "measured", self.latency)]
        if self.raw_latency is not None:
            rows.append(("raw", self.raw_latency))
        for label, lat in rows:
            values = (lat.min, lat.mean, lat.p50, lat.p90, lat.p95, lat.p99, lat.p999, lat.max)
            lines.append(f"  {label:<17}" + "".join(f"{v:>10.3f}" for v in values))
        if self.breaking_point is not None:
            bp = self.breaking_point
            lines.append(
                f"breaking point     {bp.concurrency} users, {bp.requests_per_second:.1f} req/s"
                f" ({bp.reason})"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
