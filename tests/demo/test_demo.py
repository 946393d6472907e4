"""``agentkit demo``: the fraud-detection scenario on memory://, NATS and Ray."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import agentkit
import agentkit.execution._engine
import agentkit.observability
from agentkit.demo._demo import _provide_analyst_tools, run
from agentkit.demo._fraud import ANALYST_TOOLS, ANALYST_WEIGHTS, make_transactions
from agentkit.demo._standins import BUILTIN_TOOL_COUNT, STANDIN_NAMES, standin_tools
from agentkit.exceptions import ConfigurationError
from agentkit.plugins import DISABLE_PLUGINS_ENV, PluginManager
from agentkit.tools import ToolRegistry
from agentkit_tools import ToolsConfig, create_builtin_tools_library

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


#: What the report says when the analysts run on the demo's stand-ins.
INSTALL_LINE = "pip install 'agentkit-kernel[tools]'"
STAND_INS = f"the analysts use the demo's stand-ins ({INSTALL_LINE} adds the 72 built-ins)"

_DECISION = re.compile(r"^ +(T-\d+) .* -> (APPROVE|BLOCK) \((.+)\)$", re.MULTILINE)


def decisions(report: str) -> dict[str, tuple[str, str]]:
    """Each transaction's decision and how it was reached (a share, or ``supervisor``)."""
    return {found[1]: (found[2], found[3]) for found in _DECISION.finditer(report)}


def consensus_section(report: str) -> str:
    """The report's consensus section, votes and reasons included (it holds no timings)."""
    return report[report.index("\n1. ") : report.index("\n2. ")]


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


@pytest.mark.timeout(120)
async def test_demo_without_the_tools_plugin_decides_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the tools plugin disabled the stand-ins reach the built-ins' decisions, and say so."""
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)
    code, with_builtins = await run_demo_to_text()
    assert code == 0
    assert "from the tools plugin (agentkit-tools " in with_builtins.splitlines()[1]
    assert INSTALL_LINE not in with_builtins
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, "tools")
    code, with_stand_ins = await run_demo_to_text()
    assert code == 0
    assert_complete_report(with_stand_ins)
    assert with_stand_ins.splitlines()[1] == (
        "built-in tools: the tools plugin is disabled by the AGENTKIT_DISABLE_PLUGINS"
        f" environment variable; {STAND_INS}"
    )
    expected = decisions(with_builtins)
    assert len(expected) == 20
    assert [t for t, (_, how) in expected.items() if how == "supervisor"] == ["T-10007", "T-10014"]
    assert decisions(with_stand_ins) == expected
    assert consensus_section(with_stand_ins) == consensus_section(with_builtins)


async def test_stand_ins_give_the_builtins_outputs_on_the_demo_transactions(
    tmp_path: Path,
) -> None:
    """On the demo's 20 transactions every stand-in returns what the built-in tool returns."""
    assert set(STANDIN_NAMES) == set(ANALYST_TOOLS)
    builtins, stand_ins = ToolRegistry(), ToolRegistry()
    for tool in create_builtin_tools_library(ToolsConfig(sandbox_root=tmp_path)):
        if tool.name in ANALYST_TOOLS:
            builtins.register_tool(tool)
    for tool in standin_tools():
        stand_ins.register_tool(tool)
    transactions = make_transactions(20, seed=7)
    calls: list[tuple[str, dict[str, Any]]] = []
    for transaction in transactions:
        calls.append(("math_statistics", {"values": transaction["history"]}))
        calls.append(("time_parse", {"text": transaction["timestamp"]}))
        calls.append(("time_date_info", {"date_text": transaction["timestamp"][:10]}))
        calls.append(("text_sentiment", {"text": transaction["memo"]}))
    rows = [{**t, "decision": "block" if t["amount"] > 1000 else "approve"} for t in transactions]
    aggregations = [{"function": "count"}, {"function": "sum", "field": "amount"}]
    for group_by in (["decision"], ["merchant", "account"]):
        calls.append(
            ("data_aggregate", {"rows": rows, "group_by": group_by, "aggregations": aggregations})
        )
    assert {name for name, _ in calls} == set(ANALYST_TOOLS)
    labels = set()
    for name, params in calls:
        real = await builtins.execute_tool(name, params)
        stand_in = await stand_ins.execute_tool(name, params)
        assert real.success, (name, real.error)
        assert stand_in.success, (name, stand_in.error)
        assert stand_in.output == {key: real.output[key] for key in stand_in.output}, (name, params)
        if name == "text_sentiment":
            labels.add(stand_in.output["label"])
    assert labels == {"positive", "negative", "neutral"}


def test_the_report_names_the_true_number_of_builtins(tmp_path: Path) -> None:
    """The fallback line's count of built-in tools is the size of agentkit-tools' library."""
    assert (
        len(create_builtin_tools_library(ToolsConfig(sandbox_root=tmp_path))) == BUILTIN_TOOL_COUNT
    )
    assert f"adds the {BUILTIN_TOOL_COUNT} built-ins" in STAND_INS


def test_without_agentkit_tools_the_report_gives_the_install_line() -> None:
    """With no tools plugin at all, all five tools are stand-ins and the line says to install."""
    registry = ToolRegistry()
    line = _provide_analyst_tools(registry, PluginManager(registry=registry, entry_points=False))
    assert line == f"built-in tools: not installed; {STAND_INS}"
    assert sorted(tool.name for tool in registry.list_tools()) == sorted(ANALYST_TOOLS)
    assert all("stand-in" in registry.get_tool(name).tags for name in ANALYST_TOOLS)


_STATS_PLUGIN = """
from agentkit.hookspecs import hookimpl
from agentkit.tools import Tool


def stats(values):
    return {"mean": sum(values) / len(values), "stdev": 0.0}


@hookimpl
def agentkit_register_tools(registry):
    registry.register_tool(
        Tool(
            name="math_statistics",
            description="the stats plugin's statistics",
            parameters={"type": "object", "properties": {"values": {"type": "array"}}},
            function=stats,
        )
    )
"""


def test_report_names_the_plugin_each_tool_comes_from(tmp_path: Path) -> None:
    """A tool another plugin added is used and credited; only the rest are stand-ins."""
    folder = tmp_path / "stats"
    folder.mkdir()
    (folder / "plugin.json").write_text(
        '{"name": "stats", "version": "1.0.0", "description": "statistics"}', encoding="utf-8"
    )
    (folder / "__init__.py").write_text(_STATS_PLUGIN, encoding="utf-8")
    registry = ToolRegistry()
    plugins = PluginManager([tmp_path], registry=registry, entry_points=False)
    line = _provide_analyst_tools(registry, plugins)
    assert line == (
        "built-in tools: math_statistics from the stats plugin; text_sentiment, time_parse,"
        " time_date_info, data_aggregate from the demo's stand-ins"
        f" ({INSTALL_LINE} adds the 72 built-ins)"
    )
    assert registry.get_tool("math_statistics").description == "the stats plugin's statistics"
    assert "stand-in" in registry.get_tool("data_aggregate").tags


def test_stand_ins_refuse_a_name_they_do_not_have() -> None:
    """Asking for a stand-in the demo does not have is a ConfigurationError."""
    assert [tool.name for tool in standin_tools(["time_parse"])] == ["time_parse"]
    with pytest.raises(ConfigurationError, match="no demo stand-in for \\['web_fetch'\\]"):
        standin_tools(["web_fetch"])


_WITHOUT_PLUGINS = textwrap.dedent(
    """
    import asyncio, importlib.abc, sys

    class Uninstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("agentkit_tools", "agentkit_ray"):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Uninstalled())
    import agentkit.demo

    code = asyncio.run(agentkit.demo.run_demo())
    assert not [m for m in sys.modules if m.startswith(("agentkit_tools", "agentkit_ray"))]
    sys.exit(code)
    """
)


@pytest.mark.timeout(120)
def test_demo_runs_when_agentkit_tools_cannot_be_imported() -> None:
    """With agentkit_tools unimportable the demo completes on its stand-ins and imports none."""
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PLUGINS],
        capture_output=True,
        text=True,
        env=demo_environment(),
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert_complete_report(done.stdout)
    decided = decisions(done.stdout)
    assert len(decided) == 20
    assert [t for t, (_, how) in decided.items() if how == "supervisor"] == ["T-10007", "T-10014"]
    tools_line = done.stdout.splitlines()[1]
    assert tools_line.startswith("built-in tools: the tools plugin failed (ModuleNotFoundError")
    assert tools_line.endswith(STAND_INS)


async def test_demo_trace_prints_one_escalated_round_as_a_tree() -> None:
    """With trace=True the report ends its consensus section with one round's span tree."""
    out = io.StringIO()
    assert await run(None, out=out, trace=True) == 0
    report = out.getvalue()
    assert_complete_report(report)
    section = consensus_section(report)
    tree = section[section.index("The trace of one consensus round") :].splitlines()[1:]
    tree = [line.strip() for line in tree if line.strip()]
    assert tree[0].startswith("consensus weighted")
    assert "escalated=True" in tree[0]
    assert tree[1].startswith("│  • escalation")
    body = "\n".join(tree)
    assert body.count("vote fraud-detection") == 3
    for agent in ANALYST_WEIGHTS:
        assert f"agent={agent}" in body
    assert body.count("publish agentkit.swarm.fraud-detection.votes") == 3
    assert "execute_tool" in body
    assert tree[-1].startswith("└─ resolve weighted")
    assert not agentkit.observability.is_instrumented()


def test_cli_demo_trace_flag() -> None:
    """`agentkit demo --trace` prints the tree and exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "agentkit", "demo", "--trace"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "The trace of one consensus round" in result.stdout
    assert "└─ resolve weighted" in result.stdout
