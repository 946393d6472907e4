"""The math tools: safe calculator, units, statistics, algebra, finance, randomness."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit import ToolRegistry
from agentkit.exceptions import ConfigurationError, LimitExceededError
from agentkit_tools import CalculatorLimits, ToolsConfig, create_builtin_tools_library
from agentkit_tools.builtin._calc import evaluate
from agentkit_tools.builtin.math import (
    math_compound_interest,
    math_factorize,
    math_linear_regression,
    math_matrix,
    math_random,
    math_round,
    math_solve_quadratic,
    math_statistics,
    math_tools,
)


async def test_calculate_evaluates_arithmetic_and_functions(call: Any) -> None:
    """Operators, precedence, constants and functions give the right value."""
    result = await call("math_calculate", expression="(2 + 3) * sqrt(16) - 2^3 + log(e)")
    assert result["result"] == pytest.approx(13.0)
    assert (await call("math_calculate", expression="7 // 2 + 7 % 2"))["result"] == 4


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "not allowed"),
        ("9**9**9**9", "exponent"),
        ("2 ** 100000", "exponent"),
        ("10 ** 5000", "bits"),
        ("factorial(5000)", "factorial"),
        ("open('x')", "not allowed"),
        ("(1).__class__", "not allowed"),
        ("[1, 2]", "not allowed"),
        ("x + 1", "unknown name"),
        ("'a' * 3", "only numbers"),
        ("2 +", "cannot parse"),
        ("1" + "+1" * 600, "longer than"),
        ("sqrt(-1)", "negative"),
        ("1e308 * 10", "finite"),
        ("lambda: 1", "not allowed"),
    ],
)
def test_calculator_refuses_unsafe_or_unbounded_input(expression: str, message: str) -> None:
    """Code, huge exponents, huge integers and non-arithmetic raise ValueError, never run."""
    with pytest.raises(ValueError, match=message):
        evaluate(expression)


async def test_calculate_division_by_zero_raises(call: Any) -> None:
    """Dividing by zero raises ZeroDivisionError for the registry to report."""
    with pytest.raises(ZeroDivisionError):
        await call("math_calculate", expression="1 / (3 - 3)")


@given(
    st.integers(-(10**6), 10**6),
    st.integers(-(10**6), 10**6),
    st.integers(1, 10**6),
)
def test_calculator_matches_python_arithmetic(a: int, b: int, c: int) -> None:
    """For integer arithmetic the evaluator gives exactly Python's answer."""
    assert evaluate(f"{a} + {b} * {c} - ({a}) // {c} + ({b}) % {c}") == a + b * c - a // c + b % c


async def test_convert_units_across_dimensions(call: Any) -> None:
    """Lengths, temperatures and data sizes convert to the known values."""
    miles = await call("math_convert_units", value=42.195, from_unit="km", to_unit="mi")
    assert miles["result"] == pytest.approx(26.2188, abs=1e-4)
    assert miles["dimension"] == "length"
    fahrenheit = await call("math_convert_units", value=100, from_unit="C", to_unit="F")
    assert fahrenheit["result"] == pytest.approx(212)
    gib = await call("math_convert_units", value=1, from_unit="GiB", to_unit="MB")
    assert gib["result"] == pytest.approx(1073.741824)


@pytest.mark.parametrize(
    ("value", "source", "target", "message"),
    [
        (1, "kg", "m", "cannot convert"),
        (1, "smoot_of_doom", "m", "unknown unit"),
        (-500, "C", "K", "absolute zero"),
    ],
)
async def test_convert_units_bad_input(
    call: Any, value: float, source: str, target: str, message: str
) -> None:
    """Unknown units, mismatched dimensions and impossible temperatures are refused."""
    with pytest.raises(ValueError, match=message):
        await call("math_convert_units", value=value, from_unit=source, to_unit=target)


async def test_statistics_describe_a_sample(call: Any) -> None:
    """Mean, median, modes, stdev, quartiles and percentiles are those of the sample."""
    stats = await call("math_statistics", values=[2, 4, 4, 4, 5, 5, 7, 9], percentiles=[50, 90])
    assert stats["mean"] == 5
    assert stats["median"] == 4.5
    assert stats["modes"] == [4]
    assert stats["population_stdev"] == pytest.approx(2.0)
    assert stats["percentiles"]["50"] == 4.5
    assert stats["quartiles"] == [4.0, 4.5, 5.5]


def test_statistics_schema_rejects_empty_and_non_numbers(rejects: Any) -> None:
    """An empty list or a string among the values fails validation at /values."""
    assert rejects("math_statistics", values=[])
    assert any(e.startswith("/values/1") for e in rejects("math_statistics", values=[1, "x"]))


async def test_round_modes(call: Any) -> None:
    """Half-up, half-even, floor and ceiling round 2.675 exactly as written."""
    assert (await call("math_round", value=2.675, decimals=2))["text"] == "2.68"
    assert (await call("math_round", value=2.5, mode="half_even"))["result"] == 2
    assert (await call("math_round", value=-1.21, decimals=1, mode="floor"))["result"] == -1.3


def test_round_rejects_unknown_mode(rejects: Any) -> None:
    """A rounding mode outside the enum fails validation."""
    assert rejects("math_round", value=1.5, mode="banker")


async def test_solve_quadratic_real_and_complex(call: Any) -> None:
    """x^2 - 3x + 2 has roots 1 and 2; x^2 + 1 has roots -i and i."""
    real = await call("math_solve_quadratic", a=1, b=-3, c=2)
    assert [r["real"] for r in real["roots"]] == [1.0, 2.0]
    complex_roots = await call("math_solve_quadratic", a=1, b=0, c=1)
    assert complex_roots["kind"] == "complex"
    assert [r["imag"] for r in complex_roots["roots"]] == [-1.0, 1.0]


async def test_solve_quadratic_degenerate(call: Any) -> None:
    """a = b = 0 is no equation and raises ValueError."""
    with pytest.raises(ValueError, match="no equation"):
        await call("math_solve_quadratic", a=0, b=0, c=1)


async def test_matrix_operations(call: Any) -> None:
    """Multiply, determinant and inverse give the textbook results."""
    product = await call("math_matrix", operation="multiply", a=[[1, 2], [3, 4]], b=[[5], [6]])
    assert product["result"] == [[17], [39]]
    det = await call("math_matrix", operation="determinant", a=[[4, 7], [2, 6]])
    assert det["result"] == pytest.approx(10)
    inverse = await call("math_matrix", operation="inverse", a=[[4, 7], [2, 6]])
    assert inverse["result"] == [
        [pytest.approx(0.6), pytest.approx(-0.7)],
        [pytest.approx(-0.2), pytest.approx(0.4)],
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"operation": "inverse", "a": [[1, 2], [2, 4]]}, "singular"),
        ({"operation": "multiply", "a": [[1, 2]], "b": [[1, 2]]}, "cannot multiply"),
        ({"operation": "add", "a": [[1, 2], [3, 4]]}, "second matrix"),
        ({"operation": "determinant", "a": [[1, 2], [3]]}, "rectangular"),
    ],
)
async def test_matrix_bad_input(call: Any, params: dict[str, Any], message: str) -> None:
    """Singular, mismatched and ragged matrices raise ValueError."""
    with pytest.raises(ValueError, match=message):
        await call("math_matrix", **params)


async def test_convert_base(call: Any) -> None:
    """Hex ff is binary 11111111 and decimal 255."""
    result = await call("math_convert_base", value="0xff", from_base=16, to_base=2)
    assert result["result"] == "11111111"
    assert result["decimal"] == "255"


async def test_convert_base_rejects_bad_digits(call: Any) -> None:
    """A digit outside the base raises ValueError."""
    with pytest.raises(ValueError, match="base-2"):
        await call("math_convert_base", value="102", from_base=2, to_base=10)


async def test_factorize(call: Any) -> None:
    """360 = 2^3 * 3^2 * 5 with 24 divisors; 97 is prime."""
    result = await call("math_factorize", n=360)
    assert result["factors"] == [2, 2, 2, 3, 3, 5]
    assert result["divisor_count"] == 24
    assert (await call("math_factorize", n=97))["is_prime"] is True


def test_factorize_bounds(rejects: Any) -> None:
    """Numbers below 2 or above 10^15 fail validation."""
    assert rejects("math_factorize", n=1)
    assert rejects("math_factorize", n=10**16)


async def test_compound_interest(call: Any) -> None:
    """1000 at 5% compounded yearly for 10 years is 1628.89."""
    result = await call(
        "math_compound_interest", principal=1000, annual_rate=5, years=10, compounds_per_year=1
    )
    assert result["final_balance"] == pytest.approx(1628.89)
    assert result["interest_earned"] == pytest.approx(628.89)


def test_compound_interest_rejects_negative_principal(rejects: Any) -> None:
    """A negative principal fails validation at /principal."""
    assert any(
        e.startswith("/principal")
        for e in rejects("math_compound_interest", principal=-5, annual_rate=5, years=1)
    )


async def test_linear_regression(call: Any) -> None:
    """Points on y = 2x + 1 give slope 2, intercept 1, r 1 and exact predictions."""
    result = await call("math_linear_regression", x=[0, 1, 2, 3], y=[1, 3, 5, 7], predict=[10])
    assert result["slope"] == pytest.approx(2)
    assert result["intercept"] == pytest.approx(1)
    assert result["r_squared"] == pytest.approx(1)
    assert result["predictions"] == [pytest.approx(21)]


async def test_linear_regression_bad_input(call: Any) -> None:
    """Lists of different length raise ValueError."""
    with pytest.raises(ValueError, match="x has 3 values"):
        await call("math_linear_regression", x=[1, 2, 3], y=[1, 2])


async def test_random_is_reproducible_with_a_seed(call: Any) -> None:
    """The same seed gives the same values, within the bounds."""
    first = await call("math_random", kind="integer", minimum=1, maximum=6, count=20, seed=7)
    second = await call("math_random", kind="integer", minimum=1, maximum=6, count=20, seed=7)
    assert first == second
    assert all(1 <= v <= 6 for v in first["values"])
    sample = await call("math_random", kind="sample", choices=["a", "b", "c"], count=3, seed=1)
    assert sorted(sample["values"]) == ["a", "b", "c"]


async def test_random_bad_input(call: Any) -> None:
    """A choice without choices, or minimum above maximum, raises ValueError."""
    with pytest.raises(ValueError, match="choices"):
        await call("math_random", kind="choice")
    with pytest.raises(ValueError, match="greater than"):
        await call("math_random", minimum=5, maximum=1)


def test_pi_constant() -> None:
    """Constants evaluate to their math module values."""
    assert evaluate("2 * pi") == pytest.approx(math.tau)


# -- bounded for every input -----------------------------------------------------------------------

_LIMITS = CalculatorLimits()


def _math_registry() -> ToolRegistry:
    registry = ToolRegistry()
    for tool in math_tools(ToolsConfig()):
        registry.register_tool(tool)
    return registry


async def test_round_to_ten_million_digits_is_refused_before_it_runs() -> None:
    """round(1, -10**7) with timeout=2 comes back as a LimitExceededError naming the option."""
    result = await _math_registry().execute_tool(
        "math_calculate", {"expression": "round(1, -10**7)"}, timeout=2
    )
    assert not result.success
    assert result.error_type == "LimitExceededError"
    assert "CalculatorLimits.max_int_bits" in str(result.error)


@pytest.mark.parametrize(
    ("expression", "option"),
    [
        ("round(1, -10**7)", "max_int_bits"),
        ("round(7, 10**9)", "max_int_bits"),
        ("round(2.5, -4000)", "max_int_bits"),
        ("2 ** 10001", "max_exponent"),
        ("3 ** 9999", "max_int_bits"),
        ("(-3) ** 9999", "max_int_bits"),
        ("2 ** 9999 * 2 ** 9999", "max_int_bits"),
        ("2 ** 9999 + 2 ** 9999", "max_int_bits"),
        ("lcm(2 ** 9000, 3 ** 5000)", "max_int_bits"),
        ("factorial(1001)", "max_factorial"),
        ("factorial(10 ** 100)", "max_factorial"),
        ("9" * 3020, "max_expression_chars"),
        ("-" * 300 + "1", "max_depth"),
        ("1" + "+1" * 250, "max_depth"),
        ("max(" + ",".join(["1"] * 60) + ")", "max_arguments"),
        ("min(" + ",".join(["1"] * 200) + ") + " + "+".join(["(1)"] * 100), "max_nodes"),
    ],
)
def test_every_unbounded_operation_is_refused_with_the_option(expression: str, option: str) -> None:
    """Each operation whose cost would grow past a limit raises LimitExceededError naming it."""
    # Only the limit under test keeps its default; the length and node limits are lifted.
    generous = {"max_expression_chars": 100_000, "max_nodes": 100_000}
    limits = CalculatorLimits(**{**generous, option: getattr(_LIMITS, option)})
    with pytest.raises(LimitExceededError, match=f"CalculatorLimits.{option}"):
        evaluate(expression, limits=limits)


def test_limits_are_configurable() -> None:
    """A lower or higher limit changes what is refused."""
    with pytest.raises(LimitExceededError, match="max_factorial"):
        evaluate("factorial(10)", limits=CalculatorLimits(max_factorial=5))
    assert evaluate("2 ** 20000", limits=CalculatorLimits(max_int_bits=30_000, max_exponent=20_000))
    with pytest.raises(ConfigurationError, match="max_nodes"):
        CalculatorLimits(max_nodes=0)


_FUNCTIONS = [
    ("abs", 1),
    ("round", 1),
    ("round", 2),
    ("min", 3),
    ("max", 2),
    ("sqrt", 1),
    ("exp", 1),
    ("log", 1),
    ("log", 2),
    ("ln", 1),
    ("log10", 1),
    ("log2", 1),
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("asin", 1),
    ("acos", 1),
    ("atan", 1),
    ("atan2", 2),
    ("sinh", 1),
    ("cosh", 1),
    ("tanh", 1),
    ("degrees", 1),
    ("radians", 1),
    ("floor", 1),
    ("ceil", 1),
    ("trunc", 1),
    ("hypot", 2),
    ("gcd", 2),
    ("lcm", 3),
    ("factorial", 1),
]
_literals = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from(["10**7", "-10**7", "2**9999", "10**3000", "9" * 300, "1e308", "1e-308"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["pi", "e", "tau", "0", "1", "-1", "0.5"]),
)


def _expressions() -> st.SearchStrategy[str]:
    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(
            children, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "^"]), children
        )
        calls = st.sampled_from(_FUNCTIONS).flatmap(
            lambda spec: st.lists(children, min_size=spec[1], max_size=spec[1]).map(
                lambda args: f"{spec[0]}({', '.join(args)})"
            )
        )
        return st.one_of(
            binary.map(lambda parts: f"({parts[0]} {parts[1]} {parts[2]})"),
            children.map(lambda inner: f"-({inner})"),
            calls,
        )

    return st.recursive(_literals, extend, max_leaves=12)


@settings(max_examples=400)
@given(_expressions())
def test_generated_expressions_give_a_bounded_result_or_a_typed_error(expression: str) -> None:
    """Any mix of the allowed functions and operators on huge literals gives a finite number
    within the bit limit, or ValueError (LimitExceededError among them) or ZeroDivisionError."""
    try:
        result = evaluate(expression, limits=CalculatorLimits(max_expression_chars=100_000))
    except (ValueError, ZeroDivisionError):
        return
    if isinstance(result, int):
        assert result.bit_length() <= _LIMITS.max_int_bits
    else:
        assert math.isfinite(result)


async def test_math_random_refuses_infinite_bounds_and_stays_finite() -> None:
    """The widest finite float range gives finite values in range; infinite bounds fail."""
    registry = _math_registry()
    wide = await registry.execute_tool(
        "math_random", {"kind": "float", "minimum": -1.7e308, "maximum": 1.7e308, "count": 500}
    )
    assert wide.success
    assert all(math.isfinite(v) and -1.7e308 <= v <= 1.7e308 for v in wide.output["values"])
    for bounds in ({"minimum": -math.inf}, {"maximum": math.inf}, {"maximum": math.nan}):
        for kind in ("float", "integer"):
            result = await registry.execute_tool("math_random", {"kind": kind, **bounds})
            assert not result.success
            assert result.error_type == "ToolInputError"


@given(
    low=st.floats(allow_nan=False, allow_infinity=False),
    high=st.floats(allow_nan=False, allow_infinity=False),
    kind=st.sampled_from(["float", "integer"]),
    seed=st.integers(0, 2**64),
)
def test_math_random_values_are_finite_and_within_bounds(
    low: float, high: float, kind: str, seed: int
) -> None:
    """For any finite bounds, every value is finite and inside them, or a ValueError says why."""
    low, high = min(low, high), max(low, high)
    try:
        values = math_random(kind=kind, minimum=low, maximum=high, count=20, seed=seed)["values"]
    except ValueError:
        assert kind == "integer"
        assert math.ceil(low) > math.floor(high)
        return
    assert all(math.isfinite(value) and low <= value <= high for value in values)


def test_math_random_output_is_bounded() -> None:
    """count picks of big choices are refused with LimitExceededError, not multiplied."""
    with pytest.raises(LimitExceededError):
        math_random(kind="choice", choices=[list(range(1000))], count=10_000)


_extreme_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324, 0.0]),
)


@given(st.lists(_extreme_floats, min_size=1, max_size=50))
def test_statistics_are_finite_or_a_value_error(values: list[float]) -> None:
    """Statistics of any finite floats are finite numbers, or a ValueError about their size."""
    try:
        result = math_statistics(values, percentiles=[0, 37.5, 100])
    except ValueError:
        return
    numbers = [v for v in result.values() if isinstance(v, float)]
    numbers += result.get("quartiles", []) + list(result["percentiles"].values()) + result["modes"]
    assert all(math.isfinite(v) for v in numbers)


@given(st.lists(st.tuples(_extreme_floats, _extreme_floats), min_size=2, max_size=30))
def test_linear_regression_is_finite_or_a_value_error(points: list[tuple[float, float]]) -> None:
    """A fit through any finite points is finite, or a ValueError (StatisticsError included)."""
    x, y = [p[0] for p in points], [p[1] for p in points]
    try:
        result = math_linear_regression(x, y, predict=[1e308])
    except ValueError:
        return
    assert all(math.isfinite(v) for v in (result["slope"], result["intercept"], result["r"]))


@given(_extreme_floats, _extreme_floats, _extreme_floats)
def test_quadratic_roots_are_finite_or_a_value_error(a: float, b: float, c: float) -> None:
    """Roots of any finite coefficients are finite, or a ValueError."""
    try:
        result = math_solve_quadratic(a, b, c)
    except ValueError:
        return
    assert all(math.isfinite(r["real"]) and math.isfinite(r["imag"]) for r in result["roots"])


@given(
    st.lists(st.lists(_extreme_floats, min_size=3, max_size=3), min_size=3, max_size=3),
    st.sampled_from(["multiply", "determinant", "inverse", "add"]),
)
def test_matrix_results_are_finite_or_a_value_error(matrix: list[list[float]], op: str) -> None:
    """Matrix operations on any finite entries return finite numbers or raise ValueError."""
    try:
        result = math_matrix(op, matrix, matrix)["result"]
    except ValueError:
        return
    flat = [result] if isinstance(result, float | int) else [v for row in result for v in row]
    assert all(math.isfinite(v) for v in flat)


@given(
    st.floats(0, 1e308),
    st.floats(-100, 1000),
    st.floats(0, 200),
    st.integers(1, 365),
    st.floats(0, 1e308),
)
def test_compound_interest_is_finite_or_a_value_error(
    principal: float, rate: float, years: float, per_year: int, monthly: float
) -> None:
    """Any input in the schema's ranges gives finite amounts or a ValueError, never overflow."""
    try:
        result = math_compound_interest(principal, rate, years, per_year, monthly)
    except ValueError:
        return
    assert all(math.isfinite(v) for v in result.values())


@given(_extreme_floats, st.integers(-20, 20), st.sampled_from(["half_up", "half_even", "floor"]))
def test_round_any_finite_float_to_any_allowed_decimals(
    value: float, decimals: int, mode: str
) -> None:
    """math_round works for every finite float and decimals in range (no InvalidOperation)."""
    result = math_round(value, decimals, mode)
    assert math.isfinite(result["result"])


@given(st.integers(2, 10**15))
def test_factorize_any_allowed_integer(n: int) -> None:
    """The factors multiply back to n and each is prime (checked by trial division when small)."""
    result = math_factorize(n)
    assert math.prod(result["factors"]) == n
    for factor in result["factors"]:
        if factor < 10**8:
            assert all(factor % d for d in range(2, math.isqrt(factor) + 1))


def test_factorize_hard_cases() -> None:
    """Large primes, squares of primes and semiprimes near 10^15 factorize exactly."""
    assert math_factorize(999_999_999_999_989)["is_prime"]
    assert math_factorize(31_622_743**2)["factors"] == [31_622_743, 31_622_743]
    assert math_factorize(999_983 * 1_000_003)["factors"] == [999_983, 1_000_003]
    assert math_factorize(2**49)["divisor_count"] == 50


async def test_calculator_limits_come_from_the_tools_config() -> None:
    """ToolsConfig(calculator_limits=...) sets the limits of the library's math_calculate."""
    config = ToolsConfig(calculator_limits=CalculatorLimits(max_factorial=5))
    registry = ToolRegistry()
    for tool in create_builtin_tools_library(config):
        registry.register_tool(tool)
    result = await registry.execute_tool("math_calculate", {"expression": "factorial(10)"})
    assert result.error_type == "LimitExceededError"
    assert (await registry.execute_tool("math_calculate", {"expression": "factorial(5)"})).success
