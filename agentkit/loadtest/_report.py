"""The HTML report of a load test: one self-contained page with a summary and SVG charts.

The page reads a run through :class:`ReportSource` (``LoadTestResult`` is one), so this
module does not import the result, which imports it. The charts come from
:mod:`agentkit.loadtest._charts`, which a compare page reuses.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from agentkit.loadtest._charts import (
    COLOURS,
    format_number,
    line_chart,
    page,
    percentile_chart,
    table,
)

__all__ = ["ReportSource", "render_html"]


class _Point(Protocol):
    """One stretch of a run's timeline, as the report reads it (``TimelinePoint`` is one)."""

    @property
    def second(self) -> int: ...
    @property
    def seconds(self) -> int: ...
    @property
    def requests(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def requests_per_second(self) -> float: ...
    @property
    def errors_per_second(self) -> float: ...
    @property
    def latency_mean(self) -> float: ...
    @property
    def latency_max(self) -> float: ...
    @property
    def latency_p50(self) -> float: ...
    @property
    def latency_p95(self) -> float: ...
    @property
    def latency_p99(self) -> float: ...
    @property
    def raw_p50(self) -> float | None: ...
    @property
    def raw_p95(self) -> float | None: ...
    @property
    def raw_p99(self) -> float | None: ...
    @property
    def raw_max(self) -> float | None: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def target_concurrency(self) -> int: ...


class _Latency(Protocol):
    """Latency figures in ms (``LatencySummary`` is one)."""

    @property
    def min(self) -> float: ...
    @property
    def mean(self) -> float: ...
    @property
    def p50(self) -> float: ...
    @property
    def p90(self) -> float: ...
    @property
    def p95(self) -> float: ...
    @property
    def p99(self) -> float: ...
    @property
    def p999(self) -> float: ...
    @property
    def max(self) -> float: ...


class _Threshold(Protocol):
    """One judged threshold (``ThresholdResult`` is one)."""

    @property
    def expression(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def operator(self) -> str: ...
    @property
    def limit(self) -> float: ...
    @property
    def actual(self) -> float: ...
    @property
    def passed(self) -> bool: ...
    @property
    def unit(self) -> str: ...


class _BreakingPoint(Protocol):
    """Where a stress run broke (``BreakingPoint`` is one)."""

    @property
    def concurrency(self) -> int: ...
    @property
    def requests_per_second(self) -> float: ...
    @property
    def error_rate(self) -> float: ...
    @property
    def latency_p99(self) -> float: ...
    @property
    def reason(self) -> str: ...


class ReportSource(Protocol):
    """What the report reads of a run (``LoadTestResult`` is one).

    Declared here so the report does not import the result, which imports the report.
    """

    @property
    def profile(self) -> str: ...
    @property
    def total(self) -> int: ...
    @property
    def successes(self) -> int: ...
    @property
    def errors(self) -> Mapping[str, int]: ...
    @property
    def failures(self) -> int: ...
    @property
    def error_rate(self) -> float: ...
    @property
    def requests_per_second(self) -> float: ...
    @property
    def duration_seconds(self) -> float: ...
    @property
    def latency(self) -> _Latency: ...
    @property
    def raw_latency(self) -> _Latency | None: ...
    @property
    def timeline(self) -> Sequence[_Point]: ...
    @property
    def percentiles(self) -> Sequence[tuple[float, float]]: ...
    @property
    def raw_percentiles(self) -> Sequence[tuple[float, float]] | None: ...
    @property
    def late_starts(self) -> int: ...
    @property
    def dropped_starts(self) -> int: ...
    @property
    def breaking_point(self) -> _BreakingPoint | None: ...
    @property
    def settings(self) -> Mapping[str, Any]: ...
    @property
    def meta(self) -> Mapping[str, Any]: ...
    @property
    def thresholds(self) -> Sequence[_Threshold]: ...
    @property
    def passed(self) -> bool: ...


_CORRECTED, _RAW = COLOURS["blue"], COLOURS["orange"]
_LATENCY_COLOURS = (
    ("p50", COLOURS["blue"]),
    ("p95", COLOURS["orange"]),
    ("p99", COLOURS["vermillion"]),
    ("max", COLOURS["grey"]),
)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _unit(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.6g}%"
    return f"{value:.6g} {unit}" if unit else f"{value:.6g}"


def _header(result: ReportSource, title: str, is_open: bool) -> str:
    meta = result.meta
    host = meta.get("host") or {}
    model = "open model" if is_open else "closed model"
    started = str(meta.get("started_at", "")).replace("T", " ")
    facts = [
        ("target", meta.get("target", "?")),
        ("profile", f"{result.profile} ({model})"),
        ("started", started or "?"),
        ("duration", f"{result.duration_seconds:.3f} s"),
    ]
    host_bits = []
    if isinstance(host, Mapping):
        if host.get("platform"):
            host_bits.append(str(host["platform"]))
        if host.get("python"):
            host_bits.append(f"Python {host['python']}")
        if host.get("cpus"):
            host_bits.append(f"{host['cpus']} CPUs")
        load = host.get("load_average")
        if load:
            host_bits.append("load " + " ".join(f"{v:g}" for v in load))
    if host_bits:
        facts.append(("host", ", ".join(host_bits)))
    line = " &middot; ".join(f"<b>{_esc(k)}</b> {_esc(v)}" for k, v in facts)
    return f'<h1>{_esc(title)}</h1><p class="meta">{line}</p>'


def _verdict(result: ReportSource) -> str:
    thresholds = result.thresholds
    if not thresholds:
        return ""
    failed = sum(1 for t in thresholds if not t.passed)
    if failed:
        badge = '<span class="verdict fail">FAILED</span>'
        words = f"{failed} of {len(thresholds)} thresholds failed"
    else:
        badge = '<span class="verdict pass">PASSED</span>'
        words = f"all {len(thresholds)} thresholds held"
    rows = [
        (
            t.expression,
            _unit(t.actual, t.unit),
            f"{t.operator} {_unit(t.limit, t.unit)}",
            "passed" if t.passed else "FAILED",
        )
        for t in thresholds
    ]
    classes = ["pass" if t.passed else "fail" for t in thresholds]
    return f'<h2>Thresholds</h2><p class="thresholds">{badge} {_esc(words)}</p>' + table(
        ("threshold", "actual", "limit", "result"), rows, row_classes=classes
    )


def _cards(result: ReportSource, is_open: bool) -> str:
    lat = result.latency
    cards = [
        ("requests", f"{result.total:,}"),
        ("ok", f"{result.successes:,}"),
        ("failed", f"{result.failures:,} ({result.error_rate:.2%})"),
        ("throughput", f"{result.requests_per_second:,.1f} req/s"),
        ("p50", f"{format_number(lat.p50)} ms"),
        ("p95", f"{format_number(lat.p95)} ms"),
        ("p99", f"{format_number(lat.p99)} ms"),
        ("max", f"{format_number(lat.max)} ms"),
    ]
    if is_open:
        cards.append(("late / dropped starts", f"{result.late_starts} / {result.dropped_starts}"))
    body = "".join(
        f'<div class="card"><div class="v">{_esc(v)}</div><div class="k">{_esc(k)}</div></div>'
        for k, v in cards
    )
    return f'<div class="cards">{body}</div>'


def _time_charts(result: ReportSource, is_open: bool) -> list[str]:
    timeline = result.timeline
    end = float(max((p.second + p.seconds for p in timeline), default=0)) or max(
        1.0, result.duration_seconds
    )
    width = timeline[0].seconds if timeline else 1
    per = "1 s" if width == 1 else f"{width} s"

    def mid(p: _Point) -> float:
        return p.second + p.seconds / 2

    def when(x: float) -> str:
        start = x - width / 2
        return f"{start:g}\u2013{start + width:g} s"

    common: dict[str, Any] = {"x_range": (0.0, end), "hover_label": when}
    charts = [
        line_chart(
            "Throughput and errors",
            "time (s)",
            "requests per second",
            [
                (
                    "requests/s",
                    COLOURS["blue"],
                    [(mid(p), p.requests_per_second) for p in timeline],
                ),
                (
                    "errors/s",
                    COLOURS["vermillion"],
                    [(mid(p), p.errors_per_second) for p in timeline],
                ),
            ],
            y_unit="req/s",
            note=(
                f"Requests completed (successes and failures) per second, each point {per}; "
                "the last point may cover part of one."
            ),
            **common,
        )
    ]

    charts.append(_concurrency_chart(result, timeline, mid, common))

    def ok(p: _Point) -> bool:
        return p.requests > p.errors

    corrected = [
        ("p50", [(mid(p), p.latency_p50 if ok(p) else None) for p in timeline]),
        ("p95", [(mid(p), p.latency_p95 if ok(p) else None) for p in timeline]),
        ("p99", [(mid(p), p.latency_p99 if ok(p) else None) for p in timeline]),
        ("max", [(mid(p), p.latency_max if ok(p) else None) for p in timeline]),
    ]
    raw = [
        ("p50", [(mid(p), p.raw_p50 if ok(p) else None) for p in timeline]),
        ("p95", [(mid(p), p.raw_p95 if ok(p) else None) for p in timeline]),
        ("p99", [(mid(p), p.raw_p99 if ok(p) else None) for p in timeline]),
        ("max", [(mid(p), p.raw_max if ok(p) else None) for p in timeline]),
    ]
    colours = dict(_LATENCY_COLOURS)
    top = max(
        [y for _, pts in corrected for _, y in pts if y is not None]
        + ([y for _, pts in raw for _, y in pts if y is not None] if is_open else []),
        default=0.0,
    )
    y_range = (0.0, top or 1.0)
    if is_open:
        charts.append(
            line_chart(
                "Latency over time, corrected",
                "time (s)",
                "latency (ms)",
                [(n, colours[n], pts) for n, pts in corrected],
                y_range=y_range,
                y_unit="ms",
                note="Measured from each request's intended start (includes waiting to start).",
                **common,
            )
        )
        charts.append(
            line_chart(
                "Latency over time, raw",
                "time (s)",
                "latency (ms)",
                [(n, colours[n], pts) for n, pts in raw],
                y_range=y_range,
                y_unit="ms",
                note="Measured from each request's actual start; same scale as corrected.",
                **common,
            )
        )
    else:
        charts.append(
            line_chart(
                "Latency over time",
                "time (s)",
                "latency (ms)",
                [(n, colours[n], pts) for n, pts in corrected],
                y_range=y_range,
                y_unit="ms",
                note="Percentiles of the requests completed in each point.",
                **common,
            )
        )

    return charts


def _concurrency_chart(
    result: ReportSource,
    timeline: Sequence[_Point],
    mid: Callable[[_Point], float],
    common: dict[str, Any],
) -> str:
    users: list[tuple[str, str, Sequence[tuple[float, float | None]]]] = [
        ("in flight", COLOURS["green"], [(mid(p), float(p.concurrency)) for p in timeline])
    ]
    if any(p.target_concurrency for p in timeline):
        users.append(
            (
                "target users",
                COLOURS["grey"],
                [(mid(p), float(p.target_concurrency)) for p in timeline],
            )
        )
    limit = result.settings.get("concurrent_requests")
    return line_chart(
        "Concurrency",
        "time (s)",
        "requests in flight",
        users,
        note=(
            "Most requests in flight in each point"
            + (f"; at most {limit} at once." if limit else ".")
        ),
        **common,
    )


def _latency_table(result: ReportSource, is_open: bool) -> str:
    rows: list[tuple[object, ...]] = []
    rows_of: list[tuple[str, _Latency]] = [("corrected" if is_open else "measured", result.latency)]
    if result.raw_latency is not None:
        rows_of.append(("raw", result.raw_latency))
    for label, lat in rows_of:
        rows.append(
            (label, lat.min, lat.mean, lat.p50, lat.p90, lat.p95, lat.p99, lat.p999, lat.max)
        )
    header = ("latency (ms)", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max")
    return table(header, rows)


def _run_table(result: ReportSource, is_open: bool) -> str:
    rows: list[tuple[object, ...]] = [
        ("requests", result.total),
        ("ok", result.successes),
        ("failed", result.failures),
        ("error rate", f"{result.error_rate:.2%}"),
        ("throughput", f"{result.requests_per_second:,.1f} req/s"),
        ("duration", f"{result.duration_seconds:.3f} s"),
    ]
    if is_open:
        rows += [("late starts", result.late_starts), ("dropped starts", result.dropped_starts)]
    bp = result.breaking_point
    if bp is not None:
        rows.append(
            (
                "breaking point",
                f"{bp.concurrency} users, {bp.requests_per_second:.1f} req/s, "
                f"p99 {bp.latency_p99:.3g} ms, errors {bp.error_rate:.2%} ({bp.reason})",
            )
        )
    for key, value in sorted(result.settings.items()):
        if value is not None:
            rows.append((key, value))
    return table(("run", "value"), rows)


def _timeline_table(result: ReportSource, is_open: bool) -> str:
    header = ["second", "requests", "errors", "in flight", "p50", "p95", "p99", "max"]
    if is_open:
        header += ["raw p50", "raw p95", "raw p99", "raw max"]
    rows: list[tuple[object, ...]] = []
    for p in result.timeline:
        row: tuple[object, ...] = (
            p.second, p.requests, p.errors, p.concurrency,
            p.latency_p50, p.latency_p95, p.latency_p99, p.latency_max,
        )  # fmt: skip
        if is_open:
            row += tuple(
                "" if v is None else v for v in (p.raw_p50, p.raw_p95, p.raw_p99, p.raw_max)
            )
        rows.append(row)
    return (
        f"<details><summary>Timeline data ({len(rows)} points, latency in ms)</summary>"
        f"{table(header, rows)}</details>"
    )


_HOW_TO_READ = (
    "Latency (y) at each percentile (x). The x axis is logarithmic in 1 / (1 - p): each tick "
    "adds a nine, so the tail gets as much room as the median. A flat line is a steady "
    "service; a line that climbs at the right is a tail."
)


def render_html(result: ReportSource, *, title: str) -> str:
    """*result* as one self-contained HTML page: what ran, the threshold verdict, charts over
    time (throughput, latency percentiles, concurrency), the percentile distribution and the
    summary tables. Every text from the run is escaped; nothing is fetched from a network."""
    is_open = result.raw_latency is not None
    distribution = [("corrected" if is_open else "latency", _CORRECTED, result.percentiles)]
    note = _HOW_TO_READ
    if is_open and result.raw_percentiles is not None:
        distribution.append(("raw", _RAW, result.raw_percentiles))
        note += " Corrected counts from the intended start, raw from the actual start."
    charts = _time_charts(result, is_open)
    errors = ""
    if result.errors:
        by_count = sorted(result.errors.items(), key=lambda item: (-item[1], item[0]))
        errors = table(("error", "count"), by_count)
    body = (
        _header(result, title, is_open)
        + _cards(result, is_open)
        + _verdict(result)
        + "<h2>Over time</h2>"
        + f'<div class="grid">{"".join(charts)}</div>'
        + "<h2>Latency distribution</h2>"
        + percentile_chart(distribution, note=note, width=1100, height=360)
        + "<h2>Summary</h2>"
        + '<div class="tables">'
        + _latency_table(result, is_open)
        + _run_table(result, is_open)
        + errors
        + "</div>"
        + _timeline_table(result, is_open)
    )
    return page(title, body)
