"""Properties every voting method keeps, checked with hypothesis on random vote profiles."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import vote_options, vote_profiles

from agentkit import AgentVote, VoteCount
from agentkit.voting._voting import majority, ranked_choice, supermajority, unanimous, weighted

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


#: Few options, some differing only in case or beyond ASCII, so ties and code-point order matter.
_IRV_OPTIONS = ("a", "b", "c", "B", "é")


@st.composite
def _irv_profiles(draw: st.DrawFn) -> tuple[list[AgentVote], list[str] | None]:
    """Votes over a few options, many ballots truncated (so they exhaust), and maybe an order."""
    options = draw(st.lists(st.sampled_from(_IRV_OPTIONS), min_size=1, max_size=5, unique=True))
    votes = []
    for index in range(draw(st.integers(1, 30))):
        ranking = draw(st.permutations(options))[: draw(st.integers(1, len(options)))]
        as_given = draw(st.booleans()) or len(ranking) > 1
        votes.append(
            AgentVote(
                f"agent-{index:02d}", ranking[0], ranking=tuple(ranking) if as_given else None
            )
        )
    order = draw(st.none() | st.lists(st.sampled_from([*options, "unknown"]), max_size=6))
    return votes, order


def _reference_irv(
    votes: list[AgentVote], order: list[str] | None
) -> tuple[str | None, float, list[tuple[object, ...]]]:
    """Instant runoff the plain way: every round re-scans every ballot from its start."""
    ballots = [vote.ranking or (vote.option,) for vote in votes]
    continuing = {option for ballot in ballots for option in ballot}
    rounds: list[tuple[object, ...]] = []
    while True:
        tallies = dict.fromkeys(sorted(continuing), 0)
        exhausted = 0
        for ballot in ballots:
            top = next((option for option in ballot if option in continuing), None)
            if top is None:
                exhausted += 1
            else:
                tallies[top] += 1
        active = len(ballots) - exhausted
        record = (list(tallies.items()), active, exhausted)
        winners = [option for option, count in tallies.items() if 2 * count > active]
        if winners:
            rounds.append((*record, winners[0], None, ()))
            return winners[0], tallies[winners[0]] / active, rounds
        fewest = min(tallies.values())
        tied = sorted(option for option, count in tallies.items() if count == fewest)
        shown = tuple(tied) if len(tied) > 1 else ()
        if active == 0 or (len(tallies) == 2 and len(tied) == 2):
            rounds.append((*record, None, None, shown))
            return None, (max(tallies.values()) / active if active else 0.0), rounds
        listed = [option for option in tied if order and option in order]
        eliminated = min(listed, key=order.index) if listed and order else max(tied)
        rounds.append((*record, None, eliminated, shown))
        continuing.remove(eliminated)


def _tied_count(record: tuple[object, ...]) -> int:
    """How many options the reference recorded as tied in a round."""
    tied = record[5]
    assert isinstance(tied, tuple)
    return len(tied)


@given(profile=_irv_profiles())
def test_ranked_choice_matches_a_plain_recount_every_round(
    profile: tuple[list[AgentVote], list[str] | None],
) -> None:
    """The incremental instant runoff gives the plain re-scanning one's winner, rounds, score."""
    votes, order = profile
    count = ranked_choice(votes, order)
    winner, score, rounds = _reference_irv(votes, order)
    assert count.winner == winner
    assert count.consensus_score == score
    assert [
        (
            list(count.round_tallies(round_.number).items()),
            round_.continuing_ballots,
            round_.exhausted_ballots,
            round_.winner,
            round_.eliminated,
            round_.tied,
        )
        for round_ in count.rounds
    ] == [(*record[:5], _tied_count(record)) for record in rounds]
    # Each round records exactly the counts that changed since the round before.
    for previous, round_ in zip(count.rounds, count.rounds[1:], strict=False):
        before = count.round_tallies(previous.number)
        after = count.round_tallies(round_.number)
        assert round_.tallies == {o: n for o, n in after.items() if before[o] != n}
        assert round_.continuing_options == len(after)
    assert [round_.number for round_ in count.rounds] == list(range(1, len(rounds) + 1))
    final_tallies = rounds[-1][0]
    assert isinstance(final_tallies, list)
    assert list(count.tallies.items()) == [(option, float(n)) for option, n in final_tallies]


@st.composite
def _wide_irv_profiles(draw: st.DrawFn) -> tuple[list[AgentVote], list[str] | None]:
    """Up to 12 options over a few ballots: many options nobody ranks first, many ties."""
    options = [f"o{index:02d}" for index in range(draw(st.integers(2, 12)))]
    votes = []
    for index in range(draw(st.integers(1, 8))):
        ranking = draw(st.permutations(options))[: draw(st.integers(1, len(options)))]
        votes.append(AgentVote(f"agent-{index:02d}", ranking[0], ranking=tuple(ranking)))
    order = draw(st.none() | st.lists(st.sampled_from(options), max_size=4))
    return votes, order


@given(profile=_wide_irv_profiles())
def test_ranked_choice_matches_a_plain_recount_with_many_empty_options(
    profile: tuple[list[AgentVote], list[str] | None],
) -> None:
    """With more options than ballots, the heaps eliminate exactly as the plain recount does."""
    votes, order = profile
    count = ranked_choice(votes, order)
    winner, score, rounds = _reference_irv(votes, order)
    assert (count.winner, count.consensus_score) == (winner, score)
    assert [round_.eliminated for round_ in count.rounds] == [r[4] for r in rounds]
    assert [round_.tied for round_ in count.rounds] == [_tied_count(r) for r in rounds]
    assert [list(count.round_tallies(r.number).items()) for r in count.rounds] == [
        r[0] for r in rounds
    ]
