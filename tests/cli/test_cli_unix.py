"""The ``agentkit`` command as a Unix tool: pipes, Ctrl-C, usage errors, --json, plugin commands."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.cli import main
from agentkit.plugins import DISABLE_PLUGINS_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def _no_disabled_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's AGENTKIT_DISABLE_PLUGINS out of these tests."""
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)


def agentkit_env(**extra: str) -> dict[str, str]:
    """The environment for an ``agentkit`` subprocess, without a developer's disabled plugins."""
    env = {key: value for key, value in os.environ.items() if key != DISABLE_PLUGINS_ENV}
    env.update(extra)
    return env


@pytest.mark.parametrize(
    "argv",
    [
        ["tools", "list"],
        ["tools", "list", "--json"],
        ["plugins"],
        ["plugins", "show", "tools", "--json"],
        ["tools", "describe", "math_statistics"],
    ],
)
def test_a_closed_pipe_exits_141_without_a_traceback(argv: list[str]) -> None:
    """Output into a pipe whose reader is gone (``agentkit ... | head``) ends with status 141
    (128 + SIGPIPE) and nothing on stderr, whichever command was writing."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before a byte is written: EPIPE on the first write
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "agentkit", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=agentkit_env(),
            timeout=100,
            check=False,
        )
    finally:
        os.close(write_end)
    assert completed.returncode == 141, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "BrokenPipeError" not in completed.stderr


def test_head_reads_the_first_lines_and_agentkit_ends_cleanly() -> None:
    """``agentkit tools list --json | head -3`` gives head its lines; agentkit leaves no
    traceback behind, whether or not it was still writing when head left."""
    agentkit = subprocess.Popen(
        [sys.executable, "-m", "agentkit", "tools", "list", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=agentkit_env(),
    )
    head = subprocess.run(
        ["head", "-3"], stdin=agentkit.stdout, capture_output=True, text=True, timeout=100
    )
    assert agentkit.stdout is not None
    agentkit.stdout.close()
    _, err = agentkit.communicate(timeout=100)
    assert head.stdout.splitlines()[0] == "["
    assert agentkit.returncode in (0, 141)
    assert b"Traceback" not in err


LOAD_OPTIONS = ["--duration", "90", "--concurrency", "2", "--no-progress"]


LOAD_OPTIONS = ["--duration", "90", "--concurrency", "2", "--no-progress"]


def test_ctrl_c_exits_130_with_one_line(tmp_path: Path) -> None:
    """SIGINT during a load test ends ``agentkit`` with status 130 and one line on stderr."""
    started = tmp_path / "started"
    (tmp_path / "slow_target.py").write_text(
        "import asyncio, pathlib\n"
        f"MARK = pathlib.Path({str(started)!r})\n"
        "async def call():\n"
        "    MARK.touch()\n"
        "    await asyncio.sleep(0.05)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "agentkit", "loadtest", "slow_target:call", *LOAD_OPTIONS],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=agentkit_env(PYTHONPATH=str(tmp_path)),
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the load test never called its target"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert err.strip().splitlines() == ["agentkit: interrupted"]


@pytest.mark.parametrize(
    "argv",
    [
        ["tools", "list", "--frobnicate"],
        ["plugins", "show"],
        ["loadtest"],
        ["demo", "--executor", "spark"],
        ["no-such-command"],
    ],
)
def test_a_bad_argument_exits_2_with_usage(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad argument prints the usage and the problem on stderr and exits 2, nothing on stdout."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage: agentkit" in captured.err
    assert "error:" in captured.err


def test_plugins_json(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit plugins --json`` and ``plugins show NAME --json`` print the plugin dicts."""
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    by_name = {entry["name"]: entry for entry in listing}
    assert by_name["tools"]["status"] == "active"
    assert by_name["ray"]["version"] == importlib.metadata.version("agentkit-ray")
    assert main(["plugins", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == listing
    assert main(["plugins", "show", "ray", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == by_name["ray"]


def test_tools_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit tools list --json`` prints name, category and description of each tool."""
    assert main(["tools", "list", "--json", "--category", "math"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing
    assert {entry["category"] for entry in listing} == {"math"}
    assert {"math_statistics", "math_calculate"} <= {entry["name"] for entry in listing}
    assert main(["tools", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) >= 72


def test_loadtest_json_on_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``agentkit loadtest ... --json`` prints only the result's JSON on stdout."""
    (tmp_path / "quick_target.py").write_text("def call():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    argv = ["loadtest", "quick_target:call", "--requests", "25", "--no-progress", "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == 25
    assert result["successes"] == 25


def test_openapi_command_comes_from_the_openapi_plugin() -> None:
    """The ``openapi`` command is added by the openapi plugin's agentkit_add_commands hook."""
    from agentkit.plugins import PluginManager

    manager = PluginManager()
    plugins = {impl.plugin_name for impl in manager.hook.agentkit_add_commands.get_hookimpls()}
    assert "openapi" in plugins


def test_openapi_without_its_plugin_says_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the openapi plugin disabled, ``agentkit openapi ...`` says which plugin brings it
    and why it is off, and exits 1."""
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, "openapi")
    assert main(["openapi", "inspect", "spec.yaml"]) == 1
    err = capsys.readouterr().err
    assert "agentkit openapi: it comes with the openapi plugin, which is inactive" in err
    assert DISABLE_PLUGINS_ENV in err


def test_openapi_not_installed_names_the_pip_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without agentkit-tools, ``agentkit openapi`` names the pip line that adds it."""
    real = importlib.metadata.entry_points

    def entry_points(**params: object) -> importlib.metadata.EntryPoints:
        found = real(**params)  # type: ignore[arg-type]
        if params.get("group") == "agentkit":
            return importlib.metadata.EntryPoints(
                ep for ep in found if ep.name not in {"tools", "openapi"}
            )
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    assert main(["openapi", "call", "spec.yaml", "op"]) == 1
    err = capsys.readouterr().err
    assert "not installed" in err
    assert "pip install 'agentkit-kernel[openapi]'" in err


HELLO_PLUGIN = """
from agentkit import hookimpl

def run(args, out, err):
    print(f"hello {args.name}", file=out)
    return 0

@hookimpl
def agentkit_add_commands(commands):
    parser = commands.add_parser("hello", help="say hello")
    parser.add_argument("--name", default="world")
    parser.set_defaults(run=run)
"""

CLASHING_PLUGIN = """
from agentkit import hookimpl

@hookimpl
def agentkit_add_commands(commands):
    commands.add_parser("tools", help="a second tools command")
"""


@pytest.fixture
def command_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site folder with two installed plugins that add commands, one of them clashing."""
    root = tmp_path / "site"
    dist_info = root / "acme_commands-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-commands\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[agentkit]\nhello = acme_hello_plugin\nclash = acme_clash_plugin\n"
    )
    (root / "acme_hello_plugin.py").write_text(HELLO_PLUGIN)
    (root / "acme_clash_plugin.py").write_text(CLASHING_PLUGIN)
    monkeypatch.syspath_prepend(str(root))
    yield root
    for module in ("acme_hello_plugin", "acme_clash_plugin"):
        sys.modules.pop(module, None)


def test_a_plugin_adds_a_command_and_a_clashing_one_loses_only_its_own(
    command_plugins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plugin's command runs through ``agentkit``; a plugin whose command name is taken is
    reported on stderr and the other commands keep working."""
    assert main(["hello", "--name", "agentkit"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "hello agentkit\n"
    assert "plugin 'clash' could not add its commands" in captured.err
    assert main(["tools", "list", "--category", "math", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)
