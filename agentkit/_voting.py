"""The voting methods: pure, deterministic functions from votes to a :class:`VoteCount`.

Rules (DESIGN.md section 4, ``docs/voting.md``):

* one vote per agent; confidence in [0, 1]; at least one vote; a ranking led by its option;
* arithmetic is order-independent: thresholds are ``Fraction``\\ s, weight totals are
  ``math.fsum`` over values sorted by option, options compare by code point;
* ``consensus_score`` is the winner's share of what was counted in the deciding round, or the
  top option's share when there is no winner.

Nothing here does I/O or looks at a clock; the same votes in any order give the same count.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

from agentkit._votes import AgentVote, IRVRound, VoteCount
from agentkit.exceptions import (
    ConfigurationError,
    DuplicateVoteError,
    InvalidVoteError,
    NoVotesError,
)

__all__ = [
    "DEFAULT_SUPERMAJORITY",
    "as_threshold",
    "effective_weights",
    "majority",
    "ranked_choice",
    "supermajority",
    "unanimous",
    "validate_votes",
    "weighted",
]

#: The default supermajority threshold.
DEFAULT_SUPERMAJORITY = Fraction(2, 3)

_HALF = Fraction(1, 2)
_OPTION = operator.attrgetter("option")

#: An instant-runoff ballot group and its weight (how many identical ballots), the ballot as
#: given or as the iterator over what it still ranks.
_Place = tuple[Iterable[str], int]


class CheckedVotes(tuple[AgentVote, ...]):
    """Votes that passed :func:`validate_votes` (immutable, so they stay valid)."""

    __slots__ = ()


def validate_votes(
    votes: Iterable[AgentVote], *, allow_empty: bool = False
) -> tuple[AgentVote, ...]:
    """Check *votes* and return them as a tuple (rankings normalised to tuples).

    Votes already checked (what this returns) are passed through without a second look.

    Raises:
        NoVotesError: no votes (unless *allow_empty*).
        DuplicateVoteError: an agent voted twice.
        InvalidVoteError: not an ``AgentVote``, an empty agent id or option, confidence
            outside [0, 1] (or NaN), a negative or non-finite weight, or a ranking that is
            empty, repeats an option or does not start with ``option``.
    """
    if type(votes) is CheckedVotes and (votes or allow_empty):
        return votes
    checked = list(votes)
    # Many ballots share a ranking: check each distinct one once.
    good_rankings: set[tuple[str, ...]] = set()
    for position, vote in enumerate(checked):
        # The common case in one cheap test; anything else gets the full check.
        if (
            type(vote) is not AgentVote
            or type(vote.confidence) is not float
            or not 0.0 <= vote.confidence <= 1.0
            or type(vote.agent_id) is not str
            or not vote.agent_id
            or type(vote.option) is not str
            or not vote.option
            or vote.weight is not None
            or (vote.ranking is not None and not _plain_ranking(vote.ranking, good_rankings))
            or (vote.ranking is not None and vote.ranking[0] != vote.option)
        ):
            checked[position] = _full_check(vote)
    if not checked and not allow_empty:
        raise NoVotesError("no votes to count; give at least one AgentVote")
    agent_ids = {vote.agent_id for vote in checked}
    if len(agent_ids) != len(checked):
        seen: set[str] = set()
        for vote in checked:
            if vote.agent_id in seen:
                raise DuplicateVoteError(
                    f"agent {vote.agent_id!r} voted more than once; one vote per agent"
                )
            seen.add(vote.agent_id)
    return CheckedVotes(checked)


def _plain_ranking(ranking: object, good_rankings: set[tuple[str, ...]]) -> bool:
    """Whether *ranking* is a well-formed tuple of distinct options (the fast path).

    A ranking that cannot be hashed (it holds a list, say) goes to the full check and its
    InvalidVoteError instead of raising TypeError here.
    """
    if type(ranking) is not tuple or not ranking:
        return False
    try:
        if ranking in good_rankings:  # many ballots share a ranking: check each once
            return True
    except TypeError:
        return False
    if all(type(entry) is str and entry for entry in ranking) and len(set(ranking)) == len(ranking):
        good_rankings.add(ranking)
        return True
    return False


def _full_check(vote: object) -> AgentVote:
    if not isinstance(vote, AgentVote):
        raise InvalidVoteError(f"expected an AgentVote, got {type(vote).__name__}: {vote!r}")
    if not isinstance(vote.agent_id, str) or not vote.agent_id:
        raise InvalidVoteError(f"a vote needs a non-empty agent_id, got {vote.agent_id!r}")
    if not isinstance(vote.option, str) or not vote.option:
        raise InvalidVoteError(
            f"agent {vote.agent_id!r} voted for {vote.option!r}; an option is a non-empty str"
        )
    confidence = vote.confidence
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0.0 <= confidence <= 1.0
    ):
        raise InvalidVoteError(
            f"agent {vote.agent_id!r} gave confidence {confidence!r}; it must be in [0, 1]"
        )
    if vote.weight is not None:
        _check_weight(f"the weight of agent {vote.agent_id!r}'s vote", vote.weight)
    if vote.ranking is not None:
        vote = _checked_ranking(vote)
    return vote


def _checked_ranking(vote: AgentVote) -> AgentVote:
    ranking = vote.ranking
    if isinstance(ranking, str) or not isinstance(ranking, Sequence):
        raise InvalidVoteError(
            f"agent {vote.agent_id!r}'s ranking must be a list of options, got {ranking!r}"
        )
    ranking = tuple(ranking)
    if not ranking:
        raise InvalidVoteError(f"agent {vote.agent_id!r} gave an empty ranking")
    if any(not isinstance(option, str) or not option for option in ranking):
        raise InvalidVoteError(
            f"agent {vote.agent_id!r}'s ranking holds something that is not an option: {ranking!r}"
        )
    if ranking[0] != vote.option:
        raise InvalidVoteError(
            f"agent {vote.agent_id!r} voted for {vote.option!r} but ranked {ranking[0]!r}"
            " first; a ranking must start with the vote's option"
        )
    if len(set(ranking)) != len(ranking):
        raise InvalidVoteError(f"agent {vote.agent_id!r}'s ranking repeats an option: {ranking!r}")
    if ranking is vote.ranking:
        return vote
    return AgentVote(
        vote.agent_id, vote.option, vote.confidence, vote.reasoning, ranking, vote.weight
    )


def _check_weight(label: str, weight: object) -> float:
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not math.isfinite(weight)
        or weight < 0
    ):
        raise InvalidVoteError(f"{label} is {weight!r}; a weight is a finite number >= 0")
    return float(weight)


def as_threshold(threshold: Fraction | int | str | float) -> Fraction:
    """*threshold* as a Fraction in (1/2, 1]; ``ConfigurationError`` otherwise.

    Pass a ``Fraction`` (or ``"2/3"``) for exactness; a float is read from its decimal text,
    so ``0.75`` is 3/4 but ``0.6667`` is 6667/10000, not 2/3.
    """
    try:
        if isinstance(threshold, bool):
            raise TypeError(threshold)
        value = Fraction(str(threshold)) if isinstance(threshold, float) else Fraction(threshold)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ConfigurationError(
            f"supermajority threshold {threshold!r} is not a number; use e.g. Fraction(2, 3)"
        ) from None
    if not _HALF < value <= 1:
        raise ConfigurationError(
            f"supermajority threshold {threshold!r} must be in (1/2, 1]; 2/3 and 3/4 are usual"
        )
    return value


def _counts(votes: Sequence[AgentVote]) -> dict[str, int]:
    counts = Counter(map(_OPTION, votes))
    return {option: counts[option] for option in sorted(counts)}


def _as_floats(counts: Mapping[str, int]) -> dict[str, float]:
    return {option: float(count) for option, count in counts.items()}


def _top_share(tallies: Mapping[str, float], total: float) -> float:
    if not tallies:
        return 0.0
    top = max(tallies.values())
    return _share(top, total, len(tallies))


def _share(value: float, total: float, options: int) -> float:
    # With nothing counted (all weights zero) every option holds an equal share.
    if total <= 0:
        return 1.0 / options if options else 0.0
    return min(1.0, max(0.0, value / total))


def majority(votes: Sequence[AgentVote]) -> VoteCount:
    """The option with more than half of the votes cast, else no winner."""
    votes = validate_votes(votes)
    cast = len(votes)
    return _first_reaching(
        votes, cast // 2 + 1, f"no option has more than half of the {cast} votes"
    )


def supermajority(
    votes: Sequence[AgentVote], threshold: Fraction | int | str | float = DEFAULT_SUPERMAJORITY
) -> VoteCount:
    """The option with at least ``ceil(threshold x n)`` of the *n* votes, else no winner."""
    needed_share = as_threshold(threshold)
    votes = validate_votes(votes)
    cast = len(votes)
    needed = math.ceil(needed_share * cast)
    return _first_reaching(
        votes, needed, f"no option has {needed} of the {cast} votes (threshold {needed_share})"
    )


def _first_reaching(votes: Sequence[AgentVote], needed: int, reason: str) -> VoteCount:
    """The option with at least *needed* votes (more than half, so at most one), else none."""
    counts = _counts(votes)
    cast = len(votes)
    for option, count in counts.items():
        if count >= needed:
            return VoteCount(
                winner=option, tallies=_as_floats(counts), consensus_score=count / cast
            )
    return VoteCount(
        winner=None,
        tallies=_as_floats(counts),
        consensus_score=_top_share(counts, cast),
        reason=reason,
    )


def unanimous(votes: Sequence[AgentVote]) -> VoteCount:
    """The option every vote is for, else no winner."""
    votes = validate_votes(votes)
    counts = _counts(votes)
    if len(counts) == 1:
        (option,) = counts
        return VoteCount(winner=option, tallies=_as_floats(counts), consensus_score=1.0)
    return VoteCount(
        winner=None,
        tallies=_as_floats(counts),
        consensus_score=_top_share(counts, len(votes)),
        reason=f"the votes are split between {len(counts)} options",
    )


def effective_weights(
    votes: Sequence[AgentVote], agent_weights: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Each vote's weight: confidence x (``vote.weight``, else the agent's weight, else 1)."""
    weights: dict[str, float] = {}
    for vote in votes:
        if vote.weight is not None:
            agent_weight = float(vote.weight)
        elif agent_weights is not None and vote.agent_id in agent_weights:
            agent_weight = _check_weight(
                f"agent_weights[{vote.agent_id!r}]", agent_weights[vote.agent_id]
            )
        else:
            agent_weight = 1.0
        weights[vote.agent_id] = float(vote.confidence) * agent_weight
    return weights


def weighted(
    votes: Sequence[AgentVote], agent_weights: Mapping[str, float] | None = None
) -> VoteCount:
    """The option with strictly the highest total weight, else no winner.

    A vote weighs ``confidence x agent weight``; the agent weight is ``vote.weight``, else
    ``agent_weights[agent_id]``, else 1.
    """
    votes = validate_votes(votes)
    per_option: dict[str, list[float]] = {}
    for vote in votes:
        if vote.weight is not None:
            weight = vote.confidence * vote.weight
        elif agent_weights and vote.agent_id in agent_weights:
            weight = vote.confidence * _check_weight(
                f"agent_weights[{vote.agent_id!r}]", agent_weights[vote.agent_id]
            )
        else:
            weight = float(vote.confidence)
        values = per_option.get(vote.option)
        if values is None:
            per_option[vote.option] = [weight]
        else:
            values.append(weight)
    # fsum is correctly rounded, so the totals do not depend on the order the votes came in.
    tallies = {option: math.fsum(per_option[option]) for option in sorted(per_option)}
    total = math.fsum(tallies.values())
    top = max(tallies.values())
    leaders = [option for option, value in tallies.items() if value == top]
    if len(leaders) == 1:
        return VoteCount(
            winner=leaders[0],
            tallies=dict(tallies),
            consensus_score=_share(top, total, len(tallies)),
        )
    return VoteCount(
        winner=None,
        tallies=dict(tallies),
        consensus_score=_share(top, total, len(tallies)),
        reason=f"{', '.join(map(repr, leaders))} tie at weight {top:g}",
    )


def ranked_choice(
    votes: Sequence[AgentVote], elimination_order: Sequence[str] | None = None
) -> VoteCount:
    """Instant runoff over each vote's ballot (``ranking``, else ``[option]``).

    Each round counts every ballot for its highest-ranked continuing option; ballots ranking
    no continuing option are exhausted and drop out. An option with more than half of the
    continuing ballots wins; otherwise exactly one option with the fewest votes is
    eliminated. Ties for the fewest: the option earliest in *elimination_order* goes first
    (options listed before unlisted ones), otherwise the option sorting last by code point.
    Two options tied in the final round, or every ballot exhausted, means no winner.
    """
    votes = validate_votes(votes)
    order_rank = _elimination_ranks(elimination_order)
    # Identical ballots are counted together: few distinct ballots is the common case.
    ballots = Counter(vote.ranking or (vote.option,) for vote in votes)
    # The count is kept from round to round rather than redone: every option starts
    # continuing, so each ballot first counts for its first entry; when an option is
    # eliminated only the ballots on its pile move on to their next continuing option (or
    # are exhausted). Options only ever stop continuing, so a ballot never looks back.
    counts = dict.fromkeys(sorted(set().union(*ballots)), 0)
    piles: dict[str, list[_Place]] = {option: [] for option in counts}
    for place in ballots.items():
        first = place[0][0]
        counts[first] += place[1]
        piles[first].append(place)
    exhausted = 0
    total = len(votes)
    rounds: list[IRVRound] = []
    while True:
        active = total - exhausted
        number = len(rounds) + 1
        tallies = _as_floats(counts)
        winner = next((option for option, count in counts.items() if 2 * count > active), None)
        if winner is not None:
            rounds.append(
                IRVRound(
                    number=number,
                    tallies=dict(counts),
                    continuing_ballots=active,
                    exhausted_ballots=exhausted,
                    winner=winner,
                )
            )
            return VoteCount(
                winner=winner,
                tallies=tallies,
                consensus_score=counts[winner] / active,
                rounds=tuple(rounds),
            )
        fewest = min(counts.values())
        tied = sorted(option for option, count in counts.items() if count == fewest)
        if active == 0 or (len(counts) == 2 and len(tied) == 2):
            rounds.append(
                IRVRound(
                    number=number,
                    tallies=dict(counts),
                    continuing_ballots=active,
                    exhausted_ballots=exhausted,
                    tied=tuple(tied) if len(tied) > 1 else (),
                )
            )
            reason = (
                "every ballot is exhausted"
                if active == 0
                else f"{tied[0]!r} and {tied[1]!r} tie in the final round"
            )
            return VoteCount(
                winner=None,
                tallies=tallies,
                consensus_score=_top_share(counts, active) if active else 0.0,
                rounds=tuple(rounds),
                reason=reason,
            )
        eliminated = _pick_elimination(tied, order_rank)
        rounds.append(
            IRVRound(
                number=number,
                tallies=dict(counts),
                continuing_ballots=active,
                exhausted_ballots=exhausted,
                eliminated=eliminated,
                tied=tuple(tied) if len(tied) > 1 else (),
            )
        )
        # Deleting keeps the rest of ``counts`` in code-point order.
        del counts[eliminated]
        exhausted += _transfer(piles.pop(eliminated), counts, piles)


def _transfer(moving: list[_Place], counts: dict[str, int], piles: dict[str, list[_Place]]) -> int:
    """Move *moving* ballots to their next continuing option; return how many are exhausted.

    A place is a ballot (its first entry is the option just eliminated) or the iterator left
    where the ballot's last move stopped; ``iter`` gives the iterator either way.
    """
    exhausted = 0
    for ballot, weight in moving:
        rest = iter(ballot)
        for option in rest:
            if option in counts:
                counts[option] += weight
                piles[option].append((rest, weight))
                break
        else:
            exhausted += weight
    return exhausted


def _elimination_ranks(elimination_order: Sequence[str] | None) -> dict[str, int]:
    if elimination_order is None:
        return {}
    if isinstance(elimination_order, str):
        raise ConfigurationError(
            "elimination_order is a list of options (first = eliminated first), not a str"
        )
    ranks: dict[str, int] = {}
    for position, option in enumerate(elimination_order):
        if not isinstance(option, str):
            raise ConfigurationError(f"elimination_order holds {option!r}, not an option name")
        ranks.setdefault(option, position)
    return ranks


def _pick_elimination(tied: list[str], order_rank: Mapping[str, int]) -> str:
    listed = [option for option in tied if option in order_rank]
    if listed:
        return min(listed, key=order_rank.__getitem__)
    # The default tie rule: the option sorting last (by code point) goes first.
    return max(tied)
