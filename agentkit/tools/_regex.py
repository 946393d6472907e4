r"""Regular expressions from untrusted sources, on a linear-time engine.

Patterns written by a tool caller, a spec author or a message sender never reach Python's
backtracking ``re`` engine, where ``(a+)+$`` against 25 ``a``'s and a ``!`` holds the GIL for
seconds. They are compiled by RE2 (the ``google-re2`` binding of Google's library), whose
matching time is linear in the input for every pattern. RE2 has no backreferences and no
lookaround; a pattern that uses them is refused with :class:`~agentkit.exceptions.PatternError`
naming the construct, never silently run on the slow engine. ``\C`` (one byte, which can split
a character) is refused too.

RE2 reads UTF-8, which cannot hold a lone surrogate (``"\ud800"``, legal in a Python string
and in JSON); the patterns here read each one as U+FFFD instead of raising, so positions and
lengths stay those of the text given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, Final, Protocol, TypeVar

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


T = TypeVar("T")

#: Every surrogate code point, read as U+FFFD (one character for one: offsets do not move).
_SURROGATES: Final = dict.fromkeys(range(0xD800, 0xE000), 0xFFFD)


def _scrubbed(text: Any) -> Any:
    return text.translate(_SURROGATES) if isinstance(text, str) else text


class _Pattern:
    """An RE2 pattern whose methods read lone surrogates as U+FFFD instead of raising."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, compiled: Any, pattern: str) -> None:
        self._compiled = compiled
        self.pattern = pattern

    def __repr__(self) -> str:
        return f"SafePattern({self.pattern!r})"

    def __getattr__(self, name: str) -> Any:  # groups, groupindex, findall, ...
        return getattr(self._compiled, name)

    def _call(self, method: Callable[..., T], text: Any, *args: Any) -> T:
        try:
            return method(text, *args)
        except UnicodeEncodeError:
            return method(_scrubbed(text), *args)

    def search(self, text: str, pos: int | None = None, endpos: int | None = None) -> Any:
        return self._call(self._compiled.search, text, pos, endpos)

    def match(self, text: str, pos: int | None = None, endpos: int | None = None) -> Any:
        return self._call(self._compiled.match, text, pos, endpos)

    def fullmatch(self, text: str, pos: int | None = None, endpos: int | None = None) -> Any:
        return self._call(self._compiled.fullmatch, text, pos, endpos)

    def finditer(
        self, text: str, pos: int | None = None, endpos: int | None = None
    ) -> Iterator[Any]:
        matches = self._compiled.finditer(text, pos, endpos)
        try:
            first = next(matches, None)  # the text is encoded before the first match
        except UnicodeEncodeError:
            matches = self._compiled.finditer(_scrubbed(text), pos, endpos)
            first = next(matches, None)
        if first is not None:
            yield first
            yield from matches

    def split(self, text: str, maxsplit: int = 0) -> list[str]:
        return self._call(self._compiled.split, text, maxsplit)

    def subn(self, repl: str | Callable[[Any], str], text: str, count: int = 0) -> tuple[str, int]:
        try:
            result: tuple[str, int] = self._compiled.subn(repl, text, count)
        except UnicodeEncodeError:
            result = self._compiled.subn(repl, _scrubbed(text), count)
        return result

    def sub(self, repl: str | Callable[[Any], str], text: str, count: int = 0) -> str:
        return self.subn(repl, text, count)[0]


def _uses_single_byte(pattern: str) -> bool:
    r"""Whether *pattern* has ``\C``, RE2's "any byte", outside an escaped backslash."""
    escaped = False
    for char in pattern:
        if escaped:
            if char == "C":
                return True
            escaped = False
        elif char == "\\":
            escaped = True
    return False


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
    if _uses_single_byte(pattern):
        raise PatternError(
            f"invalid regular expression {pattern!r}: \\C (any single byte) is not supported;"
            " use . for any character"
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
        compiled = re2.compile(program, options)
    except re2.error as exc:
        raise PatternError(_explain(shown, exc)) from None
    except (TypeError, ValueError, UnicodeError, OverflowError, MemoryError) as exc:
        raise PatternError(f"invalid regular expression {shown!r}: {exc}") from None
    return _Pattern(compiled, shown)


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
