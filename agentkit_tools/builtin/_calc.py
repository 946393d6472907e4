"""A safe arithmetic evaluator: the expression's syntax tree is walked, never ``eval``-ed.

Only numbers, the operators ``+ - * / // % **``, parentheses, a fixed set of constants and
functions are accepted. Every operation is bounded *before* it runs, so no expression of any
kind can hold the interpreter for long or grow memory: the expression's length, its number of
syntax nodes and its nesting depth are capped; every integer, literal or intermediate, has at
most :attr:`CalculatorLimits.max_int_bits` bits, and an operation whose result could exceed
that (a product, a power, ``lcm``, ``factorial``, ``round`` to far-left digits) is refused
from an estimate of the result's size, not computed and then checked; every float is finite.
A refusal raises :class:`~agentkit.exceptions.LimitExceededError` (a ``ValueError``) naming the
``CalculatorLimits`` option that raises the limit.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Final

from agentkit.exceptions import ConfigurationError, LimitExceededError

__all__ = ["MAX_EXPRESSION_LENGTH", "CalculatorLimits", "evaluate"]

Number = int | float


@dataclass(frozen=True, kw_only=True)
class CalculatorLimits:
    """How much work one ``math_calculate`` expression may ask for.

    Attributes:
        max_expression_chars: Longest expression, in characters.
        max_nodes: Most syntax-tree nodes (numbers, operators, calls, names) in one expression.
        max_depth: Deepest nesting of the syntax tree (``1+1+...+1`` nests once per ``+``).
        max_int_bits: Most bits of any integer, given or computed (10,000 bits is about 3,000
            decimal digits); also bounds ``round``'s negative digits.
        max_exponent: Largest absolute exponent of ``**``.
        max_factorial: Largest argument of ``factorial``.
        max_arguments: Most arguments of one function call (``min``, ``max``, ``gcd`` ...).
    """

    max_expression_chars: int = 1_000
    max_nodes: int = 500
    max_depth: int = 200
    max_int_bits: int = 10_000
    max_exponent: int = 10_000
    max_factorial: int = 1_000
    max_arguments: int = 50

    def __post_init__(self) -> None:
        for option in fields(self):
            value = getattr(self, option.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(
                    f"CalculatorLimits.{option.name} must be a positive integer, got {value!r}"
                )


_DEFAULT_LIMITS: Final = CalculatorLimits()

#: The default longest expression (the ``maxLength`` of ``math_calculate``'s schema).
MAX_EXPRESSION_LENGTH: Final = _DEFAULT_LIMITS.max_expression_chars

_LOG2_10: Final = math.log2(10)

_CONSTANTS: dict[str, Number] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _too_big(what: str, limits: CalculatorLimits) -> LimitExceededError:
    return LimitExceededError(
        f"{what} would be over {limits.max_int_bits:,} bits; use smaller numbers or raise "
        "CalculatorLimits.max_int_bits"
    )


def _shown(value: Number) -> str:
    """*value* for a message: big integers by size, never as thousands of digits."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"a {value.bit_length():,}-bit integer"
    return repr(value)


def _bits(value: Number) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _whole(value: Number, function: str) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{function} needs whole numbers, got {value!r}")
        return int(value)
    return value


class _Evaluator:
    """One evaluation under *limits*; every operation checks its cost before running."""

    def __init__(self, limits: CalculatorLimits) -> None:
        self.limits = limits
        self.functions: dict[str, Callable[..., Number]] = {
            "abs": abs,
            "round": self._round,
            "min": self._min,
            "max": self._max,
            "sqrt": self._sqrt,
            "exp": math.exp,
            "log": self._log,
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
            "gcd": self._gcd,
            "lcm": self._lcm,
            "factorial": self._factorial,
        }
        self.binary: dict[type[ast.operator], Callable[[Any, Any], Number]] = {
            ast.Add: operator.add,
            ast.Sub: operator.sub,
            ast.Mult: self._multiply,
            ast.Div: operator.truediv,
            ast.FloorDiv: operator.floordiv,
            ast.Mod: operator.mod,
            ast.Pow: self._power,
        }

    # -- every value passes here -------------------------------------------------------------

    def checked(self, value: Number) -> Number:
        if isinstance(value, int):
            if value.bit_length() > self.limits.max_int_bits:
                raise _too_big("an integer", self.limits)
        elif not math.isfinite(value):
            raise ValueError("an intermediate result is not a finite number (too large?)")
        return value

    # -- operators ---------------------------------------------------------------------------

    def _power(self, base: Number, exponent: Number) -> Number:
        limits = self.limits
        if abs(exponent) > limits.max_exponent:
            raise LimitExceededError(
                f"exponent {_shown(exponent)} is over the limit of {limits.max_exponent:,}; "
                "raise CalculatorLimits.max_exponent"
            )
        if base == 0 and exponent < 0:
            raise ZeroDivisionError("zero cannot be raised to a negative power")
        # log2|base| * exponent is the result's bit length, to within one bit.
        if (
            isinstance(base, int)
            and isinstance(exponent, int)
            and exponent > 0
            and abs(base) > 1
            and math.log2(abs(base)) * exponent > limits.max_int_bits
        ):
            raise _too_big(f"{_shown(base)} ** {exponent}", limits)
        result = base**exponent
        if isinstance(result, complex):
            raise ValueError(f"{_shown(base)} ** {exponent} is not a real number")
        return result

    def _multiply(self, left: Number, right: Number) -> Number:
        if _bits(left) + _bits(right) > self.limits.max_int_bits + 1:
            raise _too_big("a product", self.limits)
        return left * right

    # -- functions with arguments that set the cost ------------------------------------------

    def _round(self, value: Number, ndigits: Number | None = None) -> Number:
        if ndigits is None:
            return round(value)
        digits = _whole(ndigits, "round")
        # round(int, -n) works with 10**n; round(float, n) is the same for any |n| > 330.
        most = int(self.limits.max_int_bits / _LOG2_10)
        if abs(digits) > most:
            raise LimitExceededError(
                f"round's ndigits must be between -{most:,} and {most:,} (got {_shown(digits)});"
                " raise CalculatorLimits.max_int_bits"
            )
        return round(value, digits)

    def _min(self, *values: Number) -> Number:
        if not values:
            raise ValueError("min needs at least one number")
        return min(values)

    def _max(self, *values: Number) -> Number:
        if not values:
            raise ValueError("max needs at least one number")
        return max(values)

    def _gcd(self, *values: Number) -> int:
        return math.gcd(*(_whole(value, "gcd") for value in values))

    def _lcm(self, *values: Number) -> int:
        whole = [_whole(value, "lcm") for value in values]
        # The lcm has at most as many bits as the product of its arguments.
        if sum(_bits(value) for value in whole) > self.limits.max_int_bits + len(whole):
            raise _too_big("lcm of these numbers", self.limits)
        return math.lcm(*whole)

    def _factorial(self, value: Number) -> int:
        whole = _whole(value, "factorial")
        if whole < 0:
            raise ValueError(f"factorial needs a non-negative number, got {_shown(whole)}")
        if whole > self.limits.max_factorial:
            raise LimitExceededError(
                f"factorial needs n <= {self.limits.max_factorial:,}, got {_shown(whole)}; "
                "raise CalculatorLimits.max_factorial"
            )
        # lgamma(n + 1) / ln 2 is log2(n!): refuse before computing a result over the limit.
        if whole > 1 and math.lgamma(whole + 1) / math.log(2) > self.limits.max_int_bits:
            raise _too_big(f"factorial({whole})", self.limits)
        return math.factorial(whole)

    def _sqrt(self, value: Number) -> float:
        if value < 0:
            raise ValueError(f"sqrt of a negative number ({_shown(value)})")
        return math.sqrt(value)

    def _log(self, value: Number, base: Number = math.e) -> float:
        if value <= 0 or base <= 0 or base == 1:
            raise ValueError("log needs a positive value and a positive base other than 1")
        return math.log(value, base)

    # -- the walk ----------------------------------------------------------------------------

    def walk(self, node: ast.AST) -> Number:
        if isinstance(node, ast.Expression):
            return self.walk(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ValueError(f"only numbers are allowed, not {node.value!r}")
            return self.checked(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in self.binary:
            left, right = self.walk(node.left), self.walk(node.right)
            return self.checked(self.binary[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
            operand = self.walk(node.operand)
            return operand if isinstance(node.op, ast.UAdd) else -operand
        if isinstance(node, ast.Name):
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            raise ValueError(f"unknown name {node.id!r}; constants are {sorted(_CONSTANTS)}")
        if isinstance(node, ast.Call):
            return self.call(node)
        raise ValueError(f"{type(node).__name__} is not allowed in an arithmetic expression")

    def call(self, node: ast.Call) -> Number:
        if not isinstance(node.func, ast.Name) or node.func.id not in self.functions:
            shown = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise ValueError(
                f"function {shown!r} is not allowed; allowed: {sorted(self.functions)}"
            )
        if node.keywords:
            raise ValueError("keyword arguments are not allowed")
        if any(isinstance(argument, ast.Starred) for argument in node.args):
            raise ValueError("*arguments are not allowed")
        if len(node.args) > self.limits.max_arguments:
            raise LimitExceededError(
                f"{node.func.id} has {len(node.args)} arguments, over the limit of "
                f"{self.limits.max_arguments}; raise CalculatorLimits.max_arguments"
            )
        arguments = [self.walk(argument) for argument in node.args]
        try:
            return self.checked(self.functions[node.func.id](*arguments))
        except TypeError as exc:
            raise ValueError(f"bad arguments to {node.func.id}: {exc}") from exc


def _positive(fn: Callable[[float], float], name: str) -> Callable[[Number], float]:
    def checked(value: Number) -> float:
        if value <= 0:
            raise ValueError(f"{name} needs a positive value, got {_shown(value)}")
        return fn(value)

    return checked


def _check_shape(tree: ast.AST, limits: CalculatorLimits) -> None:
    """Count the tree's nodes and measure its depth without recursion, before any work."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise LimitExceededError(
                f"expression has more than {limits.max_nodes} parts; simplify it or raise "
                "CalculatorLimits.max_nodes"
            )
        if depth > limits.max_depth:
            raise LimitExceededError(
                f"expression is nested more than {limits.max_depth} levels deep; simplify it "
                "or raise CalculatorLimits.max_depth"
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def evaluate(expression: str, *, limits: CalculatorLimits | None = None) -> Number:
    """The value of the arithmetic *expression*.

    Raises:
        LimitExceededError: the expression or a value in it is over one of *limits* (a
            ``ValueError``; the message names the option).
        ValueError: bad syntax, anything but arithmetic, or a result that is not a finite
            real number.
        ZeroDivisionError: division or modulo by zero.
    """
    limits = limits if limits is not None else _DEFAULT_LIMITS
    if not isinstance(expression, str):
        raise ValueError(f"an expression must be a string, not {type(expression).__name__}")
    if len(expression) > limits.max_expression_chars:
        raise LimitExceededError(
            f"expression is longer than {limits.max_expression_chars:,} characters; shorten "
            "it or raise CalculatorLimits.max_expression_chars"
        )
    # Common notation: '^' for power, as users type it.
    source = expression.replace("^", "**").strip()
    if not source:
        raise ValueError("expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"cannot parse expression {_clip(expression)}: {exc}") from None
    _check_shape(tree, limits)
    try:
        result = _Evaluator(limits).walk(tree)
    except OverflowError as exc:
        raise ValueError(f"result is too large: {exc}") from None
    if isinstance(result, float) and not math.isfinite(result):
        raise ValueError(f"result of {_clip(expression)} is not a finite number")
    return result


def _clip(text: str, most: int = 80) -> str:
    return repr(text if len(text) <= most else text[:most] + "...")
