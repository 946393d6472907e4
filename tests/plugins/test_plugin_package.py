"""The third-party example package examples/plugins/agentkit-weather, installed for real.

The package is installed with ``pip install --no-deps --target <tmp>`` and ``<tmp>`` is put on
``sys.path``, so agentkit finds it through real ``importlib.metadata`` entry points, exactly as
after ``pip install agentkit-weather``, while the live venv stays untouched.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pip_target import pip_install_to_target

from agentkit import PluginManager, PluginStatus, Tool, ToolRegistry
from agentkit.plugins._manager import DISABLE_PLUGINS_ENV, ENTRY_POINT_GROUP

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "examples" / "plugins" / "agentkit-weather"
DIRECTORY_PLUGIN = REPO_ROOT / "examples" / "plugins" / "dir" / "weather"
WEATHER_TOOLS = [
    "weather_convert_temperature",
    "weather_current",
    "weather_heat_index",
    "weather_summarize_forecast",
    "weather_wind_chill",
]

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def installed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package installed with pip into a fresh target folder (not the venv)."""
    return pip_install_to_target(PACKAGE, tmp_path_factory)


@pytest.fixture
def weather_site(installed_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The installed package on sys.path for one test; its modules are forgotten afterwards."""
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)
    monkeypatch.syspath_prepend(str(installed_site))
    importlib.invalidate_caches()
    yield installed_site
    for name in [name for name in sys.modules if name.split(".")[0] == "agentkit_weather"]:
        del sys.modules[name]
    importlib.invalidate_caches()


def test_the_install_went_to_the_target_not_the_venv(weather_site: Path) -> None:
    """The distribution and its entry point come from the temporary target folder."""
    distribution = importlib.metadata.distribution("agentkit-weather")
    assert Path(str(distribution.locate_file("agentkit_weather"))).parent == weather_site
    (entry_point,) = [
        ep
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        if ep.name == "weather"
    ]
    assert entry_point.value == "agentkit_weather._plugin"
    venv_copy = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    assert not list(venv_copy.glob("site-packages/agentkit_weather*"))


async def test_agentkit_discovers_the_package_and_runs_its_tool(weather_site: Path) -> None:
    """The weather plugin and the built-in plugins all arrive through the entry-point group."""
    registry = ToolRegistry()
    manager = PluginManager(registry=registry)
    names = manager.discover_plugins()
    assert {"weather", "tools", "ray"} <= set(names)
    weather = manager.plugin_info("weather")
    assert weather is not None
    assert weather.status is PluginStatus.ACTIVE, weather.error
    assert weather.version == "0.1.0"
    assert weather.source == "entry point agentkit_weather._plugin (agentkit-weather 0.1.0)"
    assert weather.description is not None
    assert weather.description.startswith("Weather tools for agentkit")
    assert list(weather.tools) == WEATHER_TOOLS
    assert sys.modules["agentkit_weather"].__file__.startswith(str(weather_site))  # type: ignore[union-attr]
    for name, module, distribution in [
        ("tools", "agentkit_tools.builtin._plugin", "agentkit-tools"),
        ("ray", "agentkit_ray._plugin", "agentkit-ray"),
    ]:
        version = importlib.metadata.version(distribution)
        info = manager.plugin_info(name)
        assert info is not None
        assert info.source == f"entry point {module} ({distribution} {version})"
        assert info.status is PluginStatus.ACTIVE, info.error
    result = await registry.execute_tool(
        "weather_heat_index", {"temperature": 90, "relative_humidity": 70}
    )
    assert result.success, result.error
    assert result.output == {"heat_index": 105.9, "unit": "F", "risk": "danger"}
    assert "text_summarize" in registry


async def test_package_and_directory_plugin_work_side_by_side(
    weather_site: Path, tmp_path: Path
) -> None:
    """The entry-point package and the example directory plugin load into one registry."""
    plugins = tmp_path / "plugins"
    shutil.copytree(DIRECTORY_PLUGIN, plugins / "weather")
    registry = ToolRegistry()
    manager = PluginManager(plugin_dirs=[plugins], registry=registry)
    manager.discover_plugins()
    statuses = {item["name"]: item["status"] for item in manager.list_plugins()}
    assert statuses["weather"] == statuses["weather_tools"] == "active"
    beaufort = await registry.execute_tool("weather_beaufort", {"wind_speed_ms": 25})
    chill = await registry.execute_tool(
        "weather_wind_chill", {"temperature": -10, "wind_speed": 20}
    )
    assert beaufort.output == {"force": 10, "description": "storm"}
    assert chill.output == {"wind_chill": -17.9, "unit": "C"}


async def test_tool_clash_with_an_installed_package_is_rolled_back(weather_site: Path) -> None:
    """A weather tool name already taken makes the package an error and removes its other tools."""
    registry = ToolRegistry()
    mine = Tool(name="weather_heat_index", description="mine", blocking=False, function=lambda: 1)
    registry.register_tool(mine)
    manager = PluginManager(registry=registry)
    manager.discover_plugins()
    weather = manager.plugin_info("weather")
    assert weather is not None
    assert weather.status is PluginStatus.ERROR
    assert weather.error == (
        "ToolRegistrationError: a different tool is already registered as"
        " 'weather_heat_index' (pass replace=True)"
    )
    assert [tool.name for tool in registry.list_tools(category="weather")] == []
    assert registry.get_tool("weather_heat_index") is mine
    tools = manager.plugin_info("tools")
    assert tools is not None
    assert tools.status is PluginStatus.ACTIVE
    result = await registry.execute_tool("math_calculate", {"expression": "2 * 21"})
    assert result.success, result.error


def test_uninstalling_the_package_plugin_removes_its_tools(weather_site: Path) -> None:
    """uninstall_plugin("weather") unregisters its hooks and its five tools."""
    registry = ToolRegistry()
    manager = PluginManager(registry=registry)
    manager.discover_plugins()
    assert all(name in registry for name in WEATHER_TOOLS)
    assert manager.uninstall_plugin("weather")
    assert not any(name in registry for name in WEATHER_TOOLS)
    assert "text_summarize" in registry
    assert manager.install_plugin("weather")
    assert all(name in registry for name in WEATHER_TOOLS)


def test_disable_variable_blocks_the_package(
    weather_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AGENTKIT_DISABLE_PLUGINS=weather keeps the installed package inactive and unimported."""
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, "weather")
    registry = ToolRegistry()
    manager = PluginManager(registry=registry)
    manager.discover_plugins()
    weather = manager.plugin_info("weather")
    assert weather is not None
    assert weather.status is PluginStatus.INACTIVE
    assert "agentkit_weather" not in sys.modules
    assert "weather_heat_index" not in registry


def test_the_packages_own_tests_pass_against_the_install(
    installed_site: Path, tmp_path: Path
) -> None:
    """The package's tests (its entry-point test included) pass with the installed copy."""
    env = {key: value for key, value in os.environ.items() if key != DISABLE_PLUGINS_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(installed_site), str(REPO_ROOT)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in the example's folder
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(tmp_path / ".hypothesis")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(PACKAGE)],
        cwd=tmp_path,  # hypothesis and pytest-benchmark keep their folders in the cwd
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout
