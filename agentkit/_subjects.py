"""NATS subject syntax: validation and wildcard matching, shared by every bus backend.

A subject is dot-separated tokens. In a subscription ``*`` stands for exactly one token and
``>`` (only as the last token) for one or more tokens. Tokens may not be empty or hold
whitespace; a published subject may hold no wildcard; ``*`` and ``>`` inside a longer token
(``a*``) are refused everywhere, though NATS would read them literally, because they are
almost always a mistake.
"""

from __future__ import annotations

from functools import lru_cache

from agentkit.exceptions import InvalidSubjectError

__all__ = ["subject_matches", "validate_publish_subject", "validate_subscribe_subject"]

_WHITESPACE = frozenset(" \t\r\n\f\v")


@lru_cache(maxsize=4096)
def _tokens(subject: str, *, wildcards: bool) -> tuple[str, ...]:
    if not isinstance(subject, str):
        raise InvalidSubjectError(f"a subject must be a str, not {type(subject).__name__}")
    if not subject:
        raise InvalidSubjectError("the subject is empty; use dot-separated tokens like 'a.b'")
    if not _WHITESPACE.isdisjoint(subject):
        raise InvalidSubjectError(f"subject {subject!r} holds whitespace, which NATS forbids")
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


def validate_publish_subject(subject: str) -> str:
    """Return *subject* if it is a valid concrete subject, else raise InvalidSubjectError."""
    _tokens(subject, wildcards=False)
    return subject


def validate_subscribe_subject(subject: str) -> str:
    """Return *subject* if it is a valid subscription pattern, else raise InvalidSubjectError."""
    _tokens(subject, wildcards=True)
    return subject


def subject_matches(pattern: str, subject: str) -> bool:
    """Whether the concrete *subject* matches the subscription *pattern*."""
    pattern_tokens = _tokens(pattern, wildcards=True)
    subject_tokens = _tokens(subject, wildcards=False)
    for index, token in enumerate(pattern_tokens):
        if token == ">":
            return len(subject_tokens) > index
        if index >= len(subject_tokens):
            return False
        if token != "*" and token != subject_tokens[index]:
            return False
    return len(pattern_tokens) == len(subject_tokens)
