"""Math tools: safe arithmetic, unit conversion, statistics, algebra and finance helpers.

Every tool is a plain function made a :class:`~agentkit.tools.FunctionTool` by ``@tool``; the
schema comes from its type hints and docstring. ``math_calculate`` takes the settings as an
injected ``config`` (``math_calculate.bind(config=ToolsConfig())``); the others need none.

Every tool is bounded for every valid input: sizes come from the schemas, the calculator
checks each operation's cost before running it, unit text is checked before pint reads it,
the remaining work is at most linear (or, for 50x50 matrices, cubic) in the input, and every
number returned is finite (an overflow is a ``ValueError`` saying what to scale, never
``inf`` or ``nan``).
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import itertools
import math
import random
import statistics
from collections.abc import Callable, Iterable
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
    localcontext,
)
from typing import Annotated, Any, Final, Literal, NotRequired, ParamSpec, TypedDict, TypeVar, cast

import msgspec

from agentkit.exceptions import LimitExceededError
from agentkit.tools import FunctionTool, Injected, Tool, tool
from agentkit_tools.builtin._calc import MAX_EXPRESSION_LENGTH, evaluate
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._errors import typed_errors
from agentkit_tools.builtin._units import convert

__all__ = [
    "MAX_RANDOM_OUTPUT",
    "TOOLS",
    "math_calculate",
    "math_compound_interest",
    "math_convert_base",
    "math_convert_units",
    "math_factorize",
    "math_linear_regression",
    "math_matrix",
    "math_random",
    "math_round",
    "math_solve_quadratic",
    "math_statistics",
    "math_tools",
]

P = ParamSpec("P")
R = TypeVar("R")

_MAX_FACTORIZE: Final = 10**15
_MAX_UNIT_CHARS: Final = 32
#: Most JSON values (strings count one per 100 characters) that one ``math_random`` call
#: returns: ``count`` picks of big ``choices`` could otherwise multiply the input.
MAX_RANDOM_OUTPUT: Final = 1_000_000
_ROUNDING = {
    "half_even": ROUND_HALF_EVEN,
    "half_up": ROUND_HALF_UP,
    "floor": ROUND_FLOOR,
    "ceiling": ROUND_CEILING,
}

_Numbers = Annotated[list[float], msgspec.Meta(min_length=1, max_length=100_000)]
_Points = Annotated[list[float], msgspec.Meta(min_length=2, max_length=100_000)]
_Row = Annotated[list[float], msgspec.Meta(min_length=1, max_length=50)]
_Matrix = Annotated[list[_Row], msgspec.Meta(min_length=1, max_length=50)]
_Base = Annotated[int, msgspec.Meta(ge=2, le=36)]
_Unit = Annotated[str, msgspec.Meta(max_length=_MAX_UNIT_CHARS)]


def _math_tool(
    name: str,
    *,
    tags: tuple[str, ...] = (),
    idempotent: bool = True,
    blocking: bool = False,
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]:
    """``@tool`` with the built-in math tools' options, and typed errors for bad input."""

    def decorate(function: Callable[P, R]) -> FunctionTool[P, R]:
        return tool(
            name=name,
            category="math",
            tags=("math", *tags),
            read_only=True,
            destructive=False,
            idempotent=idempotent,
            open_world=False,
            blocking=blocking,
        )(cast("Callable[P, R]", typed_errors(function)))

    return decorate


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{what} is not a finite number (too large: scale the input down)")
    return value


def _all_finite(values: Iterable[float], what: str) -> None:
    if not all(map(math.isfinite, values)):
        raise ValueError(f"{what} is not made of finite numbers (too large: scale it down)")


class _Calculation(TypedDict):
    expression: str
    result: int | float


@_math_tool("math_calculate", tags=("arithmetic",))
def math_calculate(
    expression: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EXPRESSION_LENGTH)],
    *,
    config: Annotated[ToolsConfig, Injected],
) -> _Calculation:
    """Evaluate an arithmetic expression safely: + - * / // % ** (or ^), parentheses,
    pi/e/tau, and functions such as sqrt, log, sin, round, min, max, factorial.

    Args:
        expression: e.g. '(2 + 3) * sqrt(16)'
        config: The settings; ``config.calculator_limits`` bounds the expression's work.
    """
    value = evaluate(expression, limits=config.calculator_limits)
    return {"expression": expression, "result": value}


class _Conversion(TypedDict):
    value: float
    from_unit: str
    to_unit: str
    result: float
    dimension: str


# Blocking: the first conversion builds pint's registry (about half a second), which must
# not run on the event loop.
@_math_tool("math_convert_units", blocking=True)
def math_convert_units(
    value: float,
    from_unit: Annotated[_Unit, msgspec.Meta(extra_json_schema={"examples": ["km"]})],
    to_unit: Annotated[_Unit, msgspec.Meta(extra_json_schema={"examples": ["mi"]})],
) -> _Conversion:
    """Convert a value between any units pint knows (length, mass, time, volume, area,
    speed, data, energy, pressure, power, angle, temperature and their products, e.g. 'km/h',
    'J/(kg*K)').

    Args:
        value: The amount in from_unit.
        from_unit: A unit name, symbol or expression: 'km', 'degC', 'kWh', 'MiB', 'm/s^2'.
        to_unit: The unit to express the value in; same dimension as from_unit.
    """
    result, dimension = convert(value, from_unit, to_unit)
    return {
        "value": value,
        "from_unit": from_unit,
        "to_unit": to_unit,
        "result": _finite(result, "the result"),
        "dimension": dimension,
    }


#: Items one C-level call (a sort, a count) handles at once: such a call holds the GIL, and
#: with the event loop waiting for it, 100,000 items at once would stall the loop.
_CHUNK: Final = 4_096


def _sorted(values: list[float]) -> list[float]:
    """*values* sorted, in chunks merged by Python code so the GIL changes hands."""
    if len(values) <= _CHUNK:
        return sorted(values)
    chunks = [sorted(values[start : start + _CHUNK]) for start in range(0, len(values), _CHUNK)]
    return list(heapq.merge(*chunks))


def _modes(data: list[float]) -> list[float]:
    """The most common values of the sorted *data*, in order."""
    best, modes = 0, []
    run_value, run_length = data[0], 0
    for value in (*data, math.nan):  # nan ends the last run (data is finite)
        if value == run_value:
            run_length += 1
            continue
        if run_length > best:
            best, modes = run_length, [run_value]
        elif run_length == best:
            modes.append(run_value)
        run_value, run_length = value, 1
    return modes


def _median(data: list[float]) -> float:
    middle = len(data) // 2
    return data[middle] if len(data) % 2 else (data[middle - 1] + data[middle]) / 2


def _quartiles(data: list[float]) -> list[float]:
    """statistics.quantiles(data, n=4, method="inclusive") of the sorted *data*."""
    last = len(data) - 1
    result = []
    for index in range(1, 4):
        low, delta = divmod(index * last, 4)
        result.append((data[low] * (4 - delta) + data[low + 1] * delta) / 4)
    return result


class _Statistics(TypedDict):
    count: int
    sum: float
    mean: float
    median: float
    modes: list[float]
    min: float
    max: float
    range: float
    variance: float
    stdev: float
    population_variance: float
    population_stdev: float
    quartiles: NotRequired[list[float]]
    percentiles: dict[str, float]


@_math_tool("math_statistics")
def math_statistics(
    values: _Numbers,
    percentiles: Annotated[
        list[Annotated[float, msgspec.Meta(ge=0, le=100)]], msgspec.Meta(max_length=100)
    ]
    | None = None,
) -> _Statistics:
    """Descriptive statistics of numbers: mean, median, modes, variance, stdev, quartiles and
    chosen percentiles.

    Args:
        values: The numbers.
        percentiles: Percentiles (0 to 100) to report, by linear interpolation.
    """
    data = [float(value) for value in values]
    _all_finite(data, "values")
    data = _sorted(data)
    count = len(data)
    try:
        total = math.fsum(data)
        mean = total / count
        # Two passes with exact summation: as accurate as statistics.variance's fractions,
        # and linear in floats instead of big-integer arithmetic.
        squares = math.fsum((value - mean) ** 2 for value in data)
    except OverflowError as exc:
        raise ValueError(
            f"the values are too large for finite statistics ({exc}); scale them down"
        ) from None
    result: _Statistics = {
        "count": count,
        "sum": total,
        "mean": mean,
        "median": _median(data),
        "modes": _modes(data),
        "min": data[0],
        "max": data[-1],
        "range": data[-1] - data[0],
        "variance": squares / (count - 1) if count > 1 else 0.0,
        "stdev": math.sqrt(squares / (count - 1)) if count > 1 else 0.0,
        "population_variance": squares / count,
        "population_stdev": math.sqrt(squares / count),
        "percentiles": {},
    }
    if count > 1:
        result["quartiles"] = _quartiles(data)
        _all_finite(result["quartiles"], "the quartiles")
    # Keys as the caller wrote them: 50 (or 50.0, which the schema's float makes of it) is "50".
    result["percentiles"] = {
        (str(int(p)) if float(p).is_integer() else repr(p)): _percentile(data, p)
        for p in (percentiles or [])
    }
    _all_finite([value for value in result.values() if isinstance(value, float)], "the statistics")
    _all_finite(result["percentiles"].values(), "the percentiles")
    return result


def _percentile(data: list[float], percent: float) -> float:
    # Linear interpolation between closest ranks (numpy's default).
    position = (len(data) - 1) * percent / 100
    low = math.floor(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


class _Rounded(TypedDict):
    value: float
    result: float
    text: str


@_math_tool("math_round")
def math_round(
    value: float,
    decimals: Annotated[int, msgspec.Meta(ge=-20, le=20)] = 0,
    mode: Literal["ceiling", "floor", "half_even", "half_up"] = "half_up",
) -> _Rounded:
    """Round a number to N decimals exactly (half-up, half-even, floor or ceiling), as a
    number and as text.

    Args:
        value: The number to round.
        decimals: Decimal places; negative rounds to tens, hundreds...
        mode: How halves and the rest are rounded.
    """
    _finite(value, "value")
    places = int(decimals)
    if abs(places) > 20:
        raise LimitExceededError(f"decimals must be between -20 and 20, got {places}")
    # A float has at most 309 integer digits; 20 decimals more fit in 400 digits of precision.
    with localcontext(prec=400, Emax=1000, Emin=-1000) as context:
        try:
            quantum = Decimal(1).scaleb(-places, context)
            rounded = Decimal(repr(float(value))).quantize(
                quantum, rounding=_ROUNDING[mode], context=context
            )
        except InvalidOperation as exc:
            raise ValueError(f"cannot round {value!r} to {places} decimals") from exc
    result = _finite(float(rounded), "the rounded value")
    return {"value": value, "result": result, "text": str(rounded)}


class _Root(TypedDict):
    real: float
    imag: float


class _Quadratic(TypedDict):
    kind: Literal["real", "complex", "linear"]
    discriminant: float | None
    roots: list[_Root]


@_math_tool("math_solve_quadratic")
def math_solve_quadratic(a: float, b: float, c: float) -> _Quadratic:
    """Roots of a*x^2 + b*x + c = 0, real or complex.

    Args:
        a: The coefficient of x^2.
        b: The coefficient of x.
        c: The constant term.
    """
    _all_finite((a, b, c), "the coefficients")
    result = _solve_quadratic(a, b, c)
    numbers = [part for root in result["roots"] for part in (root["real"], root["imag"])]
    if result["discriminant"] is not None:
        numbers.append(result["discriminant"])
    _all_finite(numbers, "the solution")
    return result


def _solve_quadratic(a: float, b: float, c: float) -> _Quadratic:
    if a == 0:
        if b == 0:
            raise ValueError("a and b are both zero: there is no equation to solve")
        return {"kind": "linear", "roots": [{"real": -c / b, "imag": 0.0}], "discriminant": None}
    discriminant = b * b - 4 * a * c
    if discriminant >= 0:
        root = math.sqrt(discriminant)
        # The numerically stable form avoids cancellation when b*b >> 4ac.
        q = -0.5 * (b + math.copysign(root, b))
        first = q / a
        second = c / q if q != 0 else -b / (2 * a) - first
        roots = sorted({first, second})
        return {
            "kind": "real",
            "discriminant": discriminant,
            "roots": [{"real": r, "imag": 0.0} for r in roots],
        }
    imag = math.sqrt(-discriminant) / (2 * a)
    real = -b / (2 * a)
    return {
        "kind": "complex",
        "discriminant": discriminant,
        "roots": [{"real": real, "imag": -abs(imag)}, {"real": real, "imag": abs(imag)}],
    }


def _shape(matrix: list[list[float]], name: str) -> tuple[int, int]:
    width = len(matrix[0])
    if any(len(row) != width for row in matrix):
        raise ValueError(f"{name} is not rectangular: its rows differ in length")
    return len(matrix), width


def _determinant_and_inverse(matrix: list[list[float]]) -> tuple[float, list[list[float]] | None]:
    size = len(matrix)
    work = [
        list(row) + [1.0 if i == j else 0.0 for j in range(size)] for i, row in enumerate(matrix)
    ]
    determinant = 1.0
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(work[r][column]))
        if abs(work[pivot][column]) < 1e-12:
            return 0.0, None
        if pivot != column:
            work[column], work[pivot] = work[pivot], work[column]
            determinant = -determinant
        determinant *= work[column][column]
        scale = work[column][column]
        work[column] = [value / scale for value in work[column]]
        for row in range(size):
            if row != column and work[row][column] != 0:
                factor = work[row][column]
                work[row] = [a - factor * b for a, b in zip(work[row], work[column], strict=True)]
    return determinant, [row[size:] for row in work]


class _MatrixResult(TypedDict):
    operation: str
    result: float | list[list[float]]


@_math_tool("math_matrix", blocking=True)
def math_matrix(
    operation: Literal["add", "subtract", "multiply", "transpose", "determinant", "inverse"],
    a: _Matrix,
    b: _Matrix | None = None,
) -> _MatrixResult:
    """_Matrix add, subtract, multiply, transpose, determinant, inverse.

    Args:
        operation: What to compute.
        a: The (first) matrix, as rows.
        b: The second matrix of add, subtract and multiply.
    """
    for matrix in (a, b or []):
        _all_finite((value for row in matrix for value in row), "a matrix")
    result = _matrix(operation, a, b)
    value = result["result"]
    _all_finite(
        [value] if isinstance(value, float | int) else [x for row in value for x in row],
        "the result",
    )
    return result


def _matrix(
    operation: str, a: list[list[float]], b: list[list[float]] | None = None
) -> _MatrixResult:
    rows, cols = _shape(a, "a")
    if operation in ("add", "subtract", "multiply"):
        if b is None:
            raise ValueError(f"{operation} needs a second matrix b")
        b_rows, b_cols = _shape(b, "b")
        if operation == "multiply":
            if cols != b_rows:
                raise ValueError(f"cannot multiply {rows}x{cols} by {b_rows}x{b_cols}")
            result = [
                [math.fsum(a[i][k] * b[k][j] for k in range(cols)) for j in range(b_cols)]
                for i in range(rows)
            ]
        else:
            if (rows, cols) != (b_rows, b_cols):
                raise ValueError(f"shapes differ: {rows}x{cols} and {b_rows}x{b_cols}")
            sign = 1 if operation == "add" else -1
            result = [
                [x + sign * y for x, y in zip(ra, rb, strict=True)]
                for ra, rb in zip(a, b, strict=True)
            ]
        return {"operation": operation, "result": result}
    if operation == "transpose":
        return {"operation": operation, "result": [list(column) for column in zip(*a, strict=True)]}
    if rows != cols:
        raise ValueError(f"{operation} needs a square matrix, got {rows}x{cols}")
    determinant, inverse = _determinant_and_inverse(a)
    if operation == "determinant":
        return {"operation": operation, "result": determinant}
    if inverse is None:
        raise ValueError("the matrix is singular (determinant 0) and has no inverse")
    return {"operation": operation, "result": inverse}


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class _BaseConversion(TypedDict):
    value: str
    from_base: int
    to_base: int
    result: str
    decimal: str


@_math_tool("math_convert_base")
def math_convert_base(
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=1100)],
    from_base: _Base = 10,
    to_base: _Base = 2,
) -> _BaseConversion:
    """Convert an integer between bases 2 to 36 (e.g. hex to binary).

    Args:
        value: The integer's digits, optionally signed or prefixed ('0xff', '-101').
        from_base: The base value is written in.
        to_base: The base to write it in.
    """
    from_base, to_base = int(from_base), int(to_base)
    text = value.strip().lower().replace("_", "")
    prefixes = {"0x": 16, "0b": 2, "0o": 8}
    negative = text.startswith("-")
    text = text.lstrip("+-")
    if text[:2] in prefixes and prefixes[text[:2]] == from_base:
        text = text[2:]
    if len(text) > 1000:
        raise ValueError("value is longer than 1000 digits")
    try:
        number_value = int(text, from_base)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a base-{from_base} integer") from exc
    reversed_digits: list[str] = []
    remaining = number_value
    while True:
        remaining, digit = divmod(remaining, to_base)
        reversed_digits.append(_DIGITS[digit])
        if remaining == 0:
            break
    digits = "".join(reversed(reversed_digits))
    signed = -number_value if negative else number_value
    return {
        "value": value,
        "from_base": from_base,
        "to_base": to_base,
        "result": ("-" if negative and number_value else "") + digits,
        "decimal": str(signed),
    }


class _Factorization(TypedDict):
    n: int
    factors: list[int]
    is_prime: bool
    divisor_count: int


@_math_tool("math_factorize", blocking=True)
def math_factorize(n: Annotated[int, msgspec.Meta(ge=2, le=_MAX_FACTORIZE)]) -> _Factorization:
    """Prime factors of an integer (up to 10^15) and whether it is prime.

    Args:
        n: The integer to factorize.
    """
    n = int(n)
    if n < 2:
        raise ValueError(f"factorize needs an integer >= 2, got {n}")
    if n > _MAX_FACTORIZE:
        raise LimitExceededError(f"factorize takes integers up to 10^15, got {n}")
    factors = sorted(_prime_factors(n))
    return {
        "n": n,
        "factors": factors,
        "is_prime": factors == [n],
        "divisor_count": math.prod(factors.count(p) + 1 for p in set(factors)),
    }


_SMALL_PRIMES: Final = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)


def _is_prime(n: int) -> bool:
    """Miller-Rabin with the first twelve primes as bases: exact for every n < 3.3 * 10^24."""
    if n < 2:
        return False
    for prime in _SMALL_PRIMES:
        if n % prime == 0:
            return n == prime
    odd, twos = n - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for base in _SMALL_PRIMES:
        x = pow(base, odd, n)
        if x in (1, n - 1):
            continue
        for _ in range(twos - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime_factors(n: int) -> list[int]:
    """Trial division by small primes, then Pollard's rho (Brent): about n^(1/4) steps."""
    factors: list[int] = []
    for prime in (2, 3, 5, 7, 11, 13):
        while n % prime == 0:
            factors.append(prime)
            n //= prime
    pending = [n] if n > 1 else []
    while pending:
        value = pending.pop()
        if _is_prime(value):
            factors.append(value)
            continue
        divisor = _rho(value)
        pending += [divisor, value // divisor]
    return factors


def _rho(n: int) -> int:
    """A non-trivial divisor of the composite *n* (Brent's variant of Pollard's rho)."""
    root = math.isqrt(n)
    if root * root == n:
        return root
    for constant in itertools.count(1):
        x = y = 2
        divisor = 1
        step = functools.partial(_rho_step, n=n, constant=constant)
        while divisor == 1:
            x = step(x)
            y = step(step(y))
            divisor = math.gcd(abs(x - y), n)
        if divisor != n:
            return divisor
    raise AssertionError("unreachable")  # pragma: no cover


def _rho_step(value: int, *, n: int, constant: int) -> int:
    return (value * value + constant) % n


class _Savings(TypedDict):
    final_balance: float
    total_contributed: float
    interest_earned: float


@_math_tool("math_compound_interest")
def math_compound_interest(
    principal: Annotated[float, msgspec.Meta(ge=0)],
    annual_rate: Annotated[float, msgspec.Meta(ge=-100, le=1000)],
    years: Annotated[float, msgspec.Meta(ge=0, le=200)],
    compounds_per_year: Annotated[int, msgspec.Meta(ge=1, le=365)] = 12,
    monthly_contribution: Annotated[float, msgspec.Meta(ge=0)] = 0,
) -> _Savings:
    """Future value of savings with compound interest and optional monthly contributions.

    Args:
        principal: The starting amount.
        annual_rate: Percent per year
        years: How long the money grows.
        compounds_per_year: Interest periods per year.
        monthly_contribution: Added at each month's end.
    """
    _all_finite((principal, annual_rate, years, monthly_contribution), "the inputs")
    rate = annual_rate / 100
    periods = compounds_per_year * years
    try:
        growth = (1 + rate / compounds_per_year) ** periods
        balance = principal * growth
        contributed = principal
        if monthly_contribution:
            # Contributions at each month's end, grown at the equivalent monthly rate.
            monthly = (1 + rate / compounds_per_year) ** (compounds_per_year / 12) - 1
            months = round(years * 12)
            balance += monthly_contribution * (
                months if monthly == 0 else ((1 + monthly) ** months - 1) / monthly
            )
            contributed += monthly_contribution * months
    except OverflowError:
        raise ValueError(
            "the balance is too large to represent; use a lower rate or fewer years"
        ) from None
    result: _Savings = {
        "final_balance": round(_finite(balance, "the balance"), 2),
        "total_contributed": round(_finite(contributed, "the total contributed"), 2),
        "interest_earned": round(_finite(balance - contributed, "the interest"), 2),
    }
    _all_finite(
        (result["final_balance"], result["total_contributed"], result["interest_earned"]),
        "the result",
    )
    return result


class _Regression(TypedDict):
    slope: float
    intercept: float
    r: float
    r_squared: float
    predictions: list[float]


@_math_tool("math_linear_regression")
def math_linear_regression(
    x: _Points,
    y: _Points,
    predict: Annotated[list[float], msgspec.Meta(max_length=10_000)] | None = None,
) -> _Regression:
    """Least-squares line through points: slope, intercept, r, r^2 and predictions.

    Args:
        x: The points' x values.
        y: The points' y values, as many as x.
        predict: x values to predict y for.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} values but y has {len(y)}")
    _all_finite(x, "x")
    _all_finite(y, "y")
    _all_finite(predict or [], "predict")
    # Python-level scans, not set(): a C-level pass over 100,000 items would hold the GIL.
    if not any(value != x[0] for value in x):
        raise ValueError("x needs at least two distinct values")
    try:
        slope, intercept = statistics.linear_regression(x, y)
        r = statistics.correlation(x, y) if any(value != y[0] for value in y) else 1.0
        predictions = [slope * value + intercept for value in (predict or [])]
    except (OverflowError, ZeroDivisionError) as exc:
        raise ValueError(f"the points are too large to fit ({exc}); scale them down") from None
    result: _Regression = {
        "slope": slope,
        "intercept": intercept,
        "r": r,
        "r_squared": r * r,
        "predictions": predictions,
    }
    _all_finite((slope, intercept, r, *predictions), "the fit")
    return result


class _RandomValues(TypedDict):
    kind: str
    values: list[Any]


@_math_tool("math_random", idempotent=False)
def math_random(
    kind: Literal["integer", "float", "choice", "sample", "shuffle"] = "integer",
    minimum: float = 0,
    maximum: float = 100,
    count: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1,
    choices: Annotated[list[Any], msgspec.Meta(max_length=10_000)] | None = None,
    seed: int | None = None,
) -> _RandomValues:
    """Random integers, floats, choices, samples or a shuffle (reproducible with a seed; not
    for cryptography).

    Args:
        kind: What to draw.
        minimum: The lowest integer or float.
        maximum: The highest integer or float.
        count: How many values (or picks) to draw.
        choices: The items of choice, sample and shuffle.
        seed: Seed for a reproducible draw.
    """
    count = int(count)
    if not 1 <= count <= 10_000:
        raise LimitExceededError(f"count must be between 1 and 10,000, got {count}")
    generator = random.Random(int(seed) if seed is not None else None)
    if kind in ("choice", "sample", "shuffle") and not choices:
        raise ValueError(f"kind {kind!r} needs a non-empty 'choices' list")
    values: list[Any]
    if kind in ("integer", "float"):
        if not (math.isfinite(minimum) and math.isfinite(maximum)):
            raise ValueError("minimum and maximum must be finite numbers")
        if minimum > maximum:
            raise ValueError(f"minimum {minimum} is greater than maximum {maximum}")
    if kind == "integer":
        low, high = math.ceil(minimum), math.floor(maximum)
        if low > high:
            raise ValueError(f"no integer lies between {minimum} and {maximum}")
        values = [generator.randint(low, high) for _ in range(count)]
    elif kind == "float":
        bottom, top = float(minimum), float(maximum)
        # bottom + (top - bottom) * r overflows when the range is wider than the largest
        # float; this weighted form stays finite and inside [bottom, top].
        values = [
            min(top, max(bottom, bottom * (1 - r) + top * r))
            for r in (generator.random() for _ in range(count))
        ]
    elif kind == "choice":
        options = choices or []
        picks = [generator.randrange(len(options)) for _ in range(count)]
        _check_random_output(options, picks)
        values = [options[index] for index in picks]
    elif kind == "sample":
        if count > len(choices or []):
            raise ValueError(f"cannot sample {count} from {len(choices or [])} choices")
        values = generator.sample(choices or [], count)
    else:
        values = list(choices or [])
        generator.shuffle(values)
    return {"kind": kind, "values": values}


def _check_random_output(options: list[Any], picks: list[int]) -> None:
    """Refuse ``choice`` picks whose total size would exceed MAX_RANDOM_OUTPUT."""
    sizes: dict[int, int] = {}
    total = 0
    for index in picks:
        if index not in sizes:
            sizes[index] = _json_size(options[index], MAX_RANDOM_OUTPUT)
        total += sizes[index]
        if total > MAX_RANDOM_OUTPUT:
            raise LimitExceededError(
                f"{len(picks)} picks of these choices would return more than "
                f"{MAX_RANDOM_OUTPUT:,} values; ask for a smaller count or smaller choices"
            )


def _json_size(value: Any, budget: int) -> int:
    """Values in *value* (strings count one per 100 characters), counted up to *budget*."""
    size = 0
    stack = [value]
    while stack and size <= budget:
        item = stack.pop()
        size += 1 + (len(item) // 100 if isinstance(item, str) else 0)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return size


TOOLS: tuple[FunctionTool[..., Any], ...] = (
    math_calculate,
    math_compound_interest,
    math_convert_base,
    math_convert_units,
    math_factorize,
    math_linear_regression,
    math_matrix,
    math_random,
    math_round,
    math_solve_quadratic,
    math_statistics,
)


def math_tools(config: ToolsConfig) -> list[Tool]:
    """The math tools, ``math_calculate`` bound to *config* (its ``calculator_limits``)."""
    tools: list[Tool] = []
    for each in TOOLS:
        tools.append(each.bind(config=config) if each.injected else each)
    limit = config.calculator_limits.max_expression_chars
    if limit != MAX_EXPRESSION_LENGTH:
        # A schema is fixed when @tool runs; a config with another limit gets its own copy.
        tools = [_with_expression_limit(each, limit) for each in tools]
    return tools


def _with_expression_limit(each: Tool, limit: int) -> Tool:
    if each.name != "math_calculate":
        return each
    properties = dict(each.parameters["properties"])
    properties["expression"] = {**properties["expression"], "maxLength": limit}
    return dataclasses.replace(each, parameters={**each.parameters, "properties": properties})
