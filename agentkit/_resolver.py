"""``ConflictResolver``: counts votes with a voting method and escalates to a supervisor.

The counting itself is done by the pure functions in :mod:`agentkit._voting` (or by a
plugin's method); the resolver adds the parameters (weights, threshold, elimination order),
supervisor escalation and a :class:`Resolution` that records enough to be recounted.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import msgspec

from agentkit import _voting
from agentkit._clock import SYSTEM_CLOCK
from agentkit._votes import (
    AgentVote,
    ConflictType,
    Resolution,
    ResolutionStatus,
    VoteCount,
    VoteType,
)
from agentkit.exceptions import ConfigurationError, PluginError

if TYPE_CHECKING:
    from agentkit._plugins import PluginManager
    from agentkit.protocols import Clock

__all__ = ["Conflict", "ConflictResolver", "SupervisorCallback", "VotingMethod"]

logger = logging.getLogger("agentkit.voting")

#: A plugin's voting method: takes the checked votes, returns a ``VoteCount`` or the tallies
#: (``{option: total}``; then the option with strictly the highest total wins).
VotingMethod = Callable[[tuple[AgentVote, ...]], "VoteCount | Mapping[str, float]"]

RESOLVED_BY_VOTE = "vote"
RESOLVED_BY_SUPERVISOR = "supervisor"


@dataclasses.dataclass(frozen=True)
class Conflict:
    """What a supervisor callback is asked to decide: the votes and their inconclusive count."""

    conflict_id: str
    conflict_type: ConflictType
    vote_type: str
    votes: tuple[AgentVote, ...]
    count: VoteCount


#: The supervisor callback: ``(conflict) -> option`` (sync or async); None makes no decision.
SupervisorCallback = Callable[[Conflict], "Awaitable[str | None] | str | None"]


def _conflict_type(value: ConflictType | str) -> ConflictType:
    if isinstance(value, ConflictType):
        return value
    try:
        return ConflictType(str(value).lower())
    except ValueError:
        known = ", ".join(member.value for member in ConflictType)
        raise ConfigurationError(f"unknown conflict type {value!r}; known: {known}") from None


def _checked_agent_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    checked: dict[str, float] = {}
    for agent_id, weight in (weights or {}).items():
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or weight < 0
        ):
            raise ConfigurationError(
                f"agent_weights[{agent_id!r}] is {weight!r}; a weight is a finite number >= 0"
            )
        checked[agent_id] = float(weight)
    return checked


class ConflictResolver:
    """Resolves conflicts between agents by voting (implements ``protocols.Resolver``).

    Args:
        default_vote_type: The method used when ``resolve_conflict`` gets none: a
            :class:`VoteType`, its value (``"weighted"``) or a plugin method's name.
        supervisor_agent_id: The supervisor's agent id. When the vote finds no winner, the
            supervisor's own vote (it also counts normally) decides.
        supervisor: Called (and awaited if async) with a :class:`Conflict` when the vote finds
            no winner and the supervisor did not vote; returns the option, or None.
        agent_weights: Per-agent weights for WEIGHTED (a vote's own ``weight`` wins; 1 else).
        supermajority_threshold: In (1/2, 1]; a Fraction for exactness (default 2/3).
        plugins: A :class:`PluginManager` whose plugins add voting methods through the
            ``agentkit_register_voting_methods`` hook; None: built-in methods only.
        elimination_order: Default tie rule for RANKED_CHOICE eliminations.
        clock: Source of the resolution's timestamp.

    With a supervisor (an id or a callback) a conflict without a winner is decided by it
    (status RESOLVED, ``resolved_by="supervisor"``, ``escalated=True``) or, if it makes no
    decision, ESCALATED; without one it ends NO_CONSENSUS.
    """

    def __init__(
        self,
        default_vote_type: VoteType | str = VoteType.MAJORITY,
        supervisor_agent_id: str | None = None,
        supervisor: SupervisorCallback | None = None,
        agent_weights: Mapping[str, float] | None = None,
        supermajority_threshold: Fraction | int | str | float = _voting.DEFAULT_SUPERMAJORITY,
        plugins: PluginManager | None = None,
        *,
        elimination_order: Sequence[str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        if supervisor is not None and not callable(supervisor):
            raise ConfigurationError(f"supervisor must be a callable, got {supervisor!r}")
        self.supervisor_agent_id = supervisor_agent_id
        self.supervisor = supervisor
        self.agent_weights = _checked_agent_weights(agent_weights)
        self.supermajority_threshold = _voting.as_threshold(supermajority_threshold)
        _voting._elimination_ranks(elimination_order)
        self.elimination_order = None if elimination_order is None else tuple(elimination_order)
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self._plugin_methods = self._load_plugin_methods(plugins)
        self.default_vote_type = self.method_name(default_vote_type)

    def __repr__(self) -> str:
        return (
            f"ConflictResolver(default_vote_type={self.default_vote_type!r},"
            f" supervisor_agent_id={self.supervisor_agent_id!r})"
        )

    @property
    def methods(self) -> list[str]:
        """Every voting method this resolver knows: built-in ones, then plugins', by name."""
        return [member.value for member in VoteType] + sorted(self._plugin_methods)

    @property
    def has_supervisor(self) -> bool:
        """Whether conflicts without a winner escalate (a supervisor id or callback is set)."""
        return self.supervisor_agent_id is not None or self.supervisor is not None

    # -- plugins ------------------------------------------------------------------------

    @staticmethod
    def _load_plugin_methods(plugins: PluginManager | None) -> dict[str, VotingMethod]:
        if plugins is None:
            return {}
        builtin = {member.value for member in VoteType}
        methods: dict[str, VotingMethod] = {}
        # pluggy answers the most recently registered plugin first; keep registration order
        # so that "the later plugin" is the one refused.
        for answer in reversed(plugins.hook.agentkit_register_voting_methods()):
            if not answer:
                continue
            for name, method in dict(answer).items():
                if not isinstance(name, str) or not name or name.lower() in builtin:
                    logger.warning("plugin voting method %r ignored: the name is reserved", name)
                elif name in methods:
                    logger.warning(
                        "plugin voting method %r ignored: another plugin registered it first",
                        name,
                    )
                elif not callable(method):
                    logger.warning("plugin voting method %r ignored: not callable", name)
                else:
                    methods[name] = method
        return methods

    def method_name(self, vote_type: VoteType | str | None) -> str:
        """The name of the method *vote_type* selects; ``ConfigurationError`` if unknown."""
        if vote_type is None:
            return self.default_vote_type
        if isinstance(vote_type, VoteType):
            return vote_type.value
        if isinstance(vote_type, str):
            if vote_type in self._plugin_methods:
                return vote_type
            lowered = vote_type.lower()
            for member in VoteType:
                if lowered in (member.value, member.name.lower()):
                    return member.value
        raise ConfigurationError(
            f"unknown vote type {vote_type!r}; known: {', '.join(self.methods)}"
        )

    # -- counting -----------------------------------------------------------------------

    def count(
        self,
        votes: Iterable[AgentVote],
        vote_type: VoteType | str | None = None,
        *,
        threshold: Fraction | int | str | float | None = None,
        agent_weights: Mapping[str, float] | None = None,
        elimination_order: Sequence[str] | None = None,
    ) -> VoteCount:
        """Count *votes* by *vote_type* (default: the resolver's) and return the count.

        No supervisor, no escalation: just the method. Raises the ``VotingError`` subclasses
        for bad votes and ``ConfigurationError`` for an unknown method or a bad threshold.
        """
        name = self.method_name(vote_type)
        checked = _voting.validate_votes(votes)
        if name == VoteType.MAJORITY.value:
            return _voting.majority(checked)
        if name == VoteType.SUPERMAJORITY.value:
            chosen = self.supermajority_threshold if threshold is None else threshold
            return _voting.supermajority(checked, chosen)
        if name == VoteType.UNANIMOUS.value:
            return _voting.unanimous(checked)
        if name == VoteType.WEIGHTED.value:
            weights = self.agent_weights if agent_weights is None else agent_weights
            return _voting.weighted(checked, weights)
        if name == VoteType.RANKED_CHOICE.value:
            order = self.elimination_order if elimination_order is None else elimination_order
            return _voting.ranked_choice(checked, order)
        return self._count_with_plugin(name, checked)

    def _count_with_plugin(self, name: str, votes: tuple[AgentVote, ...]) -> VoteCount:
        answer = self._plugin_methods[name](votes)
        if isinstance(answer, VoteCount):
            return answer
        if isinstance(answer, Mapping):
            tallies = {str(option): float(answer[option]) for option in sorted(answer)}
            if not tallies:
                return VoteCount(winner=None, tallies={}, consensus_score=0.0)
            total = math.fsum(tallies.values())
            top = max(tallies.values())
            leaders = [option for option, value in tallies.items() if value == top]
            share = top / total if total > 0 else 1.0 / len(tallies)
            return VoteCount(
                winner=leaders[0] if len(leaders) == 1 else None,
                tallies=tallies,
                consensus_score=min(1.0, max(0.0, share)),
                reason="" if len(leaders) == 1 else "the top options tie",
            )
        raise PluginError(
            f"voting method {name!r} returned {answer!r}; it must return a VoteCount or a"
            " mapping of option to total"
        )

    # -- resolving ----------------------------------------------------------------------

    async def resolve_conflict(
        self,
        conflict_id: str,
        conflict_type: ConflictType | str,
        votes: Sequence[AgentVote],
        vote_type: VoteType | str | None = None,
        *,
        required_votes: int | None = None,
        abstentions: Iterable[str] = (),
        threshold: Fraction | int | str | float | None = None,
        elimination_order: Sequence[str] | None = None,
    ) -> Resolution:
        """Count *votes*, escalate if there is no winner, and return the :class:`Resolution`.

        *required_votes* is a quorum: with fewer votes there is no winner whatever the count
        says (and no votes at all is then allowed). *abstentions* are recorded as given.

        Raises:
            NoVotesError, DuplicateVoteError, InvalidVoteError: votes that cannot be counted.
            ConfigurationError: an unknown vote type or conflict type, a bad threshold.
        """
        kind = _conflict_type(conflict_type)
        name = self.method_name(vote_type)
        if required_votes is not None and (
            isinstance(required_votes, bool)
            or not isinstance(required_votes, int)
            or required_votes < 1
        ):
            raise ConfigurationError(f"required_votes must be an int >= 1, got {required_votes!r}")
        checked = _voting.validate_votes(votes, allow_empty=required_votes is not None)
        chosen_threshold = (
            self.supermajority_threshold if threshold is None else _voting.as_threshold(threshold)
        )
        _voting._elimination_ranks(elimination_order)
        order = self.elimination_order if elimination_order is None else tuple(elimination_order)
        weights = (
            {
                vote.agent_id: self.agent_weights[vote.agent_id]
                for vote in checked
                if vote.weight is None and vote.agent_id in self.agent_weights
            }
            if name == VoteType.WEIGHTED.value and self.agent_weights
            else {}
        )
        resolution = self._build(
            conflict_id=conflict_id,
            conflict_type=kind,
            vote_type=name,
            votes=checked,
            threshold=chosen_threshold,
            agent_weights=weights,
            elimination_order=order,
            required_votes=required_votes,
            supervisor_agent_id=self.supervisor_agent_id,
            supervisor_decision=None,
            abstentions=tuple(sorted(set(abstentions))),
            timestamp=self.clock.time(),
            has_supervisor=self.has_supervisor,
        )
        if resolution.status is not ResolutionStatus.ESCALATED or self.supervisor is None:
            return resolution
        conflict = Conflict(
            conflict_id=conflict_id,
            conflict_type=kind,
            vote_type=name,
            votes=checked,
            count=VoteCount(
                winner=None,
                tallies=dict(resolution.tallies),
                consensus_score=resolution.consensus_score,
                rounds=resolution.rounds,
                reason=resolution.reason,
            ),
        )
        decision = await self._ask_supervisor(conflict)
        if decision is None:
            return resolution
        return _decided_by_supervisor(resolution, decision, "the supervisor's callback decided")

    async def _ask_supervisor(self, conflict: Conflict) -> str | None:
        assert self.supervisor is not None
        try:
            answer = self.supervisor(conflict)
            if inspect.isawaitable(answer):
                answer = await answer
        except Exception:
            logger.exception("the supervisor callback failed on %s", conflict.conflict_id)
            return None
        if answer is None:
            return None
        if not isinstance(answer, str) or not answer:
            logger.warning(
                "the supervisor callback returned %r for %s, not an option; escalated",
                answer,
                conflict.conflict_id,
            )
            return None
        return answer

    def recount(self, resolution: Resolution, /) -> Resolution:
        """Count *resolution*'s recorded ballots again with its recorded parameters.

        The supervisor is not asked again: a recorded supervisor decision is reused. For an
        untouched resolution the result equals it; a difference means the record was altered
        (or a plugin method changed).
        """
        votes = _voting.validate_votes(resolution.votes, allow_empty=True)
        threshold = (
            _voting.DEFAULT_SUPERMAJORITY
            if resolution.threshold is None
            else _voting.as_threshold(resolution.threshold)
        )
        recounted = self._build(
            conflict_id=resolution.conflict_id,
            conflict_type=resolution.conflict_type,
            vote_type=self.method_name(resolution.vote_type),
            votes=votes,
            threshold=threshold,
            agent_weights=dict(resolution.agent_weights),
            elimination_order=resolution.elimination_order,
            required_votes=resolution.required_votes,
            supervisor_agent_id=resolution.supervisor_agent_id,
            supervisor_decision=None,
            abstentions=resolution.abstentions,
            timestamp=resolution.timestamp,
            has_supervisor=resolution.escalated,
        )
        decision = resolution.supervisor_decision
        if recounted.status is ResolutionStatus.ESCALATED and decision is not None:
            return _decided_by_supervisor(recounted, decision, "the supervisor's callback decided")
        return recounted

    def _build(
        self,
        *,
        conflict_id: str,
        conflict_type: ConflictType,
        vote_type: str,
        votes: tuple[AgentVote, ...],
        threshold: Fraction,
        agent_weights: dict[str, float],
        elimination_order: tuple[str, ...] | None,
        required_votes: int | None,
        supervisor_agent_id: str | None,
        supervisor_decision: str | None,
        abstentions: tuple[str, ...],
        timestamp: float,
        has_supervisor: bool,
    ) -> Resolution:
        """The resolution from the count alone, the supervisor's vote included."""
        if votes:
            count = self.count(
                votes,
                vote_type,
                threshold=threshold,
                agent_weights=agent_weights,
                elimination_order=elimination_order,
            )
        else:
            count = VoteCount(winner=None, tallies={}, consensus_score=0.0)
        winner, reason = count.winner, count.reason
        if required_votes is not None and len(votes) < required_votes:
            winner = None
            reason = f"{len(votes)} of the {required_votes} required votes arrived"
        resolution = Resolution(
            conflict_id=conflict_id,
            conflict_type=conflict_type,
            vote_type=vote_type,
            status=ResolutionStatus.RESOLVED,
            winning_option=winner,
            consensus_score=count.consensus_score,
            tallies=dict(count.tallies),
            rounds=count.rounds,
            resolved_by=RESOLVED_BY_VOTE,
            participants=tuple(sorted(vote.agent_id for vote in votes)),
            abstentions=abstentions,
            votes=votes,
            threshold=str(threshold) if vote_type == VoteType.SUPERMAJORITY.value else None,
            agent_weights=agent_weights if vote_type == VoteType.WEIGHTED.value else {},
            elimination_order=(
                elimination_order if vote_type == VoteType.RANKED_CHOICE.value else None
            ),
            required_votes=required_votes,
            supervisor_agent_id=supervisor_agent_id,
            supervisor_decision=supervisor_decision,
            reason=reason or f"{winner!r} won by {vote_type}",
            timestamp=timestamp,
        )
        if winner is not None:
            return resolution
        supervisor_vote = next(
            (
                vote
                for vote in votes
                if supervisor_agent_id and vote.agent_id == supervisor_agent_id
            ),
            None,
        )
        if supervisor_vote is not None:
            return _decided_by_supervisor(
                resolution, supervisor_vote.option, f"{reason}; the supervisor's vote decided"
            )
        return _replace(
            resolution,
            status=ResolutionStatus.ESCALATED if has_supervisor else ResolutionStatus.NO_CONSENSUS,
            resolved_by=None,
            escalated=has_supervisor,
            reason=reason,
        )


def _replace(resolution: Resolution, **changes: Any) -> Resolution:
    return msgspec.structs.replace(resolution, **changes)


def _decided_by_supervisor(resolution: Resolution, option: str, reason: str) -> Resolution:
    return _replace(
        resolution,
        status=ResolutionStatus.RESOLVED,
        winning_option=option,
        resolved_by=RESOLVED_BY_SUPERVISOR,
        escalated=True,
        supervisor_decision=option,
        reason=reason,
    )
