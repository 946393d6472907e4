"""The voting methods on worked examples checked by hand, and every bad input."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from agentkit import (
    AgentVote,
    ConfigurationError,
    ConflictResolver,
    ConflictType,
    DuplicateVoteError,
    InvalidVoteError,
    IRVRound,
    NoVotesError,
    ResolutionStatus,
    VoteType,
    VotingError,
)
from agentkit.voting._voting import (
    as_threshold,
    majority,
    ranked_choice,
    supermajority,
    unanimous,
    validate_votes,
    weighted,
)


def votes_for(*options: str) -> list[AgentVote]:
    """One vote per option given, from agents a0, a1, ..."""
    return [AgentVote(f"a{index}", option) for index, option in enumerate(options)]


def ballots(*spec: tuple[int, list[str]]) -> list[AgentVote]:
    """Ranked votes: ``(count, ranking)`` pairs, agents numbered in order."""
    votes: list[AgentVote] = []
    for count, ranking in spec:
        for _ in range(count):
            votes.append(AgentVote(f"v{len(votes):02d}", ranking[0], ranking=tuple(ranking)))
    return votes


# -- majority, supermajority, unanimous -------------------------------------------------------


def test_majority_picks_the_option_with_more_than_half() -> None:
    """Two of three votes is a majority; the score is the winner's share of the votes."""
    count = majority(votes_for("approve", "reject", "approve"))
    assert count.winner == "approve"
    assert count.tallies == {"approve": 2, "reject": 1}
    assert count.consensus_score == pytest.approx(2 / 3)


def test_majority_needs_strictly_more_than_half() -> None:
    """Two of four votes is not a majority; the score is the top option's share."""
    count = majority(votes_for("a", "b", "a", "b"))
    assert count.winner is None
    assert count.consensus_score == 0.5
    assert "more than half" in count.reason


def test_majority_tallies_are_in_code_point_order() -> None:
    """Tallies list options by code point (uppercase before lowercase, "B" before "a")."""
    count = majority(votes_for("a", "B", "a", "é"))
    assert list(count.tallies) == ["B", "a", "é"]


def test_supermajority_uses_ceil_of_threshold_times_votes() -> None:
    """At 2/3 of six votes, four suffice (exactly two thirds counts); at 3/4 five are needed."""
    votes = votes_for("a", "a", "a", "a", "b", "b")
    assert supermajority(votes).winner == "a"
    assert supermajority(votes, Fraction(3, 4)).winner is None
    assert supermajority(votes, Fraction(3, 4)).consensus_score == pytest.approx(4 / 6)
    assert supermajority(votes_for("a", "a", "a", "a", "b"), Fraction(3, 4)).winner == "a"


def test_supermajority_threshold_one_is_unanimity() -> None:
    """Threshold 1 needs every vote."""
    assert supermajority(votes_for("a", "a", "a"), 1).winner == "a"
    assert supermajority(votes_for("a", "a", "b"), 1).winner is None


def test_threshold_strings_and_decimal_floats_are_exact() -> None:
    """ "2/3" is exactly 2/3 and 0.75 is read as 3/4."""
    assert as_threshold("2/3") == Fraction(2, 3)
    assert as_threshold(0.75) == Fraction(3, 4)


def test_unanimous_needs_every_vote() -> None:
    """Unanimity gives score 1.0; one dissent means no winner."""
    assert unanimous(votes_for("x", "x")).consensus_score == 1.0
    split = unanimous(votes_for("x", "x", "y"))
    assert split.winner is None
    assert split.consensus_score == pytest.approx(2 / 3)


# -- weighted ---------------------------------------------------------------------------------

GUIDE_VOTES = [
    AgentVote(agent_id="expert-001", option="approve", confidence=0.95, reasoning="safe"),
    AgentVote(agent_id="novice-001", option="reject", confidence=0.6),
    AgentVote(agent_id="novice-002", option="reject", confidence=0.5),
]


def test_weighted_guide_example_reject_wins_by_confidence() -> None:
    """In the guide's example "reject" wins 1.1 to 0.95 when every agent weighs 1."""
    count = weighted(GUIDE_VOTES)
    assert count.winner == "reject"
    assert count.tallies == {"approve": 0.95, "reject": 1.1}
    assert count.consensus_score == pytest.approx(1.1 / 2.05)


def test_weighted_expert_agent_weight_turns_the_guide_example() -> None:
    """With the expert's agent weight at 2, "approve" wins 1.9 to 1.1."""
    count = weighted(GUIDE_VOTES, {"expert-001": 2.0})
    assert count.winner == "approve"
    assert count.tallies["approve"] == pytest.approx(1.9)


def test_weighted_vote_weight_wins_over_agent_weights() -> None:
    """A vote's own weight overrides the per-agent weight."""
    votes = [AgentVote("e", "approve", 0.95, weight=1.0), *GUIDE_VOTES[1:]]
    assert weighted(votes, {"e": 5.0}).winner == "reject"


def test_weighted_tie_has_no_winner() -> None:
    """Equal totals: no option is strictly highest."""
    count = weighted([AgentVote("a", "x", 0.5), AgentVote("b", "y", 0.5)])
    assert count.winner is None
    assert count.consensus_score == 0.5


def test_weighted_totals_use_fsum() -> None:
    """Totals are correctly rounded sums: ten votes of 0.1 weigh exactly fsum's 1.0."""
    votes = [AgentVote(f"a{i}", "x", 0.1) for i in range(10)] + [AgentVote("b", "y", 0.99)]
    count = weighted(votes)
    assert count.tallies["x"] == math.fsum([0.1] * 10) == 1.0
    assert count.winner == "x"


def test_weighted_all_zero_confidence_unanimous_still_wins() -> None:
    """With nothing weighed, a lone option still wins with share 1.0."""
    count = weighted([AgentVote("a", "x", 0.0), AgentVote("b", "x", 0.0)])
    assert (count.winner, count.consensus_score) == ("x", 1.0)


# -- ranked choice (instant runoff), worked by hand ----------------------------------------------


def test_irv_exhausted_ballots_drop_out_of_the_count() -> None:
    """4 [A], 3 [B, C], 2 [C]: C goes, its two ballots are exhausted, A wins 4 of 7."""
    count = ranked_choice(ballots((4, ["A"]), (3, ["B", "C"]), (2, ["C"])))
    assert count.rounds == (
        IRVRound(
            number=1,
            tallies={"A": 4, "B": 3, "C": 2},
            continuing_ballots=9,
            exhausted_ballots=0,
            continuing_options=3,
            eliminated="C",
        ),
        # Only changed counts are recorded; C's ballots were exhausted, so none changed.
        IRVRound(
            number=2,
            tallies={},
            continuing_ballots=7,
            exhausted_ballots=2,
            continuing_options=2,
            winner="A",
        ),
    )
    assert count.round_tallies(2) == {"A": 4, "B": 3}
    assert count.winner == "A"
    assert count.consensus_score == pytest.approx(4 / 7)
    assert count.tallies == {"A": 4, "B": 3}


def test_irv_elimination_tie_removes_the_option_sorting_last() -> None:
    """3 [A], 2 [B, A], 2 [C, B]: B and C tie for fewest, C (sorts last) goes; B wins 4 of 7."""
    count = ranked_choice(ballots((3, ["A"]), (2, ["B", "A"]), (2, ["C", "B"])))
    first, second = count.rounds
    assert first.tied == 2
    assert first.eliminated == "C"
    assert second.tallies == {"B": 4}
    assert count.round_tallies(2) == {"A": 3, "B": 4}
    assert count.winner == "B"
    assert count.consensus_score == pytest.approx(4 / 7)


def test_irv_elimination_order_overrides_the_tie_rule() -> None:
    """The same ballots with elimination_order=["B"]: B goes first, A wins 5 of 7."""
    votes = ballots((3, ["A"]), (2, ["B", "A"]), (2, ["C", "B"]))
    count = ranked_choice(votes, elimination_order=["B"])
    assert count.rounds[0].eliminated == "B"
    assert count.rounds[1].tallies == {"A": 5}
    assert count.round_tallies(2) == {"A": 5, "C": 2}
    assert count.winner == "A"
    # Unlisted options in a tie fall back to the default rule.
    assert ranked_choice(votes, elimination_order=["Z"]).rounds[0].eliminated == "C"


def test_irv_eliminates_one_option_per_round_even_at_zero() -> None:
    """2 [A, D], 2 [B], 1 [C, A]: D (no first preferences) goes, then C; A wins 3 of 5."""
    count = ranked_choice(ballots((2, ["A", "D"]), (2, ["B"]), (1, ["C", "A"])))
    assert [r.eliminated for r in count.rounds] == ["D", "C", None]
    assert count.rounds[0].tallies == {"A": 2, "B": 2, "C": 1, "D": 0}
    assert count.winner == "A"
    assert count.consensus_score == pytest.approx(3 / 5)


def test_irv_final_round_tie_means_no_winner() -> None:
    """2 [A], 2 [B], 1 [C]: C goes and is exhausted; A and B tie 2-2 in the final round."""
    count = ranked_choice(ballots((2, ["A"]), (2, ["B"]), (1, ["C"])))
    last = count.rounds[-1]
    assert count.round_tallies(last.number) == {"A": 2, "B": 2}
    assert (last.continuing_ballots, last.exhausted_ballots) == (4, 1)
    assert last.tied == 2
    assert count.winner is None
    assert count.consensus_score == 0.5
    assert "tie in the final round" in count.reason


def test_irv_first_round_majority_ends_at_once() -> None:
    """An option with more than half of the first preferences wins in round one."""
    count = ranked_choice(ballots((3, ["A", "B"]), (2, ["B", "A"])))
    assert len(count.rounds) == 1
    assert count.winner == "A"


def test_irv_plain_votes_are_one_option_ballots() -> None:
    """A vote without a ranking is the ballot [option]."""
    assert ranked_choice(votes_for("x", "y", "x")).winner == "x"


# -- bad input ---------------------------------------------------------------------------------


def test_no_votes_is_an_error() -> None:
    """An empty vote list raises NoVotesError (a VotingError and a ValueError)."""
    with pytest.raises(NoVotesError, match="no votes"):
        majority([])
    assert issubclass(NoVotesError, VotingError)
    assert issubclass(NoVotesError, ValueError)


def test_duplicate_agent_votes_are_an_error() -> None:
    """One agent voting twice raises DuplicateVoteError naming the agent."""
    with pytest.raises(DuplicateVoteError, match="'a'"):
        majority([AgentVote("a", "x"), AgentVote("a", "y")])


@pytest.mark.parametrize("confidence", [-0.01, 1.01, float("nan"), float("inf"), True, "0.5"])
def test_confidence_outside_zero_one_is_an_error(confidence: object) -> None:
    """Confidence must be a number in [0, 1]."""
    with pytest.raises(InvalidVoteError, match=r"\[0, 1\]"):
        weighted([AgentVote("a", "x", confidence)])  # type: ignore[arg-type]


def test_confidence_bounds_are_allowed() -> None:
    """0 and 1 themselves are valid confidences."""
    assert len(validate_votes([AgentVote("a", "x", 0.0), AgentVote("b", "x", 1)])) == 2


def test_ranking_not_led_by_the_option_is_an_error() -> None:
    """A ranking must start with the vote's option."""
    with pytest.raises(InvalidVoteError, match="must start with"):
        ranked_choice([AgentVote("a", "x", ranking=("y", "x"))])


@pytest.mark.parametrize(
    ("ranking", "message"),
    [
        ((), "empty ranking"),
        (("x", "y", "x"), "repeats"),
        ("xy", "list of options"),
        (("x", ["y"]), "not an option"),
    ],
)
def test_malformed_rankings_are_errors(ranking: object, message: str) -> None:
    """Empty rankings, repeated options, strings and unhashable entries are refused."""
    with pytest.raises(InvalidVoteError, match=message):
        ranked_choice([AgentVote("a", "x", ranking=ranking)])  # type: ignore[arg-type]


@pytest.mark.parametrize("weight", [-1.0, float("inf"), float("nan")])
def test_bad_vote_weight_is_an_error(weight: float) -> None:
    """A vote weight must be finite and >= 0."""
    with pytest.raises(InvalidVoteError, match="weight"):
        weighted([AgentVote("a", "x", weight=weight)])


def test_bad_agent_weight_is_an_error() -> None:
    """A negative per-agent weight is refused when counting and by the resolver."""
    with pytest.raises(InvalidVoteError, match="agent_weights"):
        weighted([AgentVote("a", "x")], {"a": -2})
    with pytest.raises(ConfigurationError, match="agent_weights"):
        ConflictResolver(agent_weights={"a": -2})


@pytest.mark.parametrize(
    "vote",
    [AgentVote("", "x"), AgentVote("a", ""), "not a vote", AgentVote("a", None)],  # type: ignore[arg-type]
)
def test_malformed_votes_are_errors(vote: object) -> None:
    """Empty ids and options, and things that are not votes, are refused."""
    with pytest.raises(InvalidVoteError):
        majority([vote])  # type: ignore[list-item]


@pytest.mark.parametrize("threshold", [Fraction(1, 2), 0, Fraction(101, 100), 2, -1, "x", None])
def test_threshold_outside_half_to_one_is_an_error(threshold: object) -> None:
    """A supermajority threshold must be in (1/2, 1]."""
    with pytest.raises(ConfigurationError, match="threshold"):
        supermajority(votes_for("a"), threshold)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="threshold"):
        ConflictResolver(supermajority_threshold=threshold)  # type: ignore[arg-type]


async def test_unknown_vote_type_is_an_error() -> None:
    """A vote type that is neither built in nor a plugin's raises, listing the known ones."""
    resolver = ConflictResolver()
    with pytest.raises(ConfigurationError, match=r"unknown vote type 'borda'.*majority"):
        await resolver.resolve_conflict("c", ConflictType.DECISION, votes_for("a"), "borda")
    with pytest.raises(ConfigurationError, match="unknown vote type"):
        ConflictResolver(default_vote_type="borda")


async def test_resolver_bad_input_raises_before_counting() -> None:
    """The resolver raises the same errors for bad votes, conflict types and quorums."""
    resolver = ConflictResolver()
    with pytest.raises(NoVotesError):
        await resolver.resolve_conflict("c", ConflictType.DECISION, [])
    with pytest.raises(DuplicateVoteError):
        await resolver.resolve_conflict("c", "decision", [AgentVote("a", "x")] * 2)
    with pytest.raises(ConfigurationError, match="conflict type"):
        await resolver.resolve_conflict("c", "mood", votes_for("x"))
    with pytest.raises(ConfigurationError, match="required_votes"):
        await resolver.resolve_conflict("c", "decision", votes_for("x"), required_votes=0)
    with pytest.raises(ConfigurationError, match="elimination_order"):
        ConflictResolver(elimination_order="AB")


async def test_vote_type_names_are_accepted() -> None:
    """A VoteType, its value or its name (any case) select the same method."""
    resolver = ConflictResolver()
    for name in (VoteType.WEIGHTED, "weighted", "WEIGHTED", "Weighted"):
        resolution = await resolver.resolve_conflict("c", "decision", GUIDE_VOTES, name)
        assert resolution.vote_type == "weighted"
        assert resolution.winning_option == "reject"
        assert resolution.status is ResolutionStatus.RESOLVED
