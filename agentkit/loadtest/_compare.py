"""Compare two load-test runs: percentile shifts at the histogram's precision, side by side.

``agentkit loadtest compare base.json new.json [--html diff.html]`` and
:func:`compare_results` read two saved results (``--json FILE`` of a run) and state, for each
percentile, the latency of both runs, the change and the uncertainty the HDR histograms leave
(each value is known to within its bucket, 0.1 %); a change inside that band is "no change".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentkit.exceptions import ConfigurationError
from agentkit.loadtest._result import LoadTestResult, decode_histogram

__all__ = [
    "COMPARED_PERCENTILES",
    "MAX_RESULT_BYTES",
    "Comparison",
    "PercentileShift",
    "compare_results",
    "load_result",
]

#: The percentiles a comparison states (100 is the maximum).
COMPARED_PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0)
#: The largest saved result :func:`load_result` reads.
MAX_RESULT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class PercentileShift:
    """One percentile in both runs: ``new - base`` and how precisely the histograms know it."""

    percentile: float
    base_ms: float
    new_ms: float
    precision_ms: float
    """The histograms' uncertainty on the change: both values' bucket widths, added."""

    @property
    def change_ms(self) -> float:
        """``new - base`` in ms."""
        return self.new_ms - self.base_ms

    @property
    def change_ratio(self) -> float | None:
        """``new / base - 1`` (None when base is 0)."""
        return self.new_ms / self.base_ms - 1.0 if self.base_ms else None

    @property
    def significant(self) -> bool:
        """Whether the change is larger than the histograms' precision."""
        return abs(self.change_ms) > self.precision_ms

    @property
    def label(self) -> str:
        """``p99`` (``max`` for 100)."""
        return "max" if self.percentile == 100.0 else f"p{self.percentile:g}"

    def describe(self) -> str:
        """``p99  100.000 ms -> 130.000 ms  +30.000 ms (+30.0 %) ±0.200 ms``."""
        ratio = self.change_ratio
        relative = f" ({ratio:+.1%})" if ratio is not None else ""
        verdict = "" if self.significant else "  no change"
        return (
            f"{self.label:<7}{self.base_ms:>12.3f} ms -> {self.new_ms:>10.3f} ms"
            f"  {self.change_ms:+.3f} ms{relative} ±{self.precision_ms:.3f} ms{verdict}"
        )


@dataclass(frozen=True)
class Comparison:
    """Two runs side by side: what :func:`compare_results` returns."""

    base: LoadTestResult
    new: LoadTestResult
    base_label: str
    new_label: str
    shifts: tuple[PercentileShift, ...]
    raw_shifts: tuple[PercentileShift, ...] | None = None

    def shift(self, percentile: float, *, raw: bool = False) -> PercentileShift:
        """The shift at *percentile* (one of the compared ones).

        Raises:
            ConfigurationError: a percentile that was not compared.
        """
        shifts = self.raw_shifts if raw else self.shifts
        for shift in shifts or ():
            if shift.percentile == percentile:
                return shift
        raise ConfigurationError(f"p{percentile:g} was not compared (raw={raw})")

    def describe(self) -> str:
        """A readable table: throughput, errors and every percentile shift."""
        base, new = self.base, self.new
        lines = [
            f"base  {self.base_label}: {base.profile}, {base.total} requests",
            f"new   {self.new_label}: {new.profile}, {new.total} requests",
            f"throughput   {base.requests_per_second:>12.1f} -> "
            f"{new.requests_per_second:.1f} req/s"
            + _relative(base.requests_per_second, new.requests_per_second),
            f"error rate   {base.error_rate:>12.2%} -> {new.error_rate:.2%}",
            "latency (corrected)" if self.raw_shifts is not None else "latency",
        ]
        lines.extend(f"  {shift.describe()}" for shift in self.shifts)
        if self.raw_shifts is not None:
            lines.append("latency (raw)")
            lines.extend(f"  {shift.describe()}" for shift in self.raw_shifts)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready values (the two runs by label, and every shift)."""

        def shifts(items: Sequence[PercentileShift] | None) -> list[dict[str, Any]] | None:
            if items is None:
                return None
            return [
                {
                    "percentile": s.percentile,
                    "base_ms": s.base_ms,
                    "new_ms": s.new_ms,
                    "change_ms": s.change_ms,
                    "change_ratio": s.change_ratio,
                    "precision_ms": s.precision_ms,
                    "significant": s.significant,
                }
                for s in items
            ]

        return {
            "base": self.base_label,
            "new": self.new_label,
            "throughput": [self.base.requests_per_second, self.new.requests_per_second],
            "error_rate": [self.base.error_rate, self.new.error_rate],
            "shifts": shifts(self.shifts),
            "raw_shifts": shifts(self.raw_shifts),
        }

    def to_html(self, *, title: str = "agentkit load test comparison") -> str:
        """One self-contained page: both runs' percentile distributions and time series
        overlaid, and the table of shifts (opens offline)."""
        from agentkit.loadtest._compare_report import render_comparison_html

        return render_comparison_html(self, title=title)


def compare_results(
    base: LoadTestResult,
    new: LoadTestResult,
    *,
    base_label: str = "base",
    new_label: str = "new",
    percentiles: Sequence[float] = COMPARED_PERCENTILES,
) -> Comparison:
    """Compare *new* against *base* at each of *percentiles*, from their HDR histograms.

    Raw latencies are compared too when both runs are open-model runs.

    Raises:
        ConfigurationError: a run without latencies (nothing succeeded), or a percentile
            outside 0-100.
    """
    base_histogram, new_histogram = base.histogram, new.histogram
    for name, histogram in (("base", base_histogram), ("new", new_histogram)):
        if histogram is None:
            raise ConfigurationError(
                f"the {name} run has no latencies to compare (no request succeeded)"
            )
    assert base_histogram is not None
    assert new_histogram is not None
    for percentile in percentiles:
        if isinstance(percentile, bool) or not 0 <= percentile <= 100:
            raise ConfigurationError(f"percentiles must be in 0..100, got {percentile!r}")
    shifts = _shifts(base_histogram, new_histogram, percentiles)
    raw = None
    if base.raw_histogram is not None and new.raw_histogram is not None:
        raw = _shifts(base.raw_histogram, new.raw_histogram, percentiles)
    return Comparison(base, new, base_label, new_label, shifts, raw)


def load_result(path: str | os.PathLike[str]) -> LoadTestResult:
    """Read a result saved with ``agentkit loadtest ... --json FILE`` (or ``to_json``).

    Raises:
        ConfigurationError: the file cannot be read, is larger than 64 MiB, or is not a saved
            load-test result; the message names the file.
    """
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_RESULT_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {str(file)!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_RESULT_BYTES:
        raise ConfigurationError(f"{str(file)!r} is larger than {MAX_RESULT_BYTES} bytes")
    try:
        return LoadTestResult.from_json(data)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{str(file)!r}: {exc}") from None


def _shifts(
    base_encoded: str, new_encoded: str, percentiles: Sequence[float]
) -> tuple[PercentileShift, ...]:
    base, new = decode_histogram(base_encoded), decode_histogram(new_encoded)
    out = []
    for percentile in percentiles:
        base_us = base.get_value_at_percentile(percentile)
        new_us = new.get_value_at_percentile(percentile)
        precision_us = _bucket_width(base, base_us) + _bucket_width(new, new_us)
        out.append(
            PercentileShift(percentile, base_us / 1000.0, new_us / 1000.0, precision_us / 1000.0)
        )
    return tuple(out)


def _bucket_width(histogram: Any, value: int) -> int:
    """How wide the histogram's bucket holding *value* is: the uncertainty on it."""
    width: int = histogram.get_highest_equivalent_value(value) - (
        histogram.get_lowest_equivalent_value(value)
    )
    return width


def _relative(base: float, new: float) -> str:
    return f" ({new / base - 1:+.1%})" if base else ""
