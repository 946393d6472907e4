"""Votes are checked once where they enter; counting them without a second look changes nothing."""

from __future__ import annotations

import copy
import pickle

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit import (
    AgentVote,
    ConflictResolver,
    ConflictType,
    InvalidVoteError,
    VoteType,
    VotingError,
)
from agentkit.voting._voting import (
    DEFAULT_LIMITS,
    VoteLimits,
    majority,
    ranked_choice,
    supermajority,
    unanimous,
    validate_votes,
    weighted,
)

METHODS = [majority, supermajority, unanimous, weighted, ranked_choice]
#: Limits a hair tighter than the defaults: every vote is then looked at again, one by one.
STRICT = VoteLimits(
    max_ranking_length=DEFAULT_LIMITS.max_ranking_length - 1,
    max_weight=DEFAULT_LIMITS.max_weight / 2,
)

options = st.sampled_from(["a", "b", "c", ""])
#: Numbers that decode into a float field (msgspec refuses a bool there before any check).
wire_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 2))
numbers = st.one_of(wire_numbers, st.booleans())


@st.composite
def any_vote(
    draw: st.DrawFn, index: int, numbers: st.SearchStrategy[object] = numbers
) -> AgentVote:
    """A vote that may be malformed in any field."""
    option = draw(options)
    ranking = draw(
        st.none()
        | st.lists(options, max_size=4).map(lambda rest: (option, *rest))
        | st.lists(options, max_size=3).map(tuple)
    )
    weight = draw(st.none() | numbers)
    return AgentVote(f"agent-{index}", option, draw(numbers), ranking=ranking, weight=weight)  # type: ignore[arg-type]


@st.composite
def vote_lists(draw: st.DrawFn, numbers: st.SearchStrategy[object] = numbers) -> list[AgentVote]:
    """One to six votes from distinct agents, some of them malformed."""
    size = draw(st.integers(1, 6))
    return [draw(any_vote(index, numbers)) for index in range(size)]


def _outcome(method: object, votes: list[AgentVote], **kwargs: object) -> object:
    try:
        return msgspec.msgpack.encode(method(votes, **kwargs))  # type: ignore[operator]
    except VotingError as exc:
        return ("error", type(exc))


@given(votes=vote_lists())
def test_trusted_and_rechecked_counts_agree(votes: list[AgentVote]) -> None:
    """Counting votes checked where they entered gives what checking each again gives."""
    for method in METHODS:
        assert _outcome(method, votes) == _outcome(method, votes, limits=STRICT)


@given(votes=vote_lists(wire_numbers))
def test_decoded_votes_count_like_built_ones(votes: list[AgentVote]) -> None:
    """A vote decoded from the wire is judged exactly like the vote that was sent."""
    decoded = msgspec.msgpack.decode(msgspec.msgpack.encode(votes), type=list[AgentVote])
    for method in METHODS:
        assert _outcome(method, decoded) == _outcome(method, votes)


def test_a_bad_vote_is_built_and_refused_when_counted() -> None:
    """Building a bad vote does not raise; pickling, copying or replacing keeps it refused."""
    bad = AgentVote("a", "x", 1.5)
    for same in (pickle.loads(pickle.dumps(bad)), copy.copy(bad), copy.deepcopy(bad)):
        assert same == bad
        assert repr(same) == repr(bad)
        with pytest.raises(InvalidVoteError, match=r"\[0, 1\]"):
            majority([same])
    fixed = msgspec.structs.replace(AgentVote("a", "x"), confidence=0.5)
    assert majority([fixed]).winner == "x"
    broken = msgspec.structs.replace(AgentVote("a", "x"), confidence=2.0)
    with pytest.raises(InvalidVoteError):
        majority([broken])


def test_a_list_ranking_is_normalised_when_counted() -> None:
    """A ranking given as a list is accepted and recorded as a tuple."""
    (vote,) = validate_votes([AgentVote("a", "x", ranking=["x", "y"])])  # type: ignore[arg-type]
    assert vote.ranking == ("x", "y")


async def test_resolve_conflict_keeps_checked_votes_as_given() -> None:
    """resolve_conflict records the very votes it was given, participants sorted."""
    votes = [AgentVote(f"a{i}", "x" if i % 3 else "y", weight=float(i)) for i in range(9, 0, -1)]
    resolution = await ConflictResolver().resolve_conflict(
        "c", ConflictType.DECISION, votes, VoteType.WEIGHTED
    )
    assert resolution.votes == tuple(votes)
    assert resolution.participants == tuple(sorted(vote.agent_id for vote in votes))
    assert resolution.tallies == {"x": 27.0, "y": 18.0}


@st.composite
def ranked_votes(draw: st.DrawFn) -> list[AgentVote]:
    """Up to 12 valid ranked or plain votes over four options."""
    names = ["a", "b", "c", "d"]
    votes = []
    for index in range(draw(st.integers(1, 12))):
        ranking = draw(st.permutations(names))[: draw(st.integers(1, 4))]
        ranked = draw(st.booleans())
        votes.append(AgentVote(f"v{index}", ranking[0], ranking=tuple(ranking) if ranked else None))
    return votes


@given(votes=ranked_votes())
async def test_resolve_conflict_counts_ranked_choice_like_the_method(
    votes: list[AgentVote],
) -> None:
    """Through the resolver (rankings collected once) the IRV count is the method's own."""
    resolution = await ConflictResolver().resolve_conflict(
        "c", ConflictType.DECISION, votes, VoteType.RANKED_CHOICE
    )
    count = ranked_choice(votes)
    assert resolution.rounds == count.rounds
    assert resolution.tallies == count.tallies
    assert resolution.winning_option == count.winner
