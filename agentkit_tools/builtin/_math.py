"""Math tools: safe arithmetic, unit conversion, statistics, algebra and finance helpers.

Every tool is bounded for every valid input: sizes come from the schemas, the calculator
checks each operation's cost before running it, the remaining work is at most linear (or, for
50x50 matrices, cubic) in the input, and every number returned is finite (an overflow is a
``ValueError`` saying what to scale, never ``inf`` or ``nan``).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import random
import statistics
from collections.abc import Iterable
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
    localcontext,
)
from typing import Any, Final

from agentkit.exceptions import LimitExceededError
from agentkit.tools import Tool
from agentkit_tools.builtin._calc import CalculatorLimits, evaluate
from agentkit_tools.builtin._schema import array, boolean, integer, make_tool, number, obj, string
from agentkit_tools.builtin._units import UNITS, convert

__all__ = ["math_tools"]

_NUMBERS = array(number(), minItems=1, maxItems=100_000)
_MATRIX = array(array(number(), minItems=1, maxItems=50), minItems=1, maxItems=50)
_MAX_FACTORIZE = 10**15
_MAX_UNIT_CHARS = 32
#: Most JSON values (strings count one per 100 characters) that one ``math_random`` call
#: returns: ``count`` picks of big ``choices`` could otherwise multiply the input.
MAX_RANDOM_OUTPUT: Final = 1_000_000
_ROUNDING = {
    "half_even": ROUND_HALF_EVEN,
    "half_up": ROUND_HALF_UP,
    "floor": ROUND_FLOOR,
    "ceiling": ROUND_CEILING,
}


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{what} is not a finite number (too large: scale the input down)")
    return value


def _all_finite(values: Iterable[float], what: str) -> None:
    if not all(map(math.isfinite, values)):
        raise ValueError(f"{what} is not made of finite numbers (too large: scale it down)")


def math_calculate(expression: str, *, limits: CalculatorLimits | None = None) -> dict[str, Any]:
    value = evaluate(expression, limits=limits)
    return {"expression": expression, "result": value}


def math_convert_units(value: float, from_unit: str, to_unit: str) -> dict[str, Any]:
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


def math_statistics(values: list[float], percentiles: list[float] | None = None) -> dict[str, Any]:
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
    result: dict[str, Any] = {
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
    }
    if count > 1:
        result["quartiles"] = _quartiles(data)
        _all_finite(result["quartiles"], "the quartiles")
    result["percentiles"] = {str(p): _percentile(data, p) for p in (percentiles or [])}
    _all_finite([value for value in result.values() if isinstance(value, float)], "the statistics")
    _all_finite(result["percentiles"].values(), "the percentiles")
    return result


def _percentile(data: list[float], percent: float) -> float:
    # Linear interpolation between closest ranks (numpy's default).
    position = (len(data) - 1) * percent / 100
    low = math.floor(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


def math_round(value: float, decimals: int = 0, mode: str = "half_up") -> dict[str, Any]:
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


def math_solve_quadratic(a: float, b: float, c: float) -> dict[str, Any]:
    _all_finite((a, b, c), "the coefficients")
    result = _solve_quadratic(a, b, c)
    numbers = [part for root in result["roots"] for part in (root["real"], root["imag"])]
    if result["discriminant"] is not None:
        numbers.append(result["discriminant"])
    _all_finite(numbers, "the solution")
    return result


def _solve_quadratic(a: float, b: float, c: float) -> dict[str, Any]:
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


def math_matrix(
    operation: str, a: list[list[float]], b: list[list[float]] | None = None
) -> dict[str, Any]:
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
) -> dict[str, Any]:
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


def math_convert_base(value: str, from_base: int = 10, to_base: int = 2) -> dict[str, Any]:
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


def math_factorize(n: int) -> dict[str, Any]:
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


def math_compound_interest(
    principal: float,
    annual_rate: float,
    years: float,
    compounds_per_year: int = 12,
    monthly_contribution: float = 0.0,
) -> dict[str, Any]:
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
    result = {
        "final_balance": round(_finite(balance, "the balance"), 2),
        "total_contributed": round(_finite(contributed, "the total contributed"), 2),
        "interest_earned": round(_finite(balance - contributed, "the interest"), 2),
    }
    _all_finite(result.values(), "the result")
    return result


def math_linear_regression(
    x: list[float], y: list[float], predict: list[float] | None = None
) -> dict[str, Any]:
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
    result = {
        "slope": slope,
        "intercept": intercept,
        "r": r,
        "r_squared": r * r,
        "predictions": predictions,
    }
    _all_finite((slope, intercept, r, *predictions), "the fit")
    return result


def math_random(
    kind: str = "integer",
    minimum: float = 0,
    maximum: float = 100,
    count: int = 1,
    choices: list[Any] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
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


def math_tools(calculator_limits: CalculatorLimits | None = None) -> list[Tool]:
    """The math tools; *calculator_limits* bounds ``math_calculate`` (default: the defaults)."""
    limits = calculator_limits if calculator_limits is not None else CalculatorLimits()
    calculate = functools.partial(math_calculate, limits=limits)
    functools.update_wrapper(calculate, math_calculate)
    root = {"type": "object", "properties": {"real": number(), "imag": number()}}
    num = {"type": ["integer", "number"]}
    return [
        make_tool(
            calculate,
            name="math_calculate",
            category="math",
            tags=("arithmetic",),
            description="Evaluate an arithmetic expression safely: + - * / // % ** (or ^), "
            "parentheses, pi/e/tau, and functions such as sqrt, log, sin, "
            "round, min, max, factorial.",
            parameters=obj(
                {
                    "expression": string(
                        "e.g. '(2 + 3) * sqrt(16)'",
                        minLength=1,
                        maxLength=limits.max_expression_chars,
                    )
                },
                ["expression"],
            ),
            returns=obj({"expression": string(), "result": num}, ["result"]),
        ),
        make_tool(
            math_convert_units,
            name="math_convert_units",
            category="math",
            description="Convert a value between units of length, mass, time, volume, "
            "area, speed, data, energy, pressure, power, angle, temperature.",
            parameters=obj(
                {
                    "value": number(),
                    "from_unit": string(examples=["km"], maxLength=_MAX_UNIT_CHARS),
                    "to_unit": string(examples=["mi"], maxLength=_MAX_UNIT_CHARS),
                },
                ["value", "from_unit", "to_unit"],
            ),
            returns=obj(
                {
                    "value": number(),
                    "from_unit": string(),
                    "to_unit": string(),
                    "result": number(),
                    "dimension": string(enum=sorted(set(UNITS.values()))),
                },
                ["result"],
            ),
        ),
        make_tool(
            math_statistics,
            name="math_statistics",
            category="math",
            description="Descriptive statistics of numbers: mean, median, modes, "
            "variance, stdev, quartiles and chosen percentiles.",
            parameters=obj(
                {
                    "values": _NUMBERS,
                    "percentiles": array(number(minimum=0, maximum=100), maxItems=100),
                },
                ["values"],
            ),
            returns=obj(
                {
                    "count": integer(),
                    "sum": number(),
                    "mean": number(),
                    "median": number(),
                    "modes": array(number()),
                    "min": number(),
                    "max": number(),
                    "range": number(),
                    "variance": number(),
                    "stdev": number(),
                    "population_variance": number(),
                    "population_stdev": number(),
                    "quartiles": array(number()),
                    "percentiles": {"type": "object", "additionalProperties": number()},
                },
                ["count", "mean", "median"],
            ),
        ),
        make_tool(
            math_round,
            name="math_round",
            category="math",
            description="Round a number to N decimals exactly (half-up, half-even, "
            "floor or ceiling), as a number and as text.",
            parameters=obj(
                {
                    "value": number(),
                    "decimals": integer(minimum=-20, maximum=20, default=0),
                    "mode": string(enum=sorted(_ROUNDING), default="half_up"),
                },
                ["value"],
            ),
            returns=obj({"value": number(), "result": number(), "text": string()}, ["result"]),
        ),
        make_tool(
            math_solve_quadratic,
            name="math_solve_quadratic",
            category="math",
            description="Roots of a*x^2 + b*x + c = 0, real or complex.",
            parameters=obj({"a": number(), "b": number(), "c": number()}, ["a", "b", "c"]),
            returns=obj(
                {
                    "kind": string(enum=["real", "complex", "linear"]),
                    "discriminant": {"type": ["number", "null"]},
                    "roots": array(root),
                },
                ["kind", "roots"],
            ),
        ),
        make_tool(
            math_matrix,
            name="math_matrix",
            category="math",
            blocking=True,
            description="Matrix add, subtract, multiply, transpose, determinant, inverse.",
            parameters=obj(
                {
                    "operation": string(
                        enum=["add", "subtract", "multiply", "transpose", "determinant", "inverse"]
                    ),
                    "a": _MATRIX,
                    "b": _MATRIX,
                },
                ["operation", "a"],
            ),
            returns=obj(
                {"operation": string(), "result": {"type": ["number", "array"]}}, ["result"]
            ),
        ),
        make_tool(
            math_convert_base,
            name="math_convert_base",
            category="math",
            description="Convert an integer between bases 2 to 36 (e.g. hex to binary).",
            parameters=obj(
                {
                    "value": string(minLength=1, maxLength=1100),
                    "from_base": integer(minimum=2, maximum=36, default=10),
                    "to_base": integer(minimum=2, maximum=36, default=2),
                },
                ["value"],
            ),
            returns=obj(
                {
                    "value": string(),
                    "from_base": integer(),
                    "to_base": integer(),
                    "result": string(),
                    "decimal": string(),
                },
                ["result"],
            ),
        ),
        make_tool(
            math_factorize,
            name="math_factorize",
            category="math",
            blocking=True,
            description="Prime factors of an integer (up to 10^15) and whether it is prime.",
            parameters=obj({"n": integer(minimum=2, maximum=_MAX_FACTORIZE)}, ["n"]),
            returns=obj(
                {
                    "n": integer(),
                    "factors": array(integer()),
                    "is_prime": boolean(),
                    "divisor_count": integer(),
                },
                ["factors", "is_prime"],
            ),
        ),
        make_tool(
            math_compound_interest,
            name="math_compound_interest",
            category="math",
            description="Future value of savings with compound interest and optional "
            "monthly contributions.",
            parameters=obj(
                {
                    "principal": number(minimum=0),
                    "annual_rate": number("Percent per year", minimum=-100, maximum=1000),
                    "years": number(minimum=0, maximum=200),
                    "compounds_per_year": integer(minimum=1, maximum=365, default=12),
                    "monthly_contribution": number(minimum=0, default=0),
                },
                ["principal", "annual_rate", "years"],
            ),
            returns=obj(
                {
                    "final_balance": number(),
                    "total_contributed": number(),
                    "interest_earned": number(),
                },
                ["final_balance"],
            ),
        ),
        make_tool(
            math_linear_regression,
            name="math_linear_regression",
            category="math",
            description="Least-squares line through points: slope, intercept, r, r^2 and "
            "predictions.",
            parameters=obj(
                {
                    "x": array(number(), minItems=2, maxItems=100_000),
                    "y": array(number(), minItems=2, maxItems=100_000),
                    "predict": array(number(), maxItems=10_000),
                },
                ["x", "y"],
            ),
            returns=obj(
                {
                    "slope": number(),
                    "intercept": number(),
                    "r": number(),
                    "r_squared": number(),
                    "predictions": array(number()),
                },
                ["slope", "intercept"],
            ),
        ),
        make_tool(
            math_random,
            name="math_random",
            category="math",
            idempotent=False,
            description="Random integers, floats, choices, samples or a shuffle "
            "(reproducible with a seed; not for cryptography).",
            parameters=obj(
                {
                    "kind": string(
                        enum=["integer", "float", "choice", "sample", "shuffle"], default="integer"
                    ),
                    "minimum": number(default=0),
                    "maximum": number(default=100),
                    "count": integer(minimum=1, maximum=10_000, default=1),
                    "choices": array({}, maxItems=10_000),
                    "seed": integer(),
                }
            ),
            returns=obj({"kind": string(), "values": array({})}, ["values"]),
        ),
    ]
