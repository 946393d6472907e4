"""Votes, vote types and resolutions: the records of a decision, as msgspec Structs.

Every record here is a frozen msgspec Struct, so a vote or a whole resolution can travel over
the bus (wire format msgpack, with a ``version`` field) and be recounted elsewhere.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, ClassVar

import msgspec

__all__ = [
    "VOTES_WIRE_VERSION",
    "AgentVote",
    "ConflictType",
    "IRVRound",
    "Resolution",
    "ResolutionStatus",
    "VoteCount",
    "VoteType",
    "round_tallies",
]

#: Version of the vote and resolution records on the wire (2: IRV rounds record changes).
VOTES_WIRE_VERSION = 2


class VoteType(enum.StrEnum):
    """How votes are counted (see ``docs/voting.md``)."""

    MAJORITY = "majority"
    SUPERMAJORITY = "supermajority"
    UNANIMOUS = "unanimous"
    WEIGHTED = "weighted"
    RANKED_CHOICE = "ranked_choice"


class ConflictType(enum.StrEnum):
    """What the agents disagree about; recorded on the resolution, not used in counting."""

    DECISION = "decision"
    RESOURCE_ALLOCATION = "resource_allocation"
    TASK_ASSIGNMENT = "task_assignment"
    PRIORITY = "priority"
    FACTUAL = "factual"
    STRATEGY = "strategy"


class ResolutionStatus(enum.StrEnum):
    """The outcome of a conflict."""

    #: A winner was found, by the vote or by the supervisor.
    RESOLVED = "resolved"
    #: No winner; a supervisor exists but made no decision.
    ESCALATED = "escalated"
    #: No winner and no supervisor.
    NO_CONSENSUS = "no_consensus"


#: The default limits (``VoteLimits``) a vote is checked against where it enters.
DEFAULT_MAX_RANKING_LENGTH = 100_000
DEFAULT_MAX_WEIGHT = 1e12


class AgentVote(msgspec.Struct, frozen=True):
    """One agent's vote.

    ``confidence`` is in [0, 1]; ``ranking`` (ranked-choice ballots) lists options best
    first and must start with ``option``; ``weight`` overrides the resolver's weight for this
    agent in WEIGHTED counting.

    A vote is checked once, where it enters: when it is built, decoded or converted (msgspec
    calls ``__post_init__`` in each case). Building a bad vote does not raise; the vote is
    marked, and counting it raises the typed error, so a vote that arrived over the bus is
    judged the same way as one built here. Votes that passed are counted without a second
    look (only what depends on the count's limits is looked at again).
    """

    agent_id: str
    option: str
    confidence: float = 1.0
    reasoning: str = ""
    ranking: tuple[str, ...] | None = None
    weight: float | None = None

    #: What a count reads instead of ``option``: the option itself on a vote that passed the
    #: check where it entered, None on any other (see ``_voting._columns``). Reading it for
    #: every vote tells the checked votes from the others in the same pass that collects the
    #: options, so a count makes no separate pass over the votes' classes.
    _counted_option: ClassVar[Any] = None
    #: The same for ``confidence``, but None on a vote with its own ``weight`` too: what a
    #: WEIGHTED count sums when every vote simply weighs its confidence.
    _counted_confidence: ClassVar[Any] = None
    #: The same for ``ranking`` (None: the vote ranks nothing), but an unhashable marker on a
    #: vote whose ranking is longer than _SHORT_RANKING or that did not pass the check: so a
    #: set or Counter of these is made in time bounded by the votes, or refused.
    _counted_ranking: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass (ours or a user's) is never taken as checked unless set so below.
        super().__init_subclass__(**kwargs)
        cls._counted_option = cls._counted_confidence = cls._counted_ranking = None

    def __post_init__(self) -> None:
        # Marked by its class (subclasses that look like AgentVote), so that a count can tell
        # the checked votes from the others through ``_counted_option`` (read in C-speed
        # comprehensions), not in a Python loop. The class is a function of the values, so
        # equal votes stay equal.
        if type(self) is AgentVote:
            if not _well_formed(self):
                _SET_CLASS(self, _UncheckedVote)
                return
            long = self.ranking is not None and len(self.ranking) > _SHORT_RANKING
            if long or self.weight is not None:
                _SET_CLASS(self, _CHECKED_CLASSES[self.weight is not None, long])

    @property
    def ballot(self) -> tuple[str, ...]:
        """The ranked ballot this vote stands for: ``ranking``, else ``(option,)``."""
        return tuple(self.ranking) if self.ranking else (self.option,)


class _UncheckedVote(AgentVote, frozen=True):
    """An ``AgentVote`` that did not pass the check where it entered: counts check it fully.

    Not only bad votes: a weight over the default ``max_weight`` or a ranking given as a list
    also lands here (a count with raised limits or normalising the list accepts it).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt as an AgentVote, which checks (and marks) it again.
        return (AgentVote, msgspec.structs.astuple(self))


class _WeightedVote(AgentVote, frozen=True):
    """A checked ``AgentVote`` with its own ``weight`` (WEIGHTED cannot sum confidences)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (AgentVote, msgspec.structs.astuple(self))


class _LongRankingVote(AgentVote, frozen=True):
    """A checked ``AgentVote`` ranking more than _SHORT_RANKING options."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (AgentVote, msgspec.structs.astuple(self))


class _WeightedLongRankingVote(AgentVote, frozen=True):
    """A checked ``AgentVote`` with its own ``weight`` and a long ranking."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (AgentVote, msgspec.structs.astuple(self))


class _Unhashable:
    """What ``_counted_ranking`` reads on a long ranking or an unchecked vote: a set refuses it."""

    __hash__ = None  # type: ignore[assignment]


#: Rankings up to this long are "short": interned where they enter (identical rankings become
#: one tuple, found by identity in a count's set of rankings) and hashed without a look at
#: their length first. At most _MAX_INTERNED are kept; then the table starts again.
_SHORT_RANKING = 32
_MAX_INTERNED = 4_096
_INTERNED: dict[tuple[str, ...], tuple[str, ...]] = {}

#: The class of a checked vote by (has its own weight, has a long ranking).
_CHECKED_CLASSES: dict[tuple[bool, bool], type[AgentVote]] = {
    (False, False): AgentVote,
    (True, False): _WeightedVote,
    (False, True): _LongRankingVote,
    (True, True): _WeightedLongRankingVote,
}
#: The classes of votes that passed the check where they entered.
_CHECKED_TYPES = frozenset(_CHECKED_CLASSES.values())

# Reported and shown as AgentVote; unpickling builds an AgentVote, which checks again.
for _marked in (_UncheckedVote, _WeightedVote, _LongRankingVote, _WeightedLongRankingVote):
    _marked.__name__ = _marked.__qualname__ = "AgentVote"
del _marked
_SET_CLASS = object.__dict__["__class__"].__set__
_SET_RANKING = AgentVote.__dict__["ranking"].__set__
# The fields themselves (member descriptors): on a checked vote ``_counted_option`` reads
# ``option`` at the speed of a plain field.
_UNHASHABLE = _Unhashable()
for (_own_weight, _long), _checked in _CHECKED_CLASSES.items():
    _checked._counted_option = AgentVote.__dict__["option"]
    _checked._counted_confidence = None if _own_weight else AgentVote.__dict__["confidence"]
    _checked._counted_ranking = _UNHASHABLE if _long else AgentVote.__dict__["ranking"]
del _own_weight, _long, _checked
_UncheckedVote._counted_ranking = _UNHASHABLE


def _well_formed(vote: AgentVote) -> bool:
    """Whether *vote* passes every check a count makes under the default limits.

    A short ranking that passes is interned on the way (see _SHORT_RANKING).
    """
    agent_id, option, confidence = vote.agent_id, vote.option, vote.confidence
    if (
        type(agent_id) is not str
        or not agent_id
        or type(option) is not str
        or not option
        # bool is not an int here (type(), not isinstance); NaN fails the comparisons, and an
        # int too large for a float compares without OverflowError.
        or (type(confidence) is not float and type(confidence) is not int)
        or not 0 <= confidence <= 1
    ):
        return False
    weight = vote.weight
    if weight is not None and (
        (type(weight) is not float and type(weight) is not int)
        or not 0 <= weight <= DEFAULT_MAX_WEIGHT
    ):
        return False
    ranking = vote.ranking
    if ranking is None:
        return True
    if (
        type(ranking) is not tuple
        or not 1 <= len(ranking) <= DEFAULT_MAX_RANKING_LENGTH
        or ranking[0] != option
    ):
        return False
    for entry in ranking:
        if type(entry) is not str or not entry:
            return False
    # A dict of str keys, not a set: the garbage collector skips it (see _voting._add_keys).
    if len(dict.fromkeys(ranking)) != len(ranking):
        return False
    if len(ranking) <= _SHORT_RANKING:
        if len(_INTERNED) >= _MAX_INTERNED:
            _INTERNED.clear()
        interned = _INTERNED.setdefault(ranking, ranking)
        if interned is not ranking:
            # Equal content, so the vote stays equal (and hashes the same).
            _SET_RANKING(vote, interned)
    return True


class IRVRound(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One round of an instant-runoff count, recorded by what changed since the round before.

    Recording every continuing option's count in every round would grow with options x
    rounds (quadratic: 100,000 options would need 5 x 10^9 entries), so a round holds only
    the counts that changed: in round 1 every option's count, later only the options that
    received the ballots of the option eliminated the round before. ``round_tallies(n)`` on
    the :class:`VoteCount` or :class:`Resolution` replays them into round *n*'s full tallies.
    """

    #: 1 for the first round.
    number: int
    #: Round 1: votes per option (every option, in code-point order). Later rounds: the new
    #: count of each option whose count changed, in code-point order; options not listed kept
    #: their count, and the option eliminated the round before is gone.
    tallies: dict[str, int]
    #: Ballots that still rank a continuing option.
    continuing_ballots: int
    #: Ballots that rank no continuing option any more (they drop out of the count).
    exhausted_ballots: int
    #: How many options were continuing in this round.
    continuing_options: int = 0
    #: The option that won in this round, if any.
    winner: str | None = None
    #: The option eliminated at the end of this round, if any.
    eliminated: str | None = None
    #: How many options tied for the fewest votes, when more than one did (the tie rule
    #: chose); 0 otherwise. They are the options with the fewest votes in ``round_tallies``.
    tied: int = 0


def round_tallies(rounds: Sequence[IRVRound], number: int) -> dict[str, int]:
    """The full tallies of round *number* (1 = first), replayed from *rounds*' changes.

    Options in code-point order; linear in the size of the records up to that round.

    Raises:
        IndexError: there is no round *number*.
    """
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(rounds):
        raise IndexError(f"there is no round {number!r}; rounds run from 1 to {len(rounds)}")
    tallies: dict[str, int] = {}
    eliminated: str | None = None
    for round_ in rounds[:number]:
        if eliminated is not None:
            tallies.pop(eliminated, None)
        # Round 1 lists every option in code-point order; updating existing keys and
        # deleting keeps that order.
        tallies.update(round_.tallies)
        eliminated = round_.eliminated
    return tallies


class VoteCount(msgspec.Struct, frozen=True, kw_only=True):
    """What a voting method returns: the winner (or None), the tallies and the score.

    ``tallies`` are counts (or weight totals for WEIGHTED) of the deciding round, options in
    code-point order; ``consensus_score`` is the winner's share of what was counted in that
    round, or the top option's share when there is no winner.
    """

    winner: str | None
    tallies: dict[str, float]
    consensus_score: float
    rounds: tuple[IRVRound, ...] = ()
    reason: str = ""

    def round_tallies(self, number: int, /) -> dict[str, int]:
        """The full tallies of IRV round *number* (1 = first); see :class:`IRVRound`."""
        return round_tallies(self.rounds, number)


class Resolution(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a conflict and everything needed to recount it.

    ``votes`` are the ballots as counted; ``vote_type``, ``threshold``, ``agent_weights``,
    ``elimination_order``, ``required_votes`` and ``supervisor_decision`` are the parameters
    the count used, so :meth:`ConflictResolver.recount` can reproduce it.
    """

    conflict_id: str
    conflict_type: ConflictType
    vote_type: str
    status: ResolutionStatus
    winning_option: str | None
    consensus_score: float
    tallies: dict[str, float]
    rounds: tuple[IRVRound, ...] = ()
    #: ``"vote"`` when the count decided, ``"supervisor"`` when the supervisor did, else None.
    resolved_by: str | None = None
    escalated: bool = False
    #: Agents whose votes were counted, in code-point order.
    participants: tuple[str, ...] = ()
    #: Agents asked to vote that did not (swarm rounds).
    abstentions: tuple[str, ...] = ()
    votes: tuple[AgentVote, ...] = ()
    #: The supermajority threshold as ``"p/q"`` (SUPERMAJORITY only).
    threshold: str | None = None
    #: The agent weights used for votes without their own ``weight`` (WEIGHTED only).
    agent_weights: dict[str, float] = msgspec.field(default_factory=dict)
    elimination_order: tuple[str, ...] | None = None
    required_votes: int | None = None
    supervisor_agent_id: str | None = None
    #: The option the supervisor chose (its vote or its callback), if it chose.
    supervisor_decision: str | None = None
    #: Why there is no winner, or how the winner was found.
    reason: str = ""
    timestamp: float = 0.0
    version: int = VOTES_WIRE_VERSION

    @property
    def resolved(self) -> bool:
        """True when there is a winning option."""
        return self.status is ResolutionStatus.RESOLVED

    @property
    def threshold_fraction(self) -> Fraction | None:
        """The supermajority threshold as a Fraction, if one was used."""
        return None if self.threshold is None else Fraction(self.threshold)

    def round_tallies(self, number: int, /) -> dict[str, int]:
        """The full tallies of IRV round *number* (1 = first); see :class:`IRVRound`."""
        return round_tallies(self.rounds, number)

    def as_dict(self) -> dict[str, Any]:
        """The resolution as plain builtins (enums as their values), e.g. for JSON."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result
