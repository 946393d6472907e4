"""Unit conversion for ``math_convert_units``, on pint's unit registry.

pint knows about a thousand units and every SI prefix, parses products, quotients and powers
(``kg*m/s^2``, ``J/(kg*K)``) and converts temperatures with their offsets. Its import and
registry cost about 0.4-0.9 s on a busy two-core machine, so one shared registry is made on
the first conversion (under a lock), never at import.

The short lowercase names the hand-made tables accepted keep their meaning where pint reads
them differently or not at all: ``C``/``F`` are Celsius and Fahrenheit (pint: coulomb and
farad; spell those out), ``b``/``kb``/``mb``/``gb``/``tb``/``pb`` are bytes (pint: barns),
``pa`` is the pascal (pint: a picoyear), and ``m2``, ``ft3``, ``kwh``, ``ton_us``... are
still understood.

Unit text is checked before pint sees it: names, spaces, ``*``, ``/``, parentheses and powers
whose exponent is a number of at most two digits (no power of a power), so no unit text can
make pint compute a huge number.
"""

from __future__ import annotations

import math
import re
import threading
import tokenize
from typing import TYPE_CHECKING, Any, Final

from agentkit.exceptions import ToolInputError

if TYPE_CHECKING:
    import pint

__all__ = ["convert"]

#: Names that always mean what they meant before pint (compared in lower case).
_ALWAYS: Final = {
    "c": "degC",
    "celsius": "degC",
    "f": "degF",
    "fahrenheit": "degF",
    "b": "byte",
    "kb": "kilobyte",
    "mb": "megabyte",
    "gb": "gigabyte",
    "tb": "terabyte",
    "pb": "petabyte",
    "pa": "Pa",
}

#: Names pint does not know, read as before (compared in lower case).
_FALLBACK: Final = {
    "m2": "m**2",
    "km2": "km**2",
    "cm2": "cm**2",
    "mm2": "mm**2",
    "ft2": "ft**2",
    "in2": "inch**2",
    "mi2": "mi**2",
    "yd2": "yd**2",
    "m3": "m**3",
    "cm3": "cm**3",
    "ft3": "ft**3",
    "kmh": "km/h",
    "st": "stone",
    "ton_us": "short_ton",
    "ton_uk": "long_ton",
    "gal_uk": "imperial_gallon",
    "kib": "kibibyte",
    "mib": "mebibyte",
    "gib": "gibibyte",
    "tib": "tebibyte",
    "j": "J",
    "kj": "kJ",
    "mj": "MJ",
    "wh": "Wh",
    "kwh": "kWh",
    "ev": "eV",
    "btu": "Btu",
    "kpa": "kPa",
    "mpa": "MPa",
    "mmhg": "mmHg",
    "w": "W",
    "kw": "kW",
    "mw": "MW",
}

#: A unit expression: names, spaces, '*', '/', parentheses, and powers by a small number
#: that are not themselves raised to a power.
_EXPRESSION: Final = re.compile(
    r"(?:[^\W\d]\w*|°[CFK]?|\s+|[*/()]|(?:\*\*|\^)\s*-?\d{1,2}(?:\.\d{1,2})?(?!\s*(?:\*\*|\^)))+"
)

#: Friendly names of common dimensionalities (pint's own text, e.g. '[length] / [time]',
#: for the rest).
_DIMENSIONS: Final = (
    ("length", "m"),
    ("mass", "kg"),
    ("time", "s"),
    ("area", "m**2"),
    ("volume", "m**3"),
    ("speed", "m/s"),
    ("acceleration", "m/s**2"),
    ("force", "N"),
    ("energy", "J"),
    ("pressure", "Pa"),
    ("power", "W"),
    ("temperature", "K"),
    ("frequency", "Hz"),
    ("charge", "C"),
    ("current", "A"),
    ("voltage", "V"),
    ("density", "kg/m**3"),
)
#: Names of dimensionless kinds by their root unit ('' is a pure number: percent, dozen).
_DIMENSIONLESS: Final = {"bit": "data", "radian": "angle", "": "dimensionless"}

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _registry() -> tuple[pint.UnitRegistry[Any], dict[Any, str]]:
    """The shared registry and its dimension names, made on first use."""
    registry = _state.get("registry")
    if registry is None:
        with _lock:
            registry = _state.get("registry")
            if registry is None:
                import pint

                registry = pint.UnitRegistry()
                _state["names"] = {
                    registry.get_dimensionality(expression): name
                    for name, expression in _DIMENSIONS
                }
                _state["registry"] = registry
    return registry, _state["names"]


def _resolve(text: str) -> str:
    """The pint expression for the unit *text* the caller gave."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in _ALWAYS:
        return _ALWAYS[lowered]
    if not stripped or not _EXPRESSION.fullmatch(stripped):
        raise ToolInputError(
            f"unit {text!r} is not a unit expression: use unit names and prefixes (e.g. 'km', "
            "'degF', 'kWh'), '*', '/', parentheses and small powers ('m/s^2', 'J/(kg*K)')"
        )
    return stripped


def _parse(registry: pint.UnitRegistry[Any], text: str) -> Any:
    import pint

    expression = _resolve(text)
    errors = (
        pint.errors.PintError,
        AttributeError,
        AssertionError,
        SyntaxError,
        TypeError,
        ValueError,
        ZeroDivisionError,
        tokenize.TokenError,
    )
    try:
        return registry.parse_units(expression)
    except errors as exc:
        fallback = _FALLBACK.get(expression.lower())
        if fallback is not None:
            return registry.parse_units(fallback)
        if isinstance(exc, pint.errors.UndefinedUnitError):
            raise ToolInputError(
                f"unknown unit {text!r}: use a unit name or symbol pint knows, e.g. 'km', "
                "'mile', 'degC', 'kWh', 'MiB', 'psi', 'parsec'"
            ) from None
        raise ToolInputError(f"cannot read the unit {text!r}: {exc}") from None


def _dimension(registry: pint.UnitRegistry[Any], units: Any, names: dict[Any, str]) -> str:
    dimensionality = units.dimensionality
    if dimensionality:
        return names.get(dimensionality, str(dimensionality))
    _factor, root = registry.get_root_units(units)
    root_text = "" if root.dimensionless and not root._units else str(root)
    return _DIMENSIONLESS.get(root_text, f"dimensionless ({root_text})")


def convert(value: float, from_unit: str, to_unit: str) -> tuple[float, str]:
    """*value* in *from_unit* expressed in *to_unit*, and the dimension's name.

    Raises:
        ToolInputError: an unknown or unreadable unit, units of different dimensions (the
            message names both), or a temperature below absolute zero.
    """
    import pint

    registry, names = _registry()
    source, target = _parse(registry, from_unit), _parse(registry, to_unit)
    source_dimension = _dimension(registry, source, names)
    target_dimension = _dimension(registry, target, names)
    if source_dimension != target_dimension:
        raise ToolInputError(
            f"cannot convert {from_unit} ({source_dimension}) to {to_unit} ({target_dimension})"
        )
    quantity = registry.Quantity(value, source)
    if source_dimension == "temperature" and "delta_" not in str(source):
        kelvin = float(quantity.to(registry.kelvin).magnitude)
        if kelvin < 0:
            raise ToolInputError(f"{value} {from_unit} is below absolute zero")
    try:
        result = float(quantity.to(target).magnitude)
    except (pint.errors.PintError, ZeroDivisionError) as exc:
        raise ToolInputError(f"cannot convert {from_unit} to {to_unit}: {exc}") from None
    except OverflowError:
        result = math.inf
    return result, source_dimension
