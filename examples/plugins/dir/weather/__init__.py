"""``weather_tools``: an agentkit directory plugin (this folder + its ``plugin.json``).

Load it by naming the folder that holds it::

    from pathlib import Path
    from agentkit import PluginManager, ToolRegistry

    registry = ToolRegistry()
    manager = PluginManager(plugin_dirs=[Path("./plugins")], registry=registry)
    manager.install_plugin("weather_tools")  # True: already active with auto_activate

The folder is imported as a package under a private name, so helpers beside this file are
reached with relative imports (``from . import helpers``).
"""

from __future__ import annotations

import math
from typing import Any

from agentkit import Tool, ToolHints, hookimpl

#: Upper wind speed (m/s, exclusive) of Beaufort forces 0-11; anything faster is force 12.
_BEAUFORT_LIMITS = (0.5, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2, 20.8, 24.5, 28.5, 32.7)
_BEAUFORT_NAMES = (
    "calm",
    "light air",
    "light breeze",
    "gentle breeze",
    "moderate breeze",
    "fresh breeze",
    "strong breeze",
    "near gale",
    "gale",
    "strong gale",
    "storm",
    "violent storm",
    "hurricane force",
)
#: Dew point (°C, exclusive upper bound) -> how the air feels.
_COMFORT_LEVELS = (
    (10.0, "dry"),
    (13.0, "comfortable"),
    (16.0, "pleasant"),
    (18.0, "slightly humid"),
    (21.0, "humid"),
    (24.0, "very humid"),
)
_PURE = ToolHints(read_only=True, idempotent=True)


def beaufort(wind_speed_ms: float) -> dict[str, Any]:
    """The Beaufort force and its name for a wind speed in metres per second."""
    force = next(
        (index for index, limit in enumerate(_BEAUFORT_LIMITS) if wind_speed_ms < limit), 12
    )
    return {"force": force, "description": _BEAUFORT_NAMES[force]}


def comfort(temperature_c: float, relative_humidity: float) -> dict[str, Any]:
    """Dew point (Magnus formula) and how humid the air feels at that dew point."""
    gamma = math.log(relative_humidity / 100) + 17.62 * temperature_c / (243.12 + temperature_c)
    dew_point = 243.12 * gamma / (17.62 - gamma)
    label = next((name for limit, name in _COMFORT_LEVELS if dew_point < limit), "oppressive")
    return {"dew_point_c": round(dew_point, 1), "comfort": label}


@hookimpl
def agentkit_register_tools(registry: Any) -> None:
    """Add ``weather_beaufort`` and ``weather_comfort`` to *registry*."""
    registry.register_tool(
        Tool(
            name="weather_beaufort",
            description="Beaufort wind force (0-12) and its name for a wind speed in m/s.",
            category="weather",
            parameters={
                "type": "object",
                "properties": {"wind_speed_ms": {"type": "number", "minimum": 0}},
                "required": ["wind_speed_ms"],
                "additionalProperties": False,
            },
            returns={
                "type": "object",
                "properties": {
                    "force": {"type": "integer"},
                    "description": {"type": "string"},
                },
            },
            tags=("weather", "wind"),
            hints=_PURE,
            blocking=False,
            function=beaufort,
        )
    )
    registry.register_tool(
        Tool(
            name="weather_comfort",
            description="Dew point and a comfort rating (dry ... oppressive) from °C and %RH.",
            category="weather",
            parameters={
                "type": "object",
                "properties": {
                    "temperature_c": {"type": "number", "minimum": -80, "maximum": 70},
                    "relative_humidity": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                },
                "required": ["temperature_c", "relative_humidity"],
                "additionalProperties": False,
            },
            tags=("weather", "humidity"),
            hints=_PURE,
            blocking=False,
            function=comfort,
        )
    )
