"""Hypothesis strategies shared by the tests: subjects, patterns, payloads and messages."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from agentkit import AgentVote, MessagePriority, PubSubMessage

__all__ = [
    "agent_votes",
    "concrete_subjects",
    "extreme_numbers",
    "messages",
    "payloads",
    "subject_like_text",
    "subject_patterns",
    "tokens",
    "vote_options",
    "vote_profiles",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: Literal tokens: a few short ones so patterns and subjects often share tokens, and any
#: ASCII name (what works on a real nats-server too).
tokens: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(["a", "b", "c", "orders", "eu-1", "x_y"]),
    st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=6),
)

#: Publishable subjects: 1 to 5 literal tokens.
concrete_subjects: st.SearchStrategy[str] = st.lists(tokens, min_size=1, max_size=5).map(".".join)


@st.composite
def subject_patterns(draw: st.DrawFn) -> str:
    """Subscription patterns: literal tokens and ``*``, optionally ending in ``>``."""
    parts = draw(st.lists(st.one_of(tokens, st.just("*")), min_size=0, max_size=5))
    if not parts or draw(st.booleans()):
        parts.append(">")
    return ".".join(parts)


#: Strings built from the characters that matter to subject syntax, valid or not.
subject_like_text: st.SearchStrategy[str] = st.text(
    alphabet=st.sampled_from(["a", "b", "Z", "9", "-", "é", ".", "*", ">", " ", "\t", "\n"]),
    max_size=12,
)


def payloads(*, allow_nan: bool = True) -> st.SearchStrategy[Any]:
    """Nested payloads msgpack round-trips: dicts with str keys, lists, scalars and bytes."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=INT64_MIN, max_value=INT64_MAX),
        st.floats(allow_nan=allow_nan),
        st.text(max_size=20),
        st.binary(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=8), children, max_size=4),
        ),
        max_leaves=20,
    )


def messages(*, allow_nan: bool = True) -> st.SearchStrategy[PubSubMessage]:
    """Messages with every field drawn, all priorities, and nested payloads."""
    optional_text = st.none() | st.text(max_size=16)
    return st.builds(
        PubSubMessage,
        topic=concrete_subjects,
        from_agent=st.text(max_size=16),
        payload=payloads(allow_nan=allow_nan),
        priority=st.sampled_from(MessagePriority),
        message_id=st.text(min_size=1, max_size=24),
        timestamp=st.floats(allow_nan=allow_nan),
        headers=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
        correlation_id=optional_text,
        reply_to=st.none() | concrete_subjects,
        attempt=st.integers(min_value=1, max_value=100),
    )


# -- votes ---------------------------------------------------------------------------------

#: Option names: short, and drawn from characters whose code-point order differs from their
#: "natural" order (uppercase before lowercase, accented letters last).
vote_options: st.SearchStrategy[str] = st.text(alphabet="abBXé", min_size=1, max_size=3)


@st.composite
def agent_votes(
    draw: st.DrawFn, options: list[str], agent_id: str, *, ranked: bool = True
) -> AgentVote:
    """One valid vote over *options*: a ranking (a prefix of a permutation) and a confidence."""
    order = draw(st.permutations(options))
    length = draw(st.integers(min_value=1, max_value=len(order))) if ranked else 1
    ranking = tuple(order[:length])
    confidence = draw(st.floats(min_value=0.0, max_value=1.0))
    return AgentVote(agent_id, ranking[0], confidence, ranking=ranking if ranked else None)


@st.composite
def vote_profiles(
    draw: st.DrawFn,
    *,
    min_voters: int = 1,
    max_voters: int = 12,
    max_options: int = 4,
    ranked: bool = True,
) -> list[AgentVote]:
    """A list of valid votes, one per agent (ids agent-00, agent-01, ...), 1 to 4 options."""
    options = draw(st.lists(vote_options, min_size=1, max_size=max_options, unique=True))
    voters = draw(st.integers(min_value=min_voters, max_value=max_voters))
    return [
        draw(agent_votes(options, f"agent-{index:02d}", ranked=ranked)) for index in range(voters)
    ]


#: Anything a caller might pass for a number: every float (NaN, infinities, subnormals,
#: -0.0, the extremes), ints far beyond a float's range, and things that are not numbers.
extreme_numbers: st.SearchStrategy[object] = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    st.sampled_from(
        [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e308, 1.7976931348623157e308]
    ),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**1024, True, False]),
    st.none(),
    st.text(max_size=3),
)
