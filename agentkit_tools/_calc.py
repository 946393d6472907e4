"""A safe arithmetic evaluator: the expression's syntax tree is walked, never ``eval``-ed.

Only numbers, the operators ``+ - * / // % **``, parentheses, a fixed set of constants and
functions are accepted. Sizes are bounded so no expression can exhaust time or memory: the
expression length, the exponent, the bit length of every integer, and factorial's argument.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_EXPRESSION_LENGTH", "evaluate"]

MAX_EXPRESSION_LENGTH = 1000
MAX_INT_BITS = 10_000  # about 3,000 decimal digits
MAX_EXPONENT = 10_000
MAX_FACTORIAL = 1000

Number = int | float

_CONSTANTS: dict[str, Number] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _factorial(value: Number) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("factorial needs a whole number")
        value = int(value)
    if not 0 <= value <= MAX_FACTORIAL:
        raise ValueError(f"factorial needs 0 <= n <= {MAX_FACTORIAL}")
    return math.factorial(value)


def _log(value: Number, base: Number = math.e) -> float:
    if value <= 0 or base <= 0 or base == 1:
        raise ValueError("log needs a positive value and a positive base other than 1")
    return math.log(value, base)


def _positive(fn: Callable[[float], float], name: str) -> Callable[[Number], float]:
    def checked(value: Number) -> float:
        if value <= 0:
            raise ValueError(f"{name} needs a positive value, got {value}")
        return fn(value)

    return checked


def _sqrt(value: Number) -> float:
    if value < 0:
        raise ValueError(f"sqrt of a negative number ({value})")
    return math.sqrt(value)


_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": _sqrt,
    "exp": math.exp,
    "log": _log,
    "ln": _positive(math.log, "ln"),
    "log10": _positive(math.log10, "log10"),
    "log2": _positive(math.log2, "log2"),
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "atan2": math.atan2,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "degrees": math.degrees,
    "radians": math.radians,
    "floor": math.floor,
    "ceil": math.ceil,
    "trunc": math.trunc,
    "hypot": math.hypot,
    "gcd": math.gcd,
    "lcm": math.lcm,
    "factorial": _factorial,
}


def _check_int(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ValueError(f"an intermediate integer is over {MAX_INT_BITS} bits")
    return value


def _power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise ValueError(f"exponent {exponent} is over the limit of {MAX_EXPONENT}")
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS
    ):
        raise ValueError(f"{base} ** {exponent} would be over {MAX_INT_BITS} bits")
    if base == 0 and exponent < 0:
        raise ZeroDivisionError("zero cannot be raised to a negative power")
    result = base**exponent
    if isinstance(result, complex):
        raise ValueError(f"{base} ** {exponent} is not a real number")
    return result


def _multiply(left: Number, right: Number) -> Number:
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and (left.bit_length() + right.bit_length() > MAX_INT_BITS + 1)
    ):
        raise ValueError(f"a product would be over {MAX_INT_BITS} bits")
    return left * right


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _multiply,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _power,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Number]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _walk(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _walk(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ValueError(f"only numbers are allowed, not {node.value!r}")
        return _check_int(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _walk(node.left), _walk(node.right)
        return _check_int(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_walk(node.operand))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise ValueError(f"unknown name {node.id!r}; constants are {sorted(_CONSTANTS)}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            shown = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ValueError(f"function {shown!r} is not allowed; allowed: {sorted(_FUNCTIONS)}")
        if node.keywords:
            raise ValueError("keyword arguments are not allowed")
        arguments = [_walk(argument) for argument in node.args]
        try:
            return _check_int(_FUNCTIONS[node.func.id](*arguments))
        except TypeError as exc:
            raise ValueError(f"bad arguments to {node.func.id}: {exc}") from exc
    raise ValueError(f"{type(node).__name__} is not allowed in an arithmetic expression")


def evaluate(expression: str) -> Number:
    """The value of the arithmetic *expression*.

    Raises:
        ValueError: bad syntax, anything but arithmetic, a bound exceeded, or a result
            that is not a finite real number.
        ZeroDivisionError: division or modulo by zero.
    """
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    # Common notation: '^' for power, as users type it.
    source = expression.replace("^", "**").strip()
    if not source:
        raise ValueError("expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise ValueError(f"cannot parse expression {expression!r}: {exc}") from exc
    try:
        result = _walk(tree)
    except RecursionError as exc:
        raise ValueError("expression is nested too deeply") from exc
    except OverflowError as exc:
        raise ValueError(f"result is too large: {exc}") from exc
    if isinstance(result, float) and not math.isfinite(result):
        raise ValueError(f"result of {expression!r} is not a finite number")
    return result
