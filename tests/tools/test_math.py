"""The math tools: safe calculator, units, statistics, algebra, finance, randomness."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit_tools._calc import evaluate


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
        (1, "parsec", "m", "unknown unit"),
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
