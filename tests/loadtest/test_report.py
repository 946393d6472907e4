"""The HTML load-test report: self-contained, readable charts, escaping, and the chart kit."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
import json
import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit import LoadTester, LoadTestResult
from agentkit.loadtest import LatencySummary, ThresholdResult
from agentkit.loadtest._charts import (
    format_number,
    line_chart,
    nice_ticks,
    page,
    percentile_chart,
    percentile_x,
)
from agentkit.testing import VirtualClock


async def _run(open_model: bool, **kwargs: Any) -> LoadTestResult:
    """A deterministic run on virtual time against a 10 ms target."""
    clock = VirtualClock()

    async def target() -> None:
        await clock.sleep(0.01)

    options: dict[str, Any] = (
        {"profile": "constant_rate", "rate": 50, "duration_seconds": 3, "total_requests": None}
        if open_model
        else {"profile": "ramp_up", "total_requests": 300, "ramp_up_seconds": 2}
    )
    options.update(kwargs)
    return await clock.run(LoadTester(clock).run_load_test(target, **options))


@functools.cache
def _result(open_model: bool) -> LoadTestResult:
    """One run of each model, shared by the synchronous tests."""
    return asyncio.run(_run(open_model, concurrent_requests=10))


def _svgs(page_text: str) -> list[ET.Element]:
    """Every chart's SVG, parsed as XML (the charts are well-formed on their own)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", page_text, flags=re.S)]


def _hover(page_text: str) -> list[dict[str, Any]]:
    """Each chart's hover data (the JSON in its figure's data-hover attribute)."""

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[dict[str, Any]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if name == "data-hover" and value is not None:
                    self.found.append(json.loads(value))

    parser = Collect()
    parser.feed(page_text)
    return parser.found


def _plot_box(svg: ET.Element) -> tuple[float, float, float, float]:
    left, top, width, height = (float(v) for v in svg.attrib["data-plot"].split())
    return left, top, width, height


def _number(label: str) -> float:
    """A tick label back to a number: ``1,200`` and ``15k`` included."""
    text = label.replace(",", "")
    scale = {"k": 1e3, "M": 1e6}.get(text[-1:], 1.0)
    return float(text.rstrip("kM")) * scale


def test_page_fetches_nothing() -> None:
    """No src, href or url() in either model's page points anywhere but the page itself."""
    for open_model in (False, True):
        text = _result(open_model).to_html(title="run")
        references = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]*)""", text)
        references += re.findall(r"url\(\s*([^)]*)\)", text)
        assert all(ref.startswith(("data:", "#")) for ref in references), references
        assert "http://" not in text
        assert "https://" not in text
        assert "@import" not in text
        assert "default-src 'none'" in text  # the CSP forbids fetching anyway


def test_every_chart_has_numeric_ticks_and_units_on_both_axes() -> None:
    """Each chart has at least two round, increasing numeric y ticks, x ticks and unit labels."""
    for open_model in (False, True):
        svgs = _svgs(_result(open_model).to_html(title="run"))
        assert len(svgs) == (5 if open_model else 4)
        for svg in svgs:
            x_ticks = [t.text or "" for t in svg.iterfind(".//*[@class='x-ticks']/*")]
            y_ticks = [t.text or "" for t in svg.iterfind(".//*[@class='y-ticks']/*")]
            assert len(x_ticks) >= 2
            assert all(x_ticks)
            values = [_number(label) for label in y_ticks]
            assert len(values) >= 3
            assert values == sorted(values)
            assert values[0] == 0
            step = values[1] - values[0]
            mantissa = step / 10 ** math.floor(math.log10(step))
            assert round(mantissa, 6) in (1, 2, 5)
            x_label = svg.find(".//*[@class='axis-label x-label']")
            y_label = svg.find(".//*[@class='axis-label y-label']")
            assert x_label is not None
            assert y_label is not None
            assert re.search(r"\((s|ms|log scale.*)\)$", x_label.text or "")
            assert re.search(r"\(ms\)|per second|in flight", y_label.text or "")


def test_legends_sit_above_the_plot_area() -> None:
    """Every legend entry (swatch and text) is drawn above the plot area, inside the chart."""
    for open_model in (False, True):
        for svg in _svgs(_result(open_model).to_html(title="run")):
            _, top, _, _ = _plot_box(svg)
            width = float(svg.attrib["viewBox"].split()[2])
            items = list(svg.iterfind(".//*[@class='legend-item']"))
            assert items
            for item in items:
                line, text = item.find("line"), item.find("text")
                assert line is not None
                assert text is not None
                assert float(line.attrib["y1"]) < top
                assert float(text.attrib["y"]) < top  # the baseline, so the glyphs too
                assert 0 <= float(text.attrib["x"]) < width


def test_long_legends_wrap_and_stay_above_the_plot() -> None:
    """A chart with many long series names wraps its legend and moves the plot down."""
    series = [
        (f"series number {i} with a long name", "#000", [(0.0, 1.0), (1.0, 2.0)]) for i in range(8)
    ]
    chart = line_chart("t", "x (s)", "y (ms)", series)
    (svg,) = _svgs(chart)
    _, top, _, _ = _plot_box(svg)
    ys = {float(t.attrib["y"]) for t in svg.iterfind(".//*[@class='legend-item']/text")}
    assert len(ys) > 1
    assert max(ys) < top


def test_percentile_plot_has_nines_ticks_and_log_positions() -> None:
    """The distribution's x ticks read 0%..99.99% and max, one decade of 1/(1-p) apart."""
    text = _result(False).to_html(title="run")
    svg = _svgs(text)[-1]
    ticks = list(svg.iterfind(".//*[@class='x-ticks']/*"))
    assert [t.text for t in ticks] == ["0%", "90%", "99%", "99.9%", "99.99%", "max"]
    xs = [float(t.attrib["x"]) for t in ticks]
    gaps = [b - a for a, b in itertools.pairwise(xs[:5])]
    assert max(gaps) - min(gaps) < 0.3  # equal spacing for each added nine
    data = _hover(text)[-1]
    labels = dict(zip(data["xl"], data["px"], strict=True))
    assert abs(labels["p90"] - xs[1]) < 0.2
    assert abs(labels["max"] - xs[-1]) < 0.2


def test_open_model_shows_corrected_and_raw_side_by_side() -> None:
    """Only an open-model page has raw latency over time and a raw percentile series."""
    open_result, closed_result = _result(True), _result(False)
    open_page, closed_page = open_result.to_html(title="o"), closed_result.to_html(title="c")
    assert "Latency over time, corrected" in open_page
    assert "Latency over time, raw" in open_page
    assert "Latency over time, raw" not in closed_page
    distribution = _hover(open_page)[-1]
    assert [s["n"] for s in distribution["s"]] == ["corrected", "raw"]
    assert open_result.raw_percentiles is not None
    assert distribution["s"][1]["y"][-1] == float(f"{open_result.raw_percentiles[-1][1]:.4g}")
    assert [s["n"] for s in _hover(closed_page)[-1]["s"]] == ["latency"]
    assert all(not s["n"].startswith("raw") for chart in _hover(closed_page) for s in chart["s"])
    # the two latency-over-time charts share their y scale
    raw_svg, corrected_svg = _svgs(open_page)[3], _svgs(open_page)[2]
    ticks = [
        [t.text for t in svg.iterfind(".//*[@class='y-ticks']/*")]
        for svg in (corrected_svg, raw_svg)
    ]
    assert ticks[0] == ticks[1]


def test_time_series_carry_the_timeline_values() -> None:
    """The throughput chart's hover data holds each point's requests per second."""
    result = _result(False)
    throughput = _hover(result.to_html(title="run"))[0]
    requests = next(s for s in throughput["s"] if s["n"] == "requests/s")
    assert requests["y"] == [float(f"{p.requests_per_second:.4g}") for p in result.timeline]
    assert throughput["xl"][0] == "0\u20131 s"


async def test_thresholds_verdict_is_shown_with_actual_and_limit() -> None:
    """A failing threshold marks the page FAILED and its row; a passing one reads passed."""
    result = await _run(True, thresholds=["p95<50ms", "p50<5ms"])
    text = result.to_html(title="run")
    assert '<span class="verdict fail">FAILED</span> 1 of 2 thresholds failed' in text
    assert re.search(
        r'<tr class="pass"><td>p95&lt;50ms</td><td>10(\.\d+)? ms</td><td>&lt; 50 ms</td><td>passed',
        text,
    )
    assert '<tr class="fail"><td>p50&lt;5ms</td>' in text
    assert "&lt; 5 ms</td><td>FAILED</td>" in text
    passing = await _run(True, thresholds=["p95<50ms"])
    assert "all 1 thresholds held" in passing.to_html(title="run")
    assert "Thresholds" not in _result(True).to_html(title="run")


def test_an_empty_run_still_renders() -> None:
    """A run with no requests renders every chart with axes, ticks and a 'no data' note."""
    empty = LoadTestResult(
        profile="ramp_up",
        total=0,
        successes=0,
        errors={},
        duration_seconds=0.0,
        latency=LatencySummary(),
    )
    text = empty.to_html(title="nothing")
    svgs = _svgs(text)
    assert len(svgs) == 4
    for svg in svgs:
        assert len(list(svg.iterfind(".//*[@class='y-ticks']/*"))) >= 2
        assert len(list(svg.iterfind(".//*[@class='x-ticks']/*"))) >= 2
        assert svg.find(".//*[@class='empty']") is not None


def test_a_saved_result_renders_the_same_page() -> None:
    """A result read back from JSON renders the page the original did."""
    result = _result(True)
    again = LoadTestResult.from_json(result.to_json())
    assert again.to_html(title="run") == result.to_html(title="run")


class _Tags(HTMLParser):
    """The elements of a page and its text, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _tags(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


_HOSTILE = st.text(alphabet=st.sampled_from("<>&\"'/ =ascriptimgonerro()"), min_size=1)


@settings(max_examples=60, deadline=None)
@given(target=_HOSTILE, error=_HOSTILE, expression=_HOSTILE, title=_HOSTILE)
def test_text_from_the_run_is_escaped(target: str, error: str, expression: str, title: str) -> None:
    """Target, error type and threshold texts with markup characters stay text on the page."""
    base = _result(True)
    plain = _tags(base.to_html(title="t"))
    result = dataclasses.replace(
        base,
        meta={**base.meta, "target": target},
        errors={error: 3},
        thresholds=[ThresholdResult(expression, "p95", "<", 1.0, 2.0, False, "ms")],
    )
    parsed = _tags(result.to_html(title=title))
    # the same elements and attribute names as a page without hostile text, plus the
    # tables' extra rows: nothing new was injected
    assert set(parsed.tags) <= set(plain.tags) | {"h2", "p", "span", "table", "thead", "tbody",
                                                  "tr", "th", "td"}  # fmt: skip
    assert parsed.tags.count("script") == 1
    assert {name for name, _ in parsed.attrs} <= {name for name, _ in plain.attrs}
    text = "".join(parsed.text)
    for value in (target, error, expression, title):
        assert value in text


async def test_a_hostile_target_and_error_type_from_a_real_run_are_escaped() -> None:
    """A target named <script> and an exception class with markup in its name inject nothing."""
    clock = VirtualClock()
    bad = type("<img src=x onerror=alert(1)>", (Exception,), {})

    async def target() -> None:
        await clock.sleep(0.01)
        raise bad

    target.__qualname__ = "<script>alert('x')</script>"
    result = await clock.run(LoadTester(clock).run_load_test(target, "ramp_up", 20, 2))
    text = result.to_html(title="<u>title</u>")
    parsed = _tags(text)
    assert parsed.tags.count("script") == 1
    assert "img" not in parsed.tags
    assert "u" not in parsed.tags
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


async def test_a_sixty_second_report_is_small() -> None:
    """A 60 s open-model run at 50 requests a second renders to well under 100 KB."""
    result = await _run(True, rate=50, duration_seconds=60, concurrent_requests=50)
    assert len(result.timeline) >= 60
    assert len(result.to_html(title="run").encode()) < 100_000


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    """Ticks step by 1, 2 or 5 times a power of ten and cover the data."""
    assert nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(0, 0.37) == [0, 0.1, 0.2, 0.3, 0.4]
    assert nice_ticks(0, 2049) == [0, 500, 1000, 1500, 2000, 2500]
    assert nice_ticks(5, 5) == [5, 6, 7, 8, 9, 10]
    assert nice_ticks(0, float("nan")) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    for high in (0.003, 1, 7.5, 61, 999, 123456):
        ticks = nice_ticks(0, high)
        assert ticks[0] <= 0 < high <= ticks[-1]
        assert 3 <= len(ticks) <= 11


def test_format_number_is_short() -> None:
    """Numbers read short: thousands separated, large ones in k or M."""
    assert [format_number(v) for v in (0, 2.5, 0.125, 1200, 15000, 1.5e6, 317.69)] == [
        "0", "2.5", "0.125", "1,200", "15k", "1.5M", "318",
    ]  # fmt: skip


def test_chart_kit_builds_a_compare_page() -> None:
    """Two runs' distributions overlay in one chart, on a page with the shared script."""
    base, new = _result(True), _result(False)
    body = percentile_chart(
        [("base", "#0072B2", base.percentiles), ("new", "#D55E00", new.percentiles)]
    ) + line_chart(
        "Throughput",
        "time (s)",
        "requests per second",
        [("base", "#0072B2", [(p.second, p.requests_per_second) for p in base.timeline])],
    )
    text = page("compare <a> & <b>", body)
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>compare &lt;a&gt; &amp; &lt;b&gt;</title>" in text
    assert [s["n"] for s in _hover(text)[0]["s"]] == ["base", "new"]
    assert len(_svgs(text)) == 2
    assert percentile_x(99.0) == 100.0
    assert percentile_x(100.0) > percentile_x(99.99)
