"""The voting methods: pure, deterministic functions from votes to a :class:`VoteCount`.

Rules (``docs/voting.md``):

* one vote per agent; confidence in [0, 1]; at least one vote; a ranking led by its option;
* arithmetic is order-independent: thresholds are ``Fraction``\\ s, weight totals are
  ``math.fsum`` over values sorted by option, options compare by code point;
* ``consensus_score`` is the winner's share of what was counted in the deciding round, or the
  top option's share when there is no winner.

Nothing here does I/O or looks at a clock; the same votes in any order give the same count.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import heapq
import itertools
import math
import operator
import reprlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from fractions import Fraction

from agentkit.exceptions import (
    ConfigurationError,
    DuplicateVoteError,
    InvalidVoteError,
    NoVotesError,
    VoteLimitError,
)
from agentkit.voting._votes import (
    _CHECKED_TYPES,
    DEFAULT_MAX_RANKING_LENGTH,
    DEFAULT_MAX_WEIGHT,
    AgentVote,
    IRVRound,
    VoteCount,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_SUPERMAJORITY",
    "VoteLimits",
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
_AGENT_ID = operator.attrgetter("agent_id")
_CONFIDENCE = operator.attrgetter("confidence")
_RANKING = operator.attrgetter("ranking")
_WEIGHT = operator.attrgetter("weight")
_COUNT = operator.itemgetter(1)
#: The only types the options and the rankings of checked votes have.
_STR = frozenset({str})
_TUPLE = frozenset({tuple})

#: No weight total may come near the largest float (1.8e308): max_weight x max_votes stays
#: under this, so ``math.fsum`` never overflows.
_MAX_WEIGHT_TOTAL = 1e300
_MAX_MAX_VOTES = 10**9

# Error messages show at most this much of a value an outsider chose.
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxtuple = _REPR.maxlist = _REPR.maxdict = 8


def _shown(value: object) -> str:
    return _REPR.repr(value)


def _agent(vote: AgentVote) -> str:
    """The vote's agent id as an error message shows it (only built for an error)."""
    return _shown(vote.agent_id)


@dataclasses.dataclass(frozen=True, slots=True)
class VoteLimits:
    """The largest input a count accepts; over a limit is a ``VoteLimitError`` naming it.

    A count takes time and memory linear (up to a log factor) in the ballot entries, so
    these bound the work one call can ask for. ``max_weight`` keeps every weight total far
    from float overflow, so totals stay exact (``math.fsum``, correctly rounded).
    """

    #: Votes in one count.
    max_votes: int = 100_000
    #: Options in one vote's ranking.
    max_ranking_length: int = DEFAULT_MAX_RANKING_LENGTH
    #: The largest agent weight (``vote.weight`` or ``agent_weights``).
    max_weight: float = DEFAULT_MAX_WEIGHT

    def __post_init__(self) -> None:
        for name in ("max_votes", "max_ranking_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be an int >= 1, got {_shown(value)}")
        if self.max_votes > _MAX_MAX_VOTES:
            raise ConfigurationError(
                f"max_votes={self.max_votes} is over {_MAX_MAX_VOTES:,}; count in batches"
            )
        weight = self.max_weight
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0 < weight <= _MAX_WEIGHT_TOTAL / self.max_votes
        ):
            raise ConfigurationError(
                f"max_weight must be a number > 0 with max_weight x max_votes <="
                f" {_MAX_WEIGHT_TOTAL:g} (so weight totals cannot overflow), got {_shown(weight)}"
            )


#: The limits used when none are given.
DEFAULT_LIMITS = VoteLimits()


def _within_defaults(limits: VoteLimits) -> bool:
    """Whether every vote that passed the check where it entered is valid under *limits*."""
    return limits is DEFAULT_LIMITS or (
        limits.max_ranking_length >= DEFAULT_MAX_RANKING_LENGTH
        and limits.max_weight >= DEFAULT_MAX_WEIGHT
    )


class CheckedVotes(tuple[AgentVote, ...]):
    """Votes that passed :func:`validate_votes` (immutable, so they stay valid).

    ``weighted`` tells whether some vote has its own weight; ``agent_ids`` are the voters in
    vote order.
    """

    weighted: bool = True
    agent_ids: list[str] | None = None
    #: The distinct rankings of the votes (None among them for votes without one), when the
    #: caller already collected them.
    rankings: set[tuple[str, ...] | None] | None = None
    #: Each vote's option and the distinct options, when they were read already (_Columns).
    options: list[str] | None = None
    distinct_options: set[str] | None = None
    #: How many votes give each ranking, and first preferences per option (_Columns).
    by_ranking: dict[tuple[str, ...], int] | None = None
    first_preferences: dict[str, int] | None = None
    #: Each option's votes' confidences (None for a vote with its own weight) (_Columns).
    confidences: Mapping[str, list[float]] | None = None


class _Columns:
    """What a count reads from votes that were all checked where they entered, read once.

    ``entries`` are the ballot entries (votes plus ranked options, identical rankings once)
    when the method reads the rankings, else the number of votes. ``rankings`` (the distinct
    rankings), ``by_ranking`` (how many votes give each) and ``first`` (first preferences per
    option) are read only when they are cheap to make in the event loop's thread.
    """

    __slots__ = (
        "by_ranking",
        "confidences",
        "distinct_options",
        "entries",
        "first",
        "options",
        "rankings",
    )

    def __init__(
        self,
        options: list[str] | None,
        distinct_options: set[str],
        entries: int,
        rankings: set[tuple[str, ...] | None] | None = None,
        by_ranking: dict[tuple[str, ...], int] | None = None,
        first: dict[str, int] | None = None,
        confidences: Mapping[str, list[float]] | None = None,
    ) -> None:
        self.confidences = confidences
        self.options = options
        self.distinct_options = distinct_options
        self.entries = entries
        self.rankings = rankings
        self.by_ranking = by_ranking
        self.first = first


def _columns(
    votes: list[AgentVote],
    limits: VoteLimits,
    *,
    ranked: bool,
    hash_below: int,
    weighted: bool = False,
) -> _Columns | None:
    """The columns of *votes* when every one was checked where it entered, else None.

    Never raises: None sends the votes to the full check, which gives the typed error. One
    comprehension reads every vote's ``_counted_option``: the option on a checked vote, None
    on any other vote, an AttributeError for what is not a vote at all. *ranked*: read the
    rankings too; up to *hash_below* votes they are counted here. *weighted*: up to
    *hash_below* votes, group the confidences by option instead of reading the options.
    """
    if not _within_defaults(limits):
        return None
    if weighted and len(votes) <= hash_below:
        try:
            grouped = _confidences_by_option(votes, "_counted_confidence")
        except (AttributeError, TypeError):
            return None
        # The options of checked votes are str; None is an unchecked vote's.
        if not _STR.issuperset(map(type, grouped)):
            return None
        return _Columns(None, set(grouped), len(votes), confidences=grouped)
    if ranked and len(votes) <= hash_below:
        columns = _ranked_columns(votes)
        if columns is not None:
            return columns
    try:
        options = [vote._counted_option for vote in votes]
        distinct = set(options)
    except (AttributeError, TypeError):
        return None
    # Few distinct options (the common case): a look at each, not at each vote.
    if not _STR.issuperset(map(type, distinct)):
        return None
    entries = len(votes)
    rankings = None
    if ranked:
        # A long ranking reads as an unhashable marker, so up to *hash_below* votes the set
        # of distinct rankings hashes at most _SHORT_RANKING options per vote.
        all_rankings = [vote._counted_ranking for vote in votes]
        if entries <= hash_below:
            try:
                rankings = set(all_rankings)
            except TypeError:
                pass
            else:
                entries += sum(map(len, filter(None, rankings)))
                return _Columns(options, distinct, entries, rankings)
        # Long rankings, or many votes: their lengths summed in C (the real rankings now).
        entries += sum(map(len, filter(None, [vote.ranking for vote in votes])))
    return _Columns(options, distinct, entries, rankings)


def _ranked_columns(votes: list[AgentVote]) -> _Columns | None:
    """The columns of checked votes that all rank at most _SHORT_RANKING options, else None.

    One pass over the votes: ``_counted_ranking`` is the ranking of such a vote, None on a
    vote that ranks nothing (then the options are read as well), an unhashable marker on a
    long ranking or an unchecked vote. Counting the (interned) rankings hashes at most
    _SHORT_RANKING options per vote; first preferences come from the distinct rankings.
    """
    try:
        rankings = [vote._counted_ranking for vote in votes]
        by_ranking: dict[tuple[str, ...], int]
        if len(rankings) > _FEW_OPTIONS:
            by_ranking = Counter(rankings)
        else:
            # A few votes: a plain loop costs less than setting up a Counter.
            by_ranking = {}
            for ranking in rankings:
                by_ranking[ranking] = by_ranking.get(ranking, 0) + 1
    except (AttributeError, TypeError):
        return None
    if None in by_ranking or not _TUPLE.issuperset(map(type, by_ranking)):
        return None
    first: dict[str, int] = {}
    entries = len(votes)
    for ranking, copies in by_ranking.items():
        first[ranking[0]] = first.get(ranking[0], 0) + copies
        entries += len(ranking)
    return _Columns(None, set(first), entries, set(by_ranking), by_ranking, first)


def validate_votes(
    votes: Iterable[AgentVote], *, allow_empty: bool = False, limits: VoteLimits = DEFAULT_LIMITS
) -> tuple[AgentVote, ...]:
    """Check *votes* and return them as a tuple (rankings normalised to tuples).

    Votes already checked (what this returns) are passed through without a second look.

    Raises:
        NoVotesError: no votes (unless *allow_empty*).
        DuplicateVoteError: an agent voted twice.
        InvalidVoteError: not an iterable of ``AgentVote``, an empty agent id or option,
            confidence outside [0, 1] (or NaN), a negative or non-finite weight, or a ranking
            that is empty, repeats an option or does not start with ``option``.
        VoteLimitError: more than ``limits.max_votes`` votes, a ranking longer than
            ``limits.max_ranking_length``, a weight over ``limits.max_weight``.
    """
    if type(votes) is CheckedVotes and (votes or allow_empty) and len(votes) <= limits.max_votes:
        return votes
    return _check(_at_most(votes, limits.max_votes), allow_empty, limits)


def _check(
    checked: list[AgentVote],
    allow_empty: bool,
    limits: VoteLimits,
    types: set[type] | None = None,
    columns: _Columns | None = None,
) -> CheckedVotes:
    """:func:`validate_votes` of a list (*types*: ``set(map(type, checked))`` if known;
    *columns*: what ``_columns`` read, so every vote was checked where it entered)."""
    # Every AgentVote was checked where it entered (built, decoded, converted) against the
    # default limits; those that failed have another class. So when each vote's class is a
    # checked one and the limits are no tighter than the defaults, only what spans votes
    # (duplicates, none at all) is left, and that is done in C.
    kinds: set[type] | frozenset[type] = _CHECKED_TYPES
    if columns is None:
        kinds = set(map(type, checked)) if types is None else types
    if columns is None and (not _within_defaults(limits) or kinds - _CHECKED_TYPES):
        trusted = _within_defaults(limits)
        # Many ballots share a ranking: check each distinct one once.
        good_rankings: dict[tuple[str, ...], None] = {}  # a dict: see _add_keys
        longest = limits.max_ranking_length
        for position, vote in enumerate(checked):
            if type(vote) in _CHECKED_TYPES and (
                trusted
                or (
                    # Checked already; only the limits tighter than the defaults are left.
                    (vote.weight is None or vote.weight <= limits.max_weight)
                    and (vote.ranking is None or len(vote.ranking) <= longest)
                )
            ):
                continue
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
                or (
                    vote.ranking is not None
                    and not _plain_ranking(vote.ranking, good_rankings, longest)
                )
                or (vote.ranking is not None and vote.ranking[0] != vote.option)
            ):
                checked[position] = _full_check(vote, limits)
    if not checked and not allow_empty:
        raise NoVotesError("no votes to count; give at least one AgentVote")
    # Every item is an AgentVote now; a comprehension reads attributes faster than attrgetter.
    agent_ids = [vote.agent_id for vote in checked]
    if len(set(agent_ids)) != len(checked):
        seen: set[str] = set()
        for vote in checked:
            if vote.agent_id in seen:
                raise DuplicateVoteError(
                    f"agent {_agent(vote)} voted more than once; one vote per agent"
                )
            seen.add(vote.agent_id)
    result = CheckedVotes(checked)
    result.agent_ids = agent_ids
    if columns is not None:
        # Whether some vote has its own weight is left to WEIGHTED (``_counted_confidence``).
        result.options = columns.options
        result.distinct_options = columns.distinct_options
        result.rankings = columns.rankings
        result.by_ranking = columns.by_ranking
        result.first_preferences = columns.first
        result.confidences = columns.confidences
        return result
    # Only a checked vote with a weight (or one checked here) can have one.
    result.weighted = bool(kinds - {AgentVote}) and any(vote.weight is not None for vote in checked)
    return result


def _at_most(votes: Iterable[AgentVote], max_votes: int) -> list[AgentVote]:
    """*votes* as a list, refused as soon as it holds more than *max_votes*."""
    if type(votes) is list or type(votes) is tuple or type(votes) is CheckedVotes:
        # The common case without the ABC checks below.
        if len(votes) > max_votes:
            raise VoteLimitError(
                f"{len(votes)} votes is more than max_votes={max_votes}; count fewer votes or"
                " raise the max_votes option of ConflictResolver"
            )
        return list(votes)
    if isinstance(votes, str | bytes | Mapping) or not isinstance(votes, Iterable):
        raise InvalidVoteError(
            f"votes must be a list of AgentVote, got {type(votes).__name__}: {_shown(votes)}"
        )
    advice = "count fewer votes or raise the max_votes option of ConflictResolver"
    if isinstance(votes, Sized) and len(votes) > max_votes:
        raise VoteLimitError(f"{len(votes)} votes is more than max_votes={max_votes}; {advice}")
    # An iterator is read no further than one vote past the limit.
    taken = list(itertools.islice(votes, max_votes + 1))
    if len(taken) > max_votes:
        raise VoteLimitError(f"more than max_votes={max_votes} votes; {advice}")
    return taken


def _plain_ranking(
    ranking: object, good_rankings: dict[tuple[str, ...], None], longest: int
) -> bool:
    """Whether *ranking* is a well-formed tuple of distinct options (the fast path).

    A ranking that cannot be hashed (it holds a list, say) or is too long goes to the full
    check and its error instead of raising TypeError here or hashing it.
    """
    if type(ranking) is not tuple or not ranking or len(ranking) > longest:
        return False
    try:
        if ranking in good_rankings:  # many ballots share a ranking: check each once
            return True
    except TypeError:
        return False
    if all(type(entry) is str and entry for entry in ranking) and _all_distinct(ranking):
        good_rankings[ranking] = None
        return True
    return False


def _full_check(vote: object, limits: VoteLimits) -> AgentVote:
    if not isinstance(vote, AgentVote):
        raise InvalidVoteError(f"expected an AgentVote, got {type(vote).__name__}: {_shown(vote)}")
    if not isinstance(vote.agent_id, str) or not vote.agent_id:
        raise InvalidVoteError(f"a vote needs a non-empty agent_id, got {_agent(vote)}")
    if not isinstance(vote.option, str) or not vote.option:
        raise InvalidVoteError(
            f"agent {_agent(vote)} voted for {_shown(vote.option)}; an option is a non-empty str"
        )
    confidence = vote.confidence
    # Comparisons, not float(): an int too large for a float must not raise OverflowError.
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0 <= confidence <= 1
    ):
        raise InvalidVoteError(
            f"agent {_agent(vote)} gave confidence {_shown(confidence)}; it must be in [0, 1]"
        )
    if vote.weight is not None:
        _check_weight(f"the weight of agent {_agent(vote)}'s vote", vote.weight, limits.max_weight)
    if vote.ranking is not None:
        vote = _checked_ranking(vote, limits.max_ranking_length)
    return vote


def _checked_ranking(vote: AgentVote, longest: int) -> AgentVote:
    ranking = vote.ranking
    if isinstance(ranking, str) or not isinstance(ranking, Sequence):
        raise InvalidVoteError(
            f"agent {_agent(vote)}'s ranking must be a list of options, got {_shown(ranking)}"
        )
    if len(ranking) > longest:
        raise VoteLimitError(
            f"agent {_agent(vote)} ranked {len(ranking)} options, more than"
            f" max_ranking_length={longest}; rank fewer or raise the max_ranking_length option"
            " of ConflictResolver"
        )
    ranking = tuple(ranking)
    if not ranking:
        raise InvalidVoteError(f"agent {_agent(vote)} gave an empty ranking")
    if any(not isinstance(option, str) or not option for option in ranking):
        raise InvalidVoteError(
            f"agent {_agent(vote)}'s ranking holds something that is not an option:"
            f" {_shown(ranking)}"
        )
    if ranking[0] != vote.option:
        raise InvalidVoteError(
            f"agent {_agent(vote)} voted for {_shown(vote.option)} but ranked {_shown(ranking[0])}"
            " first; a ranking must start with the vote's option"
        )
    if not _all_distinct(ranking):
        raise InvalidVoteError(
            f"agent {_agent(vote)}'s ranking repeats an option: {_shown(ranking)}"
        )
    if ranking is vote.ranking:
        return vote
    return AgentVote(
        vote.agent_id, vote.option, vote.confidence, vote.reasoning, ranking, vote.weight
    )


def _check_weight(label: str, weight: object, max_weight: float) -> float:
    """*weight* as a float in [0, *max_weight*] (never -0.0), else the error naming *label*."""
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise InvalidVoteError(f"{label} is {_shown(weight)}; a weight is a number >= 0")
    # Comparisons, not math.isfinite(): an int too large for a float must not raise
    # OverflowError. NaN fails every comparison.
    if not weight >= 0 or weight == math.inf:
        raise InvalidVoteError(f"{label} is {_shown(weight)}; a weight is a finite number >= 0")
    if weight > max_weight:
        raise VoteLimitError(
            f"{label} is {_shown(weight)}, more than max_weight={max_weight:g}; scale the weights"
            " down or raise the max_weight option of ConflictResolver"
        )
    # ``+ 0.0`` turns -0.0 into 0.0, so a total's sign never depends on the votes' order.
    return float(weight) + 0.0


def as_threshold(threshold: Fraction | int | str | float) -> Fraction:
    """*threshold* as a Fraction in (1/2, 1]; ``ConfigurationError`` otherwise.

    Pass a ``Fraction`` (or ``"2/3"``) for exactness; a float is read from its decimal text,
    so ``0.75`` is 3/4 but ``0.6667`` is 6667/10000, not 2/3. A string is at most 64
    characters without an exponent; other types (``Decimal``) are refused.
    """
    try:
        if isinstance(threshold, bool) or not isinstance(threshold, Fraction | int | str | float):
            raise TypeError(threshold)
        # "1e-999999999" (or such a Decimal) would make Fraction build a billion-digit int.
        if isinstance(threshold, str) and (len(threshold) > 64 or "e" in threshold.lower()):
            raise ValueError(threshold)
        value = Fraction(str(threshold)) if isinstance(threshold, float) else Fraction(threshold)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        raise ConfigurationError(
            f"supermajority threshold {_shown(threshold)} is not a number; use e.g. Fraction(2, 3)"
        ) from None
    if not _HALF < value <= 1:
        raise ConfigurationError(
            f"supermajority threshold {_shown(threshold)} must be in (1/2, 1]; 2/3 and 3/4 are"
            " usual"
        )
    return value


#: Larger collections are sorted in runs this long and merged (see _code_point_sorted), and
#: taken into dicts this many at a time (_add_keys).
_SORT_RUN = 4_096


def _add_keys(keys: dict[str, None], items: Sequence[str]) -> None:
    """Add *items* to *keys*, at most _SORT_RUN per C call so the GIL is let go in between.

    A dict of str keys, not a set: the garbage collector skips such a dict but walks every
    slot of a big set (9 ms for 100,000 options) each time it looks at it.
    """
    for start in range(0, len(items), _SORT_RUN):
        keys.update(dict.fromkeys(items[start : start + _SORT_RUN]))


def _all_distinct(items: Sequence[str]) -> bool:
    """Whether *items* holds no option twice (see _add_keys)."""
    if len(items) <= _SORT_RUN:
        return len(set(items)) == len(items)
    seen: dict[str, None] = {}
    _add_keys(seen, items)
    return len(seen) == len(items)


def _code_point_sorted(options: Iterable[str]) -> list[str]:
    """*options* in code-point order, without one long C call holding the GIL.

    A big count runs in a worker thread, but ``sorted`` over 100,000 strings is a single call
    that keeps the GIL (and so the event loop) for over 100 ms. Short runs are sorted, then
    merged two at a time by ``sorted(a + b)``: timsort finds the two runs and merges them in
    linear time, so no call costs more than one linear pass over the items (a few ms per
    100,000), and the loop gets the GIL between calls. O(n log n) in all, in C (merging in
    Python with ``heapq.merge`` cost ~1 µs per item and most of a 100,000-vote count).
    """
    if isinstance(options, list | tuple | dict | set) and len(options) <= _SORT_RUN:
        return sorted(options)
    items = list(options)
    if len(items) <= _SORT_RUN:
        return sorted(items)
    # Often sorted already (votes collected in agent order): one linear look, stopping at the
    # first pair out of order.
    if all(map(operator.le, items, itertools.islice(items, 1, None))):
        return items
    runs = [sorted(items[start : start + _SORT_RUN]) for start in range(0, len(items), _SORT_RUN)]
    while len(runs) > 1:
        merged = [sorted(runs[index] + runs[index + 1]) for index in range(0, len(runs) - 1, 2)]
        if len(runs) % 2:
            merged.append(runs[-1])
        runs = merged
    return runs[0]


#: Up to this many distinct options ``_tally`` counts each with ``list.count``.
_FEW_OPTIONS = 16


def _tally(options: list[str], distinct: set[str] | None = None) -> dict[str, int]:
    """How often each option occurs in *options* (in no particular order).

    A few distinct options (the common case) are counted by ``list.count``, a plain C loop
    that compares by identity first: faster than a Counter's lookup per vote. The last of
    them holds what the others do not (one pass fewer).
    """
    if distinct is None:
        distinct = set(options)
    if 0 < len(distinct) <= _FEW_OPTIONS:
        *counted, rest = distinct
        counts = {option: options.count(option) for option in counted}
        counts[rest] = len(options) - sum(counts.values())
        return counts
    return Counter(options)


def _options(votes: Sequence[AgentVote]) -> tuple[list[str], set[str] | None]:
    """Each vote's option, and the distinct options if known (read once per count)."""
    if type(votes) is CheckedVotes and votes.options is not None:
        return votes.options, votes.distinct_options
    return [vote.option for vote in votes], None


def _counts(votes: Sequence[AgentVote]) -> dict[str, int]:
    counts = _tally(*_options(votes))
    return {option: counts[option] for option in _code_point_sorted(counts)}


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


def majority(votes: Sequence[AgentVote], *, limits: VoteLimits = DEFAULT_LIMITS) -> VoteCount:
    """The option with more than half of the votes cast, else no winner."""
    votes = validate_votes(votes, limits=limits)
    cast = len(votes)
    return _first_reaching(
        votes, cast // 2 + 1, f"no option has more than half of the {cast} votes"
    )


def supermajority(
    votes: Sequence[AgentVote],
    threshold: Fraction | int | str | float = DEFAULT_SUPERMAJORITY,
    *,
    limits: VoteLimits = DEFAULT_LIMITS,
) -> VoteCount:
    """The option with at least ``ceil(threshold x n)`` of the *n* votes, else no winner."""
    needed_share = as_threshold(threshold)
    votes = validate_votes(votes, limits=limits)
    cast = len(votes)
    # ceil(threshold x cast), exactly, in integers.
    needed = -(-needed_share.numerator * cast // needed_share.denominator)
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


def unanimous(votes: Sequence[AgentVote], *, limits: VoteLimits = DEFAULT_LIMITS) -> VoteCount:
    """The option every vote is for, else no winner."""
    votes = validate_votes(votes, limits=limits)
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
    votes: Sequence[AgentVote],
    agent_weights: Mapping[str, float] | None = None,
    *,
    limits: VoteLimits = DEFAULT_LIMITS,
) -> dict[str, float]:
    """Each vote's weight: confidence x (``vote.weight``, else the agent's weight, else 1)."""
    votes = validate_votes(votes, allow_empty=True, limits=limits)
    return {vote.agent_id: _vote_weight(vote, agent_weights, limits) for vote in votes}


def _vote_weight(
    vote: AgentVote, agent_weights: Mapping[str, float] | None, limits: VoteLimits
) -> float:
    """confidence x agent weight, never -0.0 (the vote itself is already checked)."""
    if vote.weight is not None:
        agent_weight = float(vote.weight)
    elif agent_weights and vote.agent_id in agent_weights:
        agent_weight = _check_weight(
            f"agent_weights[{_agent(vote)}]",
            agent_weights[vote.agent_id],
            limits.max_weight,
        )
    else:
        return float(vote.confidence) + 0.0
    return float(vote.confidence) * agent_weight + 0.0


def _any_weight(votes: Sequence[AgentVote]) -> bool:
    """Whether some vote of *votes* has its own weight (known when they were checked)."""
    if isinstance(votes, CheckedVotes):
        return votes.weighted
    return any(vote.weight is not None for vote in votes)


def _confidences_by_option(
    votes: Iterable[AgentVote], field: str
) -> collections.defaultdict[str, list[float]]:
    """Each option's votes' *field* (``confidence`` or ``_counted_confidence``), in vote order.

    A plain loop: with the interpreter's specialised attribute reads it costs about half of
    a column per field grouped through ``map`` (and lets the GIL go between votes).
    """
    grouped: collections.defaultdict[str, list[float]] = collections.defaultdict(list)
    if field == "confidence":
        for vote in votes:
            grouped[vote.option].append(vote.confidence)
    else:
        for vote in votes:
            grouped[vote._counted_option].append(vote._counted_confidence)
    return grouped


def _fsum_tallies(grouped: Mapping[str, list[float]]) -> dict[str, float] | None:
    """Each option's total, options in code-point order; None if a value is None.

    fsum is correctly rounded, so the totals do not depend on the order the votes came in;
    fsum of the raw values + 0.0 equals fsum of each value + 0.0 (the exact sum is the same,
    only a total of -0.0 would differ in sign).
    """
    try:
        return {option: math.fsum(grouped[option]) + 0.0 for option in _code_point_sorted(grouped)}
    except TypeError:
        return None


def weighted(
    votes: Sequence[AgentVote],
    agent_weights: Mapping[str, float] | None = None,
    *,
    limits: VoteLimits = DEFAULT_LIMITS,
) -> VoteCount:
    """The option with strictly the highest total weight, else no winner.

    A vote weighs ``confidence x agent weight``; the agent weight is ``vote.weight``, else
    ``agent_weights[agent_id]``, else 1. Weights are at most ``limits.max_weight``, so no
    total can overflow and every total is exact (correctly rounded) in any vote order.
    """
    votes = validate_votes(votes, limits=limits)
    if agent_weights is not None and not isinstance(agent_weights, Mapping):
        raise InvalidVoteError(
            f"agent_weights must be a mapping of agent id to weight, got {_shown(agent_weights)}"
        )
    tallies = None
    if not agent_weights:
        grouped = votes.confidences if type(votes) is CheckedVotes else None
        if grouped is None and type(votes) is CheckedVotes and votes.options is not None:
            # Read by _columns, so every vote was checked where it entered (a big count).
            grouped = _confidences_by_option(votes, "_counted_confidence")
        elif grouped is None and not _any_weight(votes):
            # Every vote weighs its confidence (checked: a float or int in [0, 1]).
            grouped = _confidences_by_option(votes, "confidence")
        if grouped is not None:
            # None among the values (a vote with its own weight, read by _columns): fsum
            # refuses it, and the votes are weighed one by one below.
            tallies = _fsum_tallies(grouped)
    if tallies is None:
        per_option: dict[str, list[float]] = {}
        for vote in votes:
            weight = _vote_weight(vote, agent_weights, limits)
            values = per_option.get(vote.option)
            if values is None:
                per_option[vote.option] = [weight]
            else:
                values.append(weight)
        tallies = _fsum_tallies(per_option)
        assert tallies is not None  # the weights are floats
    total = math.fsum(tallies.values())
    top = max(tallies.values())
    leaders = [option for option, value in tallies.items() if value == top]
    if len(leaders) == 1:
        return VoteCount(
            winner=leaders[0],
            tallies=dict(tallies),
            consensus_score=_share(top, total, len(tallies)),
        )
    shown = ", ".join(map(_shown, leaders[:8])) + (", ..." if len(leaders) > 8 else "")
    return VoteCount(
        winner=None,
        tallies=dict(tallies),
        consensus_score=_share(top, total, len(tallies)),
        reason=f"{len(leaders)} options tie at weight {top:g}: {shown}",
    )


def ranked_choice(
    votes: Sequence[AgentVote],
    elimination_order: Sequence[str] | None = None,
    *,
    limits: VoteLimits = DEFAULT_LIMITS,
) -> VoteCount:
    """Instant runoff over each vote's ballot (``ranking``, else ``[option]``).

    Each round counts every ballot for its highest-ranked continuing option; ballots ranking
    no continuing option are exhausted and drop out. An option with more than half of the
    continuing ballots wins; otherwise exactly one option with the fewest votes is
    eliminated. Ties for the fewest: the option earliest in *elimination_order* goes first
    (options listed before unlisted ones), otherwise the option sorting last by code point.
    Two options tied in the final round, or every ballot exhausted, means no winner.

    The count takes O(E log E) time and O(E) memory for E ballot entries in all: each ballot
    moves forward only, the fewest and the most votes come from heaps, and each round records
    only the counts that changed (:class:`IRVRound`).
    """
    votes = validate_votes(votes, limits=limits)
    order_rank = _elimination_ranks(elimination_order)
    decided = _decided_in_round_one(votes)
    if decided is not None:
        return decided
    # Identical ballots are counted together: few distinct ballots is the common case. A
    # ballot ranking one option is kept as that option (a str): it never moves, it is simply
    # exhausted when its option goes, so it needs no tuple, pile or iterator (objects the
    # garbage collector would walk, 100,000 plain votes at a time).
    # Counted in C: the checked votes' rankings are tuples (led by the option) or None.
    counted = votes.by_ranking if type(votes) is CheckedVotes else None
    by_ranking: Counter[tuple[str, ...] | None] = (
        Counter([vote.ranking for vote in votes]) if counted is None else Counter(counted)
    )
    ballots: dict[str | tuple[str, ...], int] = {}
    if by_ranking.pop(None, 0):
        ballots.update(Counter([vote.option for vote in votes if vote.ranking is None]))
    for ranking, copies in by_ranking.items():
        assert ranking is not None  # popped above
        ballot = ranking if len(ranking) > 1 else ranking[0]
        ballots[ballot] = ballots.get(ballot, 0) + copies
    distinct: dict[str, None] = {}
    for ballot in ballots:
        if type(ballot) is str:
            distinct[ballot] = None
        else:
            _add_keys(distinct, ballot)
    options = _code_point_sorted(distinct)
    # ``counts`` holds the continuing options, in code-point order (deleting keeps it). Every
    # option starts continuing, so each ballot first counts for its first entry; when an
    # option is eliminated only the ballots on its pile move on to their next continuing
    # option (or are exhausted). Options only ever stop continuing, so a ballot never looks
    # back, and a count only ever grows.
    # A comprehension, not dict.fromkeys: a loop the GIL can leave between options.
    counts = {option: 0 for option in options}  # noqa: C420
    piles = _Piles()
    # Per option, how many of its ballots rank only it.
    alone: dict[str, int] = {}
    for ballot, weight in ballots.items():
        if isinstance(ballot, str):
            counts[ballot] += weight
            alone[ballot] = weight
        else:
            counts[ballot[0]] += weight
            piles.add(ballot, weight)
    tally = _IrvTally(counts, functools.partial(_tie_order, options, order_rank))
    exhausted = 0
    total = len(votes)
    rounds: list[IRVRound] = []
    changes: dict[str, int] = dict(counts)
    while True:
        active = total - exhausted
        top_option, top = tally.most()
        winner = eliminated = None
        tied = 0
        if 2 * top > active:
            winner = top_option
        else:
            candidate, fewest = tally.fewest()
            tied = tally.holding(fewest)
            if active and not (len(counts) == 2 and tied == 2):
                eliminated = candidate
        rounds.append(
            IRVRound(
                number=len(rounds) + 1,
                tallies=changes,
                continuing_ballots=active,
                exhausted_ballots=exhausted,
                continuing_options=len(counts),
                winner=winner,
                eliminated=eliminated,
                tied=tied if tied > 1 else 0,
            )
        )
        if eliminated is None:
            return _irv_result(winner, top, active, counts, tuple(rounds))
        tally.remove(eliminated)
        moved, newly_exhausted = piles.transfer(eliminated, counts)
        exhausted += alone.pop(eliminated, 0) + newly_exhausted
        changes = {option: counts[option] for option in _code_point_sorted(moved)} if moved else {}
        for option, before in moved.items():
            tally.update(option, before)


def _decided_in_round_one(votes: Sequence[AgentVote]) -> VoteCount | None:
    """The count when round 1 decides (an option is first on more than half of the ballots).

    Then no ballot ever moves, so the count needs the first preferences (each vote's option)
    and the set of options ranked anywhere (round 1 lists every option), not the piles.
    """
    first = votes.first_preferences if type(votes) is CheckedVotes else None
    if first is None:
        first = _tally(*_options(votes))
    top_option, top = max(first.items(), key=_COUNT)
    total = len(votes)
    if 2 * top <= total:
        return None
    distinct: dict[str, None] = dict.fromkeys(first)
    known = votes.rankings if type(votes) is CheckedVotes else None
    rankings: Iterable[tuple[str, ...] | None] = ()
    if known is not None:
        # Collected before the count, only when few entries or short rankings (at most 32
        # options each, at most 5,000 votes): one C call over them all is bounded.
        distinct.update(dict.fromkeys(itertools.chain.from_iterable(filter(None, known))))
    else:
        rankings = {vote.ranking for vote in votes}
    for ranking in rankings:
        if ranking is None or len(ranking) == 1:
            continue
        if len(ranking) <= _SORT_RUN:
            distinct.update(dict.fromkeys(ranking))
        else:
            _add_keys(distinct, ranking)
    counts = {option: first.get(option, 0) for option in _code_point_sorted(distinct)}
    round_one = IRVRound(
        number=1,
        tallies=dict(counts),
        continuing_ballots=total,
        exhausted_ballots=0,
        continuing_options=len(counts),
        winner=top_option,
    )
    return _irv_result(top_option, top, total, counts, (round_one,))


def _irv_result(
    winner: str | None, top: int, active: int, counts: dict[str, int], rounds: tuple[IRVRound, ...]
) -> VoteCount:
    """The count after the last round: *top* is the most votes an option held in it."""
    if winner is not None:
        return VoteCount(
            winner=winner, tallies=_as_floats(counts), consensus_score=top / active, rounds=rounds
        )
    if active == 0:
        reason = "every ballot is exhausted"
    else:
        first, second = counts
        reason = f"{_shown(first)} and {_shown(second)} tie in the final round"
    return VoteCount(
        winner=None,
        tallies=_as_floats(counts),
        consensus_score=_share(top, active, len(counts)) if active else 0.0,
        rounds=rounds,
        reason=reason,
    )


class _IrvTally:
    """The continuing options' counts, with the fewest and the most at hand in O(log n).

    Two heaps with lazy deletion (an entry whose count is no longer the option's is skipped
    when it reaches the top) and the number of options holding each count: scanning every
    option each round would make the count quadratic in the number of options. The heaps are
    built only when a first elimination needs them; round 1 often decides alone.

    A heap entry is one int, ``count x n + key`` (``-count x n + key`` for the most), where
    *key* is the option's place in the elimination tie order: ints are compared fast and,
    unlike tuples, are not tracked by the garbage collector, whose full passes over hundreds of
    thousands of tuples would hold the GIL (and the event loop) for 100 ms at a time.
    """

    __slots__ = ("_by_key", "_counts", "_high", "_holding", "_key", "_low", "_make_tie_order")

    def __init__(self, counts: dict[str, int], tie_order: Callable[[], list[str]]) -> None:
        self._counts = counts
        self._make_tie_order = tie_order
        self._by_key: list[str] = []
        self._key: dict[str, int] = {}
        self._holding: Counter[int] = Counter()
        self._low: list[int] | None = None
        self._high: list[int] = []

    def _build(self) -> list[int]:
        counts = self._counts
        self._by_key = by_key = self._make_tie_order()
        self._key = key = {option: index for index, option in enumerate(by_key)}
        size = len(by_key)
        self._holding = Counter(counts.values())
        self._low = low = [count * size + key[option] for option, count in counts.items()]
        self._high = [-count * size + key[option] for option, count in counts.items()]
        heapq.heapify(low)
        heapq.heapify(self._high)
        return low

    def most(self) -> tuple[str, int]:
        """An option with the most votes, and that count (the option is unique past half)."""
        if self._low is None:
            return max(self._counts.items(), key=_COUNT)
        high, size, counts = self._high, len(self._by_key), self._counts
        while True:
            count, key = divmod(high[0], size)
            option = self._by_key[key]
            if counts.get(option) == -count:
                return option, -count
            heapq.heappop(high)

    def fewest(self) -> tuple[str, int]:
        """The option the tie rule eliminates among those with the fewest votes, and that count."""
        low = self._low if self._low is not None else self._build()
        size, counts = len(self._by_key), self._counts
        while True:
            count, key = divmod(low[0], size)
            option = self._by_key[key]
            if counts.get(option) == count:
                return option, count
            heapq.heappop(low)

    def holding(self, count: int) -> int:
        """How many continuing options hold exactly *count* votes."""
        return self._holding[count]

    def remove(self, option: str) -> None:
        """Stop counting *option* (its heap entries become stale)."""
        self._holding[self._counts.pop(option)] -= 1

    def update(self, option: str, before: int) -> None:
        """Note that *option*'s count changed from *before* to its current count."""
        count = self._counts[option]
        self._holding[before] -= 1
        self._holding[count] += 1
        assert self._low is not None, "fewest() builds the heaps before any update"
        size, key = len(self._by_key), self._key[option]
        heapq.heappush(self._low, count * size + key)
        heapq.heappush(self._high, -count * size + key)


def _tie_order(options: list[str], order_rank: Mapping[str, int]) -> list[str]:
    """*options* in the order the elimination tie rule takes them: first = eliminated first.

    Options listed in the elimination order come first, in its order; the others follow, the
    one sorting last by code point first. *options* are in code-point order.
    """
    listed = sorted(
        (option for option in options if option in order_rank), key=order_rank.__getitem__
    )
    return listed + [option for option in reversed(options) if option not in order_rank]


class _Piles:
    """The ballots ranking several options, each on the pile of the option it counts for.

    Kept in flat lists indexed by ballot (the ballot, its weight, the position it counts at,
    the next ballot on the same pile) with a dict from option to the top of its pile: a
    linked list in arrays. Unlike a tuple or an iterator per ballot, that makes no object per
    ballot for the garbage collector to walk; with 100,000 distinct ballots those walks held
    the GIL, and so the event loop, for 100 ms and more.
    """

    __slots__ = ("_ballots", "_next", "_positions", "_tops", "_weights")

    def __init__(self) -> None:
        self._ballots: list[tuple[str, ...]] = []
        self._weights: list[int] = []
        self._positions: list[int] = []
        self._next: list[int] = []
        self._tops: dict[str, int] = {}

    def add(self, ballot: tuple[str, ...], weight: int) -> None:
        """Put *weight* identical copies of *ballot* on the pile of its first option."""
        index = len(self._ballots)
        self._ballots.append(ballot)
        self._weights.append(weight)
        self._positions.append(0)
        self._next.append(self._tops.get(ballot[0], -1))
        self._tops[ballot[0]] = index

    def transfer(self, eliminated: str, counts: dict[str, int]) -> tuple[dict[str, int], int]:
        """Move the ballots on *eliminated*'s pile to their next continuing option.

        Returns each option whose count changed with its count before, and how many ballots
        are exhausted. *counts* holds the continuing options (*eliminated* no longer).
        """
        ballots, weights, positions, following = (
            self._ballots,
            self._weights,
            self._positions,
            self._next,
        )
        tops = self._tops
        moved: dict[str, int] = {}
        exhausted = 0
        index = tops.pop(eliminated, -1)
        while index >= 0:
            after = following[index]
            ballot, weight = ballots[index], weights[index]
            position = positions[index] + 1
            while position < len(ballot) and ballot[position] not in counts:
                position += 1
            if position < len(ballot):
                option = ballot[position]
                count = counts[option]
                moved.setdefault(option, count)
                counts[option] = count + weight
                positions[index] = position
                following[index] = tops.get(option, -1)
                tops[option] = index
            else:
                exhausted += weight
            index = after
        return moved, exhausted


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
