"""Tests that agentkit finds this package as the plugin ``weather`` through its entry point."""

from __future__ import annotations

import importlib.metadata

import pytest

from agentkit import PluginManager, ToolRegistry

try:
    importlib.metadata.distribution("agentkit-weather")
    INSTALLED = True
except importlib.metadata.PackageNotFoundError:
    INSTALLED = False

pytestmark = pytest.mark.skipif(not INSTALLED, reason="agentkit-weather is not installed")


async def test_agentkit_discovers_and_runs_the_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """PluginManager activates "weather" from its entry point and its tools run."""
    monkeypatch.delenv("AGENTKIT_DISABLE_PLUGINS", raising=False)
    registry = ToolRegistry()
    manager = PluginManager(registry=registry)
    assert "weather" in manager.discover_plugins()
    info = manager.plugin_info("weather")
    assert info is not None
    assert info.status == "active", info.error
    assert info.source.startswith("entry point agentkit_weather._plugin (agentkit-weather ")
    result = await registry.execute_tool(
        "weather_wind_chill", {"temperature": 0, "wind_speed": 15, "unit": "F"}
    )
    assert result.output == {"wind_chill": -19.4, "unit": "F"}
