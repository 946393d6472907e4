"""NATS subject syntax: validation and wildcard matching, shared by every bus backend.

A subject is dot-separated tokens. In a subscription ``*`` stands for exactly one token and
``>`` (only as the last token) for one or more tokens. Tokens may not be empty or hold
whitespace or control characters; a published subject may hold no wildcard; ``*`` and ``>``
inside a longer token (``a*``) are refused everywhere, though NATS would read them literally,
because they are almost always a mistake. A subject must be a ``str`` that encodes as UTF-8
(no lone surrogates) in at most ``max_subject_bytes`` bytes (:data:`MAX_SUBJECT_BYTES`).
"""

from __future__ import annotations

from functools import lru_cache

from agentkit.exceptions import InvalidSubjectError

__all__ = [
    "MAX_SUBJECT_BYTES",
    "as_subject",
    "subject_matches",
    "validate_publish_subject",
    "validate_queue_group",
    "validate_subscribe_subject",
]

#: Default longest subject, in UTF-8 bytes. A NATS server refuses a protocol line over its
#: ``max_control_line`` (4,096 bytes by default) and drops the connection; a subject of this
#: size leaves room on that line for the verb, a reply inbox or JetStream API prefix, and the
#: sizes. Every bus takes ``max_subject_bytes=`` to change it.
MAX_SUBJECT_BYTES = 3072

# Whitespace splits a NATS protocol line; control characters (NUL above all) and U+FFFD (the
# mark of text that was not valid UTF-8) are refused by the server or are always a mistake.
_FORBIDDEN = frozenset(" \t\r\n\f\v\x85\u2028\u2029\ufffd") | frozenset(
    map(chr, [*range(0x20), 0x7F])
)
# Short subjects (nearly all of them) are validated once and cached; long ones are checked
# each time rather than let the cache hold megabytes.
_CACHED_LENGTH = 256


def as_subject(subject: object, *, what: str = "subject") -> str:
    """Return *subject* as a plain ``str``, or raise InvalidSubjectError if it is not a str.

    A ``str`` subclass (a ``StrEnum`` member, say) becomes its plain string value, so its
    own ``__eq__``/``__hash__`` never run inside the bus.
    """
    if type(subject) is str:
        return subject
    if isinstance(subject, str):
        return str.__str__(subject)
    raise InvalidSubjectError(
        f"a {what} must be a str, not {type(subject).__name__}; pass dot-separated tokens"
        " like 'orders.created'"
    )


def _check_size(subject: str, max_bytes: int, what: str) -> None:
    # ASCII text (nearly every subject) is one byte a character: no need to encode it.
    if subject.isascii() and len(subject) <= max_bytes:
        return
    try:
        size = len(subject.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidSubjectError(
            f"the {what} {subject[:80]!r} holds {subject[exc.start : exc.end]!r}, which is not"
            " valid UTF-8 (a lone surrogate); NATS subjects are UTF-8 text"
        ) from None
    if size > max_bytes:
        raise InvalidSubjectError(
            f"the {what} {subject[:40]!r}... is {size} bytes long, over the limit of"
            f" {max_bytes}; use a shorter subject or raise the bus option max_subject_bytes"
            " (a NATS server refuses protocol lines over its max_control_line)"
        )


def _tokens(subject: object, *, wildcards: bool, max_bytes: int) -> tuple[str, ...]:
    subject = as_subject(subject)
    _check_size(subject, max_bytes, "subject")
    if len(subject) <= _CACHED_LENGTH:
        return _cached_tokens(subject, wildcards)
    return _parse(subject, wildcards)


@lru_cache(maxsize=4096)
def _cached_tokens(subject: str, wildcards: bool) -> tuple[str, ...]:
    return _parse(subject, wildcards)


def _parse(subject: str, wildcards: bool) -> tuple[str, ...]:
    if not subject:
        raise InvalidSubjectError("the subject is empty; use dot-separated tokens like 'a.b'")
    if not _FORBIDDEN.isdisjoint(subject):
        bad = next(char for char in subject if char in _FORBIDDEN)
        raise InvalidSubjectError(
            f"subject {subject[:80]!r} holds {bad!r}; NATS forbids whitespace and control"
            " characters in subjects"
        )
    tokens = tuple(subject.split("."))
    for index, token in enumerate(tokens):
        if not token:
            raise InvalidSubjectError(
                f"subject {subject!r} has an empty token (a leading, trailing or double dot)"
            )
        if token in ("*", ">"):
            if not wildcards:
                raise InvalidSubjectError(
                    f"subject {subject!r} holds the wildcard {token!r}; publish to a concrete"
                    " subject (wildcards are for subscriptions)"
                )
            if token == ">" and index != len(tokens) - 1:
                raise InvalidSubjectError(
                    f"subject {subject!r} has '>' before its last token; '>' may only end it"
                )
        elif "*" in token or ">" in token:
            # NATS reads 'a*' as a literal token, but it is almost always a mistake.
            raise InvalidSubjectError(
                f"subject {subject!r} mixes a wildcard into the token {token!r};"
                " a wildcard must be a whole token"
            )
    return tokens


def validate_publish_subject(subject: str, *, max_bytes: int = MAX_SUBJECT_BYTES) -> str:
    """Return *subject* (as a plain str) if it is a valid concrete subject.

    Raises InvalidSubjectError (a ValueError) otherwise, including for a non-str, text that
    is not valid UTF-8, or a subject over *max_bytes* UTF-8 bytes.
    """
    subject = as_subject(subject)
    _tokens(subject, wildcards=False, max_bytes=max_bytes)
    return subject


def validate_subscribe_subject(subject: str, *, max_bytes: int = MAX_SUBJECT_BYTES) -> str:
    """Return *subject* (as a plain str) if it is a valid subscription pattern.

    Raises InvalidSubjectError (a ValueError) otherwise; see :func:`validate_publish_subject`.
    """
    subject = as_subject(subject)
    _tokens(subject, wildcards=True, max_bytes=max_bytes)
    return subject


def validate_queue_group(queue: object, *, max_bytes: int = MAX_SUBJECT_BYTES) -> str:
    """Return the queue group name *queue* if NATS can carry it, else InvalidSubjectError.

    A queue group is one non-empty token of text without whitespace or control characters.
    """
    name = as_subject(queue, what="queue group name")
    _check_size(name, max_bytes, "queue group name")
    if not name or not _FORBIDDEN.isdisjoint(name):
        raise InvalidSubjectError(
            f"queue group {name[:80]!r} must be a non-empty name without whitespace or"
            " control characters"
        )
    return name


def subject_matches(pattern: str, subject: str) -> bool:
    """Whether the concrete *subject* matches the subscription *pattern*."""
    pattern_tokens = _tokens(pattern, wildcards=True, max_bytes=1 << 62)
    subject_tokens = _tokens(subject, wildcards=False, max_bytes=1 << 62)
    for index, token in enumerate(pattern_tokens):
        if token == ">":
            return len(subject_tokens) > index
        if index >= len(subject_tokens):
            return False
        if token != "*" and token != subject_tokens[index]:
            return False
    return len(pattern_tokens) == len(subject_tokens)
