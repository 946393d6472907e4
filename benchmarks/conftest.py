"""Benchmark plumbing: collect ``bench_*.py``, a loop and a nats-server per module, the table.

Every agentkit figure is measured beside its anchor in the same run; each benchmark records
``figure``/``role`` in ``extra_info`` (see ``_util.record``) and the terminal summary prints
them paired, with the agentkit/anchor ratio.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import platform
from collections.abc import Iterator
from typing import Any

import pytest
from _util import RESULTS_KEY

from agentkit.testing import NatsServer

# Benchmark traffic stays on loopback: a local Ray binds to 127.0.0.1 (read when ray is imported).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def pytest_configure(config: pytest.Config) -> None:
    """Let ``--benchmark-only`` win over the ``--benchmark-disable`` in the project's addopts.

    pyproject's addopts disable benchmarks so the ``tests`` session stays fast; pytest-benchmark
    refuses ``--benchmark-only`` together with ``--benchmark-disable``, so asking for
    ``--benchmark-only`` here means "enable them". (Its own pytest_configure is ``trylast``.)
    """
    option = config.option
    if getattr(option, "benchmark_only", False) and getattr(option, "benchmark_disable", False):
        option.benchmark_enable = True


@pytest.fixture(scope="module")
def bench_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop for the module; benchmarks are sync and call ``run_until_complete``."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@pytest.fixture(scope="module")
def nats_server() -> Iterator[NatsServer]:
    """One real nats-server on a free 127.0.0.1 port for the module."""
    with NatsServer(jetstream=False) as server:
        yield server


def _format_value(entry: dict[str, Any]) -> str:
    if "rate" not in entry:
        return "-"
    if entry["unit"] == "msgs/s":
        return f"{entry['rate']:,.0f} msg/s"
    micros = entry["us_per_request"]
    # Sub-10 µs figures keep their decimals: "0 µs" hides a real difference.
    return f"{micros:,.2f} µs/req" if micros < 10 else f"{micros:,.0f} µs/req"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print every agentkit figure beside its anchor, with the ratio and the target."""
    results = config.stash.get(RESULTS_KEY, [])
    measured = [entry for entry in results if "rate" in entry]
    if not measured:
        return
    anchors = {entry["figure"]: entry for entry in measured if entry["role"] == "anchor"}
    rows = [("figure", "agentkit", "anchor", "ratio", "target")]
    for entry in measured:
        if entry["role"] != "agentkit":
            continue
        anchor = anchors.get(entry["figure"])
        # Ratio of speeds: for latency that is anchor latency / agentkit latency.
        ratio = f"{entry['rate'] / anchor['rate']:.2f}x" if anchor else "-"
        target = entry.get("target_ratio")
        verdict = ""
        if target is not None and anchor:
            verdict = "met" if entry["rate"] / anchor["rate"] >= target else "MISSED"
        rows.append(
            (
                f"{entry['figure']}: {entry['label']}",
                _format_value(entry),
                f"{_format_value(anchor)} ({anchor['label']})" if anchor else "-",
                ratio,
                f">= {target:.2f}x {verdict}" if target is not None else "",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    terminalreporter.write_sep("-", "agentkit vs anchors (median of the rounds)")
    for index, row in enumerate(rows):
        terminalreporter.write_line(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        )
        if index == 0:
            terminalreporter.write_line("  ".join("-" * width for width in widths))
    _write_table(config, rows)


def _write_table(config: pytest.Config, rows: list[tuple[str, str, str, str, str]]) -> None:
    """Keep the table as Markdown in .benchmarks/latest.md, ready for benchmarks/README.md."""
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        f"Benchmarks of {datetime.date.today().isoformat()} on {machine}",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + " --- |" * len(rows[0]),
        *("| " + " | ".join(cell or "-" for cell in row) + " |" for row in rows[1:]),
    ]
    path = config.rootpath / ".benchmarks" / "latest.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
