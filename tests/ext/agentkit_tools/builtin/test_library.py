"""The built-in library as a whole: its shape, its schemas, the registry and the plugin hook."""

from __future__ import annotations

import functools
import inspect
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import agentkit_tools
from agentkit import PluginManager, Tool, ToolRegistry
from agentkit.exceptions import ConfigurationError
from agentkit.tools import TOOL_NAME_PATTERN
from agentkit_tools import ToolsConfig, create_builtin_tools_library
from agentkit_tools.builtin._limits import ToolLimits
from tests.ext.agentkit_tools.builtin.conftest import schema_errors

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
    """agentkit_tools exports the library factory, its config, the OpenAPI parser and errors."""
    assert agentkit_tools.__all__ == [
        "APIResponseError",
        "CalculatorLimits",
        "OpenAPIError",
        "OpenAPILimitError",
        "OpenAPIParser",
        "ToolLimits",
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
        ("math_calculate", {"expression": "__import__('os')"}, "ToolInputError", None),
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


SMALL_LIMITS = ToolLimits(
    max_text_chars=2_000,
    max_rows=30,
    max_output_chars=20_000,
    max_output_items=2_000,
    max_output_cells=2_000,
    max_list_items=10,
    max_diff_cells=10_000,
    max_validation_steps=5_000,
)
TYPED_FAILURES = frozenset(
    {"validation", "not_configured", "ToolInputError", "LimitExceededError", "PatternError"}
)


SMALL_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-1e3, 1e3) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(["k", "a", "a.b", "0", "user.age", "x"])


def from_schema(schema: Any) -> st.SearchStrategy[Any]:
    """Values for the schema shapes the built-in tools use (sizes capped for speed)."""
    if not isinstance(schema, dict) or not schema.get("type"):
        return SMALL_JSON
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if isinstance(kind, list):
        return st.one_of(*(from_schema({**schema, "type": one}) for one in kind))
    if kind == "string":
        size = min(schema.get("maxLength", 50), 300)
        low = min(schema.get("minLength", 0), size)
        return st.text(min_size=low, max_size=size) | FIELD_NAMES.filter(
            lambda v: low <= len(v) <= size
        )
    if kind == "integer":
        return st.integers(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {})),
            min_size=schema.get("minItems", 0),
            max_size=max(schema.get("minItems", 0), min(schema.get("maxItems", 10), 10)),
            unique_by=(lambda v: json.dumps(v, sort_keys=True))
            if schema.get("uniqueItems")
            else None,
        )
    properties = schema.get("properties")
    if not properties:
        rows = st.dictionaries(FIELD_NAMES, SMALL_JSON, max_size=4)
        return rows | st.dictionaries(st.text(max_size=4), SMALL_JSON, max_size=4)
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {key: from_schema(sub) for key, sub in properties.items() if key in required},
        optional={key: from_schema(sub) for key, sub in properties.items() if key not in required},
    )


@functools.cache
def small_registry() -> tuple[ToolRegistry, dict[str, Tool]]:
    """Every text, data and time tool with SMALL_LIMITS, registered once."""
    config = ToolsConfig(sandbox_root=Path(tempfile.gettempdir()), limits=SMALL_LIMITS)
    chosen = {
        tool.name: tool
        for tool in create_builtin_tools_library(config)
        if tool.category in ("text", "data", "time")
    }
    registry = ToolRegistry()
    for tool in chosen.values():
        registry.register_tool(tool)
    return registry, chosen


@given(data=st.data(), name=st.sampled_from(sorted(small_registry()[1])))
@settings(
    max_examples=400, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
async def test_any_valid_arguments_give_bounded_output_or_a_typed_error(
    data: st.DataObject, name: str
) -> None:
    """Arguments generated from each schema end in output bounded by the limits, or refused."""
    registry, chosen = small_registry()
    params = data.draw(from_schema(chosen[name].parameters), label="params")
    if schema_errors(chosen[name].parameters, params):
        return  # the registry refuses these before the tool runs (tested elsewhere)
    result = await registry.execute_tool(name, params)
    event(f"{name}: {'ok' if result.success else result.error_type}")
    if not result.success:
        assert result.error_type in TYPED_FAILURES, (name, result.error_type, result.error)
        return
    size = len(json.dumps(result.output, default=str))
    given_size = len(json.dumps(params, default=str))
    # Outputs grow at most by a constant factor of the input, or up to the output limits.
    assert size <= 4 * given_size + 3 * SMALL_LIMITS.max_output_chars, (name, size, given_size)


def test_a_default_configs_temporary_sandbox_goes_with_it() -> None:
    """The temporary sandbox a default ToolsConfig makes is removed, with what tools wrote in it,
    once the config is collected; a sandbox the user named is never touched."""
    import gc

    config = ToolsConfig()
    root = config.root
    (root / "notes").mkdir()
    (root / "notes" / "a.txt").write_text("kept until the config goes")
    named = ToolsConfig(sandbox_root=root.parent)
    del config
    gc.collect()
    assert not root.exists()
    assert named.root.is_dir()


def test_plugin_managers_leave_no_sandboxes_behind() -> None:
    """Creating and dropping plugin managers with registries (the tools plugin makes a default
    config each time) leaves no temporary sandbox directories behind."""
    import gc

    temp = Path(tempfile.gettempdir())
    before = set(temp.glob("agentkit-tools-*"))
    for _ in range(3):
        PluginManager(registry=ToolRegistry()).discover_plugins()
    gc.collect()
    assert set(temp.glob("agentkit-tools-*")) <= before
