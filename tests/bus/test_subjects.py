"""Subject validation and wildcard matching, against small independent references."""

from __future__ import annotations

import asyncio
import enum
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import concrete_subjects, subject_like_text, subject_patterns

import agentkit
from agentkit import InMemoryPubSub, InvalidSubjectError, PubSubMessage, subject_matches
from agentkit.bus._subjects import (
    MAX_SUBJECT_BYTES,
    validate_publish_subject,
    validate_queue_group,
    validate_subscribe_subject,
)

# The grammar, written out independently of agentkit.bus._subjects: no dots, wildcards,
# whitespace, C0 control characters, DEL, line or paragraph separators or U+FFFD in a token.
_LITERAL = r"[^.*> \t\r\n\f\v\x00-\x1f\x7f\x85\u2028\u2029\ufffd]+"
_PUBLISH = re.compile(rf"{_LITERAL}(?:\.{_LITERAL})*")
_SUBSCRIBE = re.compile(rf"(?:(?:{_LITERAL}|\*)\.)*(?:{_LITERAL}|\*|>)")


def reference_matches(pattern: str, subject: str) -> bool:
    """Whether *subject* matches *pattern*, by turning the pattern into a regex."""
    parts = []
    for token in pattern.split("."):
        if token == "*":
            parts.append(r"[^.]+")
        elif token == ">":
            parts.append(r".+")
        else:
            parts.append(re.escape(token))
    return re.fullmatch(r"\.".join(parts), subject) is not None


def accepts(validate: object, subject: str) -> bool:
    """Whether the validator accepts *subject* (it raises InvalidSubjectError otherwise)."""
    assert callable(validate)
    try:
        validate(subject)
    except InvalidSubjectError:
        return False
    return True


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("a.b", "a.b", True),
        ("a.b", "a.c", False),
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
        ("a.*", "a", False),
        ("*.b", "a.b", True),
        ("a.>", "a.b", True),
        ("a.>", "a.b.c.d", True),
        ("a.>", "a", False),
        (">", "a", True),
        (">", "a.b.c", True),
        ("*", "a.b", False),
        ("a.*.c", "a.b.c", True),
        ("a.*.c", "a.b.d", False),
        ("*.*.>", "a.b", False),
        ("*.*.>", "a.b.c", True),
    ],
)
def test_subject_matches_examples(pattern: str, subject: str, expected: bool) -> None:
    """Hand-picked wildcard cases match as NATS matches them."""
    assert subject_matches(pattern, subject) is expected
    assert reference_matches(pattern, subject) is expected


@given(pattern=subject_patterns(), subject=concrete_subjects)
def test_subject_matches_agrees_with_the_reference(pattern: str, subject: str) -> None:
    """subject_matches agrees with a regex reference on generated patterns and subjects."""
    assert subject_matches(pattern, subject) is reference_matches(pattern, subject)


@given(subject=concrete_subjects)
def test_a_subject_matches_itself_and_the_full_wildcard(subject: str) -> None:
    """Every concrete subject matches itself, ``>``, and its tokens with one replaced by ``*``."""
    assert subject_matches(subject, subject)
    assert subject_matches(">", subject)
    tokens = subject.split(".")
    for index in range(len(tokens)):
        starred = ".".join([*tokens[:index], "*", *tokens[index + 1 :]])
        assert subject_matches(starred, subject)
    assert not subject_matches(f"{subject}.>", subject)


@given(text=subject_like_text)
def test_publish_validation_accepts_exactly_the_grammar(text: str) -> None:
    """validate_publish_subject accepts exactly the concrete subjects of the grammar."""
    assert accepts(validate_publish_subject, text) is (_PUBLISH.fullmatch(text) is not None)


@given(text=subject_like_text)
def test_subscribe_validation_accepts_exactly_the_grammar(text: str) -> None:
    """validate_subscribe_subject accepts exactly the patterns of the grammar."""
    assert accepts(validate_subscribe_subject, text) is (_SUBSCRIBE.fullmatch(text) is not None)


@given(pattern=subject_patterns(), subject=concrete_subjects)
def test_generated_subjects_are_valid(pattern: str, subject: str) -> None:
    """The shared strategies only make valid patterns and subjects."""
    assert validate_subscribe_subject(pattern) == pattern
    assert validate_publish_subject(subject) == subject


@pytest.mark.parametrize(
    "subject", ["", " ", "a..b", ".a", "a.", "a b", "a.\tb", "a.*", "a.>", ">", "a*", "b>.c"]
)
def test_invalid_publish_subjects(subject: str) -> None:
    """Empty, whitespace, empty-token and wildcard subjects cannot be published to."""
    with pytest.raises(InvalidSubjectError):
        validate_publish_subject(subject)
    with pytest.raises(ValueError, match=r"subject|empty"):
        validate_publish_subject(subject)


@pytest.mark.parametrize("pattern", ["", "\n", "a..b", "a.>.b", ">.a", "a.b*", "a. b"])
def test_invalid_subscribe_patterns(pattern: str) -> None:
    """Patterns with empty tokens, whitespace, inner '>' or mixed wildcards are refused."""
    with pytest.raises(InvalidSubjectError):
        validate_subscribe_subject(pattern)


@pytest.mark.parametrize("subject", [None, 3, b"a.b", ["a"], ("a",), {"a": 1}, {"a"}, 1.5])
def test_non_string_subjects_are_invalid(subject: object) -> None:
    """A subject that is not a str (unhashable ones too) raises InvalidSubjectError, not a
    TypeError from inside."""
    for validate in (validate_publish_subject, validate_subscribe_subject, validate_queue_group):
        with pytest.raises(InvalidSubjectError, match="must be a str"):
            validate(subject)  # type: ignore[operator]
    with pytest.raises(InvalidSubjectError):
        subject_matches(subject, "a")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "subject",
    [
        "a.\ud800",
        "\udfff",
        "a.b\udc80c",
        "a.\x00",
        "a\x1b[31m",
        "a.\x7f",
        "a\u2028b",
        "x.\N{REPLACEMENT CHARACTER}",
    ],
)
def test_text_nats_cannot_carry_is_invalid(subject: str) -> None:
    """Lone surrogates (not UTF-8), NUL and other control characters are refused."""
    with pytest.raises(InvalidSubjectError):
        validate_publish_subject(subject)
    with pytest.raises(InvalidSubjectError):
        validate_subscribe_subject(subject)


def test_subjects_are_limited_in_utf8_bytes() -> None:
    """A subject may be MAX_SUBJECT_BYTES UTF-8 bytes long, not one more, counting bytes
    (not characters), and the error names the option that raises the limit."""
    assert validate_publish_subject("a" * MAX_SUBJECT_BYTES) == "a" * MAX_SUBJECT_BYTES
    with pytest.raises(InvalidSubjectError, match="max_subject_bytes"):
        validate_publish_subject("a" * (MAX_SUBJECT_BYTES + 1))
    half = "é" * (MAX_SUBJECT_BYTES // 2)
    assert validate_subscribe_subject(half) == half
    with pytest.raises(InvalidSubjectError, match="max_subject_bytes"):
        validate_subscribe_subject(half + "é")
    # The 4,092-character subject that once closed a NATS connection for good.
    with pytest.raises(InvalidSubjectError):
        validate_publish_subject("x" * 4092)
    assert validate_publish_subject("x" * 4092, max_bytes=5000) == "x" * 4092


@given(text=st.text(max_size=40))
def test_any_text_is_validated_or_refused_with_invalid_subject_error(text: str) -> None:
    """Any text, surrogates and control characters included, is accepted exactly when it is
    UTF-8 and fits the grammar; anything else raises InvalidSubjectError and nothing else."""
    try:
        text.encode("utf-8")
        utf8 = True
    except UnicodeEncodeError:
        utf8 = False
    assert accepts(validate_publish_subject, text) is (
        utf8 and _PUBLISH.fullmatch(text) is not None
    )
    assert accepts(validate_subscribe_subject, text) is (
        utf8 and _SUBSCRIBE.fullmatch(text) is not None
    )


@given(length=st.integers(min_value=200, max_value=MAX_SUBJECT_BYTES + 300))
def test_long_subjects_validate_the_same_as_short_ones(length: int) -> None:
    """Subjects past the validation cache's length follow the same rules as short ones."""
    subject = ".".join(["ab"] * (length // 3))
    assert accepts(validate_publish_subject, subject) is (len(subject) <= MAX_SUBJECT_BYTES)
    assert not accepts(validate_publish_subject, subject + ".*")
    assert not accepts(validate_subscribe_subject, subject + "..")


def test_str_subclasses_become_plain_strings() -> None:
    """A StrEnum member or other str subclass validates to its plain str value."""

    class Topic(enum.StrEnum):
        ORDERS = "orders.created"

    validated = validate_publish_subject(Topic.ORDERS)
    assert (type(validated), validated) == (str, "orders.created")
    assert subject_matches("orders.*", Topic.ORDERS)


@pytest.mark.parametrize("queue", ["", "a b", "a\tb", "q\x00", "q\ud800", "q" * 4000])
def test_invalid_queue_groups(queue: str) -> None:
    """A queue group must be one non-empty name NATS can carry."""
    with pytest.raises(InvalidSubjectError):
        validate_queue_group(queue)
    assert validate_queue_group("workers") == "workers"


async def _who_receives(bus: agentkit.Bus, patterns: list[str], subject: str) -> set[int]:
    """Subscribe one handler per pattern, publish once to *subject*, return who got it."""
    received: set[int] = set()
    for index, pattern in enumerate(patterns):

        def record(message: PubSubMessage, index: int = index) -> None:
            received.add(index)

        await bus.subscribe(pattern, record)
    await bus.publish(subject, "ping")
    await asyncio.wait_for(bus.drain(), timeout=10)
    return received


@given(patterns=st.lists(subject_patterns(), min_size=1, max_size=6), subject=concrete_subjects)
def test_memory_routing_agrees_with_subject_matches(patterns: list[str], subject: str) -> None:
    """InMemoryPubSub delivers a message to exactly the subscriptions whose pattern matches."""

    async def scenario() -> set[int]:
        async with InMemoryPubSub() as bus:
            return await _who_receives(bus, patterns, subject)

    expected = {
        index for index, pattern in enumerate(patterns) if subject_matches(pattern, subject)
    }
    assert asyncio.run(scenario()) == expected


@pytest.mark.nats
@pytest.mark.timeout(120)
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patterns=st.lists(subject_patterns(), min_size=1, max_size=6), subject=concrete_subjects)
def test_nats_routing_agrees_with_subject_matches(
    nats_url: str, patterns: list[str], subject: str
) -> None:
    """NatsPubSub delivers to exactly the subscriptions InMemoryPubSub's matching picks."""
    # A fresh prefix per example keeps examples apart on the shared server; prefixing both
    # the patterns and the subject with the same literal tokens does not change who matches.
    prefix = f"routing.{uuid.uuid4().hex[:12]}"
    prefixed = [f"{prefix}.{pattern}" for pattern in patterns]

    async def scenario() -> set[int]:
        bus = await agentkit.connect(nats_url)
        try:
            return await _who_receives(bus, prefixed, f"{prefix}.{subject}")
        finally:
            await bus.close()

    expected = {
        index for index, pattern in enumerate(patterns) if subject_matches(pattern, subject)
    }
    assert asyncio.run(scenario()) == expected
