"""Math tools: safe arithmetic, unit conversion, statistics, algebra and finance helpers."""

from __future__ import annotations

import math
import random
import statistics
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from agentkit._tool import Tool
from agentkit_tools._calc import MAX_EXPRESSION_LENGTH, evaluate
from agentkit_tools._schema import array, boolean, integer, make_tool, number, obj, string
from agentkit_tools._units import UNITS, convert

__all__ = ["math_tools"]

_NUMBERS = array(number(), minItems=1, maxItems=100_000)
_MATRIX = array(array(number(), minItems=1, maxItems=50), minItems=1, maxItems=50)
_MAX_FACTORIZE = 10**15
_ROUNDING = {
    "half_even": ROUND_HALF_EVEN,
    "half_up": ROUND_HALF_UP,
    "floor": ROUND_FLOOR,
    "ceiling": ROUND_CEILING,
}


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{what} is not a finite number")
    return value


def math_calculate(expression: str) -> dict[str, Any]:
    value = evaluate(expression)
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


def math_statistics(values: list[float], percentiles: list[float] | None = None) -> dict[str, Any]:
    data = sorted(float(v) for v in values)
    count = len(data)
    result: dict[str, Any] = {
        "count": count,
        "sum": math.fsum(data),
        "mean": statistics.fmean(data),
        "median": statistics.median(data),
        "modes": statistics.multimode(data),
        "min": data[0],
        "max": data[-1],
        "range": data[-1] - data[0],
        "variance": statistics.variance(data) if count > 1 else 0.0,
        "stdev": statistics.stdev(data) if count > 1 else 0.0,
        "population_variance": statistics.pvariance(data),
        "population_stdev": statistics.pstdev(data),
    }
    if count > 1:
        quartiles = statistics.quantiles(data, n=4, method="inclusive")
        result["quartiles"] = quartiles
    result["percentiles"] = {str(p): _percentile(data, p) for p in (percentiles or [])}
    return result


def _percentile(data: list[float], percent: float) -> float:
    # Linear interpolation between closest ranks (numpy's default).
    position = (len(data) - 1) * percent / 100
    low = math.floor(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


def math_round(value: float, decimals: int = 0, mode: str = "half_up") -> dict[str, Any]:
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(repr(value)).quantize(quantum, rounding=_ROUNDING[mode])
    return {"value": value, "result": float(rounded), "text": str(rounded)}


def math_solve_quadratic(a: float, b: float, c: float) -> dict[str, Any]:
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
    digits = ""
    remaining = number_value
    while True:
        remaining, digit = divmod(remaining, to_base)
        digits = _DIGITS[digit] + digits
        if remaining == 0:
            break
    signed = -number_value if negative else number_value
    return {
        "value": value,
        "from_base": from_base,
        "to_base": to_base,
        "result": ("-" if negative and number_value else "") + digits,
        "decimal": str(signed),
    }


def math_factorize(n: int) -> dict[str, Any]:
    if n < 2:
        raise ValueError(f"factorize needs an integer >= 2, got {n}")
    factors: list[int] = []
    remaining = n
    for prime in (2, 3):
        while remaining % prime == 0:
            factors.append(prime)
            remaining //= prime
    candidate = 5
    while candidate * candidate <= remaining:
        for step in (candidate, candidate + 2):
            while remaining % step == 0:
                factors.append(step)
                remaining //= step
        candidate += 6
    if remaining > 1:
        factors.append(remaining)
    return {
        "n": n,
        "factors": factors,
        "is_prime": factors == [n],
        "divisor_count": math.prod(factors.count(p) + 1 for p in set(factors)),
    }


def math_compound_interest(
    principal: float,
    annual_rate: float,
    years: float,
    compounds_per_year: int = 12,
    monthly_contribution: float = 0.0,
) -> dict[str, Any]:
    rate = annual_rate / 100
    periods = compounds_per_year * years
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
    balance = _finite(balance, "the balance")
    return {
        "final_balance": round(balance, 2),
        "total_contributed": round(contributed, 2),
        "interest_earned": round(balance - contributed, 2),
    }


def math_linear_regression(
    x: list[float], y: list[float], predict: list[float] | None = None
) -> dict[str, Any]:
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} values but y has {len(y)}")
    if len(set(x)) < 2:
        raise ValueError("x needs at least two distinct values")
    slope, intercept = statistics.linear_regression(x, y)
    r = 1.0 if len(set(y)) == 1 else statistics.correlation(x, y)
    return {
        "slope": slope,
        "intercept": intercept,
        "r": r,
        "r_squared": r * r,
        "predictions": [slope * value + intercept for value in (predict or [])],
    }


def math_random(
    kind: str = "integer",
    minimum: float = 0,
    maximum: float = 100,
    count: int = 1,
    choices: list[Any] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    generator = random.Random(seed)
    if kind in ("choice", "sample", "shuffle") and not choices:
        raise ValueError(f"kind {kind!r} needs a non-empty 'choices' list")
    if kind in ("integer", "float") and minimum > maximum:
        raise ValueError(f"minimum {minimum} is greater than maximum {maximum}")
    values: list[Any]
    if kind == "integer":
        low, high = math.ceil(minimum), math.floor(maximum)
        if low > high:
            raise ValueError(f"no integer lies between {minimum} and {maximum}")
        values = [generator.randint(low, high) for _ in range(count)]
    elif kind == "float":
        values = [generator.uniform(minimum, maximum) for _ in range(count)]
    elif kind == "choice":
        values = [generator.choice(choices or []) for _ in range(count)]
    elif kind == "sample":
        if count > len(choices or []):
            raise ValueError(f"cannot sample {count} from {len(choices or [])} choices")
        values = generator.sample(choices or [], count)
    else:
        values = list(choices or [])
        generator.shuffle(values)
    return {"kind": kind, "values": values}


def math_tools() -> list[Tool]:
    """The math tools."""
    root = {"type": "object", "properties": {"real": number(), "imag": number()}}
    num = {"type": ["integer", "number"]}
    return [
        make_tool(
            math_calculate,
            name="math_calculate",
            category="math",
            tags=("arithmetic",),
            description="Evaluate an arithmetic expression safely: + - * / // % ** (or ^), "
            "parentheses, pi/e/tau, and functions such as sqrt, log, sin, "
            "round, min, max, factorial.",
            parameters=obj(
                {
                    "expression": string(
                        "e.g. '(2 + 3) * sqrt(16)'", minLength=1, maxLength=MAX_EXPRESSION_LENGTH
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
                    "from_unit": string(examples=["km"]),
                    "to_unit": string(examples=["mi"]),
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
