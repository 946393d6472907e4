"""Hand-written SVG charts for load-test pages: line charts, percentile plots, the page.

Every function returns an HTML fragment (a string) with all text escaped, so names that come
from a run (target names, error types) cannot inject markup. The charts need no script to be
read: axes carry round tick values and units, and legends sit above the plot area, never on
the data. :func:`page` adds a small inline script that shows a crosshair and a tooltip with
every series' value at the hovered x. Nothing is fetched from a network: no fonts, no CDN, no
images; the page's Content-Security-Policy forbids it.

A compare page builds its body from these pieces and wraps it with :func:`page`::

    body = line_chart("Throughput", "time (s)", "requests per second",
                      [("base", "#0072B2", base_points), ("new", "#D55E00", new_points)])
    body += percentile_chart([("base", "#0072B2", base.percentiles),
                              ("new", "#D55E00", new.percentiles)])
    html_text = page("compare", body)
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence

__all__ = [
    "COLOURS",
    "PERCENTILE_X_TICKS",
    "Series",
    "format_number",
    "line_chart",
    "nice_ticks",
    "page",
    "percentile_chart",
    "percentile_label",
    "percentile_x",
    "table",
]

#: One line of a chart: ``(name, colour, [(x, y), ...])``; a y of None breaks the line.
Series = tuple[str, str, Sequence[tuple[float, float | None]]]

#: A colour-blind-safe palette (Okabe and Ito), by the role a series usually plays.
COLOURS = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "vermillion": "#D55E00",
    "green": "#009E73",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "grey": "#6E6E6E",
    "black": "#222222",
}

_WIDTH, _HEIGHT = 600, 300
_LEFT, _RIGHT, _BOTTOM = 62, 18, 46
_FONT = 12
_CHAR = 6.6  # average glyph width at 12 px, for laying out legends
_LEGEND_ROW = 18

#: Where the percentile plot puts 100 % (the max): half a decade right of 99.99 %.
_MAX_X = 10**4.5
#: The percentile plot's x ticks: ``(x, label)`` with x = 1 / (1 - p).
PERCENTILE_X_TICKS: tuple[tuple[float, str], ...] = (
    (1.0, "0%"),
    (10.0, "90%"),
    (100.0, "99%"),
    (1000.0, "99.9%"),
    (10000.0, "99.99%"),
    (_MAX_X, "max"),
)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering *low* to *high*.

    The first tick is at or below *low* and the last at or above *high*, so the ticks can
    serve as the axis range. An empty range (``low == high``) widens upwards by ``|low|``
    (by 1 at zero); a non-finite bound gives the ticks of 0 to 1.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high < low:
        low, high = high, low
    span = high - low
    if span <= 0:
        span = abs(high) or 1.0
        high = low + span
    raw = span / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
    digits = max(0, -math.floor(math.log10(step)) + 1)
    start = math.floor(low / step + 1e-9) * step
    end = math.ceil(high / step - 1e-9) * step
    steps = max(1, round((end - start) / step))
    return [round(start + i * step, digits) for i in range(steps + 1)]


def format_number(value: float) -> str:
    """A tick or table value, short: ``0``, ``2.5``, ``1,200``, ``15k``, ``1.5M``."""
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.3g}M"
    if size >= 1e4:
        return f"{value / 1e3:.3g}k"
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def percentile_x(percentile: float) -> float:
    """The percentile plot's x for *percentile* (0-100): ``1 / (1 - p)``; 100 (max) sits at
    the ``max`` tick, half a decade right of 99.99 %."""
    if percentile >= 100.0:
        return _MAX_X
    return min(100.0 / (100.0 - max(0.0, percentile)), 10**4.4)


def percentile_label(percentile: float) -> str:
    """``p99.9`` for 99.9, ``max`` for 100, ``min`` for 0."""
    if percentile >= 100.0:
        return "max"
    if percentile <= 0.0:
        return "min"
    return f"p{percentile:.4g}"


def _legend(series: Sequence[Series], left: float, width: float, top: float) -> tuple[str, float]:
    """The legend laid out in rows above the plot; returns (svg, height used)."""
    items: list[str] = []
    x, y = left, top + _FONT
    for name, colour, _ in series:
        item_width = 24 + len(name) * _CHAR + 14
        if x > left and x + item_width > left + width:
            x, y = left, y + _LEGEND_ROW
        items.append(
            f'<g class="legend-item"><line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 18:.1f}" '
            f'y2="{y - 4:.1f}" stroke="{_esc(colour)}" stroke-width="3"/>'
            f'<text x="{x + 24:.1f}" y="{y:.1f}">{_esc(name)}</text></g>'
        )
        x += item_width
    height = (y - top) + 6 if series else 0.0
    return f'<g class="legend">{"".join(items)}</g>', height


def _scale(
    low: float, high: float, start: float, length: float, log: bool
) -> Callable[[float], float]:
    if log:
        low, high = math.log10(low), math.log10(high)
    span = (high - low) or 1.0

    def to_pixel(value: float) -> float:
        v = math.log10(max(value, 1e-300)) if log else value
        return start + (v - low) / span * length

    return to_pixel


def _short(value: float) -> float:
    """*value* to four significant digits, to keep the embedded data small."""
    return float(f"{value:.4g}")


def line_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[Series],
    *,
    x_log: bool = False,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    y_unit: str = "",
    hover_label: Callable[[float], str] | None = None,
    note: str = "",
    width: int = _WIDTH,
    height: int = _HEIGHT,
) -> str:
    """A line chart as a ``<figure>`` with an inline SVG: title, legend, axes and lines.

    *series* is ``[(name, colour, [(x, y), ...]), ...]``; a y of None leaves a gap. Axes
    get round ticks (:func:`nice_ticks`) unless *x_ticks* gives ``(x, label)`` pairs; the
    y axis starts at 0 unless *y_range* says otherwise (pass the same *y_range* to charts
    that should be compared side by side). *x_log* puts x on a log scale (x > 0; default
    ticks at powers of ten). *x_label* and *y_label* name the axes with their units
    (``"time (s)"``); *y_unit* follows values in the tooltip. *hover_label* turns an x into
    the tooltip's heading (default: ``"<x_label> <x>"``). *note* is a line under the chart.
    The legend is drawn in its own band above the plot area, never over the data.
    """
    xs = [x for _, _, points in series for x, _ in points]
    ys = [y for _, _, points in series for _, y in points if y is not None]
    if x_log:
        xs = [x for x in xs if x > 0]
    # x range and ticks
    if x_range is not None:
        x_low, x_high = x_range
    elif x_ticks:
        x_low = min([t for t, _ in x_ticks] + xs)
        x_high = max([t for t, _ in x_ticks] + xs)
    elif xs:
        x_low, x_high = min(xs), max(xs)
    else:
        x_low, x_high = (1.0, 10.0) if x_log else (0.0, 1.0)
    if x_log:
        x_low, x_high = max(x_low, 1e-12), max(x_high, 1e-12)
        if x_high <= x_low:
            x_high = x_low * 10
    elif x_high <= x_low:
        x_high = x_low + 1.0
    if x_ticks is None:
        if x_log:
            first, last = math.floor(math.log10(x_low)), math.ceil(math.log10(x_high))
            x_low, x_high = 10.0**first, 10.0**last
            ticks = [(10.0**e, format_number(10.0**e)) for e in range(first, last + 1)]
        else:
            values = nice_ticks(x_low, x_high, 6)
            if x_range is None:
                x_low, x_high = values[0], values[-1]
            ticks = [(v, format_number(v)) for v in values if x_low <= v <= x_high]
    else:
        ticks = list(x_ticks)
    # y range and ticks
    if y_range is not None:
        y_values = nice_ticks(y_range[0], y_range[1])
    else:
        y_values = nice_ticks(0.0, max(ys, default=0.0) or 1.0)
    y_low, y_high = y_values[0], y_values[-1]

    legend_svg, legend_height = _legend(series, _LEFT, width - _LEFT - _RIGHT, 4.0)
    top = 4.0 + legend_height + 10
    plot_w = width - _LEFT - _RIGHT
    plot_h = height - top - _BOTTOM
    px = _scale(x_low, x_high, _LEFT, plot_w, x_log)
    py = _scale(y_low, y_high, top + plot_h, -plot_h, False)
    bottom = top + plot_h

    parts = [
        f'<rect class="plot-area" x="{_LEFT}" y="{top:.1f}" width="{plot_w}" '
        f'height="{plot_h:.1f}"/>'
    ]
    y_ticks = []
    for value in y_values:
        y = py(value)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        y_ticks.append(
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_esc(format_number(value))}</text>"
        )
    x_tick_svg = []
    for value, label in ticks:
        x = px(value)
        parts.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}"/>'
        )
        x_tick_svg.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16:.1f}" text-anchor="middle">'
            f"{_esc(label)}</text>"
        )
    lines = []
    for name, colour, points in series:
        path: list[str] = []
        pen_up = True
        run = 0
        here: tuple[float, float] = (0.0, 0.0)
        dots: list[tuple[float, float]] = []
        for sx, sy in points:
            if sy is None or (x_log and sx <= 0):
                if run == 1:
                    dots.append(here)
                pen_up, run = True, 0
                continue
            here = (px(sx), py(sy))
            path.append(f"{'M' if pen_up else 'L'}{here[0]:.1f} {here[1]:.1f}")
            pen_up = False
            run += 1
        if run == 1:
            dots.append(here)
        lines.append(
            f'<path class="series" data-name="{_esc(name)}" fill="none" stroke="{_esc(colour)}"'
            f' stroke-width="2" stroke-linejoin="round" d="{" ".join(path)}"/>'
        )
        lines.extend(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{_esc(colour)}"/>' for cx, cy in dots
        )
    empty = (
        ""
        if ys
        else f'<text class="empty" x="{_LEFT + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
        'text-anchor="middle">no data</text>'
    )
    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height:.0f}" role="img" '
        f'aria-label="{_esc(title)}" data-plot="{_LEFT} {top:.1f} {plot_w} {plot_h:.1f}">'
        f"{''.join(parts)}"
        f'<line class="axis" x1="{_LEFT}" y1="{bottom:.1f}" x2="{_LEFT + plot_w}" '
        f'y2="{bottom:.1f}"/>'
        f'<line class="axis" x1="{_LEFT}" y1="{top:.1f}" x2="{_LEFT}" y2="{bottom:.1f}"/>'
        f'<g class="x-ticks">{"".join(x_tick_svg)}</g><g class="y-ticks">{"".join(y_ticks)}</g>'
        f'<text class="axis-label x-label" x="{_LEFT + plot_w / 2:.1f}" y="{height - 6}" '
        f'text-anchor="middle">{_esc(x_label)}</text>'
        f'<text class="axis-label y-label" x="0" y="0" text-anchor="middle" '
        f'transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)">{_esc(y_label)}</text>'
        f"{legend_svg}{''.join(lines)}{empty}"
        f'<line class="crosshair" x1="0" x2="0" y1="{top:.1f}" y2="{bottom:.1f}" '
        'visibility="hidden"/></svg>'
    )
    data = _hover_data(series, px, x_log, hover_label or (lambda x: f"{x_label} {x:g}"), y_unit)
    caption = f'<p class="note">{_esc(note)}</p>' if note else ""
    return (
        f'<figure class="chart-box" data-hover="{_esc(data)}"><figcaption>{_esc(title)}'
        f"</figcaption>{svg}{caption}</figure>"
    )


def _hover_data(
    series: Sequence[Series],
    px: Callable[[float], float],
    x_log: bool,
    label: Callable[[float], str],
    unit: str,
) -> str:
    """The JSON the page's script reads: the x grid (pixels, labels) and each series' y."""
    grid = sorted({x for _, _, points in series for x, _ in points if x > 0 or not x_log})
    index = {x: i for i, x in enumerate(grid)}
    out = []
    for name, colour, points in series:
        ys: list[float | None] = [None] * len(grid)
        for x, y in points:
            if x in index and y is not None:
                ys[index[x]] = _short(y)
        out.append({"n": name, "c": colour, "y": ys})
    return json.dumps(
        {
            "px": [round(px(x), 1) for x in grid],
            "xl": [label(x) for x in grid],
            "s": out,
            "u": unit,
        },
        separators=(",", ":"),
    )


def percentile_chart(
    series: Sequence[tuple[str, str, Sequence[tuple[float, float]]]],
    *,
    title: str = "Latency by percentile",
    y_label: str = "latency (ms)",
    y_unit: str = "ms",
    y_range: tuple[float, float] | None = None,
    note: str = "",
    width: int = _WIDTH,
    height: int = _HEIGHT,
) -> str:
    """The HDR percentile-distribution plot: latency (y) against percentile (x).

    *series* is ``[(name, colour, [(percentile 0-100, ms), ...]), ...]`` (a result's
    ``percentiles`` or ``raw_percentiles``; 100 is the max). The x axis is logarithmic in
    ``1 / (1 - p)`` so each tick — 0 %, 90 %, 99 %, 99.9 %, 99.99 % — is one more nine, and
    the max sits at its own ``max`` tick on the right. Overlay runs (or corrected and raw
    latencies) by passing several series.
    """
    mapped: list[Series] = [
        (name, colour, [(percentile_x(p), ms) for p, ms in points])
        for name, colour, points in series
    ]
    labels = {percentile_x(p): percentile_label(p) for _, _, points in series for p, _ in points}
    return line_chart(
        title,
        "percentile (log scale of 1 / (1 - p))",
        y_label,
        mapped,
        x_log=True,
        x_ticks=PERCENTILE_X_TICKS,
        x_range=(1.0, _MAX_X),
        y_range=y_range,
        y_unit=y_unit,
        hover_label=lambda x: labels.get(x, f"{x:g}"),
        note=note,
        width=width,
        height=height,
    )


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    caption: str = "",
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table; every cell is escaped, numbers (int/float) are right-aligned and short.

    *row_classes* gives each row a CSS class (``"fail"`` shows a row in red, ``"pass"`` green).
    """

    def cell(value: object, tag: str) -> str:
        if isinstance(value, float | int) and not isinstance(value, bool):
            text = f"{value:,}" if isinstance(value, int) else format_number(value)
            return f'<{tag} class="num">{_esc(text)}</{tag}>'
        return f"<{tag}>{_esc(value)}</{tag}>"

    head = "".join(cell(h, "th") for h in header)
    body = []
    for i, row in enumerate(rows):
        css = row_classes[i] if row_classes is not None and i < len(row_classes) else ""
        attr = f' class="{_esc(css)}"' if css else ""
        body.append(f"<tr{attr}>{''.join(cell(v, 'td') for v in row)}</tr>")
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """
:root{color-scheme:light;--fg:#1d2330;--muted:#5b6372;--line:#d9dde4;--ok:#11772f;--bad:#b3261e}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
margin:0;padding:24px 32px;background:#f6f7f9;max-width:1280px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.meta{color:var(--muted);margin:0 0 16px}.meta b{color:var(--fg);font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:0 0 16px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px;
min-width:130px}
.card .v{font-size:22px;font-weight:600}.card .k{color:var(--muted);font-size:12px}
.verdict{display:inline-block;font-weight:700;padding:4px 10px;border-radius:6px;color:#fff}
.verdict.pass{background:var(--ok)}.verdict.fail{background:var(--bad)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 12px;
position:relative}
figcaption{font-weight:600;margin:0 0 2px}
svg.chart{width:100%;height:auto;display:block;font-size:12px;overflow:visible}
svg .plot-area{fill:#fff;stroke:none}svg .grid{stroke:#eceef2}
svg .axis{stroke:#8a909c}svg .tick,svg .legend text{fill:#3b4250}
svg .axis-label{fill:var(--muted)}svg .empty{fill:#9aa0aa;font-size:14px}
svg .crosshair{stroke:#555;stroke-dasharray:3 3}
.note{color:var(--muted);font-size:12px;margin:4px 0 0}
.tip{position:absolute;pointer-events:none;background:rgba(255,255,255,.96);border:1px solid #aab;
border-radius:6px;padding:6px 8px;font-size:12px;box-shadow:0 2px 8px rgba(0,0,0,.15);
white-space:nowrap;z-index:2}
.tip b{display:block;margin-bottom:2px}.tip i{display:inline-block;width:10px;height:10px;
border-radius:2px;margin-right:6px;vertical-align:-1px}
table{border-collapse:collapse;background:#fff;margin:0 0 12px;font-size:13px}
caption{text-align:left;font-weight:600;padding:0 0 4px}
th,td{border:1px solid var(--line);padding:4px 10px;text-align:left}
th{background:#eef0f4;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.fail td{color:var(--bad);font-weight:600}tr.pass td:last-child{color:var(--ok)}
details{margin:12px 0}.tables{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
summary{cursor:pointer;color:var(--muted)}
"""

# The hover script: for each figure, the x grid (pixels) and series values come from its
# data-hover JSON; text is set with textContent only, so names from a run stay text.
_JS = """
(function(){
document.querySelectorAll("figure.chart-box").forEach(function(fig){
var d=JSON.parse(fig.getAttribute("data-hover")),svg=fig.querySelector("svg"),
b=svg.getAttribute("data-plot").split(" ").map(Number),
xh=svg.querySelector(".crosshair"),tip=document.createElement("div");
tip.className="tip";tip.hidden=true;fig.appendChild(tip);
function fmt(v){if(v===null)return"\\u2013";var a=Math.abs(v);
return a>=1000?Math.round(v).toLocaleString("en"):String(+v.toPrecision(3));}
function hide(){tip.hidden=true;xh.setAttribute("visibility","hidden");}
svg.addEventListener("mouseleave",hide);
svg.addEventListener("mousemove",function(e){
if(!d.px.length)return;var p=svg.createSVGPoint();p.x=e.clientX;p.y=e.clientY;
var q=p.matrixTransform(svg.getScreenCTM().inverse());
if(q.x<b[0]||q.x>b[0]+b[2]||q.y<b[1]||q.y>b[1]+b[3]){hide();return;}
var i=0;for(var k=1;k<d.px.length;k++){if(Math.abs(d.px[k]-q.x)<Math.abs(d.px[i]-q.x))i=k;}
xh.setAttribute("x1",d.px[i]);xh.setAttribute("x2",d.px[i]);xh.setAttribute("visibility","visible");
tip.textContent="";var h=document.createElement("b");h.textContent=d.xl[i];tip.appendChild(h);
d.s.forEach(function(s){var r=document.createElement("div"),sw=document.createElement("i");
sw.style.background=s.c;r.appendChild(sw);
r.appendChild(document.createTextNode(s.n+": "+fmt(s.y[i])+(s.y[i]===null?"":" "+d.u)));
tip.appendChild(r);});
tip.hidden=false;var fr=fig.getBoundingClientRect(),x=e.clientX-fr.left+14;
if(x+tip.offsetWidth>fr.width)x=e.clientX-fr.left-tip.offsetWidth-14;
tip.style.left=Math.max(0,x)+"px";tip.style.top=(e.clientY-fr.top+12)+"px";});
});
})();
"""

# No network at all: the policy allows only the page's own inline style and script.
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


def page(title: str, body_html: str) -> str:
    """A complete, self-contained HTML page: *title* (escaped) and *body_html* (trusted
    markup, such as :func:`line_chart` output) with the shared CSS and hover script inline.

    The page fetches nothing: its Content-Security-Policy allows no network source and it
    declares an empty ``data:`` icon so a browser does not ask for ``/favicon.ico``.
    """
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
        f"{body_html}<script>{_JS}</script></body></html>\n"
    )
