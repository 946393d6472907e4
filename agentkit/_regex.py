"""Regular expressions from untrusted sources, on a linear-time engine.

Patterns written by a tool caller, a spec author or a message sender never reach Python's
backtracking ``re`` engine, where ``(a+)+$`` against 25 ``a``'s and a ``!`` holds the GIL for
seconds. They are compiled by RE2 (the ``google-re2`` binding of Google's library), whose
matching time is linear in the input for every pattern. RE2 has no backreferences and no
lookaround; a pattern that uses them is refused with :class:`~agentkit.exceptions.PatternError`
naming the construct, never silently run on the slow engine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, Final, Protocol

import re2

from agentkit.exceptions import PatternError

__all__ = ["MAX_PATTERN_LENGTH", "SafeMatch", "SafePattern", "compile_pattern", "escape"]

#: Longest pattern accepted, in characters.
MAX_PATTERN_LENGTH: Final = 2_000

# RE2's memory budget for one compiled program (its own default is 8 MiB); a pattern whose
# program needs more (``a{1000}{1000}``-style blow-ups) fails to compile instead of growing.
_MAX_PROGRAM_BYTES: Final = 8 << 20


class SafeMatch(Protocol):
    """The part of a match object agentkit uses (RE2's mirrors ``re.Match``)."""

    def group(self, *groups: int | str) -> Any: ...
    def groups(self) -> tuple[Any, ...]: ...
    def span(self, group: int | str = 0) -> tuple[int, int]: ...
    def start(self, group: int | str = 0) -> int: ...
    def end(self, group: int | str = 0) -> int: ...


class SafePattern(Protocol):
    """A compiled linear-time pattern with the familiar ``re.Pattern`` methods."""

    pattern: str

    def search(self, text: str, pos: int = ..., endpos: int = ...) -> SafeMatch | None: ...
    def match(self, text: str, pos: int = ..., endpos: int = ...) -> SafeMatch | None: ...
    def fullmatch(self, text: str, pos: int = ..., endpos: int = ...) -> SafeMatch | None: ...
    def finditer(self, text: str, pos: int = ..., endpos: int = ...) -> Iterator[SafeMatch]: ...
    def split(self, text: str, maxsplit: int = ...) -> list[str]: ...
    def subn(
        self, repl: str | Callable[[Any], str], text: str, count: int = ...
    ) -> tuple[str, int]: ...


def escape(text: str) -> str:
    """*text* as a pattern that matches it literally."""
    return str(re2.escape(text))


def compile_pattern(
    pattern: str,
    /,
    *,
    ignore_case: bool = False,
    multiline: bool = False,
    dotall: bool = False,
    max_length: int = MAX_PATTERN_LENGTH,
) -> SafePattern:
    """Compile *pattern* for the linear-time engine (cached).

    Raises:
        PatternError: the pattern is not a string, longer than *max_length*, invalid, uses a
            construct RE2 does not have (backreferences, lookaround), or needs more than RE2's
            memory budget. The message says which and how to fix it.
    """
    if not isinstance(pattern, str):
        raise PatternError(f"a pattern must be a string, not {type(pattern).__name__}")
    if len(pattern) > max_length:
        raise PatternError(
            f"pattern of {len(pattern):,} characters is over the limit of {max_length:,}"
        )
    flags = "".join(
        flag for flag, on in (("i", ignore_case), ("m", multiline), ("s", dotall)) if on
    )
    return _compile(f"(?{flags}){pattern}" if flags else pattern, pattern)


@functools.lru_cache(maxsize=512)
def _compile(program: str, shown: str) -> SafePattern:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _MAX_PROGRAM_BYTES
    try:
        compiled: SafePattern = re2.compile(program, options)
    except re2.error as exc:
        raise PatternError(_explain(shown, exc)) from None
    except (TypeError, ValueError, UnicodeError) as exc:
        raise PatternError(f"invalid regular expression {shown!r}: {exc}") from None
    return compiled


def _explain(pattern: str, exc: Exception) -> str:
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    text = f"invalid regular expression {pattern!r}: {reason}"
    if "escape" in str(reason) or "(?" in pattern:
        text += (
            " (patterns run on the linear-time RE2 engine: backreferences such as \\1 and"
            " lookaround such as (?=...) or (?<!...) are not supported)"
        )
    elif "too big" in str(reason) or "memory" in str(reason):
        text += " (the pattern's compiled program is too large: use smaller repetition counts)"
    return text
