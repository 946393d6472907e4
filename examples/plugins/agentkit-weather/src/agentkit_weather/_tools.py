"""The plugin's tools: agentkit ``Tool`` objects around the formulas, and a provider call."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

from agentkit import Tool, ToolHints, ToolNotConfiguredError
from agentkit_weather._formulas import (
    convert_temperature,
    heat_index,
    summarize_forecast,
    wind_chill,
)

__all__ = ["PROVIDER_URL_ENV", "WeatherConfig", "create_weather_tools"]

#: Base URL of an Open-Meteo-compatible API (``https://api.open-meteo.com`` or your own).
PROVIDER_URL_ENV = "AGENTKIT_WEATHER_PROVIDER_URL"

_PURE = ToolHints(read_only=True, idempotent=True)
_UNITS = {"type": "string", "enum": ["C", "F", "K"]}
#: NWS heat index risk levels: lower bound in °F -> what it means.
_HEAT_RISK = (
    (125.0, "extreme danger"),
    (103.0, "danger"),
    (90.0, "extreme caution"),
    (80.0, "caution"),
)


@dataclasses.dataclass(frozen=True, slots=True)
class WeatherConfig:
    """Where ``weather_current`` gets its data.

    Args:
        provider_url: Base URL of an Open-Meteo-compatible API; None leaves
            ``weather_current`` "not configured".
        timeout: Seconds allowed for one provider request.
    """

    provider_url: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> WeatherConfig:
        """The configuration from ``AGENTKIT_WEATHER_PROVIDER_URL`` (unset: not configured)."""
        return cls(provider_url=os.environ.get(PROVIDER_URL_ENV) or None)


def _convert(value: float, from_unit: str, to_unit: str) -> dict[str, Any]:
    return {"value": round(convert_temperature(value, from_unit, to_unit), 2), "unit": to_unit}


def _heat_index(temperature: float, relative_humidity: float, unit: str = "F") -> dict[str, Any]:
    felt = heat_index(temperature, relative_humidity, unit)
    felt_f = convert_temperature(felt, unit, "F")
    risk = next((name for bound, name in _HEAT_RISK if felt_f >= bound), "none")
    return {"heat_index": felt, "unit": unit, "risk": risk}


def _wind_chill(temperature: float, wind_speed: float, unit: str = "C") -> dict[str, Any]:
    return {"wind_chill": wind_chill(temperature, wind_speed, unit), "unit": unit}


def _summarize(periods: Sequence[Mapping[str, Any]], unit: str = "C") -> dict[str, Any]:
    return summarize_forecast(periods, unit)


def _current_conditions(config: WeatherConfig) -> Any:
    async def weather_current(latitude: float, longitude: float) -> dict[str, Any]:
        if config.provider_url is None:
            raise ToolNotConfiguredError(
                "weather_current needs a provider: set AGENTKIT_WEATHER_PROVIDER_URL or"
                " WeatherConfig(provider_url=...) to an Open-Meteo-compatible API"
            )
        import httpx

        async with httpx.AsyncClient(timeout=config.timeout) as client:
            response = await client.get(
                config.provider_url.rstrip("/") + "/v1/forecast",
                params={
                    "latitude": latitude,
                    "longitude": longitude,
                    "current": "temperature_2m,relative_humidity_2m,wind_speed_10m",
                },
            )
        if response.status_code != 200:
            raise RuntimeError(f"weather provider answered HTTP {response.status_code}")
        current = response.json()["current"]
        temperature = float(current["temperature_2m"])
        humidity = float(current["relative_humidity_2m"])
        wind = float(current["wind_speed_10m"])
        if temperature >= 26.7:  # 80 °F: where the heat index starts to matter
            feels_like = heat_index(temperature, humidity, "C")
        else:
            feels_like = wind_chill(temperature, wind, "C")
        return {
            "temperature_c": temperature,
            "relative_humidity": humidity,
            "wind_speed_kmh": wind,
            "feels_like_c": feels_like,
            "time": current.get("time"),
        }

    return weather_current


def create_weather_tools(config: WeatherConfig | None = None) -> list[Tool]:
    """The plugin's tools, sorted by name; *config* says where ``weather_current`` asks."""
    config = config or WeatherConfig()
    number = {"type": "number"}
    tools = [
        Tool(
            name="weather_convert_temperature",
            description="Convert a temperature between Celsius (C), Fahrenheit (F) and Kelvin (K).",
            category="weather",
            parameters={
                "type": "object",
                "properties": {"value": number, "from_unit": _UNITS, "to_unit": _UNITS},
                "required": ["value", "from_unit", "to_unit"],
                "additionalProperties": False,
            },
            returns={
                "type": "object",
                "properties": {"value": number, "unit": _UNITS},
                "required": ["value", "unit"],
            },
            tags=("weather", "units"),
            hints=_PURE,
            blocking=False,
            function=_convert,
        ),
        Tool(
            name="weather_heat_index",
            description="How hot it feels (NWS heat index) and the NWS risk level.",
            category="weather",
            parameters={
                "type": "object",
                "properties": {
                    "temperature": number,
                    "relative_humidity": {"type": "number", "minimum": 0, "maximum": 100},
                    "unit": {**_UNITS, "default": "F"},
                },
                "required": ["temperature", "relative_humidity"],
                "additionalProperties": False,
            },
            tags=("weather", "heat"),
            hints=_PURE,
            blocking=False,
            function=_heat_index,
        ),
        Tool(
            name="weather_wind_chill",
            description="How cold it feels (wind chill index); unit C with km/h or F with mph.",
            category="weather",
            parameters={
                "type": "object",
                "properties": {
                    "temperature": number,
                    "wind_speed": {"type": "number", "minimum": 0},
                    "unit": {"type": "string", "enum": ["C", "F"], "default": "C"},
                },
                "required": ["temperature", "wind_speed"],
                "additionalProperties": False,
            },
            tags=("weather", "wind"),
            hints=_PURE,
            blocking=False,
            function=_wind_chill,
        ),
        Tool(
            name="weather_summarize_forecast",
            description="Summarise forecast periods: temperature range, rain and usual condition.",
            category="weather",
            parameters={
                "type": "object",
                "properties": {
                    "periods": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "properties": {
                                "label": {"type": "string"},
                                "temperature": number,
                                "precipitation_mm": {"type": "number", "minimum": 0},
                                "condition": {"type": "string"},
                            },
                            "required": ["label", "temperature"],
                        },
                    },
                    "unit": {**_UNITS, "default": "C"},
                },
                "required": ["periods"],
                "additionalProperties": False,
            },
            tags=("weather", "forecast"),
            hints=_PURE,
            blocking=False,
            function=_summarize,
        ),
        Tool(
            name="weather_current",
            description="Current temperature, humidity, wind and feels-like at a place, from the"
            " configured Open-Meteo-compatible provider.",
            category="weather",
            parameters={
                "type": "object",
                "properties": {
                    "latitude": {"type": "number", "minimum": -90, "maximum": 90},
                    "longitude": {"type": "number", "minimum": -180, "maximum": 180},
                },
                "required": ["latitude", "longitude"],
                "additionalProperties": False,
            },
            tags=("weather", "web"),
            timeout=config.timeout + 5,
            hints=ToolHints(read_only=True, open_world=True),
            function=_current_conditions(config),
        ),
    ]
    return sorted(tools, key=lambda tool: tool.name)
