"""``agentkit demo``: the fraud-detection scenario on memory://, NATS and Ray."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import agentkit
import agentkit.execution._engine
from agentkit.demo._demo import run
from agentkit.demo._fraud import ANALYST_WEIGHTS, make_transactions
from agentkit.exceptions import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]

#: One line (or fragment) per section that shows the section did its job.
KEY_LINES = (
    "consensus decision: approve",
    "consensus decision: block",
    "escalated to supervisor, who decided block",
    "circuit 'risk-api' closed -> open",
    "fallback served",
    "failover scorer-primary -> scorer-backup",
    "parallel_map: batch scored 20 transactions",
    "Throughput:",
    "Latency p95:",
    "Error rate: 0.0%",
    "Summary",
)


def assert_complete_report(report: str) -> None:
    """Every section's key line is in *report*."""
    missing = [line for line in KEY_LINES if line not in report]
    assert not missing, f"missing {missing} in:\n{report}"


async def run_demo_to_text(url: str | None = None, executor: str = "local") -> tuple[int, str]:
    """Run the demo and return its exit code and report."""
    out = io.StringIO()
    code = await run(url, out=out, executor=executor)
    return code, out.getvalue()


async def test_demo_on_memory_runs_every_section() -> None:
    """On memory:// the demo exits 0 and reports every section's outcome."""
    code, report = await run_demo_to_text()
    assert code == 0
    assert_complete_report(report)
    assert "InMemoryPubSub" in report
    assert "on the local executor" in report


async def test_demo_decides_every_transaction_and_escalates_ties() -> None:
    """Each of the 20 transactions is decided; the two planted deadlocks go to the supervisor."""
    code, report = await run_demo_to_text()
    assert code == 0
    assert report.count(" -> APPROVE (") + report.count(" -> BLOCK (") == 20
    assert "deadlock on T-10007: approve 2.00 vs block 2.00" in report
    assert "deadlock on T-10014: approve 2.00 vs block 2.00" in report


async def test_run_demo_is_the_public_entry_point() -> None:
    """``agentkit.demo.run_demo`` is exported (not from the package root) and runs the demo."""
    import agentkit.demo

    assert "run_demo" in agentkit.demo.__all__
    assert "run_demo" not in agentkit.__all__
    out = io.StringIO()
    assert await agentkit.demo.run_demo(out=out) == 0
    assert_complete_report(out.getvalue())


def test_transactions_are_seeded() -> None:
    """The same seed gives the same transactions; another seed gives others."""
    assert make_transactions(20, seed=7) == make_transactions(20, seed=7)
    assert make_transactions(20, seed=7) != make_transactions(20, seed=8)
    assert len(make_transactions(5)) == 5


def test_lead_alone_against_the_others_is_a_tie() -> None:
    """The seniority weights make the lead analyst alone weigh as much as the other two."""
    lead = ANALYST_WEIGHTS["analyst-lead"]
    assert lead == ANALYST_WEIGHTS["analyst-senior"] + ANALYST_WEIGHTS["analyst-junior"]


async def test_unknown_executor_is_refused_before_anything_runs() -> None:
    """An executor other than local or ray raises ConfigurationError and prints nothing."""
    out = io.StringIO()
    with pytest.raises(ConfigurationError, match="unknown executor 'spark'"):
        await run(out=out, executor="spark")
    assert out.getvalue() == ""


async def test_ray_without_ray_prints_the_pip_line_and_exits_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ray missing, ``executor="ray"`` prints the install line and returns 1 at once."""
    monkeypatch.setattr(agentkit.execution._engine, "ray_available", lambda: False)
    code, report = await run_demo_to_text(executor="ray")
    assert code == 1
    assert "pip install 'agentkit-kernel[ray]'" in report
    assert "Summary" not in report


async def test_demo_leaves_configured_logging_alone(caplog: pytest.LogCaptureFixture) -> None:
    """A program that configured logging still receives the records the demo's failures log."""
    caplog.set_level("INFO", logger="agentkit")
    code, _ = await run_demo_to_text()
    assert code == 0
    assert any(record.name.startswith("agentkit.") for record in caplog.records)


@pytest.mark.nats
@pytest.mark.timeout(90)
async def test_demo_on_nats_runs_every_section(nats_url: str) -> None:
    """On a real nats-server the demo exits 0 with every section's outcome."""
    code, report = await run_demo_to_text(nats_url)
    assert code == 0
    assert_complete_report(report)
    assert "NatsPubSub" in report


@pytest.mark.ray
@pytest.mark.timeout(180)
async def test_demo_with_ray_executor(ray_cluster: Any) -> None:
    """``executor="ray"`` batch-scores on Ray and runs every other section as well."""
    code, report = await run_demo_to_text(executor="ray")
    assert code == 0
    assert_complete_report(report)
    assert "Batch scoring on the ray executor" in report


def demo_environment() -> dict[str, str]:
    """The environment for a subprocess demo: the in-memory bus."""
    env = dict(os.environ)
    env.pop("AGENTKIT_BUS_URL", None)
    return env


@pytest.mark.timeout(120)
def test_agentkit_demo_command_exits_0() -> None:
    """``agentkit demo`` in a fresh process exits 0, prints the report and no log noise."""
    script = Path(sys.executable).with_name("agentkit")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "agentkit"]
    done = subprocess.run(
        [*command, "demo"],
        capture_output=True,
        text=True,
        env=demo_environment(),
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert_complete_report(done.stdout)
    assert "Traceback" not in done.stderr
    assert "unhealthy" not in done.stderr


@pytest.mark.timeout(120)
def test_example_runs_the_demo(tmp_path: Path) -> None:
    """``examples/enterprise_integration_demo.py`` runs the demo and saves its report."""
    saved = tmp_path / "report.txt"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples/enterprise_integration_demo.py"),
            "--report",
            str(saved),
        ],
        capture_output=True,
        text=True,
        env=demo_environment(),
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert_complete_report(done.stdout)
    assert_complete_report(saved.read_text(encoding="utf-8"))
