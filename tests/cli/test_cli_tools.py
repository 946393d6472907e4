"""``agentkit tools``: list, describe and call tools registered by plugins (agentkit.cli._tools)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.cli._main import main
from agentkit.cli._tools import build_registry
from agentkit.plugins._manager import DISABLE_PLUGINS_ENV

PLUGIN_MODULE = "acme_cli_tools_plugin"

PLUGIN_SOURCE = textwrap.dedent(
    '''
    """A third-party plugin with two tools, registered through agentkit_register_tools."""
    import asyncio

    from agentkit import Tool, ToolHints, ToolNotConfiguredError, hookimpl


    async def echo(text, times=1):
        await asyncio.sleep(0)
        return {"echo": " ".join([text] * times)}


    def lookup(term):
        raise ToolNotConfiguredError("acme_lookup needs ACME_LOOKUP_URL")


    @hookimpl
    def agentkit_register_tools(registry):
        registry.register_tool(
            Tool(
                name="acme_echo",
                description="Repeat a text.\\nSecond line of detail.",
                category="acme",
                tags=("demo",),
                parameters={
                    "type": "object",
                    "properties": {
                        "text": {"type": "string"},
                        "times": {"type": "integer", "minimum": 1, "maximum": 5},
                    },
                    "required": ["text"],
                    "additionalProperties": False,
                },
                returns={"type": "object"},
                hints=ToolHints(read_only=True),
                function=echo,
            )
        )
        registry.register_tool(
            Tool(
                name="acme_lookup",
                description="Look a term up in the Acme service.",
                category="acme-web",
                parameters={"type": "object", "properties": {"term": {"type": "string"}}},
                function=lookup,
            )
        )
    '''
)


@pytest.fixture
def tools_plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site folder on sys.path holding an installed plugin distribution with two tools."""
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)
    root = tmp_path / "site"
    dist_info = root / "acme_cli_tools-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-cli-tools\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[agentkit]\nacme_tools = {PLUGIN_MODULE}\n")
    (root / f"{PLUGIN_MODULE}.py").write_text(PLUGIN_SOURCE)
    monkeypatch.syspath_prepend(str(root))
    yield root
    sys.modules.pop(PLUGIN_MODULE, None)


def test_registry_gets_the_tools_of_every_active_plugin(tools_plugin_site: Path) -> None:
    """build_registry activates plugins with a registry, so their tools are registered."""
    registry = build_registry()
    assert {"acme_echo", "acme_lookup"} <= {tool.name for tool in registry.list_tools()}


def test_tools_list_prints_a_table(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``agentkit tools list`` prints a header and one row per tool with its first line."""
    assert main(["tools", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "CATEGORY", "DESCRIPTION"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["acme_echo"].split(None, 2) == ["acme_echo", "acme", "Repeat a text."]
    assert "Second line" not in rows["acme_echo"]


def test_tools_is_list_by_default_and_filters_by_category(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``agentkit tools --category`` is not a thing; ``tools list --category`` filters."""
    assert main(["tools"]) == 0
    assert "acme_lookup" in capsys.readouterr().out
    assert main(["tools", "list", "--category", "acme"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert names == ["acme_echo"]


def test_tools_list_unknown_category_says_which_exist(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty category prints only the header and names the categories on stderr."""
    assert main(["tools", "list", "--category", "nope"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["NAME  CATEGORY  DESCRIPTION"]
    assert "no tools in category 'nope'" in captured.err
    assert "acme-web" in captured.err


def test_tools_describe_prints_the_tool_as_json(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``agentkit tools describe NAME`` prints every field but the function, as JSON."""
    assert main(["tools", "describe", "acme_echo"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["name"] == "acme_echo"
    assert described["category"] == "acme"
    assert described["parameters"]["required"] == ["text"]
    assert described["hints"]["read_only"] is True
    assert described["tags"] == ["demo"]


def test_tools_describe_unknown_name_exits_2(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Describing an unknown tool exits 2 with a message naming it."""
    assert main(["tools", "describe", "nope"]) == 2
    assert "no tool named 'nope'" in capsys.readouterr().err


def test_tools_call_prints_the_result_as_json(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``agentkit tools call NAME --params`` runs the tool and prints its ToolResult."""
    assert main(["tools", "call", "acme_echo", "--params", '{"text": "hi", "times": 2}']) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["success"] is True
    assert result["output"] == {"echo": "hi hi"}
    assert result["tool"] == "acme_echo"
    assert result["duration"] >= 0


def test_tools_call_with_bad_params_prints_the_validation_error(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A schema violation prints a failed result with its JSON pointer and exits 1."""
    assert main(["tools", "call", "acme_echo", "--params", '{"text": "hi", "times": 9}']) == 1
    result = json.loads(capsys.readouterr().out)
    assert (result["success"], result["error_type"], result["error_path"]) == (
        False,
        "validation",
        "/times",
    )


def test_tools_call_reports_a_tool_failure(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tool that is not configured prints error_type not_configured and exits 1."""
    assert main(["tools", "call", "acme_lookup", "--params", '{"term": "x"}']) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["error_type"] == "not_configured"
    assert "ACME_LOOKUP_URL" in result["error"]


@pytest.mark.parametrize(
    ("params", "message"),
    [("{text: hi}", "not valid JSON"), ('["hi"]', "must be a JSON object, not list")],
)
def test_tools_call_with_unparseable_params_exits_2(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str], params: str, message: str
) -> None:
    """--params that is not a JSON object exits 2 before anything runs."""
    assert main(["tools", "call", "acme_echo", "--params", params]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_tools_call_unknown_tool_exits_2(
    tools_plugin_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Calling an unknown tool exits 2 with a message naming it."""
    assert main(["tools", "call", "nope"]) == 2
    assert "no tool named 'nope'" in capsys.readouterr().err


def test_disabled_plugin_contributes_no_tools(
    tools_plugin_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin named in AGENTKIT_DISABLE_PLUGINS registers nothing."""
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, "acme_tools")
    assert "acme_echo" not in build_registry()


def test_tools_call_in_a_subprocess(tools_plugin_site: Path) -> None:
    """``python -m agentkit tools call`` works end to end in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(tools_plugin_site)}
    env.pop(DISABLE_PLUGINS_ENV, None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentkit",
            "tools",
            "call",
            "acme_echo",
            "--params",
            '{"text": "a"}',
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["output"] == {"echo": "a"}
