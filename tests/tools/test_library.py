"""The built-in library as a whole: its shape, its schemas, the registry and the plugin hook."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import agentkit_tools
from agentkit import PluginManager, Tool, ToolRegistry
from agentkit._tool import TOOL_NAME_PATTERN
from agentkit.exceptions import ConfigurationError
from agentkit_tools import ToolsConfig, create_builtin_tools_library
from agentkit_tools._limits import ToolLimits

CATEGORIES = ("text", "data", "file", "web", "math", "time")
GUIDE_TOOLS = (
    "text_search",
    "text_summarize",
    "text_translate",
    "text_sentiment",
    "data_filter",
    "data_sort",
    "data_aggregate",
    "data_pivot",
    "file_read",
    "file_write",
    "file_copy",
    "file_delete",
    "web_search",
    "web_fetch",
    "web_scrape",
    "web_download",
    "math_calculate",
    "math_convert_units",
    "math_statistics",
    "time_format",
    "time_parse",
    "time_calculate_age",
)


def test_public_names() -> None:
    """agentkit_tools exports exactly the library factory, its config and the OpenAPI parser."""
    assert agentkit_tools.__all__ == [
        "CalculatorLimits",
        "OpenAPIParser",
        "ToolsConfig",
        "create_builtin_tools_library",
    ]


def test_library_has_ten_or_more_tools_per_category(tools: dict[str, Tool]) -> None:
    """More than 60 tools, at least 10 in each of the six categories, the guide's among them."""
    counts = Counter(tool.category for tool in tools.values())
    assert len(tools) >= 60
    assert all(counts[category] >= 10 for category in CATEGORIES), counts
    assert set(GUIDE_TOOLS) <= set(tools)


def test_names_follow_category_verb(tools: dict[str, Tool]) -> None:
    """Every name is a valid tool name starting with its category."""
    for name, tool in tools.items():
        assert TOOL_NAME_PATTERN.fullmatch(name)
        assert name.startswith(tool.category + "_"), name
        assert tool.category in tool.tags


def test_schemas_are_valid_and_described(tools: dict[str, Tool]) -> None:
    """Parameter and return schemas are valid JSON Schema; parameters are closed objects."""
    for tool in tools.values():
        jsonschema.Draft202012Validator.check_schema(tool.parameters)
        assert tool.returns is not None
        jsonschema.Draft202012Validator.check_schema(tool.returns)
        assert tool.parameters["type"] == "object"
        assert tool.parameters["additionalProperties"] is False
        assert set(tool.parameters.get("required", [])) <= set(tool.parameters["properties"])
        assert tool.description.endswith((".", ")")), tool.name
        assert tool.function is not None


def test_hints_are_consistent(tools: dict[str, Tool]) -> None:
    """Destructive tools are not read-only; web tools that talk to the network are open-world."""
    for tool in tools.values():
        assert not (tool.hints.destructive and tool.hints.read_only), tool.name
    assert tools["file_delete"].hints.destructive
    assert tools["file_read"].hints.read_only
    assert tools["web_fetch"].hints.open_world
    assert tools["text_translate"].hints.open_world


def test_every_tool_is_tested() -> None:
    """Each built-in tool's name appears in the tool tests (real output and bad input)."""
    sources = "".join(
        path.read_text()
        for path in Path(__file__).parent.glob("test_*.py")
        if path.name != Path(__file__).name
    )
    names = {
        tool.name
        for tool in create_builtin_tools_library(ToolsConfig(sandbox_root=Path(__file__).parent))
    }
    untested = sorted(name for name in names if not re.search(rf'"{name}"', sources))
    assert untested == []


def test_importing_and_building_does_not_import_httpx() -> None:
    """httpx is only imported when a web request is made."""
    code = (
        "import sys, tempfile, agentkit_tools\n"
        "agentkit_tools.create_builtin_tools_library(agentkit_tools.ToolsConfig("
        "sandbox_root=tempfile.gettempdir()))\n"
        "print('httpx' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"


def test_bad_config_is_refused(tmp_path: Path) -> None:
    """A missing sandbox root or a non-positive timeout is a configuration error."""
    from agentkit import ConfigurationError

    with pytest.raises(ConfigurationError, match="not an existing directory"):
        ToolsConfig(sandbox_root=tmp_path / "missing")
    with pytest.raises(ConfigurationError, match="http_timeout"):
        ToolsConfig(sandbox_root=tmp_path, http_timeout=0)


@pytest.fixture
def registry(config: ToolsConfig) -> ToolRegistry:
    """A registry holding the library, checking outputs against the returns schemas."""
    registry = ToolRegistry(validate_output=True)
    for tool in create_builtin_tools_library(config):
        registry.register_tool(tool)
    return registry


async def test_guide_example_returns_a_real_summary(registry: ToolRegistry) -> None:
    """The guide's execute_tool('text_summarize', ...) returns an extractive summary."""
    text = (
        "Agents cooperate over a message bus. The bus carries messages between agents. "
        "Voting lets agents decide together when they disagree. Lunch was at noon."
    )
    result = await registry.execute_tool("text_summarize", {"text": text, "max_length": 100})
    assert result.success, result.error
    assert 0 < len(result.output["summary"]) <= 100
    assert result.output["summary"].startswith("Agents cooperate over a message bus.")


@pytest.mark.parametrize(
    ("name", "params", "error_type", "error_path"),
    [
        ("text_summarize", {"text": "x", "max_length": "long"}, "validation", "/max_length"),
        ("math_calculate", {"expression": "1/0"}, "ZeroDivisionError", None),
        ("math_calculate", {"expression": "__import__('os')"}, "ValueError", None),
        ("file_read", {"path": "../../etc/passwd"}, "sandbox", None),
        ("text_translate", {"text": "hi", "target": "de"}, "not_configured", None),
        ("web_search", {"query": "tea"}, "not_configured", None),
        ("time_parse", {"text": "the day after never"}, "ToolInputError", None),
        ("data_sort", {"rows": [], "by": []}, "validation", "/by"),
    ],
)
async def test_failures_are_structured_results(
    registry: ToolRegistry,
    name: str,
    params: dict[str, Any],
    error_type: str,
    error_path: str | None,
) -> None:
    """Bad input through execute_tool gives a failed ToolResult with a clear error type."""
    result = await registry.execute_tool(name, params)
    assert result.success is False
    assert result.error_type == error_type
    assert result.error
    if error_path is not None:
        assert result.error_path == error_path


async def test_blocked_address_through_the_registry(config: ToolsConfig) -> None:
    """The registry reports a refused address as a sandbox error; nothing reached the wire."""
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        pytest.fail(f"a request reached the network layer: {request.url}")

    guarded = ToolsConfig(sandbox_root=config.root, http_transport=httpx.MockTransport(handler))
    registry = ToolRegistry()
    for tool in create_builtin_tools_library(guarded):
        registry.register_tool(tool)
    result = await registry.execute_tool("web_fetch", {"url": "http://169.254.169.254/"})
    assert (result.success, result.error_type) == (False, "sandbox")


async def test_file_and_time_tools_through_the_registry(registry: ToolRegistry) -> None:
    """Blocking file tools and inline time tools run through execute_tool."""
    written = await registry.execute_tool("file_write", {"path": "a.txt", "content": "hi"})
    assert written.success, written.error
    read = await registry.execute_tool("file_read", {"path": "a.txt"})
    assert read.output["content"] == "hi"
    age = await registry.execute_tool(
        "time_calculate_age", {"birth_date": "2000-01-01", "on_date": "2020-06-01"}
    )
    assert age.output["years"] == 20


def test_plugin_registers_the_library() -> None:
    """Activating the tools plugin with a registry registers every built-in tool."""
    registry = ToolRegistry()
    manager = PluginManager(registry=registry)
    assert any(p["name"] == "tools" and p["status"] == "active" for p in manager.list_plugins())
    assert len(registry) >= 60
    assert "text_summarize" in registry


def _bounded_schemas(schema: Any, where: str) -> list[str]:
    """Every string, array and integer inside *schema* without a bound, as JSON pointers."""
    unbounded = []
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind == "string" and "enum" not in schema and "maxLength" not in schema:
        unbounded.append(where)
    if kind == "array" and "maxItems" not in schema:
        unbounded.append(where)
    if kind == "integer" and "enum" not in schema and "maximum" not in schema:
        unbounded.append(where)
    if isinstance(schema, dict):
        for key in ("properties", "additionalProperties", "items"):
            child = schema.get(key)
            if key == "properties" and isinstance(child, dict):
                for name, sub in child.items():
                    unbounded += _bounded_schemas(sub, f"{where}/{name}")
            elif isinstance(child, dict):
                unbounded += _bounded_schemas(child, f"{where}/{key}")
    return unbounded


def test_text_data_time_parameters_are_bounded(tools: dict[str, Tool]) -> None:
    """Each string, list and integer parameter of a text, data or time tool has a maximum."""
    for tool in tools.values():
        if tool.category in ("text", "data", "time"):
            assert _bounded_schemas(tool.parameters, tool.name) == []


def test_inline_tools_take_only_small_inputs(tools: dict[str, Tool]) -> None:
    """Text, data and time tools that run on the event loop accept only short strings and lists."""
    for tool in tools.values():
        # Async tools wait on I/O; their parsing runs in a thread.
        inline = not tool.blocking and not inspect.iscoroutinefunction(tool.function)
        if tool.category not in ("text", "data", "time") or not inline:
            continue
        for name, schema in tool.parameters["properties"].items():
            assert schema.get("maxLength", 0) <= 2_000, (tool.name, name)
            assert schema.get("maxItems", 0) <= 1_000, (tool.name, name)


def test_limits_are_configurable(tmp_path: Path) -> None:
    """ToolsConfig.limits sets the schemas' bounds; bad limits are refused."""
    limits = ToolLimits(max_text_chars=50, max_rows=7)
    tools = {
        tool.name: tool
        for tool in create_builtin_tools_library(ToolsConfig(sandbox_root=tmp_path, limits=limits))
    }
    assert tools["text_search"].parameters["properties"]["text"]["maxLength"] == 50
    assert tools["data_sort"].parameters["properties"]["rows"]["maxItems"] == 7
    with pytest.raises(ConfigurationError, match="max_rows"):
        ToolLimits(max_rows=0)
