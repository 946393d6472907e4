"""Linear-time regular expressions for untrusted patterns (agentkit.tools._regex)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit.exceptions import AgentkitError, PatternError
from agentkit.tools._regex import MAX_PATTERN_LENGTH, compile_pattern, escape

#: Classic patterns that backtrack exponentially (or polynomially) in Python's re.
CATASTROPHIC = [
    "(a+)+$",
    "(a*)*$",
    "(a|a)*$",
    "(a|aa)+$",
    "(.*a){20}$",
    "^(\\w+\\s?)*$",
    "(x+x+)+y",
    "^(([a-z])+.)+[A-Z]([a-z])+$",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("pattern", CATASTROPHIC)
@pytest.mark.parametrize("size", [30, 10_000, 200_000])
def test_catastrophic_patterns_answer_on_attack_input(pattern: str, size: int) -> None:
    """Patterns that make re backtrack for ages answer on RE2 (no match for a trailing '!')."""
    compiled = compile_pattern(pattern)
    for text in ("a" * size + "!", "aaaa " * (size // 5) + "!"):
        found = compiled.search(text)
        assert found is None or found.span() == (len(text), len(text))  # (a*)*$: empty at end
    match = compiled.search("x" * size)
    assert match is None or match.end() <= size


@pytest.mark.parametrize(
    "pattern",
    ["(a)\\1", "(?P<x>a)(?P=x)", "(?=a)", "(?!a)", "(?<=a)b", "(?<!a)b", "\\C", "a\\Cb", "(?x) a"],
)
def test_constructs_re2_lacks_are_refused_with_advice(pattern: str) -> None:
    """Backreferences, lookaround, \\C and verbose mode raise PatternError saying why."""
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, AgentkitError)
    assert "RE2" in str(caught.value) or "not supported" in str(caught.value)


def test_escaped_backslash_before_c_is_a_literal() -> None:
    """A literal backslash followed by C is fine: only an unescaped \\C is refused."""
    assert compile_pattern("a\\\\C").search("xa\\C") is not None


@pytest.mark.parametrize("pattern", ["a{1001}", "(a{999}){999}", "((a{100}){100}){100}"])
def test_patterns_over_the_program_budget_are_refused(pattern: str) -> None:
    """Repetition counts that would blow up the compiled program raise PatternError."""
    with pytest.raises(PatternError):
        compile_pattern(pattern)


def test_pattern_length_is_limited_and_configurable() -> None:
    """A pattern over max_length is refused before compiling; the limit is a parameter."""
    with pytest.raises(PatternError, match="over the limit"):
        compile_pattern("a" * (MAX_PATTERN_LENGTH + 1))
    with pytest.raises(PatternError, match="over the limit of 5"):
        compile_pattern("abcdef", max_length=5)
    assert compile_pattern("abcdef", max_length=6).search("xxabcdef") is not None


@pytest.mark.parametrize("pattern", [None, 3, b"abc", ["a"]])
def test_non_string_patterns_are_refused(pattern: object) -> None:
    """A pattern that is not a string raises PatternError, not TypeError."""
    with pytest.raises(PatternError, match="must be a string"):
        compile_pattern(pattern)  # type: ignore[arg-type]


def test_flags_and_escape() -> None:
    """ignore_case, multiline, dotall and escape behave as in re."""
    assert compile_pattern("abc", ignore_case=True).search("xABC") is not None
    assert compile_pattern("^b", multiline=True).search("a\nb") is not None
    assert compile_pattern("a.b", dotall=True).search("a\nb") is not None
    assert compile_pattern(escape("a.b*(c)")).fullmatch("a.b*(c)") is not None


def test_lone_surrogates_are_read_as_replacement_characters() -> None:
    """Text with a lone surrogate is searched, split and substituted at the same offsets."""
    text = "x\ud800bb-\udfffbb"
    compiled = compile_pattern("b+")
    first = compiled.search(text)
    assert first is not None
    assert first.span() == (2, 4)
    assert [match.span() for match in compiled.finditer(text)] == [(2, 4), (6, 8)]
    assert compiled.subn("Z", text)[1] == 2
    assert len(compiled.split(text)) == 3
    assert compile_pattern(".").fullmatch("\ud800") is not None


_PATTERN_ALPHABET = "ab()[]{}+*?|\\^$.,:=!<>-PpNdwsSCxz019#&~ "


@settings(max_examples=500)
@given(
    pattern=st.text(alphabet=_PATTERN_ALPHABET, max_size=24) | st.text(max_size=12),
    text=st.text(alphabet="ab 01\n!\ud800é", max_size=40),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_any_pattern_gives_a_result_or_a_pattern_error(
    pattern: str, text: str, flags: tuple[bool, bool, bool]
) -> None:
    """Any pattern string compiles or raises PatternError; a compiled one searches any text."""
    ignore_case, multiline, dotall = flags
    try:
        compiled = compile_pattern(
            pattern, ignore_case=ignore_case, multiline=multiline, dotall=dotall
        )
    except PatternError:
        return
    match = compiled.search(text)
    if match is not None:
        start, end = match.span()
        assert 0 <= start <= end <= len(text)
    assert sum(1 for _ in compiled.finditer(text)) <= len(text) + 1
    compiled.split(text)
    compiled.subn("", text)


@given(st.text(alphabet="abc().*+?|", max_size=10), st.text(alphabet="abc", max_size=20))
def test_answers_agree_with_re_where_both_engines_run(pattern: str, text: str) -> None:
    """On simple patterns both engines accept, RE2 finds the same first match as re."""
    try:
        expected = re.search(pattern, text)
        compiled = compile_pattern(pattern)
    except (re.error, PatternError):
        return
    found = compiled.search(text)
    assert (found is None) == (expected is None)
    if found is not None and expected is not None:
        assert found.span() == expected.span()
