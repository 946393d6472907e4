"""What a load test measured: fixed-memory latency histograms, the timeline and the result."""

from __future__ import annotations

import base64
import json
import sys
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from agentkit.exceptions import ConfigurationError

__all__ = [
    "INTERVAL_PRECISION",
    "PERCENTILE_TICKS",
    "BreakingPoint",
    "IntervalHistogram",
    "LatencyRecorder",
    "LatencySummary",
    "LoadTestResult",
    "ThresholdResult",
    "TimelinePoint",
]

#: The histogram's range: 1 microsecond to one hour, three significant digits (0.1 % error).
LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_FIGURES = 3

#: Significant bits an interval's histogram keeps: a value is reported at most 1/128 (0.78 %)
#: above the true one (the upper edge of its bucket, as HdrHistogram reports).
_INTERVAL_BITS = 8
INTERVAL_PRECISION = 2.0 ** (1 - _INTERVAL_BITS)


def _percentile_ticks() -> tuple[float, ...]:
    """HdrHistogram's percentile ticks: five per halving of the distance to 100, to p99.99."""
    ticks = {0.0, 90.0, 99.0, 99.9, 99.99}
    level = 0.0
    while 100.0 * (1.0 - 0.5**level) < 99.99:
        ticks.add(round(100.0 * (1.0 - 0.5**level), 6))
        level += 0.2
    return tuple(sorted(ticks))


#: The percentiles of the percentile-distribution plot (latency against 1/(1-p)); 100 is max.
PERCENTILE_TICKS = (*_percentile_ticks(), 100.0)


class IntervalHistogram:
    """A small latency histogram for one stretch of the timeline: a dict of buckets.

    Each value keeps its top 8 significant bits (the bucket is the value with the lower bits
    cleared), so memory follows the number of distinct buckets seen (a few dozen), not the
    range, and a percentile is reported at most :data:`INTERVAL_PRECISION` above the truth.
    The hot path records inline (``record_us``) on the dict in :attr:`counts`.
    """

    __slots__ = ("counts",)

    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self.counts: dict[int, int] = dict(counts or {})

    def record(self, microseconds: int) -> None:
        """Count one latency of *microseconds* (negative values count as 0)."""
        value = microseconds if microseconds > 0 else 0
        shift = value.bit_length() - _INTERVAL_BITS
        key = (value >> shift) << shift if shift > 0 else value
        self.counts[key] = self.counts.get(key, 0) + 1

    def merge(self, other: IntervalHistogram) -> None:
        """Add *other*'s counts to this one."""
        counts = self.counts
        for key, count in other.counts.items():
            counts[key] = counts.get(key, 0) + count

    @property
    def count(self) -> int:
        """How many values were recorded."""
        return sum(self.counts.values())

    def percentiles(self, wanted: Iterable[float]) -> dict[float, float]:
        """``{percentile: value in ms}`` (the upper edge of the bucket); 0.0 when empty."""
        wanted = sorted(wanted)
        total = self.count
        if not total:
            return dict.fromkeys(wanted, 0.0)
        out: dict[float, float] = {}
        items = sorted(self.counts.items())
        index, seen = 0, 0
        for p in wanted:
            rank = max(1, -(-int(p * total * 1000) // 100_000))  # ceil(p/100 * total), >= 1
            rank = min(rank, total)
            while seen + items[index][1] < rank:
                seen += items[index][1]
                index += 1
            out[p] = _upper_edge(items[index][0]) / 1000.0
        return out


def _upper_edge(key: int) -> int:
    shift = key.bit_length() - _INTERVAL_BITS
    return key + (1 << shift) - 1 if shift > 0 else key


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

    def percentile_distribution(self) -> list[tuple[float, float]]:
        """``(percentile, ms)`` at :data:`PERCENTILE_TICKS`, for the percentile-distribution
        plot; empty when nothing was recorded."""
        if not self._total:
            return []
        values = self.histogram().get_percentile_to_value_dict(list(PERCENTILE_TICKS))
        return [(p, values[p] / 1000.0) for p in PERCENTILE_TICKS]

    def encode(self) -> str | None:
        """The whole histogram in HdrHistogram's compressed base64 form (None when empty), so a
        saved result can be compared with another at the histogram's precision."""
        if not self._total:
            return None
        encoded: bytes = self.histogram().encode()
        return encoded.decode("ascii")

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
    """One stretch of the run (a second; longer for long runs, see ``seconds``): what completed
    in it, its latency percentiles, and how many requests were in flight.

    Latencies are in ms: corrected for open-model runs (``raw_*`` then hold the figures
    measured from the actual start), measured for closed ones (``raw_*`` None). Percentiles
    of a point come from a small histogram, at most 0.78 % above the true value.
    """

    second: int
    requests: int = 0
    errors: int = 0
    latency_mean: float = 0.0
    latency_max: float = 0.0
    concurrency: int = 0
    target_concurrency: int = 0
    seconds: int = 1
    latency_p50: float = 0.0
    latency_p95: float = 0.0
    latency_p99: float = 0.0
    raw_p50: float | None = None
    raw_p95: float | None = None
    raw_p99: float | None = None
    raw_max: float | None = None

    @property
    def requests_per_second(self) -> float:
        """Requests completed per second in this stretch."""
        return self.requests / self.seconds

    @property
    def errors_per_second(self) -> float:
        """Failed requests per second in this stretch."""
        return self.errors / self.seconds


@dataclass(frozen=True)
class BreakingPoint:
    """Where a STRESS run broke: the first step whose error rate or latency passed the limit."""

    concurrency: int
    requests_per_second: float
    error_rate: float
    latency_p99: float
    reason: str


@dataclass(frozen=True)
class ThresholdResult:
    """One threshold judged against a run: ``p95<50ms`` with the value the run had."""

    expression: str
    metric: str
    operator: str
    limit: float
    actual: float
    passed: bool
    unit: str = ""

    def describe(self) -> str:
        """``p95 < 50 ms: 62.1 ms, FAILED`` (or ``passed``)."""
        verdict = "passed" if self.passed else "FAILED"
        unit = f" {self.unit}" if self.unit and self.unit != "%" else self.unit
        return (
            f"{self.metric} {self.operator} {self.limit:g}{unit}: "
            f"{self.actual:.6g}{unit}, {verdict}"
        )


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
    percentiles: list[tuple[float, float]] = field(default_factory=list)
    raw_percentiles: list[tuple[float, float]] | None = None
    histogram: str | None = None
    raw_histogram: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    thresholds: list[ThresholdResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every threshold held (True when there are none)."""
        return all(threshold.passed for threshold in self.thresholds)

    def latency_at(self, percentile: float, *, raw: bool = False) -> float:
        """The latency (ms) at *percentile* (0-100) from the full histogram, to 0.1 %.

        *raw* reads the raw (uncorrected) histogram of an open-model run.

        Raises:
            ConfigurationError: *percentile* outside 0-100, or no histogram (an empty run, or
                ``raw`` for a closed-model run).
        """
        if isinstance(percentile, bool) or not 0 <= percentile <= 100:
            raise ConfigurationError(f"percentile must be in 0..100, got {percentile!r}")
        encoded = self.raw_histogram if raw else self.histogram
        if encoded is None:
            what = "raw latencies (an open-model run has them)" if raw else "latencies"
            raise ConfigurationError(f"this result has no histogram of {what}")
        return float(decode_histogram(encoded).get_value_at_percentile(percentile)) / 1000.0

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
        """The result as a JSON document (:meth:`from_json` reads it back)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadTestResult:
        """A result from :meth:`to_dict`'s output (derived keys are ignored).

        Raises:
            ConfigurationError: *data* is not a load-test result.
        """
        try:
            known = {f.name for f in fields(cls)}
            values = {key: value for key, value in data.items() if key in known}
            values["latency"] = LatencySummary(**data["latency"])
            if data.get("raw_latency") is not None:
                values["raw_latency"] = LatencySummary(**data["raw_latency"])
            values["timeline"] = [TimelinePoint(**point) for point in data.get("timeline", [])]
            if data.get("breaking_point") is not None:
                values["breaking_point"] = BreakingPoint(**data["breaking_point"])
            values["distribution"] = [tuple(pair) for pair in data.get("distribution", [])]
            values["percentiles"] = [tuple(pair) for pair in data.get("percentiles", [])]
            if data.get("raw_percentiles") is not None:
                values["raw_percentiles"] = [tuple(pair) for pair in data["raw_percentiles"]]
            values["thresholds"] = [ThresholdResult(**t) for t in data.get("thresholds", [])]
            return cls(**values)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"not a load-test result: {exc!r}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> LoadTestResult:
        """A result from :meth:`to_json`'s output.

        Raises:
            ConfigurationError: *text* is not JSON or not a load-test result.
        """
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"not a load-test result (not JSON: {exc})") from None
        if not isinstance(data, dict):
            raise ConfigurationError("not a load-test result (not a JSON object)")
        return cls.from_dict(data)

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
        if self.thresholds:
            verdict = "all passed" if self.passed else "FAILED"
            lines.append(f"thresholds         {verdict}")
            lines.extend(f"  {threshold.describe()}" for threshold in self.thresholds)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


#: Largest encoded histogram :func:`decode_histogram` accepts (a run's is a few KiB).
MAX_ENCODED_HISTOGRAM = 4 * 1024 * 1024


def decode_histogram(encoded: str) -> Any:
    """An ``hdrh`` histogram from :meth:`LatencyRecorder.encode`'s text.

    Raises:
        ConfigurationError: not such a histogram, or over 4 MiB.
    """
    from hdrh.histogram import HdrHistogram

    if not isinstance(encoded, str) or len(encoded) > MAX_ENCODED_HISTOGRAM:
        raise ConfigurationError("the histogram is not text of at most 4 MiB")
    try:
        raw = base64.b64decode(encoded, validate=True)
        # Refuse a compressed bomb before hdrh inflates it without a bound.
        inflater = zlib.decompressobj()
        inflater.decompress(raw[8:], MAX_ENCODED_HISTOGRAM * 8)
        if inflater.unconsumed_tail:
            raise ConfigurationError("the histogram inflates to more than 32 MiB")
        return HdrHistogram.decode(encoded.encode("ascii"))
    except ConfigurationError:
        raise
    except Exception as exc:
        raise ConfigurationError(f"not an encoded HdrHistogram: {exc!r}") from None
