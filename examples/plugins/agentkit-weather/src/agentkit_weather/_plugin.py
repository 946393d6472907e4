"""The plugin module named by the ``agentkit`` entry point: hook implementations only.

agentkit imports this module when it activates the plugin, so it stays cheap; the tools are
built inside the hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentkit import hookimpl

if TYPE_CHECKING:
    from agentkit.protocols import Registry

__all__ = ["agentkit_register_tools"]


@hookimpl
def agentkit_register_tools(registry: Registry) -> None:
    """Add the weather tools to *registry*; the provider URL comes from the environment."""
    from agentkit_weather._tools import WeatherConfig, create_weather_tools

    for tool in create_weather_tools(WeatherConfig.from_env()):
        registry.register_tool(tool)
