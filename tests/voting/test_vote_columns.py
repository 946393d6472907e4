"""resolve_conflict reads checked votes once, by column; that changes no count and no error."""

from __future__ import annotations

import pickle
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit import (
    AgentVote,
    ConflictResolver,
    ConflictType,
    InvalidVoteError,
    Resolution,
    VoteType,
)
from agentkit.voting._voting import (
    DEFAULT_LIMITS,
    VoteLimits,
    majority,
    ranked_choice,
    supermajority,
    unanimous,
    weighted,
)

#: Limits a hair tighter than the defaults: every vote is looked at again, one by one.
STRICT = VoteLimits(
    max_ranking_length=DEFAULT_LIMITS.max_ranking_length - 1,
    max_weight=DEFAULT_LIMITS.max_weight / 2,
)
METHODS: dict[str, Any] = {
    VoteType.MAJORITY.value: majority,
    VoteType.SUPERMAJORITY.value: supermajority,
    VoteType.UNANIMOUS.value: unanimous,
    VoteType.WEIGHTED.value: weighted,
    VoteType.RANKED_CHOICE.value: ranked_choice,
}
NAMES = [f"o{index}" for index in range(40)]


@st.composite
def valid_votes(draw: st.DrawFn) -> list[AgentVote]:
    """1-30 valid votes: plain, ranked (short or over 32 options), some with own weights."""
    votes = []
    few = draw(st.integers(2, 6))
    for index in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["plain", "short", "long"]))
        pool = NAMES if kind == "long" else NAMES[:few]
        ranking = draw(st.permutations(pool))[: draw(st.integers(1, len(pool)))]
        if kind == "long":
            ranking = ranking + [name for name in NAMES if name not in ranking][: 33 - len(ranking)]
        weight = draw(st.none() | st.none() | st.floats(0, 5))
        confidence = draw(st.sampled_from([0, 1, 0.25, 0.7, 1.0, 0.333]))
        votes.append(
            AgentVote(
                f"agent-{index:02d}",
                ranking[0],
                confidence,
                ranking=None if kind == "plain" else tuple(ranking),
                weight=weight,
            )
        )
    return votes


def _same_count(resolution: Resolution, votes: list[AgentVote], method: str) -> None:
    # The method counting every vote again under tighter limits: the slow, full path.
    count = METHODS[method](votes, limits=STRICT)
    assert resolution.tallies == count.tallies
    assert resolution.rounds == count.rounds
    assert resolution.consensus_score == count.consensus_score
    if count.winner is not None:
        assert resolution.winning_option == count.winner


@given(votes=valid_votes(), method=st.sampled_from(sorted(METHODS)))
async def test_resolver_counts_like_the_fully_checked_method(
    votes: list[AgentVote], method: str
) -> None:
    """Through resolve_conflict (columns read once) every method counts as a full re-check does."""
    resolution = await ConflictResolver().resolve_conflict(
        "c", ConflictType.DECISION, votes, method
    )
    _same_count(resolution, votes, method)
    assert resolution.votes == tuple(votes)
    assert resolution.participants == tuple(sorted(vote.agent_id for vote in votes))


@given(votes=valid_votes(), method=st.sampled_from(sorted(METHODS)))
async def test_decoded_votes_resolve_like_the_built_ones(
    votes: list[AgentVote], method: str
) -> None:
    """Votes decoded from the wire (checked and interned as they enter) resolve the same."""
    decoded = msgspec.msgpack.decode(msgspec.msgpack.encode(votes), type=list[AgentVote])
    resolver = ConflictResolver()
    sent = await resolver.resolve_conflict("c", ConflictType.DECISION, votes, method)
    received = await resolver.resolve_conflict("c", ConflictType.DECISION, decoded, method)
    for field in ("winning_option", "tallies", "rounds", "consensus_score", "participants"):
        assert getattr(received, field) == getattr(sent, field)


def test_equal_short_rankings_are_one_tuple_and_the_votes_stay_equal() -> None:
    """Checked rankings are interned where they enter; equality, hashing and pickling hold."""
    given_first, given_second = tuple("xyz"), tuple("xyz")
    assert given_first is not given_second
    first = AgentVote("a", "x", ranking=given_first)
    second = AgentVote("b", "x", ranking=given_second)
    assert first.ranking is second.ranking
    again = AgentVote("a", "x", ranking=("x", "y", "z"))
    assert again == first
    assert hash(again) == hash(first)
    assert pickle.loads(pickle.dumps(first)) == first


class _Subclassed(AgentVote, frozen=True):
    """A user's subclass: its votes are never taken as checked without a look."""


async def test_a_subclass_vote_is_checked_when_counted() -> None:
    """A vote of a subclass is checked when counted: a bad one is refused, a good one counted."""
    resolver = ConflictResolver()
    good = [_Subclassed("a", "x"), _Subclassed("b", "x"), AgentVote("c", "y")]
    for method in METHODS:
        resolution = await resolver.resolve_conflict("c", "decision", good, method)
        assert resolution.tallies["x"] == 2.0
    bad = [_Subclassed("a", "x", 1.5), AgentVote("b", "x")]
    for method in METHODS:
        with pytest.raises(InvalidVoteError, match=r"\[0, 1\]"):
            await resolver.resolve_conflict("c", "decision", bad, method)


class _LookAlike:
    """Not a vote, though it has every public field of one."""

    agent_id = "a"
    option = "x"
    confidence = 1.0
    reasoning = ""
    ranking = ("x",)
    weight = None


async def test_something_that_only_looks_like_a_vote_is_refused() -> None:
    """An object that is not an AgentVote is an InvalidVoteError for every method."""
    resolver = ConflictResolver()
    for method in METHODS:
        with pytest.raises(InvalidVoteError, match="expected an AgentVote"):
            await resolver.resolve_conflict("c", "decision", [_LookAlike()], method)  # type: ignore[list-item]


async def test_own_weights_among_many_votes_are_weighed() -> None:
    """WEIGHTED over more votes than are grouped inline still weighs each vote's own weight."""
    votes = [AgentVote(f"a{index:05d}", "x", 0.5) for index in range(6_000)]
    votes.append(AgentVote("heavy", "y", 1.0, weight=4_000.0))
    resolution = await ConflictResolver().resolve_conflict(
        "c", ConflictType.DECISION, votes, VoteType.WEIGHTED
    )
    assert resolution.tallies == {"x": 3_000.0, "y": 4_000.0}
    assert resolution.winning_option == "y"
