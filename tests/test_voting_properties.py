"""Properties every voting method keeps, checked with hypothesis on random vote profiles."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import vote_options, vote_profiles

from agentkit import AgentVote, VoteCount
from agentkit._voting import majority, ranked_choice, supermajority, unanimous, weighted

Method = Callable[[list[AgentVote]], VoteCount]

METHODS: dict[str, Method] = {
    "majority": majority,
    "supermajority": supermajority,
    "supermajority_3_4": lambda votes: supermajority(votes, Fraction(3, 4)),
    "unanimous": unanimous,
    "weighted": weighted,
    "ranked_choice": ranked_choice,
}

method_names = st.sampled_from(sorted(METHODS))


def _rename(vote: AgentVote, names: dict[str, str]) -> AgentVote:
    ranking = None if vote.ranking is None else tuple(names[o] for o in vote.ranking)
    return AgentVote(vote.agent_id, names[vote.option], vote.confidence, ranking=ranking)


@given(votes=vote_profiles(), method=method_names, data=st.data())
def test_anonymity_shuffling_votes_changes_nothing(
    votes: list[AgentVote], method: str, data: st.DataObject
) -> None:
    """The count is the same whatever order the votes come in."""
    shuffled = data.draw(st.permutations(votes))
    assert METHODS[method](shuffled) == METHODS[method](votes)


@given(votes=vote_profiles(), method=method_names, data=st.data())
def test_neutrality_renaming_options_renames_the_winner(
    votes: list[AgentVote], method: str, data: st.DataObject
) -> None:
    """On profiles without elimination ties, renaming the options renames the winner."""
    options = sorted({option for vote in votes for option in vote.ballot})
    new_names = data.draw(
        st.lists(vote_options, min_size=len(options), max_size=len(options), unique=True)
    )
    names = dict(zip(options, new_names, strict=True))
    original = METHODS[method](votes)
    assume(not any(round_.tied for round_ in original.rounds[:-1]))
    renamed = METHODS[method]([_rename(vote, names) for vote in votes])
    assume(not any(round_.tied for round_ in renamed.rounds[:-1]))
    expected = None if original.winner is None else names[original.winner]
    assert renamed.winner == expected
    assert renamed.consensus_score == original.consensus_score
    assert renamed.tallies == {names[option]: value for option, value in original.tallies.items()}


@given(votes=vote_profiles(), method=method_names)
def test_unanimity_every_method_picks_the_unanimous_option(
    votes: list[AgentVote], method: str
) -> None:
    """When every vote names the same option, it wins with consensus score 1.0."""
    option = votes[0].option
    same = [AgentVote(vote.agent_id, option, vote.confidence, ranking=(option,)) for vote in votes]
    count = METHODS[method](same)
    assert count.winner == option
    assert count.consensus_score == 1.0


@given(votes=vote_profiles(min_voters=1))
def test_majority_criterion(votes: list[AgentVote]) -> None:
    """An option with more than half of the first preferences wins MAJORITY, equal-weight
    WEIGHTED and RANKED_CHOICE."""
    firsts = [vote.option for vote in votes]
    leader = max(set(firsts), key=firsts.count)
    assume(2 * firsts.count(leader) > len(firsts))
    assert majority(votes).winner == leader
    equal = [AgentVote(vote.agent_id, vote.option, 1.0, ranking=vote.ranking) for vote in votes]
    assert weighted(equal).winner == leader
    assert ranked_choice(votes).winner == leader


def _prefers(ballot: tuple[str, ...], first: str, second: str) -> bool:
    """Whether *ballot* ranks *first* above *second* (a ranked option beats an unranked one)."""
    if first not in ballot:
        return False
    return second not in ballot or ballot.index(first) < ballot.index(second)


@given(votes=vote_profiles(min_voters=2, max_voters=15))
def test_a_condorcet_loser_never_wins_ranked_choice(votes: list[AgentVote]) -> None:
    """An option beaten head-to-head by every other option never wins the instant runoff."""
    ballots = [vote.ballot for vote in votes]
    options = sorted({option for ballot in ballots for option in ballot})
    assume(len(options) >= 2)

    def beaten_by_all(loser: str) -> bool:
        return all(
            sum(_prefers(b, other, loser) for b in ballots)
            > sum(_prefers(b, loser, other) for b in ballots)
            for other in options
            if other != loser
        )

    losers = [option for option in options if beaten_by_all(option)]
    assume(losers)
    assert ranked_choice(votes).winner not in losers


@given(
    votes=vote_profiles(ranked=False),
    threshold=st.fractions(min_value=Fraction(1, 2), max_value=1).filter(
        lambda value: value > Fraction(1, 2)
    ),
)
def test_unanimous_implies_supermajority_implies_majority(
    votes: list[AgentVote], threshold: Fraction
) -> None:
    """A UNANIMOUS winner wins SUPERMAJORITY (any threshold), which wins MAJORITY."""
    strict = unanimous(votes).winner
    middle = supermajority(votes, threshold).winner
    loose = majority(votes).winner
    if strict is not None:
        assert middle == strict
    if middle is not None:
        assert loose == middle


@given(votes=vote_profiles(), method=method_names)
def test_consensus_score_is_a_share(votes: list[AgentVote], method: str) -> None:
    """consensus_score is always within [0, 1]."""
    assert 0.0 <= METHODS[method](votes).consensus_score <= 1.0


@given(votes=vote_profiles(), method=method_names)
def test_determinism(votes: list[AgentVote], method: str) -> None:
    """Counting the same votes twice gives the same count, rounds included."""
    assert METHODS[method](list(votes)) == METHODS[method](list(votes))


@given(votes=vote_profiles(), weights=st.lists(st.floats(0, 10), min_size=12, max_size=12))
def test_weighted_totals_do_not_depend_on_order(
    votes: list[AgentVote], weights: list[float]
) -> None:
    """Weight totals are identical (not just close) for the votes reversed."""
    agent_weights = {f"agent-{index:02d}": weight for index, weight in enumerate(weights)}
    assert weighted(votes, agent_weights) == weighted(votes[::-1], agent_weights)
