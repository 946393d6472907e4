"""``agentkit loadtest module:function`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentkit.cli._main import main

TARGETS = """
import asyncio

calls = 0

async def ping():
    global calls
    calls += 1
    await asyncio.sleep(0)

def sync_ping():
    return 1

async def broken():
    raise RuntimeError("down")

not_callable = 42
"""


@pytest.fixture
def targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module of load-test targets in the working directory."""
    (tmp_path / "lt_targets.py").write_text(TARGETS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_loadtest_prints_summary_and_writes_reports(
    targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command runs the target N times and writes the JSON and HTML reports."""
    code = main(
        [
            "loadtest", "lt_targets:ping", "--requests", "300", "--concurrency", "5",
            "--json", "out.json", "--html", "out.html",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "throughput" in out
    assert "requests           300 (300 ok, 0 failed)" in out
    data = json.loads((targets / "out.json").read_text(encoding="utf-8"))
    assert data["total"] == 300
    assert data["profile"] == "ramp_up"
    assert "<svg" in (targets / "out.html").read_text(encoding="utf-8")


def test_loadtest_open_model_and_sync_target(
    targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--rate selects the open model; a sync function works too; errors are tabled by type."""
    assert main(["loadtest", "lt_targets:sync_ping", "--rate", "200", "--requests", "20"]) == 0
    out = capsys.readouterr().out
    assert "constant_rate" in out
    assert "corrected" in out
    assert "raw" in out
    assert (
        main(["loadtest", "lt_targets:broken", "--requests", "10", "--profile", "endurance"]) == 0
    )
    out = capsys.readouterr().out
    assert "RuntimeError" in out
    assert "100.00%" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["loadtest", "no_colon"], "must look like"),
        (["loadtest", "missing_module_xyz:f"], "cannot import"),
        (["loadtest", "lt_targets:nope"], "no attribute"),
        (["loadtest", "lt_targets:not_callable"], "not callable"),
        (["loadtest", "lt_targets:ping", "--requests", "0"], "total_requests"),
        (["loadtest", "lt_targets:ping", "--profile", "ramping_rate"], "needs rate="),
    ],
)
def test_loadtest_bad_input_exits_2(
    targets: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Bad targets and arguments exit 2 with a message naming the problem."""
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_loadtest_unwritable_report_exits_1(
    targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report path that cannot be written exits 1 after printing the summary."""
    code = main(["loadtest", "lt_targets:ping", "--requests", "5", "--json", "no/such/dir/x.json"])
    captured = capsys.readouterr()
    assert code == 1
    assert "throughput" in captured.out
    assert "cannot write" in captured.err
