"""Weather formulas: pure functions on the numbers they are given, no I/O.

Heat index and wind chill follow the US National Weather Service's published formulas
(Rothfusz regression with its adjustments; the 2001 wind chill index).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

__all__ = [
    "TemperatureUnit",
    "convert_temperature",
    "heat_index",
    "summarize_forecast",
    "wind_chill",
]

TemperatureUnit = Literal["C", "F", "K"]

_ABSOLUTE_ZERO_K = 0.0


def _to_kelvin(value: float, unit: str) -> float:
    if unit == "C":
        return value + 273.15
    if unit == "F":
        return (value - 32) * 5 / 9 + 273.15
    if unit == "K":
        return value
    raise ValueError(f"unknown temperature unit {unit!r}: use 'C', 'F' or 'K'")


def _from_kelvin(kelvin: float, unit: str) -> float:
    if unit == "C":
        return kelvin - 273.15
    if unit == "F":
        return (kelvin - 273.15) * 9 / 5 + 32
    if unit == "K":
        return kelvin
    raise ValueError(f"unknown temperature unit {unit!r}: use 'C', 'F' or 'K'")


def convert_temperature(value: float, from_unit: str, to_unit: str) -> float:
    """*value* in *from_unit* expressed in *to_unit* (``"C"``, ``"F"`` or ``"K"``).

    Raises:
        ValueError: An unknown unit, or a temperature below absolute zero.
    """
    kelvin = _to_kelvin(value, from_unit)
    if kelvin < _ABSOLUTE_ZERO_K - 1e-9:
        raise ValueError(f"{value} {from_unit} is below absolute zero")
    return _from_kelvin(kelvin, to_unit)


def heat_index(temperature: float, relative_humidity: float, unit: str = "F") -> float:
    """How hot it feels: the NWS heat index for *temperature* (in *unit*) and humidity in %.

    Below about 80 °F the NWS's simple formula applies and the result is close to the air
    temperature; above it the Rothfusz regression with the low- and high-humidity adjustments.
    The answer is in *unit*, rounded to 0.1.
    """
    if not 0 <= relative_humidity <= 100:
        raise ValueError(f"relative humidity must be 0-100 %, got {relative_humidity}")
    t = convert_temperature(temperature, unit, "F")
    rh = relative_humidity
    simple = 0.5 * (t + 61.0 + (t - 68.0) * 1.2 + rh * 0.094)
    if (simple + t) / 2 < 80:
        result = simple
    else:
        result = (
            -42.379
            + 2.04901523 * t
            + 10.14333127 * rh
            - 0.22475541 * t * rh
            - 6.83783e-3 * t * t
            - 5.481717e-2 * rh * rh
            + 1.22874e-3 * t * t * rh
            + 8.5282e-4 * t * rh * rh
            - 1.99e-6 * t * t * rh * rh
        )
        if rh < 13 and 80 <= t <= 112:
            result -= (13 - rh) / 4 * math.sqrt((17 - abs(t - 95)) / 17)
        elif rh > 85 and 80 <= t <= 87:
            result += (rh - 85) / 10 * (87 - t) / 5
    return round(convert_temperature(result, "F", unit), 1)


def wind_chill(temperature: float, wind_speed: float, unit: str = "C") -> float:
    """How cold it feels: the NWS/Environment Canada wind chill index.

    *unit* ``"C"`` takes °C and wind in km/h; ``"F"`` takes °F and wind in mph. Outside the
    index's range (warmer than 10 °C / 50 °F, or wind under 4.8 km/h / 3 mph) wind chill is
    defined as the air temperature itself. Rounded to 0.1.
    """
    if wind_speed < 0:
        raise ValueError(f"wind speed must not be negative, got {wind_speed}")
    if unit == "C":
        if temperature > 10 or wind_speed < 4.8:
            return round(temperature, 1)
        power = math.pow(wind_speed, 0.16)
        return round(13.12 + 0.6215 * temperature - 11.37 * power + 0.3965 * temperature * power, 1)
    if unit == "F":
        if temperature > 50 or wind_speed < 3:
            return round(temperature, 1)
        power = math.pow(wind_speed, 0.16)
        return round(35.74 + 0.6215 * temperature - 35.75 * power + 0.4275 * temperature * power, 1)
    raise ValueError(f"wind chill takes unit 'C' (km/h) or 'F' (mph), not {unit!r}")


def summarize_forecast(periods: Sequence[Mapping[str, Any]], unit: str = "C") -> dict[str, Any]:
    """Summarise forecast periods: temperature range, rain, the usual condition, one sentence.

    Each period has ``label`` (``"Mon"``), ``temperature``, and optionally
    ``precipitation_mm`` and ``condition``. The figures are those given; nothing is fetched.

    Raises:
        ValueError: No periods.
    """
    if not periods:
        raise ValueError("a forecast needs at least one period")
    temperatures = [float(period["temperature"]) for period in periods]
    rain = [float(period.get("precipitation_mm", 0.0)) for period in periods]
    conditions = Counter(
        str(period["condition"]).lower() for period in periods if period.get("condition")
    )
    total_rain = round(sum(rain), 1)
    wettest = periods[rain.index(max(rain))]["label"] if total_rain > 0 else None
    usual = conditions.most_common(1)[0][0] if conditions else None
    low, high = min(temperatures), max(temperatures)
    sentence = f"{len(periods)} periods: {low:g} to {high:g} °{unit}"
    if usual is not None:
        sentence += f", mostly {usual}"
    sentence += f", {total_rain:g} mm of rain" + (f" (most on {wettest})" if wettest else "")
    return {
        "periods": len(periods),
        "min_temperature": low,
        "max_temperature": high,
        "mean_temperature": round(sum(temperatures) / len(temperatures), 1),
        "total_precipitation_mm": total_rain,
        "wettest": wettest,
        "conditions": dict(conditions),
        "summary": sentence + ".",
    }
