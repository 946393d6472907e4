"""The HTML load-test report in a real headless Chromium: loads offline, draws, hovers.

Needs Playwright and a ``chromium`` on PATH (Debian's package; Playwright's own browser
download is not used). Without them the test skips, unless ``AGENTKIT_REQUIRE_SERVERS=1``
(as CI sets it), when it fails.

``python tests/loadtest/test_report_browser.py docs/images/loadtest-report.png`` renders the
demo run and writes the documentation's screenshot.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from agentkit import LoadTester, LoadTestResult
from agentkit.testing import VirtualClock

_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _need_browser() -> tuple[Any, str]:
    """Playwright's ``async_playwright`` and the chromium path, or skip (fail under CI)."""
    problem = ""
    async_playwright: Any = None
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        problem = "playwright is not installed"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not problem and chromium is None:
        problem = "no chromium on PATH"
    if problem:
        if os.environ.get("AGENTKIT_REQUIRE_SERVERS") == "1":
            pytest.fail(f"AGENTKIT_REQUIRE_SERVERS=1 but {problem}")
        pytest.skip(problem)
    assert chromium is not None
    return async_playwright, chromium


async def demo_result() -> LoadTestResult:
    """A 60 s open-model run on virtual time with a 3 s stall, some errors and two thresholds
    (one holds, one fails): every part of the report has something to show."""
    clock = VirtualClock()
    rnd = random.Random(7)

    async def handle_request() -> None:
        delay = 0.008 + rnd.expovariate(1 / 0.004)
        if 20 <= clock.monotonic() < 23:  # the server stalls for three seconds
            delay += 0.25
        if rnd.random() < 0.01:
            raise TimeoutError
        await clock.sleep(delay)

    tester = LoadTester(clock)
    return await clock.run(
        tester.run_load_test(
            handle_request,
            "constant_rate",
            None,
            20,
            rate=200,
            duration_seconds=60,
            thresholds=["error_rate<2%", "p95<50ms"],
        )
    )


async def _open(async_playwright: Any, chromium: str, report: Path, shot: Path) -> dict[str, Any]:
    """Open *report*, hover the corrected-latency chart, screenshot; what the browser saw."""
    seen: dict[str, Any] = {"requests": [], "console": [], "errors": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            await page.goto(report.as_uri())
            await page.wait_for_load_state("load")
            seen["ticks"] = await page.evaluate(
                """() => Array.from(document.querySelectorAll("svg.chart")).map(svg => [
                    Array.from(svg.querySelectorAll(".x-ticks text")).map(t => t.textContent),
                    Array.from(svg.querySelectorAll(".y-ticks text")).map(t => t.textContent),
                    svg.getBoundingClientRect().width])"""
            )
            # the page as tall as its content, so the screenshot needs no scrolling
            height = await page.evaluate("document.documentElement.scrollHeight")
            await page.set_viewport_size({"width": 1200, "height": height})
            charts = page.locator("svg.chart")
            box = await charts.nth(2).bounding_box()
            assert box is not None
            # over the stall (20-23 s of 61) in the corrected-latency chart
            x = box["x"] + box["width"] * (62 + 520 * 21.5 / 61) / 600
            await page.mouse.move(x - 5, box["y"] + box["height"] * 0.6)
            await page.mouse.move(x, box["y"] + box["height"] * 0.6)
            tip = page.locator("figure.chart-box .tip:not([hidden])")
            await tip.wait_for(state="visible", timeout=5000)
            seen["tooltip"] = await tip.inner_text()
            seen["crosshair"] = (
                await charts.nth(2).locator(".crosshair").get_attribute("visibility")
            )
            await page.screenshot(path=str(shot), full_page=True)
            await page.mouse.move(1, 1)
            seen["hidden_after"] = await page.locator(".tip:not([hidden])").count()
        finally:
            await browser.close()
    return seen


@pytest.mark.timeout(120)
async def test_report_in_headless_chromium(tmp_path: Path) -> None:
    """The report loads offline with no errors, shows ticks on every axis and hover values."""
    async_playwright, chromium = _need_browser()
    result = await demo_result()
    assert [t.passed for t in result.thresholds] == [True, False]
    report = tmp_path / "report.html"
    report.write_text(result.to_html(title="agentkit loadtest demo:handle_request"), "utf-8")
    shot = tmp_path / "report.png"
    seen = await _open(async_playwright, chromium, report, shot)

    assert seen["requests"] == [report.as_uri()]
    assert seen["console"] == []
    assert seen["errors"] == []
    assert len(seen["ticks"]) == 5
    for x_ticks, y_ticks, width in seen["ticks"]:
        assert len(x_ticks) >= 2
        assert len(y_ticks) >= 3
        assert all(label.strip() for label in x_ticks + y_ticks)
        assert width > 300
    tooltip = seen["tooltip"].splitlines()
    assert tooltip[0] == "21\u201322 s"
    assert [line.split(":")[0] for line in tooltip[1:]] == ["p50", "p95", "p99", "max"]
    p99 = float(tooltip[3].split(":")[1].split()[0].replace(",", ""))
    assert p99 > 250  # the stall shows in the corrected latency
    assert seen["crosshair"] == "visible"
    assert seen["hidden_after"] == 0
    assert shot.read_bytes().startswith(b"\x89PNG")


def main(path: str) -> None:
    """Write the documentation's screenshot of the demo run's report to *path*."""
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("no chromium on PATH")

    async def run() -> None:
        result = await demo_result()
        report = Path(path).with_suffix(".html").resolve()
        report.write_text(result.to_html(title="agentkit loadtest demo:handle_request"), "utf-8")
        try:
            await _open(async_playwright, chromium, report, Path(path))
        finally:
            report.unlink()

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1])
