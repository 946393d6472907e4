"""The comparison page: two runs' percentile distributions and time series overlaid, one file."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from agentkit.loadtest._charts import line_chart, page, percentile_chart, table

if TYPE_CHECKING:
    from agentkit.loadtest._compare import Comparison, PercentileShift
    from agentkit.loadtest._result import LoadTestResult

__all__ = ["render_comparison_html"]

_BASE, _NEW = "#7a869a", "#d9480f"


def render_comparison_html(comparison: Comparison, *, title: str) -> str:
    """*comparison* as a standalone HTML page that fetches nothing."""
    base, new = comparison.base, comparison.new
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        _runs_table(comparison),
        _shift_table("Latency shifts" + (" (corrected)" if comparison.raw_shifts else ""),
                     comparison.shifts),
    ]  # fmt: skip
    if comparison.raw_shifts is not None:
        parts.append(_shift_table("Latency shifts (raw)", comparison.raw_shifts))
    parts.append(
        percentile_chart(
            [
                (f"base: {comparison.base_label}", _BASE, base.percentiles),
                (f"new: {comparison.new_label}", _NEW, new.percentiles),
            ],
            title="Latency by percentile, both runs"
            + (" (corrected)" if comparison.raw_shifts else ""),
        )
    )
    if base.raw_percentiles and new.raw_percentiles:
        parts.append(
            percentile_chart(
                [
                    (f"base: {comparison.base_label}", _BASE, base.raw_percentiles),
                    (f"new: {comparison.new_label}", _NEW, new.raw_percentiles),
                ],
                title="Latency by percentile, both runs (raw)",
            )
        )
    parts.append(
        line_chart(
            "p99 latency over time",
            "time since start (s)",
            "p99 latency (ms)",
            [
                ("base p99", _BASE, _series(base, "latency_p99")),
                ("new p99", _NEW, _series(new, "latency_p99")),
            ],
            y_unit="ms",
        )
    )
    parts.append(
        line_chart(
            "Throughput over time",
            "time since start (s)",
            "requests per second",
            [
                ("base", _BASE, _series(base, "requests_per_second")),
                ("new", _NEW, _series(new, "requests_per_second")),
            ],
            y_unit="req/s",
        )
    )
    return page(title, "".join(parts))


def _series(result: LoadTestResult, attribute: str) -> list[tuple[float, float | None]]:
    """``(time, value)`` at the middle of each timeline point that completed a request."""
    points: list[tuple[float, float | None]] = []
    for point in result.timeline:
        value = getattr(point, attribute)
        ok = point.requests - point.errors
        if attribute.startswith("latency") and not ok:
            value = None
        points.append((point.second + point.seconds / 2, value))
    return points


def _runs_table(comparison: Comparison) -> str:
    rows = []
    for label, result in (
        (comparison.base_label, comparison.base),
        (comparison.new_label, comparison.new),
    ):
        rows.append(
            (
                label,
                str(result.meta.get("target", "")),
                result.profile,
                str(result.meta.get("started_at", "")),
                result.total,
                round(result.requests_per_second, 1),
                f"{result.error_rate:.2%}",
            )
        )
    return table(
        ("run", "target", "profile", "started", "requests", "req/s", "error rate"),
        rows,
        caption="The two runs",
    )


def _shift_table(caption: str, shifts: tuple[PercentileShift, ...]) -> str:
    rows = []
    classes = []
    for shift in shifts:
        ratio = shift.change_ratio
        if not shift.significant:
            verdict, css = "no change (within the histograms' precision)", ""
        elif shift.change_ms > 0:
            verdict, css = "slower", "fail"
        else:
            verdict, css = "faster", "pass"
        rows.append(
            (
                shift.label,
                round(shift.base_ms, 3),
                round(shift.new_ms, 3),
                f"{shift.change_ms:+.3f}",
                f"{ratio:+.1%}" if ratio is not None else "",
                f"±{shift.precision_ms:.3f}",
                verdict,
            )
        )
        classes.append(css)
    return table(
        ("percentile", "base (ms)", "new (ms)", "change (ms)", "change", "precision", "verdict"),
        rows,
        caption=caption,
        row_classes=classes,
    )
