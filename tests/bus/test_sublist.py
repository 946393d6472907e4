"""The subscription index routes exactly like the reference matcher, through every change."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import concrete_subjects, subject_like_text, subject_patterns

from agentkit import InMemoryPubSub, InvalidSubjectError, PubSubMessage, subject_matches
from agentkit.bus._sublist import Sublist, is_literal
from agentkit.exceptions import AgentkitError, ConfigurationError

#: Few tokens, so that patterns overlap and many match: ordering and pruning get exercised.
_DENSE_SUBJECTS = st.lists(st.sampled_from("abc"), min_size=1, max_size=4).map(".".join)
_DENSE_PATTERNS = st.builds(
    lambda parts, tail: ".".join(parts + tail),
    st.lists(st.sampled_from(["a", "b", "*"]), max_size=4),
    st.sampled_from([[], [">"]]),
).filter(bool)

#: One step of a change sequence: ("add", pattern, queue) or ("remove", index, None).
_STEPS = st.one_of(
    st.tuples(
        st.just("add"),
        subject_patterns() | concrete_subjects | _DENSE_PATTERNS,
        st.none() | st.sampled_from(["q1", "q2"]),
    ),
    st.tuples(st.just("remove"), st.integers(min_value=0, max_value=30), st.none()),
)


def reference(entries: list[tuple[str, object]], subject: str) -> list[object]:
    """The linear scan the index replaces: every entry whose pattern matches, in order."""
    return [entry for pattern, entry in entries if subject_matches(pattern, subject)]


@settings(max_examples=200)
@given(
    steps=st.lists(_STEPS, max_size=30),
    subjects=st.lists(concrete_subjects | _DENSE_SUBJECTS, min_size=1, max_size=8),
)
def test_index_matches_like_the_reference_through_inserts_and_removals(
    steps: list[tuple[str, Any, str | None]], subjects: list[str]
) -> None:
    """After any sequence of inserts and removals, match returns exactly the entries whose
    pattern subject_matches accepts, oldest first."""
    index: Sublist[int] = Sublist()
    live: list[tuple[str, int]] = []
    for number, (kind, argument, _) in enumerate(steps):
        if kind == "add":
            index.insert(argument, number)
            live.append((argument, number))
        elif live:
            pattern, entry = live.pop(argument % len(live))
            assert index.remove(entry) == pattern
            assert index.remove(entry) is None
        for subject in subjects:
            assert index.match(subject) == reference(live, subject)  # type: ignore[arg-type]
    assert len(index) == len(live)
    for _, entry in live:
        index.remove(entry)
    # Empty nodes are pruned: nothing is left behind once every entry is gone.
    assert index._root.is_empty()


@settings(max_examples=60)
@given(
    steps=st.lists(_STEPS, max_size=25),
    subjects=st.lists(concrete_subjects | _DENSE_SUBJECTS, max_size=6),
)
def test_bus_routes_like_the_reference_through_subscribe_and_unsubscribe(
    steps: list[tuple[str, Any, str | None]], subjects: list[str]
) -> None:
    """Through any sequence of subscribe/unsubscribe (queue groups included), the in-memory
    bus routes each subject to the same plain subscriptions, in subscription order, and to one
    group per matching (pattern, queue) holding exactly its live members."""

    async def scenario() -> None:
        async with InMemoryPubSub() as bus:
            live: list[Any] = []

            def handler(message: PubSubMessage) -> None:
                """Receive nothing of interest."""

            for kind, argument, queue in steps:
                if kind == "add":
                    live.append(await bus.subscribe(argument, handler, queue=queue))
                elif live:
                    await live.pop(argument % len(live)).unsubscribe()
                # Publishing in between fills the route cache, which every change must update.
                for subject in subjects:
                    plain, groups = bus._route(subject)
                    matching = [sub for sub in live if subject_matches(sub.subject, subject)]
                    assert list(plain) == [sub for sub in matching if sub.queue is None]
                    expected = Counter((sub.subject, sub.queue) for sub in matching if sub.queue)
                    assert len(groups) == len(expected)
                    for group in groups:
                        key = (group.members[0].subject, group.members[0].queue)
                        assert group.members == [
                            sub for sub in matching if (sub.subject, sub.queue) == key
                        ]
                        del expected[key]
                    assert not expected

    asyncio.run(scenario())


async def test_queue_group_gets_each_message_once_while_members_come_and_go() -> None:
    """Each message reaches every plain subscription and one member of each queue group,
    while members join and leave between publishes; a group that empties stops receiving."""
    received: Counter[str] = Counter()

    def handler_for(name: str) -> Any:
        def handle(message: PubSubMessage) -> None:
            received[name] += 1

        return handle

    async with InMemoryPubSub() as bus:
        await bus.subscribe("orders.*.created", handler_for("plain"))
        first = await bus.subscribe("orders.>", handler_for("w1"), queue="workers")
        await bus.publish("orders.1.created", {})
        second = await bus.subscribe("orders.>", handler_for("w2"), queue="workers")
        await bus.publish("orders.2.created", {})
        await first.unsubscribe()
        await bus.publish("orders.3.created", {})
        await second.unsubscribe()
        await bus.publish("orders.4.created", {})
        await bus.drain()
    assert received["plain"] == 4
    assert received["w1"] + received["w2"] == 3
    assert received["w2"] >= 1


async def test_literal_subscription_updates_only_its_own_cached_route() -> None:
    """Subscribing to a literal subject routes it at once without dropping other routes."""
    got: list[str] = []
    async with InMemoryPubSub() as bus:
        await bus.subscribe("a.*", lambda message: got.append("star"))
        await bus.publish("a.b", {})
        await bus.publish("a.c", {})
        other_route = bus._routes["a.c"]
        await bus.subscribe("a.b", lambda message: got.append("literal"))
        assert bus._routes.get("a.c") is other_route
        await bus.publish("a.b", {})
        await bus.drain()
    assert Counter(got) == Counter({"star": 3, "literal": 1})


async def test_route_cache_stays_bounded_on_fresh_subjects() -> None:
    """Publishing to more fresh subjects than the cache holds keeps it within its bound."""
    from agentkit.bus._memory import _MAX_CACHED_ROUTES

    seen = 0

    def count(message: PubSubMessage) -> None:
        nonlocal seen
        seen += 1

    async with InMemoryPubSub(history_size=0) as bus:
        await bus.subscribe("orders.*.created", count)
        for number in range(_MAX_CACHED_ROUTES + 50):
            await bus.publish(f"orders.{number}.created", None)
            assert len(bus._routes) <= _MAX_CACHED_ROUTES
        await bus.drain()
    assert seen == _MAX_CACHED_ROUTES + 50


def test_long_subjects_match_without_recursion_limits() -> None:
    """A pattern of 2,000 '*' tokens matches a 2,000-token subject (no recursion error)."""
    index: Sublist[str] = Sublist()
    index.insert(".".join(["*"] * 2000), "stars")
    index.insert(".".join(["*"] * 1999) + ".>", "tail")
    index.insert("a.>", "prefix")
    subject = ".".join(["a"] * 2000)
    assert index.match(subject) == ["stars", "tail", "prefix"]
    assert index.match(subject + ".b") == ["tail", "prefix"]
    assert index.match(".".join(["a"] * 1999)) == ["prefix"]


@given(text=subject_like_text)
def test_bad_patterns_and_subjects_raise_typed_errors(text: str) -> None:
    """Anything that is not a valid pattern (or concrete subject) raises InvalidSubjectError
    and leaves the index unchanged."""
    index: Sublist[str] = Sublist()
    index.insert("a.>", "kept")
    try:
        index.insert(text, "new")
    except InvalidSubjectError:
        assert "new" not in index
    else:
        assert "new" in index
    size = len(index)
    try:
        found = index.match(text)
    except InvalidSubjectError:
        assert len(index) == size
    else:
        assert ("kept" in found) is subject_matches("a.>", text)


@pytest.mark.parametrize("bad", [None, 3, b"a.b", ["a"]])
def test_non_string_subjects_raise_typed_errors(bad: object) -> None:
    """A non-str pattern or subject raises InvalidSubjectError, an AgentkitError."""
    index: Sublist[str] = Sublist()
    with pytest.raises(InvalidSubjectError):
        index.insert(bad, "x")  # type: ignore[arg-type]
    with pytest.raises(AgentkitError):
        index.match(bad)  # type: ignore[arg-type]
    assert len(index) == 0


def test_an_entry_sits_under_one_pattern_at_a_time() -> None:
    """Inserting an entry twice raises ConfigurationError; after removal it can move."""
    index: Sublist[str] = Sublist()
    index.insert("a.b", "entry")
    with pytest.raises(ConfigurationError):
        index.insert("c.*", "entry")
    assert index.match("c.d") == []
    assert index.remove("entry") == "a.b"
    index.insert("c.*", "entry")
    assert index.match("c.d") == ["entry"]
    assert index.match("a.b") == []


@pytest.mark.parametrize(
    ("pattern", "literal"), [("a.b", True), ("a.*", False), (">", False), ("x", True)]
)
def test_is_literal(pattern: str, literal: bool) -> None:
    """A pattern is literal exactly when it holds neither wildcard."""
    assert is_literal(pattern) is literal
