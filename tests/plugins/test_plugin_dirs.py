"""Tests for directory plugins: plugin.json validation, loading, failure modes, tools, CLI."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import agentkit
from agentkit import PluginError, PluginManager, PluginStatus, Tool, ToolRegistry
from agentkit.cli._main import main
from agentkit.plugins._dirs import (
    MANIFEST_NAME,
    find_directory_plugins,
    load_manifest,
    manifest_schema,
)
from agentkit.plugins._manager import DISABLE_PLUGINS_ENV

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugins" / "dir" / "weather"

GOOD_INIT = """
from agentkit import Tool, hookimpl

def echo(text):
    return {"echo": text}

@hookimpl
def agentkit_register_tools(registry):
    registry.register_tool(Tool(
        name="acme_echo",
        description="Echo the text.",
        parameters={"type": "object", "properties": {"text": {"type": "string"}}},
        blocking=False,
        function=echo,
    ))
"""


def manifest(name: str, **fields: Any) -> dict[str, Any]:
    """A valid plugin.json for *name*, with *fields* added or replaced."""
    return {"name": name, "version": "1.0.0", "description": f"the {name} plugin", **fields}


@pytest.fixture(autouse=True)
def _no_disabled_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's AGENTKIT_DISABLE_PLUGINS out of these tests."""
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)


class PluginFolder:
    """A ``plugins/`` folder in a temporary directory, filled by the test."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(
        self,
        folder: str,
        plugin_json: dict[str, Any] | str | None,
        init_source: str | None = GOOD_INIT,
        files: dict[str, str] | None = None,
    ) -> Path:
        """Write ``<root>/<folder>/`` with a plugin.json (text as given), __init__.py and files."""
        path = self.root / folder
        path.mkdir(parents=True)
        if plugin_json is not None:
            text = plugin_json if isinstance(plugin_json, str) else json.dumps(plugin_json)
            (path / MANIFEST_NAME).write_text(text)
        if init_source is not None:
            (path / "__init__.py").write_text(textwrap.dedent(init_source))
        for relative, source in (files or {}).items():
            (path / relative).parent.mkdir(parents=True, exist_ok=True)
            (path / relative).write_text(textwrap.dedent(source))
        return path

    def add_good(self, folder: str = "good", name: str = "acme_good") -> Path:
        """A working plugin that registers the tool ``acme_echo``."""
        return self.add(folder, manifest(name))


@pytest.fixture
def plugins(tmp_path: Path) -> Iterator[PluginFolder]:
    """An empty plugins folder; modules imported from it are forgotten afterwards."""
    root = tmp_path / "plugins"
    root.mkdir()
    yield PluginFolder(root)
    for module_name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[module_name]


@pytest.fixture
def weather(plugins: PluginFolder) -> Path:
    """The example directory plugin (examples/plugins/dir/weather) copied into plugins/."""
    return Path(shutil.copytree(EXAMPLE, plugins.root / "weather"))


def manager_for(plugins: PluginFolder, **options: Any) -> tuple[PluginManager, ToolRegistry]:
    """A manager over *plugins* with a fresh real registry, after discover_plugins()."""
    registry = ToolRegistry()
    manager = PluginManager(plugin_dirs=[plugins.root], registry=registry, **options)
    manager.discover_plugins()
    return manager, registry


async def assert_others_work(manager: PluginManager, registry: ToolRegistry) -> None:
    """The good directory plugin and the built-in entry-point plugins are still active."""
    good = manager.plugin_info("acme_good")
    assert good is not None
    assert good.status is PluginStatus.ACTIVE, good.error
    result = await registry.execute_tool("acme_echo", {"text": "still here"})
    assert result.output == {"echo": "still here"}
    for name in ("tools", "openapi"):
        info = manager.plugin_info(name)
        assert info is not None
        assert info.status is PluginStatus.ACTIVE, info.error
    assert "text_summarize" in registry  # the tools plugin's registration went through


async def test_example_weather_plugin_is_active_and_its_tools_run(weather: Path) -> None:
    """The example plugin is listed under its plugin.json name and its tools work."""
    manager, registry = manager_for(PluginFolder(weather.parent), entry_points=False)
    assert manager.discover_plugins() == ["weather_tools"]
    info = manager.plugin_info("weather_tools")
    assert info is not None
    assert info.status is PluginStatus.ACTIVE, info.error
    assert info.version == "1.0.0"
    assert info.source == f"directory {weather.resolve()}"  # noqa: ASYNC240
    assert info.description is not None
    assert info.description.startswith("Wind and comfort tools")
    assert info.tools == ("weather_beaufort", "weather_comfort")
    assert manager.install_plugin("weather_tools") is True
    entry = next(item for item in manager.list_plugins() if item["name"] == "weather_tools")
    assert entry["status"] == "active"
    assert entry["error"] is None
    result = await registry.execute_tool("weather_beaufort", {"wind_speed_ms": 9.0})
    assert result.output == {"force": 5, "description": "fresh breeze"}
    comfort = await registry.execute_tool(
        "weather_comfort", {"temperature_c": 30, "relative_humidity": 70}
    )
    assert comfort.output == {"dew_point_c": 23.9, "comfort": "very humid"}


def test_guide_style_relative_path(weather: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``plugin_dirs=[Path("./plugins")]`` is read relative to the working directory."""
    monkeypatch.chdir(weather.parent.parent)
    manager = PluginManager(plugin_dirs=[Path("./plugins")], registry=ToolRegistry())
    manager.discover_plugins()
    assert manager.install_plugin("weather_tools") is True
    statuses = {item["name"]: item["status"] for item in manager.list_plugins()}
    assert statuses["weather_tools"] == "active"


def test_directory_plugins_load_only_from_named_folders(
    weather: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manager given no plugin_dirs ignores ./plugins in the working directory."""
    monkeypatch.chdir(weather.parent.parent)
    manager = PluginManager()
    assert manager.plugin_info("weather_tools") is None
    assert not manager.install_plugin("weather_tools")


def test_install_activates_without_auto_activate(plugins: PluginFolder) -> None:
    """With auto_activate=False a plugin is discovered, not imported, until installed."""
    folder = plugins.add_good()
    manager, registry = manager_for(plugins, auto_activate=False, entry_points=False)
    info = manager.plugin_info("acme_good")
    assert info is not None
    assert info.status is PluginStatus.DISCOVERED
    assert info.module not in sys.modules
    assert "acme_echo" not in registry
    assert manager.install_plugin("acme_good") is True
    assert manager.install_plugin("acme_good") is True
    assert sys.modules[info.module].__file__ == str(folder.resolve() / "__init__.py")
    assert "acme_echo" in registry


async def test_uninstall_removes_hooks_and_tools(plugins: PluginFolder) -> None:
    """uninstall_plugin unregisters the plugin's hooks and its tools; install adds them back."""
    plugins.add_good()
    manager, registry = manager_for(plugins, entry_points=False)
    registry.register_tool(
        Tool(name="user_tool", description="mine", blocking=False, function=lambda: 1)
    )
    assert "acme_echo" in registry
    assert manager.uninstall_plugin("acme_good") is True
    info = manager.plugin_info("acme_good")
    assert info is not None
    assert info.status is PluginStatus.INACTIVE
    assert info.tools == ()
    assert "acme_echo" not in registry
    assert "user_tool" in registry
    assert manager.pluggy_manager.get_plugin("acme_good") is None
    assert manager.install_plugin("acme_good") is True
    result = await registry.execute_tool("acme_echo", {"text": "back"})
    assert result.output == {"echo": "back"}


def test_uninstall_leaves_a_replaced_tool_alone(plugins: PluginFolder) -> None:
    """A tool replaced by someone else after the plugin added it survives uninstall."""
    plugins.add_good()
    manager, registry = manager_for(plugins, entry_points=False)
    mine = Tool(name="acme_echo", description="mine now", blocking=False, function=lambda: 1)
    registry.register_tool(mine, replace=True)
    assert manager.uninstall_plugin("acme_good")
    assert registry.get_tool("acme_echo") is mine


# -- failure modes: each puts one plugin in error and leaves the others working ------------------

BAD_MANIFESTS = [
    pytest.param("{not json", "not valid JSON: Expecting property name", id="bad-json"),
    pytest.param([1, 2], "must be a JSON object, not list", id="not-an-object"),
    pytest.param(
        {"name": "broken", "description": "x"}, 'missing the required field "version"', id="missing"
    ),
    pytest.param(
        manifest("broken", version=2), "field \"version\": 2 is not of type 'string'", id="type"
    ),
    pytest.param(manifest("broken", tags=["a", 3]), 'field "tags[1]": 3 is not of type', id="tags"),
    pytest.param(manifest("broken", nmae="x"), 'unknown field "nmae" (allowed fields:', id="extra"),
    pytest.param(manifest("bro ken"), "field \"name\": 'bro ken' does not match", id="name"),
    pytest.param(
        manifest("broken", version="one"), "field \"version\": 'one' is not a PEP 440", id="pep440"
    ),
    pytest.param(
        manifest("broken", agentkit_version="~~1"),
        "field \"agentkit_version\": '~~1' is not a PEP 440 version specifier",
        id="specifier",
    ),
    pytest.param(
        manifest("broken", entry_module="../escape"), 'field "entry_module"', id="entry-module"
    ),
]


@pytest.mark.parametrize(("plugin_json", "message"), BAD_MANIFESTS)
async def test_wrong_manifest_is_an_error_naming_the_problem(
    plugins: PluginFolder, plugin_json: Any, message: str
) -> None:
    """A bad plugin.json puts the plugin (named after its folder) in error; nothing is imported."""
    plugins.add_good()
    text = plugin_json if isinstance(plugin_json, str) else json.dumps(plugin_json)
    folder = plugins.add("broken_folder", text, init_source="raise SystemExit('never run')\n")
    manager, registry = manager_for(plugins)
    info = manager.plugin_info("broken_folder")
    assert info is not None
    assert info.status is PluginStatus.ERROR
    assert info.error is not None
    assert info.error.startswith(f"PluginError: {folder.resolve() / MANIFEST_NAME}: ")
    assert message in info.error
    assert info.module not in sys.modules
    assert not manager.install_plugin("broken_folder")
    await assert_others_work(manager, registry)


async def test_import_failure_is_an_error(plugins: PluginFolder) -> None:
    """A plugin raising on import is an error; its module is forgotten so a fix can load."""
    plugins.add_good()
    folder = plugins.add("crash", manifest("crash"), init_source="raise RuntimeError('boom')\n")
    manager, registry = manager_for(plugins)
    info = manager.plugin_info("crash")
    assert info is not None
    assert info.status is PluginStatus.ERROR
    assert info.error == "RuntimeError: boom"
    assert info.module not in sys.modules
    await assert_others_work(manager, registry)
    (folder / "__init__.py").write_text(GOOD_INIT.replace("acme_echo", "crash_echo"))
    importlib.invalidate_caches()
    assert manager.install_plugin("crash") is True
    assert "crash_echo" in registry


async def test_hook_that_raises_is_an_error_and_its_tools_are_removed(
    plugins: PluginFolder,
) -> None:
    """A register hook raising after adding a tool is an error and the tool is removed again."""
    plugins.add_good()
    plugins.add(
        "raiser",
        manifest("raiser"),
        init_source="""
            from agentkit import Tool, hookimpl

            @hookimpl
            def agentkit_register_tools(registry):
                registry.register_tool(Tool(name="raiser_first", description="x",
                                            blocking=False, function=lambda: 1))
                raise ValueError("no more tools today")
        """,
    )
    manager, registry = manager_for(plugins)
    info = manager.plugin_info("raiser")
    assert info is not None
    assert info.status is PluginStatus.ERROR
    assert info.error == "ValueError: no more tools today"
    assert "raiser_first" not in registry
    assert manager.pluggy_manager.get_plugin("raiser") is None
    await assert_others_work(manager, registry)


async def test_tool_name_clash_is_an_error_and_is_rolled_back(plugins: PluginFolder) -> None:
    """A plugin registering a taken tool name is an error; its earlier tools are removed."""
    plugins.add_good()
    plugins.add(
        "clasher",
        manifest("clasher"),
        init_source="""
            from agentkit import Tool, hookimpl

            @hookimpl
            def agentkit_register_tools(registry):
                for name in ("clasher_a", "clasher_b", "text_summarize", "clasher_c"):
                    registry.register_tool(Tool(name=name, description="x",
                                                blocking=False, function=lambda: 1))
        """,
    )
    manager, registry = manager_for(plugins)
    builtin = registry.get_tool("text_summarize")
    info = manager.plugin_info("clasher")
    assert info is not None
    assert info.status is PluginStatus.ERROR
    assert info.error == (
        "ToolRegistrationError: a different tool is already registered as 'text_summarize'"
        " (pass replace=True)"
    )
    assert not {"clasher_a", "clasher_b", "clasher_c"} & {
        tool.name for tool in registry.list_tools()
    }
    assert registry.get_tool("text_summarize") is builtin
    await assert_others_work(manager, registry)


async def test_agentkit_version_mismatch_is_an_error(plugins: PluginFolder) -> None:
    """A plugin needing another agentkit version is an error and its code never runs."""
    plugins.add_good()
    plugins.add(
        "future",
        manifest("future", agentkit_version=">=99"),
        init_source="raise SystemExit('never run')\n",
    )
    manager, registry = manager_for(plugins)
    info = manager.plugin_info("future")
    assert info is not None
    assert info.status is PluginStatus.ERROR
    assert info.error == (
        f"PluginError: plugin 'future' needs agentkit >=99, but agentkit"
        f" {agentkit.__version__} is installed"
    )
    assert info.module not in sys.modules
    assert not manager.install_plugin("future")
    await assert_others_work(manager, registry)


async def test_misspelled_hook_is_an_error(plugins: PluginFolder) -> None:
    """A hookimpl named after no hook (check_pending) is an error and is unregistered."""
    plugins.add_good()
    plugins.add(
        "typo",
        manifest("typo"),
        init_source="""
            from agentkit import hookimpl

            @hookimpl
            def agentkit_register_tool(registry):
                pass
        """,
    )
    manager, registry = manager_for(plugins)
    info = manager.plugin_info("typo")
    assert info is not None
    assert info.status is PluginStatus.ERROR
    assert info.error is not None
    assert info.error.startswith("PluginValidationError: ")
    assert "agentkit_register_tool" in info.error
    manager.pluggy_manager.check_pending()
    await assert_others_work(manager, registry)


async def test_missing_init_is_an_error(plugins: PluginFolder) -> None:
    """A plugin folder without __init__.py is an error saying so."""
    plugins.add_good()
    folder = plugins.add("hollow", manifest("hollow"), init_source=None)
    manager, registry = manager_for(plugins)
    info = manager.plugin_info("hollow")
    assert info is not None
    assert info.status is PluginStatus.ERROR
    assert info.error == f"PluginError: {folder.resolve()}: a directory plugin needs an __init__.py"
    await assert_others_work(manager, registry)


# -- loading details ------------------------------------------------------------------------------


async def test_entry_module_and_relative_imports(plugins: PluginFolder) -> None:
    """entry_module names a submodule; modules inside the plugin import each other relatively."""
    plugins.add(
        "split",
        manifest("split", entry_module="impl.hooks"),
        init_source="",
        files={
            "helpers.py": "def shout(text):\n    return text.upper()\n",
            "impl/__init__.py": "",
            "impl/hooks.py": """
                from agentkit import Tool, hookimpl
                from ..helpers import shout

                @hookimpl
                def agentkit_register_tools(registry):
                    registry.register_tool(Tool(name="split_shout", description="x",
                                                blocking=False, function=shout))
            """,
        },
    )
    manager, registry = manager_for(plugins, entry_points=False)
    info = manager.plugin_info("split")
    assert info is not None
    assert info.status is PluginStatus.ACTIVE, info.error
    result = await registry.execute_tool("split_shout", {"text": "hi"})
    assert result.output == "HI"


async def test_same_module_names_in_two_plugins_do_not_collide(plugins: PluginFolder) -> None:
    """Two plugins each with a ``helpers`` module and one tool each load side by side."""
    for name in ("first", "second"):
        plugins.add(
            name,
            manifest(name),
            init_source=f"""
                from agentkit import Tool, hookimpl
                from . import helpers

                @hookimpl
                def agentkit_register_tools(registry):
                    registry.register_tool(Tool(name="{name}_who", description="x",
                                                blocking=False, function=helpers.who))
            """,
            files={"helpers.py": f"def who():\n    return {name!r}\n"},
        )
    manager, registry = manager_for(plugins, entry_points=False)
    modules = {manager.plugin_info(name).module for name in ("first", "second")}  # type: ignore[union-attr]
    assert len(modules) == 2
    assert not modules & {"first", "second", "helpers"}
    assert (await registry.execute_tool("first_who", {})).output == "first"
    assert (await registry.execute_tool("second_who", {})).output == "second"


def test_a_name_already_taken_is_skipped_with_a_warning(
    plugins: PluginFolder, caplog: pytest.LogCaptureFixture
) -> None:
    """A directory plugin named like an entry-point plugin is ignored; the first keeps the name."""
    plugins.add("impostor", manifest("tools"), init_source="raise SystemExit('never run')\n")
    with caplog.at_level(logging.WARNING, logger="agentkit.plugins._manager"):
        manager = PluginManager(plugin_dirs=[plugins.root])
        names = manager.discover_plugins()
    assert names.count("tools") == 1
    info = manager.plugin_info("tools")
    assert info is not None
    assert info.source.startswith("entry point agentkit_tools.builtin._plugin")
    assert "plugin 'tools' from directory" in caplog.text
    assert "ignored: the name is taken by entry point agentkit_tools.builtin._plugin" in caplog.text


def test_disable_variable_covers_directory_plugins(
    plugins: PluginFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory plugin named in AGENTKIT_DISABLE_PLUGINS is inactive and never imported."""
    plugins.add_good()
    plugins.add_good("other", "acme_other")
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, "acme_good")
    manager, _ = manager_for(plugins, entry_points=False)
    info = manager.plugin_info("acme_good")
    assert info is not None
    assert info.status is PluginStatus.INACTIVE
    assert info.error == f"disabled by the {DISABLE_PLUGINS_ENV} environment variable"
    assert info.module not in sys.modules
    assert not manager.install_plugin("acme_good")
    other = manager.plugin_info("acme_other")
    assert other is not None
    assert other.status is PluginStatus.ACTIVE


def test_folder_forms(plugins: PluginFolder, tmp_path: Path) -> None:
    """A plugin folder works as a plugin dir; missing and stray folders are skipped."""
    folder = plugins.add_good()
    (plugins.root / "__pycache__").mkdir()
    (plugins.root / "notes").mkdir()
    found = list(find_directory_plugins([tmp_path / "missing", folder, plugins.root]))
    assert [plugin.name for plugin in found] == ["acme_good", "acme_good"]
    manager = PluginManager(plugin_dirs=[folder], entry_points=False)
    assert manager.discover_plugins() == ["acme_good"]


def test_rescan_picks_up_new_plugins_and_keeps_state(plugins: PluginFolder) -> None:
    """discover_plugins again adds new folders and leaves known plugins as they were."""
    plugins.add_good()
    manager, _ = manager_for(plugins, entry_points=False)
    manager.uninstall_plugin("acme_good")
    plugins.add_good("late", "acme_late")
    assert manager.discover_plugins() == ["acme_good", "acme_late"]
    statuses = {info.name: info.status for info in manager.plugins() if info.source != "core"}
    assert statuses == {"acme_good": PluginStatus.INACTIVE, "acme_late": PluginStatus.ACTIVE}


def test_two_managers_share_the_imported_module(plugins: PluginFolder) -> None:
    """A folder imported by one manager is reused by the next, not imported twice."""
    plugins.add_good()
    first, _ = manager_for(plugins, entry_points=False)
    second, _ = manager_for(plugins, entry_points=False)
    assert first.pluggy_manager.get_plugin("acme_good") is second.pluggy_manager.get_plugin(
        "acme_good"
    )


# -- the schema -----------------------------------------------------------------------------------


def test_schema_ships_with_agentkit_and_accepts_the_example() -> None:
    """plugin.schema.json is a valid 2020-12 schema inside the package; the example passes it."""
    from jsonschema import Draft202012Validator

    schema = manifest_schema()
    Draft202012Validator.check_schema(schema)
    assert importlib.util.find_spec("agentkit") is not None
    example = load_manifest(EXAMPLE / MANIFEST_NAME)
    assert example.name == "weather_tools"
    assert example.agentkit_version == ">=0.1"
    assert example.tags == ("weather", "example")


def manifests() -> st.SearchStrategy[dict[str, Any]]:
    """plugin.json contents the schema accepts, PEP 440-valid versions or not."""
    text = st.text(min_size=1, max_size=20)
    return st.fixed_dictionaries(
        {
            "name": st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z"),
            "version": st.sampled_from(["1.0.0", "0.1", "2.0rc1", "1!2.3.post4"]) | text,
            "description": text,
        },
        optional={
            "agentkit_version": st.sampled_from([">=0.1", "<0", "~=0.1,!=0.1.1", "==1.*"]) | text,
            "entry_module": st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z"),
            "author": st.text(max_size=20),
            "homepage": st.sampled_from(["https://example.org/weather", "http://localhost/x"]),
            "tags": st.lists(text, unique=True, max_size=3),
        },
    )


@settings(max_examples=50)
@given(manifests())
def test_any_schema_valid_manifest_loads_or_names_its_version_field(
    data: dict[str, Any],
) -> None:
    """Every manifest the schema accepts loads, unless a version field is not PEP 440."""
    from jsonschema import Draft202012Validator

    Draft202012Validator(manifest_schema()).validate(data)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / MANIFEST_NAME
        path.write_text(json.dumps(data))
        try:
            loaded = load_manifest(path)
        except PluginError as exc:
            problem = str(exc)
            assert 'field "version"' in problem or 'field "agentkit_version"' in problem
        else:
            assert loaded.name == data["name"]
            assert loaded.entry_module == data.get("entry_module", "__init__")


# -- command line ---------------------------------------------------------------------------------


def test_cli_lists_directory_plugins_with_errors(
    plugins: PluginFolder, weather: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``agentkit plugins list --plugin-dir`` shows directory plugins, their status and errors."""
    plugins.add("future", manifest("future", agentkit_version=">=99"))
    assert main(["plugins", "list", "--plugin-dir", str(plugins.root)]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["weather_tools"].split()[1:3] == ["1.0.0", "active"]
    assert rows["future"].split()[2] == "error"
    assert "needs agentkit >=99" in rows["future"]
    assert main(["plugins", "--plugin-dir", str(plugins.root)]) == 0
    assert "weather_tools" in capsys.readouterr().out


def test_cli_show_a_directory_plugin(weather: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit plugins show NAME --plugin-dir`` prints the directory plugin's fields."""
    other = weather.parent.parent / "empty"
    other.mkdir()
    args = ["plugins", "show", "weather_tools", "--plugin-dir", str(other)]
    assert main([*args, "--plugin-dir", str(weather.parent)]) == 0
    fields = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines())
    assert fields["status"].strip() == "active"
    assert fields["source"].strip() == f"directory {weather.resolve()}"
    assert fields["tools"].strip() == "weather_beaufort, weather_comfort"
    assert main(["plugins", "show", "weather_tools"]) == 2


# -- hostile plugins and manifests ----------------------------------------------------------------

#: Import-time code that raises BaseException subclasses, and the error each one leaves.
HOSTILE_IMPORTS = [
    ("import sys\nsys.exit()\n", "SystemExit: the plugin called sys.exit()"),
    ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
    ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("raise GeneratorExit('bye')\n", "GeneratorExit: bye"),
    ("import asyncio\nraise asyncio.CancelledError('self')\n", "CancelledError: self"),
    ("class Own(BaseException): pass\nraise Own('own')\n", "Own: own"),
    ("import sys\nsys.setrecursionlimit(10**6)\ndef f(): f()\n", None),  # defines only: works
]


@pytest.mark.parametrize(("source", "error"), HOSTILE_IMPORTS)
async def test_base_exception_at_import_fails_only_that_plugin(
    plugins: PluginFolder, source: str, error: str | None
) -> None:
    """sys.exit(), KeyboardInterrupt or any BaseException at import fails only that plugin."""
    plugins.add_good()
    plugins.add("aa_hostile", manifest("aa_hostile"), init_source=source)
    plugins.add("zz_other", manifest("zz_other"), init_source="")
    manager, registry = manager_for(plugins)
    info = manager.plugin_info("aa_hostile")
    assert info is not None
    if error is None:
        assert info.status is PluginStatus.ACTIVE
    else:
        assert info.status is PluginStatus.ERROR
        assert info.error == error
        assert info.module not in sys.modules
    other = manager.plugin_info("zz_other")
    assert other is not None
    assert other.status is PluginStatus.ACTIVE
    await assert_others_work(manager, registry)


@pytest.mark.parametrize(("raise_statement", "error"), [(s, e) for s, e in HOSTILE_IMPORTS if e])
async def test_base_exception_in_a_hook_fails_only_that_plugin(
    plugins: PluginFolder, raise_statement: str, error: str
) -> None:
    """A register hook raising any BaseException is an error and the tools it added are removed."""
    plugins.add_good()
    body = textwrap.indent(raise_statement, "    ")
    plugins.add(
        "aa_hook",
        manifest("aa_hook"),
        init_source=(
            "from agentkit import Tool, hookimpl\n\n"
            "@hookimpl\n"
            "def agentkit_register_tools(registry):\n"
            "    registry.register_tool(Tool(name='aa_first', description='x',"
            " parameters={'type': 'object'}, blocking=False, function=lambda: 1))\n"
            f"{body}"
        ),
    )
    manager, registry = manager_for(plugins)
    info = manager.plugin_info("aa_hook")
    assert info is not None
    assert info.status is PluginStatus.ERROR
    assert info.error == error
    assert "aa_first" not in registry
    await assert_others_work(manager, registry)


def deep_json(depth: int) -> str:
    """An array nested *depth* deep."""
    return "[" * depth + "]" * depth


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda folder: (folder / MANIFEST_NAME).write_text(deep_json(10**5)), "larger than"),
        (lambda folder: (folder / MANIFEST_NAME).write_text(deep_json(30_000)), "nested more"),
        (
            lambda folder: (folder / MANIFEST_NAME).write_text(
                json.dumps(manifest("x", tags=[{}] * 10_000))
            ),
            "more than 64 tags",
        ),
        (
            lambda folder: (folder / MANIFEST_NAME).write_text(
                json.dumps(manifest("x")).replace('"1.0.0"', "1" * 5000)
            ),
            "not valid JSON",
        ),
        (
            lambda folder: (folder / MANIFEST_NAME).write_text(
                json.dumps(manifest("x", version="1" * 5000))
            ),
            'field "version"',
        ),
        (lambda folder: (folder / MANIFEST_NAME).symlink_to("/dev/zero"), "out of the plugin"),
        (lambda folder: (folder / MANIFEST_NAME).symlink_to("/etc/passwd"), "out of the plugin"),
        (lambda folder: os.mkfifo(folder / MANIFEST_NAME), "not a regular file"),
        (lambda folder: (folder / MANIFEST_NAME).mkdir(), "not a regular file"),
        (lambda folder: (folder / MANIFEST_NAME).symlink_to(MANIFEST_NAME), "cannot be read"),
        (lambda folder: sparse(folder / "big.json", 2 << 30, MANIFEST_NAME), "larger than"),
    ],
)
async def test_hostile_manifest_fails_only_that_plugin_at_once(
    plugins: PluginFolder, make: Any, message: str
) -> None:
    """Deep nesting, huge or special files and symlinks out fail that plugin, nothing more."""
    plugins.add_good()
    folder = plugins.add("aa_bad", None, init_source="raise SystemExit('never run')\n")
    make(folder)
    manager, registry = manager_for(plugins)
    info = manager.plugin_info("aa_bad")
    assert info is not None
    assert info.status is PluginStatus.ERROR
    assert info.error is not None
    assert message in info.error
    assert len(info.error) <= 1000
    await assert_others_work(manager, registry)


def sparse(path: Path, size: int, link: str) -> None:
    """A sparse file of *size* bytes at *path*, with *link* in its folder pointing at it."""
    with path.open("wb") as file:
        file.truncate(size)
    (path.parent / link).symlink_to(path.name)


def test_a_manifest_symlinked_inside_its_folder_is_read(plugins: PluginFolder) -> None:
    """A plugin.json that is a symlink to a file in the plugin's own folder is allowed."""
    folder = plugins.add("linked", None)
    (folder / "real.json").write_text(json.dumps(manifest("linked")))
    (folder / MANIFEST_NAME).symlink_to("real.json")
    manager, _ = manager_for(plugins, entry_points=False)
    info = manager.plugin_info("linked")
    assert info is not None
    assert info.status is PluginStatus.ACTIVE, info.error


def test_manifest_limits_are_configurable_and_named_in_the_error(plugins: PluginFolder) -> None:
    """max_manifest_bytes and max_manifest_depth are options; the error names the one hit."""
    plugins.add("wordy", manifest("wordy", description="x" * 2000))
    plugins.add("nested", manifest("nested", tags=["a"]))
    manager, _ = manager_for(
        plugins, entry_points=False, max_manifest_bytes=1024, max_manifest_depth=1
    )
    wordy, nested = manager.plugin_info("wordy"), manager.plugin_info("nested")
    assert wordy is not None
    assert wordy.error is not None
    assert "max_manifest_bytes" in wordy.error
    assert nested is not None
    assert nested.error is not None
    assert "max_manifest_depth" in nested.error
    roomy, _ = manager_for(plugins, entry_points=False, max_manifest_depth=2)
    nested = roomy.plugin_info("nested")
    assert nested is not None
    assert nested.status is PluginStatus.ACTIVE, nested.error


@pytest.mark.parametrize("option", ["max_manifest_bytes", "max_manifest_depth"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_bad_manifest_limits_are_refused(option: str, value: Any) -> None:
    """A manifest limit that is not a whole number >= 1 raises ConfigurationError naming it."""
    with pytest.raises(agentkit.ConfigurationError, match=option):
        PluginManager(**{option: value})


#: Import-time behaviours of a generated plugin: (source, whether it activates).
IMPORT_BEHAVIOURS = [(source, error is None) for source, error in HOSTILE_IMPORTS] + [
    (GOOD_INIT.replace("acme_echo", "gen_echo"), True),
    ("raise RuntimeError('x')\n", False),
    ("raise MemoryError\n", False),
    ("import sys\nsys.modules.clear\n", True),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def manifest_texts(draw: st.DrawFn) -> str:
    """plugin.json text: valid, random JSON, deep nesting, oversized, wrong types or not JSON."""
    kind = draw(st.sampled_from(["valid", "random", "deep", "huge", "wrong_types", "garbage"]))
    name = draw(st.from_regex(r"\Agen_[a-z]{1,8}\Z"))
    if kind == "valid":
        return json.dumps(manifest(name))
    if kind == "random":
        return json.dumps(draw(json_values))
    if kind == "deep":
        depth = draw(st.integers(min_value=33, max_value=20_000))
        return json.dumps(manifest(name)).replace('"1.0.0"', deep_json(depth))
    if kind == "huge":
        return json.dumps(manifest(name, description="x" * draw(st.integers(4_000, 20_000))))
    if kind == "wrong_types":
        field = draw(st.sampled_from(["name", "version", "description", "tags", "entry_module"]))
        data = manifest(name)
        data[field] = draw(json_values)
        return json.dumps(data)
    return draw(st.binary(max_size=200)).decode("latin-1")


@settings(max_examples=40)
@given(
    generated=st.lists(
        st.tuples(manifest_texts(), st.sampled_from(IMPORT_BEHAVIOURS)), min_size=1, max_size=5
    )
)
def test_generated_plugin_folders_never_stop_discovery(
    generated: list[tuple[str, tuple[str, bool]]],
) -> None:
    """Whatever the manifests and import-time code, discovery completes and the good plugin is
    active; each generated plugin ends active or in error with a reason."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        folder_set = PluginFolder(root)
        folder_set.add_good("zz_good")
        for index, (text, (source, _)) in enumerate(generated):
            folder_set.add(f"gen{index}", text, init_source=source)
        try:
            manager = PluginManager(
                plugin_dirs=[root],
                registry=ToolRegistry(),
                entry_points=False,
                max_manifest_bytes=4096,
            )
            manager.discover_plugins()
            good = manager.plugin_info("acme_good")
            assert good is not None
            assert good.status is PluginStatus.ACTIVE, good.error
            for info in manager.plugins():
                if info.source == "core" or info.name == "acme_good":
                    continue
                assert info.status in (PluginStatus.ACTIVE, PluginStatus.ERROR)
                if info.status is PluginStatus.ERROR:
                    assert info.error
        finally:
            for module_name, module in list(sys.modules.items()):
                if str(getattr(module, "__file__", None) or "").startswith(directory):
                    del sys.modules[module_name]


def json_depth(value: Any) -> int:
    """How deep *value* nests lists and dicts."""
    if isinstance(value, list):
        return 1 + max(map(json_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(json_depth, value.values()), default=0)
    return 0


@settings(max_examples=200)
@given(value=json_values, limit=st.integers(min_value=1, max_value=6))
def test_the_nesting_check_agrees_with_the_real_depth(value: Any, limit: int) -> None:
    """The pre-parse nesting check flags a document exactly when it nests deeper than the limit,
    brackets inside strings not counting."""
    from agentkit.plugins._dirs import _nested_deeper_than

    text = json.dumps(value, ensure_ascii=False)
    assert _nested_deeper_than(text, limit) == (json_depth(value) > limit)
