"""Unit tables for ``math_convert_units``: each unit's factor to its dimension's base unit."""

from __future__ import annotations

__all__ = ["UNITS", "convert"]

# dimension -> {unit: factor to the base unit}; aliases are separate keys.
_TABLES: dict[str, dict[str, float]] = {
    "length": {  # metre
        "m": 1,
        "meter": 1,
        "metre": 1,
        "km": 1e3,
        "cm": 1e-2,
        "mm": 1e-3,
        "um": 1e-6,
        "nm": 1e-9,
        "mi": 1609.344,
        "mile": 1609.344,
        "yd": 0.9144,
        "yard": 0.9144,
        "ft": 0.3048,
        "foot": 0.3048,
        "feet": 0.3048,
        "in": 0.0254,
        "inch": 0.0254,
        "nmi": 1852,
        "au": 149_597_870_700,
        "ly": 9_460_730_472_580_800,
    },
    "mass": {  # kilogram
        "kg": 1,
        "g": 1e-3,
        "mg": 1e-6,
        "ug": 1e-9,
        "t": 1e3,
        "tonne": 1e3,
        "lb": 0.45359237,
        "pound": 0.45359237,
        "oz": 0.028349523125,
        "ounce": 0.028349523125,
        "st": 6.35029318,
        "stone": 6.35029318,
        "ton_us": 907.18474,
        "ton_uk": 1016.0469088,
    },
    "time": {  # second
        "s": 1,
        "sec": 1,
        "second": 1,
        "ms": 1e-3,
        "us": 1e-6,
        "ns": 1e-9,
        "min": 60,
        "minute": 60,
        "h": 3600,
        "hour": 3600,
        "day": 86400,
        "week": 604800,
        "year": 31_557_600,  # Julian year
    },
    "volume": {  # litre
        "l": 1,
        "liter": 1,
        "litre": 1,
        "ml": 1e-3,
        "cl": 1e-2,
        "dl": 0.1,
        "m3": 1e3,
        "cm3": 1e-3,
        "gal": 3.785411784,
        "gallon": 3.785411784,
        "gal_uk": 4.54609,
        "qt": 0.946352946,
        "pt": 0.473176473,
        "cup": 0.2365882365,
        "floz": 0.0295735295625,
        "tbsp": 0.01478676478125,
        "tsp": 0.00492892159375,
        "ft3": 28.316846592,
    },
    "area": {  # square metre
        "m2": 1,
        "km2": 1e6,
        "cm2": 1e-4,
        "mm2": 1e-6,
        "ha": 1e4,
        "hectare": 1e4,
        "acre": 4046.8564224,
        "ft2": 0.09290304,
        "in2": 0.00064516,
        "mi2": 2_589_988.110336,
        "yd2": 0.83612736,
    },
    "speed": {  # metre per second
        "m/s": 1,
        "mps": 1,
        "km/h": 1 / 3.6,
        "kph": 1 / 3.6,
        "kmh": 1 / 3.6,
        "mph": 0.44704,
        "knot": 0.514444444444,
        "kn": 0.514444444444,
        "ft/s": 0.3048,
    },
    "data": {  # byte
        "b": 1,
        "byte": 1,
        "bit": 0.125,
        "kb": 1e3,
        "mb": 1e6,
        "gb": 1e9,
        "tb": 1e12,
        "pb": 1e15,
        "kib": 1024,
        "mib": 1024**2,
        "gib": 1024**3,
        "tib": 1024**4,
    },
    "energy": {  # joule
        "j": 1,
        "kj": 1e3,
        "mj": 1e6,
        "cal": 4.184,
        "kcal": 4184,
        "wh": 3600,
        "kwh": 3.6e6,
        "ev": 1.602176634e-19,
        "btu": 1055.05585262,
    },
    "pressure": {  # pascal
        "pa": 1,
        "kpa": 1e3,
        "mpa": 1e6,
        "bar": 1e5,
        "mbar": 100,
        "atm": 101_325,
        "psi": 6894.757293168,
        "mmhg": 133.322387415,
        "torr": 101_325 / 760,
    },
    "power": {"w": 1, "kw": 1e3, "mw": 1e6, "hp": 745.69987158227},  # watt
    "angle": {
        "rad": 1,
        "deg": 0.017453292519943295,
        "degree": 0.017453292519943295,
        "grad": 0.015707963267948967,
        "turn": 6.283185307179586,
    },
}

_TEMPERATURE = {"c", "celsius", "f", "fahrenheit", "k", "kelvin"}

#: unit name -> dimension, every unit known.
UNITS: dict[str, str] = {
    unit: dimension for dimension, table in _TABLES.items() for unit in table
} | dict.fromkeys(_TEMPERATURE, "temperature")


def _to_kelvin(value: float, unit: str) -> float:
    if unit in ("c", "celsius"):
        return value + 273.15
    if unit in ("f", "fahrenheit"):
        return (value - 32) * 5 / 9 + 273.15
    return value


def _from_kelvin(value: float, unit: str) -> float:
    if unit in ("c", "celsius"):
        return value - 273.15
    if unit in ("f", "fahrenheit"):
        return (value - 273.15) * 9 / 5 + 32
    return value


def convert(value: float, from_unit: str, to_unit: str) -> tuple[float, str]:
    """*value* in *from_unit* expressed in *to_unit*, and the dimension.

    Raises:
        ValueError: an unknown unit, units of different dimensions, or a temperature below
            absolute zero.
    """
    source, target = from_unit.strip().lower(), to_unit.strip().lower()
    for unit, given in ((source, from_unit), (target, to_unit)):
        if unit not in UNITS:
            raise ValueError(f"unknown unit {given!r}; known units: {', '.join(sorted(UNITS))}")
    dimension = UNITS[source]
    if UNITS[target] != dimension:
        raise ValueError(f"cannot convert {from_unit} ({dimension}) to {to_unit} ({UNITS[target]})")
    if dimension == "temperature":
        kelvin = _to_kelvin(value, source)
        if kelvin < 0:
            raise ValueError(f"{value} {from_unit} is below absolute zero")
        return _from_kelvin(kelvin, target), dimension
    table = _TABLES[dimension]
    return value * table[source] / table[target], dimension
