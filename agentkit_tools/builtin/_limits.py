"""Input and output limits of the text, data and time tools, and the checks that enforce them.

Sizes that the registry can check before a call (string lengths, list lengths, integer ranges)
go into each tool's JSON Schema, built from these limits, so oversize input is refused before
the tool runs. What a schema cannot bound (how many rows a join produces, how long a template
expands, how deep a JSON value nests) is counted while the tool works and stopped with
:class:`~agentkit.exceptions.LimitExceededError` naming the ``ToolLimits`` option that raises it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from agentkit.exceptions import ConfigurationError, LimitExceededError

__all__ = [
    "ToolLimits",
    "check_cells",
    "check_depth",
    "check_output_chars",
    "check_output_items",
]


@dataclass(frozen=True, kw_only=True)
class ToolLimits:
    """How much one call of a text, data or time tool may take in and give back.

    Attributes:
        max_text_chars: Longest text (characters) a text tool or ``data_parse_csv`` accepts.
        max_rows: Most records in one list a data tool accepts (each of a join's two sides).
        max_output_chars: Longest text a tool may produce (a replacement, a filled template,
            the chunks of a split, CSV) and most characters a pattern search reports.
        max_output_items: Most items a tool may produce (joined rows, split parts, dates).
        max_output_cells: Most fields in all the records a tool produces together (a join,
            a pivot, a selection, flattened keys), and most field reads one call makes
            (rows times conditions, sort keys or aggregations).
        max_depth: Deepest nesting of a JSON value (objects and lists) a data tool walks.
        max_pattern_chars: Longest regular expression accepted (run on the linear-time RE2).
        max_list_items: Most items of a small list parameter (conditions, fields, holidays).
        max_diff_cells: Most line pairs (and character pairs, for the similarity) that
            ``text_diff`` compares; difflib's matcher is quadratic at worst.
        max_validation_steps: Most schema keywords ``data_validate`` evaluates for one call
            (``$ref`` chains can multiply a small schema's work).
    """

    max_text_chars: int = 1_000_000
    # 50,000: a list of records is the input that makes the most Python objects, and a full
    # garbage collection (which a thread cannot keep off the event loop: it holds the GIL)
    # walks all of them; at 100,000 records those collections stalled the loop 85-134 ms.
    max_rows: int = 50_000
    max_output_chars: int = 10_000_000
    max_output_items: int = 1_000_000
    max_output_cells: int = 1_000_000
    max_depth: int = 64
    max_pattern_chars: int = 1_000
    max_list_items: int = 1_000
    max_diff_cells: int = 25_000_000
    max_validation_steps: int = 250_000

    def __post_init__(self) -> None:
        for option in fields(self):
            value = getattr(self, option.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(
                    f"ToolLimits.{option.name} must be a positive integer, got {value!r}"
                )


def check_output_items(count: int, limits: ToolLimits, what: str) -> None:
    """Raise LimitExceededError when *count* items of *what* exceed ``max_output_items``."""
    if count > limits.max_output_items:
        raise LimitExceededError(
            f"{what} would have more than {limits.max_output_items:,} items; narrow the input "
            "or raise ToolLimits.max_output_items"
        )


def check_output_chars(count: int, limits: ToolLimits, what: str) -> None:
    """Raise LimitExceededError when *count* characters of *what* exceed ``max_output_chars``."""
    if count > limits.max_output_chars:
        raise LimitExceededError(
            f"{what} would be longer than {limits.max_output_chars:,} characters; shorten the "
            "input or raise ToolLimits.max_output_chars"
        )


def check_cells(count: int, limits: ToolLimits, what: str) -> None:
    """Raise LimitExceededError when *count* fields of *what* exceed ``max_output_cells``."""
    if count > limits.max_output_cells:
        raise LimitExceededError(
            f"{what} would take more than {limits.max_output_cells:,} fields; narrow the input "
            "or raise ToolLimits.max_output_cells"
        )


def check_depth(value: Any, limits: ToolLimits, what: str) -> int:
    """Walk *value* without recursion; raise LimitExceededError past ``max_depth``.

    Returns:
        How many containers and scalars *value* holds (a bound for the work a walk will do).
    """
    limit = limits.max_depth
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            raise LimitExceededError(
                f"{what} is nested more than {limit} levels deep; flatten it or raise "
                "ToolLimits.max_depth"
            )
        stack.extend((child, depth + 1) for child in children)
    return seen
