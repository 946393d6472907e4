"""Voting under hostile input: extreme weights and confidences, huge counts, limits, big IRVs."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import extreme_numbers

from agentkit import (
    AgentVote,
    ConfigurationError,
    ConflictResolver,
    InvalidVoteError,
    LimitExceededError,
    PluginError,
    PluginManager,
    Resolution,
    VoteCount,
    VoteLimitError,
    VoteType,
    VotingError,
    hookimpl,
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

ALL_METHODS = [majority, supermajority, unanimous, weighted, ranked_choice]


def _encoded(count: VoteCount) -> bytes:
    """The count as bytes, so -0.0 and 0.0 (equal as floats) would differ."""
    return msgspec.msgpack.encode(count)


# -- weights and confidences -------------------------------------------------------------------


def test_weights_of_1e308_are_a_typed_limit_error_not_overflow() -> None:
    """Two votes weighing 1e308 raise VoteLimitError naming max_weight, not OverflowError."""
    votes = [AgentVote("a", "x", weight=1e308), AgentVote("b", "x", weight=1e308)]
    with pytest.raises(VoteLimitError, match="max_weight") as caught:
        weighted(votes)
    assert isinstance(caught.value, VotingError)
    assert isinstance(caught.value, LimitExceededError)
    assert isinstance(caught.value, ValueError)


def test_a_raised_max_weight_still_gives_exact_totals() -> None:
    """With max_weight raised as far as max_votes allows, the largest totals stay finite."""
    limits = VoteLimits(max_votes=1_000, max_weight=1e297)
    votes = [AgentVote(f"a{i}", "x", weight=1e297) for i in range(1_000)]
    count = weighted(votes, limits=limits)
    assert count.tallies == {"x": math.fsum([1e297] * 1_000)}
    assert math.isfinite(count.tallies["x"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_weight": math.inf}, "max_weight"),
        ({"max_weight": 1e300}, "max_weight"),
        ({"max_weight": 0}, "max_weight"),
        ({"max_votes": 0}, "max_votes"),
        ({"max_votes": 10**10}, "max_votes"),
        ({"max_ranking_length": True}, "max_ranking_length"),
    ],
)
def test_limits_that_could_overflow_or_mean_nothing_are_refused(
    options: dict[str, Any], message: str
) -> None:
    """A limit pair whose weight total could overflow, or a limit that is not >= 1, is refused."""
    with pytest.raises(ConfigurationError, match=message):
        ConflictResolver(**options)


@given(
    weights=st.lists(extreme_numbers, min_size=1, max_size=6),
    confidences=st.lists(extreme_numbers, min_size=6, max_size=6),
    options=st.lists(st.sampled_from(["x", "y"]), min_size=6, max_size=6),
)
def test_any_weight_or_confidence_counts_exactly_or_is_a_voting_error(
    weights: list[object], confidences: list[object], options: list[str]
) -> None:
    """Every method either counts (the same bytes in reverse order) or raises a VotingError."""
    votes = [
        AgentVote(f"a{i}", options[i], confidences[i], weight=weight)  # type: ignore[arg-type]
        for i, weight in enumerate(weights)
    ]
    for method in ALL_METHODS:
        try:
            count = method(votes)
        except VotingError:
            continue
        assert _encoded(method(votes[::-1])) == _encoded(count)
        assert 0.0 <= count.consensus_score <= 1.0
        assert all(math.isfinite(total) and total >= 0 for total in count.tallies.values())


@given(agent_weight=extreme_numbers, confidence=st.floats(0, 1))
def test_any_agent_weight_counts_or_is_a_typed_error(
    agent_weight: object, confidence: float
) -> None:
    """A per-agent weight of any kind counts, or raises VotingError (count) or
    ConfigurationError (resolver)."""
    votes = [AgentVote("a", "x", confidence), AgentVote("b", "y", 0.5)]
    try:
        count = weighted(votes, {"a": agent_weight})  # type: ignore[dict-item]
    except VotingError:
        with pytest.raises(ConfigurationError, match="agent_weights"):
            ConflictResolver(agent_weights={"a": agent_weight})  # type: ignore[dict-item]
    else:
        assert all(math.isfinite(total) for total in count.tallies.values())
        ConflictResolver(agent_weights={"a": agent_weight})  # type: ignore[dict-item]


@pytest.mark.parametrize("weight", [10**400, 2**1024, 1e13])
def test_weights_over_the_limit_are_limit_errors(weight: float) -> None:
    """Ints too large for a float and floats over max_weight raise VoteLimitError."""
    with pytest.raises(VoteLimitError, match="max_weight"):
        weighted([AgentVote("a", "x", weight=weight)])


@pytest.mark.parametrize("confidence", [10**400, -(10**400), math.nan, -math.inf])
def test_confidences_beyond_float_range_are_invalid_votes(confidence: float) -> None:
    """A confidence that is a huge int or not finite is an InvalidVoteError, not OverflowError."""
    with pytest.raises(InvalidVoteError, match="confidence"):
        majority([AgentVote("a", "x", confidence)])


def test_negative_zero_does_not_make_totals_depend_on_order() -> None:
    """-0.0 and 0.0 weights give byte-identical tallies in either order."""
    votes = [AgentVote("a", "x", -0.0), AgentVote("b", "x", 0.0, weight=-0.0), AgentVote("c", "y")]
    assert _encoded(weighted(votes)) == _encoded(weighted(votes[::-1]))
    assert math.copysign(1.0, weighted(votes).tallies["x"]) == 1.0


# -- counts and sizes --------------------------------------------------------------------------


def test_more_votes_than_max_votes_is_refused_before_counting() -> None:
    """A list over max_votes raises VoteLimitError naming the option."""
    limits = VoteLimits(max_votes=10)
    votes = [AgentVote(f"a{i}", "x") for i in range(11)]
    with pytest.raises(VoteLimitError, match="max_votes=10"):
        majority(votes, limits=limits)
    assert majority(votes[:10], limits=limits).winner == "x"


def test_an_endless_vote_iterator_is_read_only_past_the_limit() -> None:
    """An iterator of votes is read to max_votes + 1 and then refused."""
    taken = 0

    def endless() -> Iterator[AgentVote]:
        nonlocal taken
        while True:
            taken += 1
            yield AgentVote(f"a{taken}", "x")

    with pytest.raises(VoteLimitError, match="max_votes=50"):
        validate_votes(endless(), limits=VoteLimits(max_votes=50))
    assert taken == 51


def test_a_ranking_over_max_ranking_length_is_refused() -> None:
    """A ranking longer than max_ranking_length raises VoteLimitError naming the option."""
    ranking = tuple(f"o{i}" for i in range(101))
    vote = AgentVote("a", "o0", ranking=ranking)
    with pytest.raises(VoteLimitError, match="max_ranking_length=100"):
        ranked_choice([vote], limits=VoteLimits(max_ranking_length=100))
    assert ranked_choice([vote], limits=VoteLimits(max_ranking_length=101)).winner == "o0"


async def test_resolver_options_set_the_limits() -> None:
    """ConflictResolver(max_votes=..., max_ranking_length=...) limits resolve_conflict."""
    resolver = ConflictResolver(max_votes=3, max_ranking_length=2)
    with pytest.raises(VoteLimitError, match="max_votes=3"):
        await resolver.resolve_conflict(
            "c", "decision", [AgentVote(f"a{i}", "x") for i in range(4)]
        )
    with pytest.raises(VoteLimitError, match="max_ranking_length=2"):
        await resolver.resolve_conflict(
            "c", "decision", [AgentVote("a", "x", ranking=("x", "y", "z"))], "ranked_choice"
        )


@pytest.mark.parametrize("votes", [None, 5, "xy", b"xy", {"a": AgentVote("a", "x")}])
def test_votes_that_are_not_a_list_of_votes_are_invalid(votes: object) -> None:
    """Anything but an iterable of AgentVote is an InvalidVoteError, not a TypeError."""
    with pytest.raises(InvalidVoteError, match="list of AgentVote"):
        majority(votes)  # type: ignore[arg-type]


def test_huge_ids_and_options_count_and_keep_error_messages_short() -> None:
    """Megabyte ids and options are counted; an error about them quotes only a little."""
    big = "x" * 1_000_000
    votes = [AgentVote(big + "1", big), AgentVote(big + "2", big), AgentVote("c", "y")]
    assert majority(votes).winner == big
    with pytest.raises(InvalidVoteError) as caught:
        majority([AgentVote(big, big, 2.0)])
    assert len(str(caught.value)) < 500
    with pytest.raises(InvalidVoteError) as caught:
        ranked_choice(
            [AgentVote("a", "o0", ranking=tuple(f"o{i % 50_000}" for i in range(100_000)))]
        )
    assert "repeats" in str(caught.value)
    assert len(str(caught.value)) < 500


# -- big instant runoffs -----------------------------------------------------------------------


def _recorded_entries(count: VoteCount) -> int:
    return sum(len(round_.tallies) for round_ in count.rounds)


@pytest.mark.timeout(120)
def test_one_ballot_ranking_100000_options_completes_with_linear_records() -> None:
    """100,000 ranked options and a rival ballot: 99,999 rounds recording 100,000 counts in all."""
    options = [f"option-{index:06d}" for index in range(100_000)]
    votes = [
        AgentVote("a", options[0], ranking=tuple(options)),
        AgentVote("b", options[-1], ranking=tuple(reversed(options))),
    ]
    count = ranked_choice(votes)
    assert count.winner is None
    assert len(count.rounds) == 99_999
    # Round 1 lists every option; later rounds only changed counts (none here: the options
    # eliminated are ranked by nobody first).
    assert _recorded_entries(count) == 100_000
    assert count.rounds[-1].continuing_options == 2
    assert count.round_tallies(99_999) == {options[0]: 1, options[-1]: 1}
    assert count.tallies == {options[0]: 1.0, options[-1]: 1.0}
    # The lone ballot wins in the first round.
    assert ranked_choice(votes[:1]).winner == options[0]


@pytest.mark.timeout(120)
def test_10000_ballots_of_50_options_record_at_most_their_entries() -> None:
    """10,000 ballots x 50 options: records bounded by options plus ballot moves, not rounds x
    options."""
    options = [f"o{index:02d}" for index in range(50)]
    votes = []
    for index in range(10_000):
        shift = (index * 7919) % 50
        ranking = tuple(options[shift:] + options[:shift])
        if index % 3:
            ranking = ranking[::-1]
        votes.append(AgentVote(f"agent-{index:05d}", ranking[0], ranking=ranking))
    count = ranked_choice(votes)
    entries = sum(len(vote.ballot) for vote in votes)
    assert _recorded_entries(count) <= len(options) + entries
    assert len(count.rounds) <= len(options)
    final = count.round_tallies(len(count.rounds))
    assert sum(final.values()) == count.rounds[-1].continuing_ballots
    assert count.tallies == {option: float(n) for option, n in final.items()}


@given(
    firsts=st.lists(st.integers(0, 30), min_size=2, max_size=60),
    ballots_rank=st.integers(1, 5),
)
def test_many_single_vote_options_record_linear_sizes(firsts: list[int], ballots_rank: int) -> None:
    """Whatever the profile, the rounds record at most options + ballot entries counts."""
    votes = []
    for index, first in enumerate(firsts):
        ranking = tuple(f"o{(first + step) % 31:02d}" for step in range(ballots_rank))
        votes.append(AgentVote(f"a{index:02d}", ranking[0], ranking=ranking))
    count = ranked_choice(votes)
    options = {option for vote in votes for option in vote.ballot}
    assert _recorded_entries(count) <= len(options) + sum(len(v.ballot) for v in votes)
    assert len(count.rounds) <= len(options)


async def test_a_big_ranked_choice_resolution_recounts_exactly() -> None:
    """A 20,000-option resolution survives the wire and recounts to the same record."""
    options = [f"option-{index:05d}" for index in range(20_000)]
    votes = [
        AgentVote("a", options[0], ranking=tuple(options)),
        AgentVote("b", options[-1], ranking=tuple(reversed(options))),
        AgentVote("c", options[7], ranking=(options[7], options[0])),
    ]
    resolver = ConflictResolver()
    resolution = await resolver.resolve_conflict("big", "decision", votes, VoteType.RANKED_CHOICE)
    # Options nobody ranks first go one per round, the last by code point first; at 1-1-1 the
    # last (option-19999) goes, and ballot b, read backwards, reaches option-00007 first.
    assert resolution.winning_option == options[7]
    assert len(resolution.rounds) == 19_999
    received = msgspec.msgpack.decode(msgspec.msgpack.encode(resolution), type=Resolution)
    assert resolver.recount(received) == resolution
    assert received.round_tallies(len(received.rounds)) == {options[0]: 1, options[7]: 2}


# -- where the count runs; plugin methods -----------------------------------------------------


class ThreadRecordingPlugin:
    """A voting method that records the thread it ran in, and methods returning garbage."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    @hookimpl
    def agentkit_register_voting_methods(self) -> Mapping[str, Any]:
        return {"where": self.where, "raises": self.raises, "answers": self.answers}

    def where(self, votes: tuple[AgentVote, ...]) -> dict[str, float]:
        self.threads.append(threading.current_thread())
        return {"x": 1.0}

    @staticmethod
    def raises(votes: tuple[AgentVote, ...]) -> dict[str, float]:
        raise KeyError("boom")

    answer: Any = None

    def answers(self, votes: tuple[AgentVote, ...]) -> Any:
        return self.answer


def _resolver_with(plugin: ThreadRecordingPlugin) -> ConflictResolver:
    manager = PluginManager(entry_points=False)
    manager.pluggy_manager.register(plugin, name="thread-recording")
    return ConflictResolver(plugins=manager)


async def test_big_counts_run_in_a_worker_thread_and_small_ones_inline() -> None:
    """Over 5,000 ballot entries the count leaves the event loop's thread; under, it stays."""
    plugin = ThreadRecordingPlugin()
    resolver = _resolver_with(plugin)
    await resolver.resolve_conflict("small", "decision", [AgentVote("a", "x")], "where")
    big = [AgentVote(f"a{index}", "x") for index in range(5_001)]
    await resolver.resolve_conflict("big", "decision", big, "where")
    long_ranking = [AgentVote("a", "o0", ranking=tuple(f"o{i}" for i in range(5_000)))]
    await resolver.resolve_conflict("long", "decision", long_ranking, "where")
    here = threading.current_thread()
    assert [thread is here for thread in plugin.threads] == [True, False, False]


async def test_a_plugin_method_that_raises_is_a_plugin_error() -> None:
    """Any exception from a plugin's method becomes PluginError, the original as its cause."""
    resolver = _resolver_with(ThreadRecordingPlugin())
    with pytest.raises(PluginError, match="'raises' failed: KeyError") as caught:
        await resolver.resolve_conflict("c", "decision", [AgentVote("a", "x")], "raises")
    assert isinstance(caught.value.__cause__, KeyError)


@given(
    answer=st.one_of(
        st.dictionaries(st.text(max_size=3), extreme_numbers, max_size=4),
        st.dictionaries(st.integers(), st.floats(), min_size=1, max_size=2),
        st.builds(
            VoteCount,
            winner=st.none() | st.text(max_size=2) | st.integers(),
            tallies=st.just({}),
            consensus_score=extreme_numbers,
        ),
        extreme_numbers,
    )
)
async def test_a_plugin_answer_is_a_resolution_or_a_plugin_error(answer: Any) -> None:
    """Whatever a plugin method returns, resolve_conflict gives a Resolution or PluginError."""
    plugin = ThreadRecordingPlugin()
    plugin.answer = answer
    resolver = _resolver_with(plugin)
    try:
        resolution = await resolver.resolve_conflict(
            "c", "decision", [AgentVote("a", "x")], "answers"
        )
    except PluginError:
        return
    assert 0.0 <= resolution.consensus_score <= 1.0
    assert resolution.winning_option is None or isinstance(resolution.winning_option, str)
    assert all(math.isfinite(total) for total in resolution.tallies.values())


def test_default_limits_are_documented_values() -> None:
    """The defaults are the ones docs/voting.md states."""
    assert (DEFAULT_LIMITS.max_votes, DEFAULT_LIMITS.max_ranking_length) == (100_000, 100_000)
    assert DEFAULT_LIMITS.max_weight == 1e12


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "threshold",
    ["1e-999999999", "9" * 5_000 + "/1", "0." + "6" * 100, Decimal("1e-999999999"), 10**400],
)
def test_thresholds_that_would_build_giant_numbers_are_refused(threshold: object) -> None:
    """Exponent strings, long strings, Decimals and huge ints are a ConfigurationError at once."""
    with pytest.raises(ConfigurationError, match="threshold"):
        supermajority([AgentVote("a", "x")], threshold)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="threshold"):
        ConflictResolver(supermajority_threshold=threshold)  # type: ignore[arg-type]
