"""The HTML report of a load test: one self-contained page with inline SVG charts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Protocol

__all__ = ["ReportSource", "render_html"]


class _Second(Protocol):
    """One second of a run, as the report reads it (``TimelinePoint`` is one)."""

    @property
    def second(self) -> int: ...
    @property
    def requests(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def latency_mean(self) -> float: ...
    @property
    def latency_max(self) -> float: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def target_concurrency(self) -> int: ...


class ReportSource(Protocol):
    """What the report reads of a run (``LoadTestResult`` is one).

    Declared here so the report does not import the result, which imports the report.
    """

    @property
    def timeline(self) -> Sequence[_Second]: ...
    @property
    def distribution(self) -> Sequence[tuple[float, int]]: ...
    def summary(self) -> str: ...


_W, _H, _PAD = 640, 220, 40


def _polyline(
    points: Sequence[tuple[float, float]], colour: str, x_max: float, y_max: float
) -> str:
    if not points:
        return ""
    coords = " ".join(
        f"{_PAD + (x / x_max if x_max else 0) * (_W - 2 * _PAD):.1f},"
        f"{_H - _PAD - (y / y_max if y_max else 0) * (_H - 2 * _PAD):.1f}"
        for x, y in points
    )
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>'


def _axes(x_label: str, y_label: str, y_max: float) -> str:
    return (
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#444"/>'
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" stroke="#444"/>'
        f'<text x="{_W / 2}" y="{_H - 8}" text-anchor="middle">{html.escape(x_label)}</text>'
        f'<text x="4" y="{_PAD - 10}">{html.escape(y_label)} (max {y_max:.3g})</text>'
    )


def _line_chart(
    title: str, series: Sequence[tuple[str, str, Sequence[tuple[float, float]]]]
) -> str:
    x_max = max((x for _, _, pts in series for x, _ in pts), default=0.0)
    y_max = max((y for _, _, pts in series for _, y in pts), default=0.0)
    lines = "".join(_polyline(pts, colour, x_max, y_max) for _, colour, pts in series)
    legend = "".join(
        f'<text x="{_W - _PAD - 150}" y="{_PAD + 14 * i}" fill="{colour}">'
        f"{html.escape(name)}</text>"
        for i, (name, colour, _) in enumerate(series)
    )
    return (
        f"<h2>{html.escape(title)}</h2>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" role="img">'
        f"{_axes('seconds', title, y_max)}{lines}{legend}</svg>"
    )


def _bar_chart(title: str, bars: Sequence[tuple[float, int]]) -> str:
    top = max((count for _, count in bars), default=0)
    width = (_W - 2 * _PAD) / max(1, len(bars))
    rects = []
    for i, (upper, count) in enumerate(bars):
        height = (count / top if top else 0) * (_H - 2 * _PAD)
        rects.append(
            f'<rect x="{_PAD + i * width:.1f}" y="{_H - _PAD - height:.1f}" '
            f'width="{max(1.0, width - 1):.1f}" height="{height:.1f}" fill="#4a7bd0">'
            f"<title>&lt;= {upper:g} ms: {count}</title></rect>"
        )
    return (
        f"<h2>{html.escape(title)}</h2>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" role="img">'
        f"{_axes('latency bucket (ms, log scale)', 'requests', float(top))}{''.join(rects)}</svg>"
    )


def render_html(result: ReportSource, *, title: str) -> str:
    """*result* as a standalone HTML page: summary table, timeline charts, latency histogram."""
    timeline = result.timeline
    latency = [
        ("mean", "#1b7f3b", [(p.second, p.latency_mean) for p in timeline]),
        ("max", "#c0392b", [(p.second, p.latency_max) for p in timeline]),
    ]
    load = [
        ("requests/s", "#4a7bd0", [(p.second, float(p.requests)) for p in timeline]),
        ("errors/s", "#c0392b", [(p.second, float(p.errors)) for p in timeline]),
    ]
    users = [
        ("in flight", "#8e44ad", [(p.second, float(p.concurrency)) for p in timeline]),
        ("target", "#999", [(p.second, float(p.target_concurrency)) for p in timeline]),
    ]
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}svg{background:#fafafa}"
        "text{font-size:11px}pre{background:#f4f4f4;padding:1em}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><pre>{html.escape(result.summary())}</pre>"
        f"{_line_chart('latency over time (ms)', latency)}"
        f"{_line_chart('throughput', load)}"
        f"{_line_chart('concurrency', users)}"
        f"{_bar_chart('latency histogram', result.distribution)}"
        "</body></html>\n"
    )
