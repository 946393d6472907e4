"""agentkit-weather: weather tools for agentkit, loaded as a plugin through an entry point.

Installed next to agentkit, the plugin ``weather`` registers its tools with every registry a
``PluginManager`` hands it. The formulas are importable on their own too.
"""

from __future__ import annotations

from agentkit_weather._formulas import (
    convert_temperature as convert_temperature,
)
from agentkit_weather._formulas import (
    heat_index as heat_index,
)
from agentkit_weather._formulas import (
    summarize_forecast as summarize_forecast,
)
from agentkit_weather._formulas import (
    wind_chill as wind_chill,
)
from agentkit_weather._tools import (
    PROVIDER_URL_ENV as PROVIDER_URL_ENV,
)
from agentkit_weather._tools import (
    WeatherConfig as WeatherConfig,
)
from agentkit_weather._tools import (
    create_weather_tools as create_weather_tools,
)

__all__ = [
    "PROVIDER_URL_ENV",
    "WeatherConfig",
    "__version__",
    "convert_temperature",
    "create_weather_tools",
    "heat_index",
    "summarize_forecast",
    "wind_chill",
]

__version__ = "0.1.0"
