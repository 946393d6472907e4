"""Pattern matching for the text tools on the linear-time RE2 engine.

RE2 has no lookaround and its ``\\b`` and ``\\w`` are ASCII-only, so word boundaries are
written as a consumed character class (``(?:^|[^\\pL\\pN_])(...)(?:[^\\pL\\pN_]|$)``) and the
wanted text is group 1; :func:`iter_spans` restarts each search at the end of group 1, so a
boundary character consumed after one match can still begin the next. Replacement templates
(``\\1``, ``\\g<name>``) are expanded here, with the output length counted as it grows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

import re2

from agentkit.exceptions import ToolInputError
from agentkit.tools import SafePattern
from agentkit_tools.builtin._limits import ToolLimits, check_output_chars

__all__ = [
    "WORD",
    "Template",
    "bounded",
    "iter_groups",
    "iter_spans",
    "parse_template",
    "replace_all",
]

#: Python's ``\w`` (letters, digits, underscore in any script) as an RE2 class body.
WORD: Final = r"\pL\pN_"

_ESCAPES: Final = {
    "\\": "\\",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "f": "\f",
    "v": "\v",
    "a": "\a",
    "b": "\b",
}

#: A parsed replacement template: literal strings and group references (int or name).
Template = list[str | int]


def bounded(pattern: str, *, before: str = WORD, after: str | None = WORD) -> str:
    """*pattern* as group 1, preceded by start or a character outside *before*.

    With *after*, it must also be followed by a character outside *after* or the end.
    """
    tail = f"(?:[^{after}]|$)" if after else ""
    return f"(?:^|[^{before}])({pattern}){tail}"


Span = tuple[int, int]


def _matcher(compiled: SafePattern) -> Callable[[bytes, int, int], list[Span]]:
    """A function giving the byte spans of every group of the first match from a position."""
    engine: Any = compiled
    native = getattr(engine, "_regexp", None)
    if native is not None:
        # The binding's own search() builds a generator and a match object per call; its
        # underlying RE2 object answers the same question several times faster.
        unanchored = re2._re2.RE2.Anchor.UNANCHORED
        return lambda text, position, end: list(native.Match(unanchored, text, position, end))

    def search(text: bytes, position: int, end: int) -> list[Span]:
        found = engine.search(text, position, end)
        if found is None:
            return [(-1, -1)]
        return [found.span(number) for number in range(engine.groups + 1)]

    return search


def _scan(
    compiled: SafePattern, text: str, group: int, every_group: bool
) -> Iterator[list[Span | None]]:
    # 'replace' turns a lone surrogate into one '?' byte, so character offsets stay aligned.
    encoded = text.encode("utf-8", "replace")
    ascii_only = len(encoded) == len(text)
    match = _matcher(compiled)
    cursor_bytes = cursor_chars = 0

    def chars(offset: int) -> int:
        # Offsets only move forward, so all the decoding together is one pass over the text.
        nonlocal cursor_bytes, cursor_chars
        cursor_chars += len(encoded[cursor_bytes:offset].decode("utf-8"))
        cursor_bytes = offset
        return cursor_chars

    position, end, last_empty = 0, len(encoded), -1
    while position <= end:
        spans = match(encoded, position, end)
        start, stop = spans[group]
        if spans[0][0] < 0:
            return
        if start == stop == last_empty:
            # The empty match just reported: as in re, the next one starts a character later.
            position = stop + 1
            while position < end and encoded[position] & 0xC0 == 0x80:
                position += 1
            continue
        wanted = spans if every_group else [spans[group]]
        if ascii_only:
            yield [span if span[0] >= 0 else None for span in wanted]
        else:
            mapped = {offset: 0 for span in wanted for offset in span if offset >= 0}
            for offset in sorted(mapped):
                mapped[offset] = chars(offset)
            yield [(mapped[a], mapped[b]) if a >= 0 else None for a, b in wanted]
        last_empty = stop if start == stop else -1
        position = stop


def iter_spans(compiled: SafePattern, text: str, group: int = 0) -> Iterator[Span]:
    """Character spans of *group* in each match of *compiled* over *text*, left to right.

    Matches follow ``re.finditer``'s rules (an empty match right after another empty match at
    the same place is skipped). The text is encoded once and each search resumes where
    *group* ended, so the whole scan is linear in the text (``search(text, pos)`` on a
    ``str`` would re-encode it every time, and RE2's own ``finditer`` repeats an empty match
    at the end of the text).
    """
    for spans in _scan(compiled, text, group, every_group=False):
        span = spans[0]
        if span is not None:
            yield span


def iter_groups(compiled: SafePattern, text: str) -> Iterator[list[Span | None]]:
    """For each match, the character span of every group (None where a group took no part)."""
    return _scan(compiled, text, 0, every_group=True)


def _octal_escape(template: str, start: int) -> str:
    """The octal digits of an escape starting at *start* ('' when it is not one)."""
    head = template[start : start + 3]
    if head[:1] == "0":
        digits = "0"
        for char in head[1:]:
            if char not in "01234567":
                break
            digits += char
        return digits
    if len(head) == 3 and all(char in "01234567" for char in head):
        if int(head, 8) > 0o377:
            raise ToolInputError(f"bad replacement: octal escape \\{head} is above \\377")
        return head
    return ""


def parse_template(template: str, group_count: int, names: dict[str, int]) -> Template:
    """Split a replacement template into literals and group numbers (``re`` rules).

    Raises:
        ToolInputError: a reference to a group the pattern does not have, or a bad escape.
    """
    pieces: Template = []
    literal: list[str] = []
    index, length = 0, len(template)
    while index < length:
        char = template[index]
        if char != "\\" or index + 1 == length:
            literal.append(char)
            index += 1
            continue
        following = template[index + 1]
        reference: int | None = None
        octal = _octal_escape(template, index + 1)
        if octal:
            # As in re: \0 or three octal digits are a character code, not a group.
            literal.append(chr(int(octal, 8)))
            index += 1 + len(octal)
        elif following in "123456789":
            digits = template[index + 1 : index + 3]
            digits = digits if len(digits) == 2 and digits.isdigit() else following
            reference, index = int(digits), index + 1 + len(digits)
        elif following == "g" and template.startswith("<", index + 2):
            close = template.find(">", index + 3)
            if close == -1:
                raise ToolInputError("bad replacement: \\g< without a closing >")
            name = template[index + 3 : close]
            reference = int(name) if name.isdigit() else names.get(name)
            if reference is None:
                raise ToolInputError(f"bad replacement: the pattern has no group named {name!r}")
            index = close + 1
        elif following in _ESCAPES:
            literal.append(_ESCAPES[following])
            index += 2
        elif following.isascii() and following.isalpha():
            raise ToolInputError(f"bad escape \\{following} in the replacement")
        else:
            literal.append(template[index : index + 2])
            index += 2
        if reference is not None:
            if reference > group_count:
                raise ToolInputError(
                    f"bad replacement: group {reference} does not exist (the pattern has "
                    f"{group_count})"
                )
            pieces.extend(("".join(literal), reference))
            literal = []
    pieces.append("".join(literal))
    return pieces


def replace_all(
    compiled: SafePattern,
    text: str,
    pieces: Template,
    *,
    count: int,
    limits: ToolLimits,
) -> tuple[str, int]:
    """Replace the first *count* matches (0: all); the result may not pass the output limit."""
    out: list[str] = []
    size = replaced = last = 0
    for spans in iter_groups(compiled, text):
        if count and replaced == count:
            break
        start, stop = spans[0] or (0, 0)
        replacement = "".join(
            piece if isinstance(piece, str) else _group_text(text, spans[piece]) for piece in pieces
        )
        size += start - last + len(replacement)
        check_output_chars(size + len(text) - stop, limits, "the replaced text")
        out.append(text[last:start])
        out.append(replacement)
        last = stop
        replaced += 1
    out.append(text[last:])
    return "".join(out), replaced


def _group_text(text: str, span: Span | None) -> str:
    return text[span[0] : span[1]] if span is not None else ""
