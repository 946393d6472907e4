"""Tests for the weather tools run through a real agentkit ToolRegistry."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from agentkit_weather import WeatherConfig, create_weather_tools

from agentkit import ToolRegistry


def registry_with(config: WeatherConfig | None = None) -> ToolRegistry:
    """A registry holding every weather tool."""
    registry = ToolRegistry()
    for tool in create_weather_tools(config):
        registry.register_tool(tool)
    return registry


class ForecastHandler(http.server.BaseHTTPRequestHandler):
    """Answers /v1/forecast like Open-Meteo, echoing the coordinates it was asked for."""

    requests: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        type(self).requests.append(query)
        if url.path != "/v1/forecast":
            self.send_error(404)
            return
        body = json.dumps(
            {
                "latitude": float(query["latitude"][0]),
                "current": {
                    "time": "2024-01-15T12:00",
                    "temperature_2m": -10.0,
                    "relative_humidity_2m": 80,
                    "wind_speed_10m": 20.0,
                },
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture
def provider() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 speaking the Open-Meteo forecast API."""
    ForecastHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ForecastHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_every_tool_registers() -> None:
    """All five tools register in the weather category."""
    registry = registry_with()
    assert [tool.name for tool in registry.list_tools()] == [
        "weather_convert_temperature",
        "weather_current",
        "weather_heat_index",
        "weather_summarize_forecast",
        "weather_wind_chill",
    ]
    assert registry.categories() == ["weather"]


async def test_tools_compute_through_the_registry() -> None:
    """The pure tools return their figures through execute_tool."""
    registry = registry_with()
    converted = await registry.execute_tool(
        "weather_convert_temperature", {"value": 100, "from_unit": "C", "to_unit": "F"}
    )
    assert converted.output == {"value": 212.0, "unit": "F"}
    heat = await registry.execute_tool(
        "weather_heat_index", {"temperature": 90, "relative_humidity": 70}
    )
    assert heat.output == {"heat_index": 105.9, "unit": "F", "risk": "danger"}
    chill = await registry.execute_tool(
        "weather_wind_chill", {"temperature": -10, "wind_speed": 20}
    )
    assert chill.output == {"wind_chill": -17.9, "unit": "C"}


async def test_bad_arguments_are_validation_failures() -> None:
    """An unknown unit is refused by the schema with a pointer to the field."""
    result = await registry_with().execute_tool(
        "weather_convert_temperature", {"value": 1, "from_unit": "R", "to_unit": "C"}
    )
    assert not result.success
    assert result.error_type == "validation"
    assert result.error_path == "/from_unit"


async def test_current_without_provider_is_not_configured() -> None:
    """weather_current without a provider URL fails with a clear "not configured" error."""
    result = await registry_with().execute_tool(
        "weather_current", {"latitude": 52.5, "longitude": 13.4}
    )
    assert not result.success
    assert result.error_type == "not_configured"
    assert "AGENTKIT_WEATHER_PROVIDER_URL" in (result.error or "")


@pytest.mark.timeout(30)
async def test_current_asks_the_configured_provider(provider: str) -> None:
    """weather_current calls the provider's /v1/forecast and computes the feels-like value."""
    registry = registry_with(WeatherConfig(provider_url=provider, timeout=5))
    result = await registry.execute_tool("weather_current", {"latitude": 52.5, "longitude": 13.4})
    assert result.success, result.error
    assert result.output == {
        "temperature_c": -10.0,
        "relative_humidity": 80.0,
        "wind_speed_kmh": 20.0,
        "feels_like_c": -17.9,
        "time": "2024-01-15T12:00",
    }
    assert ForecastHandler.requests[0]["latitude"] == ["52.5"]
    assert ForecastHandler.requests[0]["current"] == [
        "temperature_2m,relative_humidity_2m,wind_speed_10m"
    ]
