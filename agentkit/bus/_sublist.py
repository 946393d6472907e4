"""A subscription index: which subscriptions match a subject, in time that grows with it.

A token trie in the manner of nats-server's ``sublist``: each node holds the entries whose
pattern ends there, a child per literal token, one ``*`` child and one ``>`` child. Matching
a concrete subject walks its tokens once, following at each level the literal child, the
``*`` child and the ``>`` child; every node is visited at most once, so the cost grows with
the subject's length and the number of matching entries, not with the number indexed (a
linear scan with :func:`~agentkit.bus._subjects.subject_matches` costs about 1 µs per
subscription per publish).

The index holds opaque entries (the in-memory bus puts a subscription, or one queue group
standing for all its members); it returns the matching entries in the order they were
inserted, so routing stays deterministic.
"""

from __future__ import annotations

import itertools
from typing import Generic, TypeVar

from agentkit.bus._subjects import validate_publish_subject, validate_subscribe_subject
from agentkit.exceptions import ConfigurationError

__all__ = ["Sublist", "is_literal"]

T = TypeVar("T")

# Subjects and patterns here are already within the bus's max_subject_bytes; the index does
# not repeat that limit, only the syntax.
_NO_SIZE_LIMIT = 1 << 62


def is_literal(pattern: str) -> bool:
    """Whether the valid *pattern* holds no wildcard (it then matches only itself)."""
    return "*" not in pattern and ">" not in pattern


class _Node(Generic[T]):
    """One level of the trie: entries ending here and the children for the next token."""

    __slots__ = ("entries", "literal", "star", "tail")

    def __init__(self) -> None:
        # Entry -> insertion number (a dict keeps membership tests and removal O(1)).
        self.entries: dict[T, int] = {}
        self.literal: dict[str, _Node[T]] = {}
        self.star: _Node[T] | None = None
        self.tail: _Node[T] | None = None

    def is_empty(self) -> bool:
        return not (self.entries or self.literal or self.star or self.tail)


class Sublist(Generic[T]):
    """Entries indexed by NATS subject pattern (``*`` one token, ``>`` one or more).

    Each entry (hashable, compared by ``==``) sits under one pattern at a time. ``insert``
    and ``remove`` cost the pattern's length; ``match`` the subject's length plus the
    entries it returns. Bad patterns and subjects raise ``InvalidSubjectError``.
    """

    __slots__ = ("_order", "_patterns", "_root")

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self._patterns: dict[T, tuple[str, ...]] = {}
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._patterns)

    def __contains__(self, entry: object) -> bool:
        return entry in self._patterns

    def insert(self, pattern: str, entry: T, /) -> None:
        """Index *entry* under the subscription *pattern*.

        Raises ``InvalidSubjectError`` for a bad pattern and ``ConfigurationError`` when
        *entry* is already indexed (remove it first to move it).
        """
        pattern = validate_subscribe_subject(pattern, max_bytes=_NO_SIZE_LIMIT)
        if entry in self._patterns:
            raise ConfigurationError(
                f"{entry!r} is already indexed under {'.'.join(self._patterns[entry])!r}"
            )
        tokens = tuple(pattern.split("."))
        node = self._root
        for token in tokens:
            if token == "*":
                if node.star is None:
                    node.star = _Node()
                node = node.star
            elif token == ">":
                if node.tail is None:
                    node.tail = _Node()
                node = node.tail
            else:
                child = node.literal.get(token)
                if child is None:
                    child = node.literal[token] = _Node()
                node = child
        node.entries[entry] = next(self._order)
        self._patterns[entry] = tokens

    def remove(self, entry: T, /) -> str | None:
        """Forget *entry*; return the pattern it was under, or None if it was not indexed.

        Nodes left empty are dropped, so per-entity patterns do not leave the trie growing.
        """
        tokens = self._patterns.pop(entry, None)
        if tokens is None:
            return None
        path: list[tuple[_Node[T], str]] = []
        node = self._root
        for token in tokens:
            path.append((node, token))
            if token == "*":
                child = node.star
            elif token == ">":
                child = node.tail
            else:
                child = node.literal.get(token)
            assert child is not None, "the trie lost a node of an indexed pattern"
            node = child
        del node.entries[entry]
        # Prune from the leaf up while nodes are empty.
        for parent, token in reversed(path):
            if not node.is_empty():
                break
            if token == "*":
                parent.star = None
            elif token == ">":
                parent.tail = None
            else:
                del parent.literal[token]
            node = parent
        return ".".join(tokens)

    def match(self, subject: str, /) -> list[T]:
        """The entries whose pattern matches the concrete *subject*, oldest insertion first.

        Raises ``InvalidSubjectError`` when *subject* is not a valid concrete subject.
        """
        subject = validate_publish_subject(subject, max_bytes=_NO_SIZE_LIMIT)
        return self.match_tokens(subject.split("."))

    def match_tokens(self, tokens: list[str], /) -> list[T]:
        """:meth:`match` for a subject already validated and split into *tokens*."""
        # The entry dicts of the matching nodes; each is already in insertion order.
        hits: list[dict[T, int]] = []
        count = len(tokens)
        # Explicit stack, not recursion: a subject may hold over a thousand tokens.
        stack: list[tuple[_Node[T], int]] = [(self._root, 0)]
        while stack:
            node, index = stack.pop()
            while index < count:
                if node.tail is not None:
                    # '>' stands for the one or more tokens still left (a '>' node is
                    # pruned once empty, so it always holds entries).
                    hits.append(node.tail.entries)
                if node.star is not None:
                    stack.append((node.star, index + 1))
                child = node.literal.get(tokens[index])
                if child is None:
                    break
                node = child
                index += 1
            else:
                if node.entries:
                    hits.append(node.entries)
        if not hits:
            return []
        if len(hits) == 1:
            return list(hits[0])
        found = [(order, entry) for entries in hits for entry, order in entries.items()]
        found.sort(key=_first)
        return [entry for _, entry in found]


def _first(item: tuple[int, object]) -> int:
    return item[0]
