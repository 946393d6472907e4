"""Tests for the weather formulas against published NWS / Environment Canada values."""

from __future__ import annotations

import pytest
from agentkit_weather import convert_temperature, heat_index, summarize_forecast, wind_chill
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("value", "from_unit", "to_unit", "expected"),
    [(100, "C", "F", 212), (32, "F", "C", 0), (-40, "F", "C", -40), (0, "K", "C", -273.15)],
)
def test_convert_temperature_known_points(
    value: float, from_unit: str, to_unit: str, expected: float
) -> None:
    """Fixed points of the temperature scales convert exactly."""
    assert convert_temperature(value, from_unit, to_unit) == pytest.approx(expected)


@given(
    st.floats(min_value=-273.15, max_value=1e6, allow_nan=False),
    st.sampled_from(["C", "F", "K"]),
)
def test_convert_temperature_round_trips(celsius: float, unit: str) -> None:
    """Converting there and back returns the original temperature."""
    there = convert_temperature(celsius, "C", unit)
    assert convert_temperature(there, unit, "C") == pytest.approx(celsius, abs=1e-6)


def test_below_absolute_zero_and_unknown_units_are_refused() -> None:
    """A temperature below 0 K and an unknown unit raise ValueError with the reason."""
    with pytest.raises(ValueError, match="below absolute zero"):
        convert_temperature(-300, "C", "K")
    with pytest.raises(ValueError, match="unknown temperature unit 'X'"):
        convert_temperature(1, "X", "C")


@pytest.mark.parametrize(
    ("temperature_f", "humidity", "expected"),
    [(90, 70, 106), (80, 40, 80), (100, 50, 118), (96, 10, 91), (85, 90, 101)],
)
def test_heat_index_matches_the_nws_table(
    temperature_f: float, humidity: float, expected: float
) -> None:
    """Heat index values agree with the NWS chart to within one degree."""
    assert heat_index(temperature_f, humidity) == pytest.approx(expected, abs=1.0)


def test_heat_index_in_celsius() -> None:
    """The heat index is answered in the unit it was asked in."""
    assert heat_index(32.2, 70, "C") == pytest.approx(convert_temperature(105.9, "F", "C"), abs=0.2)
    with pytest.raises(ValueError, match="relative humidity"):
        heat_index(30, 120, "C")


@pytest.mark.parametrize(
    ("temperature", "wind", "unit", "expected"),
    [(0, 15, "F", -19), (-20, 30, "F", -53), (-10, 20, "C", -18), (5, 10, "C", 2.7)],
)
def test_wind_chill_matches_the_published_tables(
    temperature: float, wind: float, unit: str, expected: float
) -> None:
    """Wind chill agrees with the NWS (°F, mph) and Environment Canada (°C, km/h) tables."""
    assert wind_chill(temperature, wind, unit) == pytest.approx(expected, abs=0.6)


def test_wind_chill_outside_its_range_is_the_air_temperature() -> None:
    """Warm air or calm wind gives the air temperature back; bad input is refused."""
    assert wind_chill(15, 30) == 15
    assert wind_chill(-5, 2) == -5
    with pytest.raises(ValueError, match="negative"):
        wind_chill(0, -1)
    with pytest.raises(ValueError, match="unit"):
        wind_chill(0, 10, "K")


def test_summarize_forecast() -> None:
    """A summary gives the range, the rain total, the wettest period and the usual condition."""
    summary = summarize_forecast(
        [
            {"label": "Mon", "temperature": 12, "condition": "Sunny"},
            {"label": "Tue", "temperature": 19, "precipitation_mm": 4.5, "condition": "rain"},
            {"label": "Wed", "temperature": 15, "precipitation_mm": 0.5, "condition": "sunny"},
        ]
    )
    assert summary["min_temperature"] == 12
    assert summary["max_temperature"] == 19
    assert summary["total_precipitation_mm"] == 5.0
    assert summary["wettest"] == "Tue"
    assert summary["summary"] == "3 periods: 12 to 19 °C, mostly sunny, 5 mm of rain (most on Tue)."
    with pytest.raises(ValueError, match="at least one period"):
        summarize_forecast([])
