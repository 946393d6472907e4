"""The math tools as plain functions of agentkit_tools.builtin.math, and unit conversion on pint."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit import ToolRegistry
from agentkit.exceptions import ToolInputError
from agentkit.tools import FunctionTool
from agentkit_tools import CalculatorLimits, ToolsConfig
from agentkit_tools.builtin import math as math_module
from agentkit_tools.builtin.math import (
    TOOLS,
    math_calculate,
    math_convert_units,
    math_round,
    math_tools,
)

#: One valid call of every math tool, and a key its output must have.
CALLS: dict[str, tuple[dict[str, Any], str]] = {
    "math_calculate": ({"expression": "2 ** 10 / 4"}, "result"),
    "math_compound_interest": ({"principal": 100, "annual_rate": 10, "years": 1}, "final_balance"),
    "math_convert_base": ({"value": "ff", "from_base": 16}, "result"),
    "math_convert_units": ({"value": 1, "from_unit": "mile", "to_unit": "km"}, "result"),
    "math_factorize": ({"n": 84}, "factors"),
    "math_linear_regression": ({"x": [1, 2, 3], "y": [2, 4, 6]}, "slope"),
    "math_matrix": ({"operation": "transpose", "a": [[1, 2]]}, "result"),
    "math_random": ({"seed": 3, "count": 2}, "values"),
    "math_round": ({"value": 1.25, "decimals": 1}, "text"),
    "math_solve_quadratic": ({"a": 1, "b": 0, "c": -4}, "roots"),
    "math_statistics": ({"values": [1, 2, 3]}, "mean"),
}


def test_every_math_tool_is_listed_and_exported() -> None:
    """TOOLS holds each math tool once, as a FunctionTool exported from the module."""
    assert sorted(each.name for each in TOOLS) == sorted(CALLS)
    for each in TOOLS:
        assert isinstance(each, FunctionTool)
        assert getattr(math_module, each.name) is each
        assert each.category == "math"
        assert each.tags[0] == "math"


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_each_tool_runs_alone_bound_and_in_a_registry(name: str) -> None:
    """Imported alone, each tool (bound when it needs config) runs directly and in a registry."""
    params, key = CALLS[name]
    each = getattr(math_module, name)
    ready = each.bind(config=ToolsConfig()) if each.injected else each
    direct = ready(**params)
    registry = ToolRegistry(validate_output=True)
    registry.register_tool(ready)
    result = await registry.execute_tool(name, params)
    assert result.success, result.error
    assert key in result.output
    if name != "math_random":
        assert result.output[key] == direct[key]


async def test_calculate_unbound_is_not_configured() -> None:
    """math_calculate registered without bind reports not_configured and names the fix."""
    registry = ToolRegistry()
    registry.register_tool(math_calculate)
    result = await registry.execute_tool("math_calculate", {"expression": "1 + 1"})
    assert result.error_type == "not_configured"
    assert "bind" in str(result.error)


def test_direct_call_runs_the_function() -> None:
    """A math tool is callable as its function, positional arguments included."""
    assert math_round(2.675, 2)["text"] == "2.68"
    # bind keeps the signature's type (config included), so the bound call is typed Any here.
    limited: Any = math_calculate.bind(config=ToolsConfig(calculator_limits=CalculatorLimits()))
    assert limited("6 * 7")["result"] == 42
    assert math_calculate("6 * 7", config=ToolsConfig())["result"] == 42


async def test_expression_length_limit_follows_the_config() -> None:
    """A higher max_expression_chars widens the schema's maxLength and the calculator's limit."""
    config = ToolsConfig(calculator_limits=CalculatorLimits(max_expression_chars=3_000))
    registry = ToolRegistry()
    for each in math_tools(config):
        registry.register_tool(each)
    expression = "+".join(["1"] * 1_200)  # 2,399 characters, 1,200 leaves
    tool = registry.get_tool("math_calculate")
    assert tool.parameters["properties"]["expression"]["maxLength"] == 3_000
    result = await registry.execute_tool("math_calculate", {"expression": expression})
    assert result.error_type != "validation"
    default = math_tools(ToolsConfig())
    calculate = next(each for each in default if each.name == "math_calculate")
    assert calculate.parameters["properties"]["expression"]["maxLength"] == 1_000


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1, "parsec", "light_year", 3.26156),
        (1, "furlong", "m", 201.168),
        (100, "km/h", "mph", 62.1371),
        (1, "kWh", "MJ", 3.6),
        (1, "MiB", "kB", 1048.576),
        (1, "J/(kg*K)", "cal/(g*K)", 1 / 4184),
        (9.81, "m/s^2", "ft/s**2", 32.1850),
        (1, "atm", "mmHg", 760),
        (491.67, "degR", "degC", 0),
        (212, "degF", "degC", 100),
        (0, "K", "degF", -459.67),
        (10, "delta_degC", "delta_degF", 18),
        (1, "nautical_mile", "yard", 2025.37),
    ],
)
def test_units_pint_knows(value: float, source: str, target: str, expected: float) -> None:
    """Units, prefixes, compound units and temperature offsets convert as pint defines them."""
    result = math_convert_units(value, source, target)["result"]
    assert result == pytest.approx(expected, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("C", "F", 33.8),
        ("celsius", "kelvin", 274.15),
        ("mb", "kb", 1000),
        ("gb", "mib", 1e9 / 2**20),
        ("pa", "kpa", 0.001),
        ("m2", "ft2", 10.7639),
        ("kwh", "j", 3.6e6),
        ("ton_us", "kg", 907.18474),
    ],
)
def test_old_short_names_keep_their_meaning(source: str, target: str, expected: float) -> None:
    """The hand-typed tables' names still mean what they meant, where pint reads them otherwise."""
    assert math_convert_units(1, source, target)["result"] == pytest.approx(expected, rel=1e-5)


def test_dimension_names() -> None:
    """Common dimensions are named; others are pint's dimensionality text."""
    assert math_convert_units(1, "km/h", "m/s")["dimension"] == "speed"
    assert math_convert_units(1, "byte", "bit")["dimension"] == "data"
    assert math_convert_units(90, "degree", "radian")["dimension"] == "angle"
    assert math_convert_units(1, "coulomb", "A*s")["dimension"] == "charge"
    resistance = math_convert_units(1, "ohm", "kiloohm")["dimension"]
    assert {"[mass]", "[length]", "[time]", "[current]"} <= set(
        resistance.replace("*", " ").split()
    )


@pytest.mark.parametrize(
    ("source", "target", "names"),
    [
        ("kg", "m", ("mass", "length")),
        ("byte", "degree", ("data", "angle")),
        ("percent", "bit", ("dimensionless", "data")),
        ("km/h", "kWh", ("speed", "energy")),
    ],
)
def test_incompatible_dimensions_name_both(
    source: str, target: str, names: tuple[str, str]
) -> None:
    """Converting across dimensions is a ToolInputError naming both dimensions."""
    with pytest.raises(ToolInputError, match="cannot convert") as caught:
        math_convert_units(1, source, target)
    assert f"({names[0]})" in str(caught.value)
    assert f"({names[1]})" in str(caught.value)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("m**9**9", "not a unit expression"),
        ("m**99999", "not a unit expression"),
        ("2**64", "not a unit expression"),
        ("(m**9)**(9**9)", "not a unit expression"),
        ("__import__('os')", "not a unit expression"),
        ("", "not a unit expression"),
        ("m/", "cannot read"),
        ("(m", "cannot read"),
        ("flurb", "unknown unit"),
        ("__class__", "unknown unit"),
    ],
)
def test_bad_unit_text_is_a_typed_error(source: str, message: str) -> None:
    """Unit text that is not a small unit expression, or names no unit, is a ToolInputError."""
    with pytest.raises(ToolInputError, match=message):
        math_convert_units(1, source, "m")


def test_below_absolute_zero_is_refused_but_a_difference_is_not() -> None:
    """-300 degC is below absolute zero; a temperature difference of -300 K is fine."""
    with pytest.raises(ToolInputError, match="absolute zero"):
        math_convert_units(-300, "degC", "K")
    assert math_convert_units(-300, "delta_degC", "kelvin")["result"] == pytest.approx(-300)


@settings(max_examples=300)
@given(
    st.text(alphabet="mskgJW*/^()0123456789 _-.degCFK", max_size=32),
    st.sampled_from(["m", "K", "J", "byte", "degF"]),
)
def test_any_unit_text_gives_a_result_or_a_typed_error(source: str, target: str) -> None:
    """Generated unit text converts to a finite number or raises ToolInputError, nothing else."""
    try:
        result = math_convert_units(1.5, source, target)
    except ToolInputError:
        return
    assert math.isfinite(result["result"])
