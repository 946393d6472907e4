"""What every ``agentkit`` subcommand shares: exit statuses, tables and JSON output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_THRESHOLDS",
    "EXIT_USAGE",
    "print_json",
    "print_table",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
#: A load test ran, but a --threshold failed (the status k6 uses for the same).
EXIT_THRESHOLDS = 99
#: Ctrl-C: 128 + SIGINT, as a shell reports a program stopped by it.
EXIT_INTERRUPTED = 130
#: The reader of our output went away (``agentkit tools list | head``): 128 + SIGPIPE.
EXIT_BROKEN_PIPE = 141


def print_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Print *rows* (the first is the header) in columns; the last column is not padded."""
    if not rows:
        return
    columns = len(rows[0])
    widths = [max(len(row[column]) for row in rows) for column in range(columns - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        print("  ".join([*cells, row[-1]]).rstrip(), file=out)


def print_json(value: Any, out: TextIO) -> None:
    """Print *value* as indented JSON (values JSON cannot hold are written as their repr)."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=repr), file=out)
