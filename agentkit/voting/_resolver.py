"""``ConflictResolver``: counts votes with a voting method and escalates to a supervisor.

The counting itself is done by the pure functions in :mod:`agentkit.voting._voting` (or by a
plugin's method); the resolver adds the parameters (weights, threshold, elimination order),
supervisor escalation and a :class:`Resolution` that records enough to be recounted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import msgspec

from agentkit._clock import SYSTEM_CLOCK
from agentkit.exceptions import ConfigurationError, PluginError, VotingError
from agentkit.observability import telemetry
from agentkit.voting import _voting
from agentkit.voting._votes import (
    _CHECKED_TYPES,
    AgentVote,
    ConflictType,
    Resolution,
    ResolutionStatus,
    VoteCount,
    VoteType,
)

if TYPE_CHECKING:
    from agentkit.plugins import PluginManager
    from agentkit.protocols import Clock

__all__ = ["Conflict", "ConflictResolver", "SupervisorCallback", "VotingMethod"]

logger = logging.getLogger("agentkit.voting")

#: A plugin's voting method: takes the checked votes, returns a ``VoteCount`` or the tallies
#: (``{option: total}``; then the option with strictly the highest total wins).
VotingMethod = Callable[[tuple[AgentVote, ...]], "VoteCount | Mapping[str, float]"]

#: Above this many ballot entries (votes plus ranked options) a count runs in a worker thread.
_THREAD_ABOVE_ENTRIES = 5_000
#: The largest total a plugin method's tallies may hold (so sums stay finite).
_PLUGIN_MAX_TOTAL = 1e300

# The built-in methods' names as plain str constants: reading ``VoteType.X.value`` goes
# through an enum descriptor each time, which a count of three votes noticed.
_MAJORITY = VoteType.MAJORITY.value
_SUPERMAJORITY = VoteType.SUPERMAJORITY.value
_UNANIMOUS = VoteType.UNANIMOUS.value
_WEIGHTED = VoteType.WEIGHTED.value
_RANKED_CHOICE = VoteType.RANKED_CHOICE.value
#: Every spelling ``method_name`` accepts for a built-in method (its value, its name, in any
#: case the lowercase forms match), mapped to the method's name.
_BUILTIN_SPELLINGS = {
    spelling: member.value
    for member in VoteType
    for spelling in (member.value, member.name.lower())
}

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


def _checked_agent_weights(
    weights: Mapping[str, float] | None, limits: _voting.VoteLimits
) -> dict[str, float]:
    if weights is not None and not isinstance(weights, Mapping):
        raise ConfigurationError(
            f"agent_weights must be a mapping of agent id to weight, got {type(weights).__name__}"
        )
    checked: dict[str, float] = {}
    for agent_id, weight in (weights or {}).items():
        try:
            checked[agent_id] = _voting._check_weight(
                f"agent_weights[{_voting._shown(agent_id)}]", weight, limits.max_weight
            )
        except VotingError as exc:
            raise ConfigurationError(str(exc)) from None
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
        max_votes: The most votes one count takes (default 100,000).
        max_ranking_length: The most options one vote may rank (default 100,000).
        max_weight: The largest agent weight, per vote or in *agent_weights* (default 1e12);
            it keeps weight totals exact and far from float overflow.

    Over a limit a count raises ``VoteLimitError`` (a ``VotingError`` and a
    ``LimitExceededError``) before counting. Large counts run in a worker thread, so
    ``resolve_conflict`` never holds the event loop for long.

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
        max_votes: int = _voting.DEFAULT_LIMITS.max_votes,
        max_ranking_length: int = _voting.DEFAULT_LIMITS.max_ranking_length,
        max_weight: float = _voting.DEFAULT_LIMITS.max_weight,
    ) -> None:
        if supervisor is not None and not callable(supervisor):
            raise ConfigurationError(f"supervisor must be a callable, got {supervisor!r}")
        self.limits = _voting.VoteLimits(max_votes, max_ranking_length, max_weight)
        self.supervisor_agent_id = supervisor_agent_id
        self.supervisor = supervisor
        self.agent_weights = _checked_agent_weights(agent_weights, self.limits)
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
        if type(vote_type) is str or type(vote_type) is VoteType:
            # The common spellings in one look-up (a plugin's name never shadows a built-in).
            known = _BUILTIN_SPELLINGS.get(vote_type)
            if known is not None:
                return known
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
        limits = self.limits
        checked = _voting.validate_votes(votes, limits=limits)
        if name == _MAJORITY:
            return _voting.majority(checked, limits=limits)
        if name == _SUPERMAJORITY:
            chosen = self.supermajority_threshold if threshold is None else threshold
            return _voting.supermajority(checked, chosen, limits=limits)
        if name == _UNANIMOUS:
            return _voting.unanimous(checked, limits=limits)
        if name == _WEIGHTED:
            weights = self.agent_weights if agent_weights is None else agent_weights
            return _voting.weighted(checked, weights, limits=limits)
        if name == _RANKED_CHOICE:
            order = self.elimination_order if elimination_order is None else elimination_order
            return _voting.ranked_choice(checked, order, limits=limits)
        return self._count_with_plugin(name, checked)

    def _count_with_plugin(self, name: str, votes: tuple[AgentVote, ...]) -> VoteCount:
        try:
            answer = self._plugin_methods[name](votes)
        except VotingError:
            raise
        except Exception as exc:
            raise PluginError(
                f"voting method {name!r} failed: {type(exc).__name__}: {_voting._shown(exc)}"
            ) from exc
        if isinstance(answer, VoteCount):
            return _checked_plugin_count(name, answer)
        if isinstance(answer, Mapping):
            return _plugin_tallies_count(name, answer)
        raise PluginError(
            f"voting method {name!r} returned {_voting._shown(answer)}; it must return a"
            " VoteCount or a mapping of option to total"
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
        _traced: bool = False,
    ) -> Resolution:
        """Count *votes*, escalate if there is no winner, and return the :class:`Resolution`.

        *required_votes* is a quorum: with fewer votes there is no winner whatever the count
        says (and no votes at all is then allowed). *abstentions* are recorded as given.

        With OpenTelemetry tracing on, the count (and the supervisor's decision) is an
        INTERNAL span ``resolve <method>``, a child of the current span (a swarm's round).

        Raises:
            NoVotesError, DuplicateVoteError, InvalidVoteError: votes that cannot be counted.
            VoteLimitError: more votes, a longer ranking or a larger weight than the limits.
            ConfigurationError: an unknown vote type or conflict type, a bad threshold.
        """
        if telemetry.tracer is not None and not _traced:
            return await self._resolve_traced(
                conflict_id,
                conflict_type,
                votes,
                vote_type,
                required_votes=required_votes,
                abstentions=abstentions,
                threshold=threshold,
                elimination_order=elimination_order,
            )
        kind = _conflict_type(conflict_type)
        name = self.method_name(vote_type)
        if required_votes is not None and (
            isinstance(required_votes, bool)
            or not isinstance(required_votes, int)
            or required_votes < 1
        ):
            raise ConfigurationError(f"required_votes must be an int >= 1, got {required_votes!r}")
        listed = _voting._at_most(votes, self.limits.max_votes)
        # Votes checked where they entered are read once, column by column (None: not all are).
        columns = (
            None
            if name in self._plugin_methods
            else _voting._columns(
                listed,
                self.limits,
                ranked=name == _RANKED_CHOICE,
                hash_below=_THREAD_ABOVE_ENTRIES,
                weighted=name == _WEIGHTED and not self.agent_weights,
            )
        )
        types = None if columns is not None else set(map(type, listed))
        chosen_threshold = (
            self.supermajority_threshold if threshold is None else _voting.as_threshold(threshold)
        )
        _voting._elimination_ranks(elimination_order)
        order = self.elimination_order if elimination_order is None else tuple(elimination_order)
        abstained: tuple[str, ...] = ()
        if abstentions:
            absent = set(abstentions)
            if not all(isinstance(agent_id, str) for agent_id in absent):
                raise ConfigurationError("abstentions must be agent ids (str)")
            abstained = tuple(_voting._code_point_sorted(absent))
        timestamp = self.clock.time()
        resolve = functools.partial(
            self._resolve_now,
            conflict_id=conflict_id,
            conflict_type=kind,
            vote_type=name,
            votes=listed,
            types=types,
            columns=columns,
            threshold=chosen_threshold,
            elimination_order=order,
            required_votes=required_votes,
            abstentions=abstained,
            timestamp=timestamp,
        )
        # Checking and counting are linear (up to a log factor) in the ballot entries; a big
        # count runs in a worker thread so that it cannot hold the event loop.
        ranked = name == _RANKED_CHOICE or name in self._plugin_methods
        rankings = None
        if columns is not None:
            in_thread = columns.entries > _THREAD_ABOVE_ENTRIES
        elif name == _RANKED_CHOICE and types is not None and not types - _CHECKED_TYPES:
            # Checked votes: rankings are tuples or None, their lengths summed in C. Below the
            # limit their distinct set is cheap to make here (hashing is bounded by the
            # entries) and is kept for the count, which needs it.
            all_rankings = [vote.ranking for vote in listed]
            entries = len(listed) + sum(map(len, filter(None, all_rankings)))
            in_thread = entries > _THREAD_ABOVE_ENTRIES
            if not in_thread:
                rankings = set(all_rankings)
        else:
            in_thread = _ballot_entries_over(
                listed, _THREAD_ABOVE_ENTRIES, ranked=ranked, types=types
            )
        resolve = functools.partial(resolve, rankings=rankings)
        if in_thread:
            resolution = await asyncio.to_thread(resolve)
        else:
            resolution = resolve()
        if resolution.status is not ResolutionStatus.ESCALATED or self.supervisor is None:
            return resolution
        conflict = Conflict(
            conflict_id=conflict_id,
            conflict_type=kind,
            vote_type=name,
            votes=resolution.votes,
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

    async def _resolve_traced(
        self,
        conflict_id: str,
        conflict_type: ConflictType | str,
        votes: Sequence[AgentVote],
        vote_type: VoteType | str | None,
        **options: Any,
    ) -> Resolution:
        """``resolve_conflict`` inside its span ``resolve <method>`` (tracing is on)."""
        tracer = telemetry.tracer
        assert tracer is not None
        from opentelemetry.trace import SpanKind, Status, StatusCode, use_span

        try:
            method = self.method_name(vote_type)
        except ConfigurationError:
            method = _shown(vote_type)
        attributes: dict[str, Any] = {
            "agentkit.voting.method": method,
            "agentkit.consensus.id": _shown(conflict_id),
            "agentkit.consensus.conflict_type": _shown(
                getattr(conflict_type, "value", conflict_type)
            ),
        }
        span = tracer.start_span(f"resolve {method}", kind=SpanKind.INTERNAL, attributes=attributes)
        with use_span(
            span, end_on_exit=True, record_exception=False, set_status_on_exception=False
        ):
            try:
                resolution = await self.resolve_conflict(
                    conflict_id, conflict_type, votes, vote_type, _traced=True, **options
                )
            except BaseException as exc:
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, _shown(exc)))
                raise
            span.set_attributes(resolution_attributes(resolution))
        return resolution

    def _resolve_now(
        self,
        *,
        conflict_id: str,
        conflict_type: ConflictType,
        vote_type: str,
        votes: list[AgentVote],
        types: set[type] | None,
        columns: _voting._Columns | None = None,
        rankings: set[tuple[str, ...] | None] | None = None,
        threshold: Fraction,
        elimination_order: tuple[str, ...] | None,
        required_votes: int | None,
        abstentions: tuple[str, ...],
        timestamp: float,
    ) -> Resolution:
        """Check and count *votes* (no supervisor callback): the body of resolve_conflict."""
        name = vote_type
        checked = _voting._check(votes, required_votes is not None, self.limits, types, columns)
        if rankings is not None:
            checked.rankings = rankings
        weights = (
            {
                vote.agent_id: self.agent_weights[vote.agent_id]
                for vote in checked
                if vote.weight is None and vote.agent_id in self.agent_weights
            }
            if name == _WEIGHTED and self.agent_weights
            else {}
        )
        return self._build(
            conflict_id=conflict_id,
            conflict_type=conflict_type,
            vote_type=name,
            votes=checked,
            threshold=threshold,
            agent_weights=weights,
            elimination_order=elimination_order,
            required_votes=required_votes,
            supervisor_agent_id=self.supervisor_agent_id,
            supervisor_decision=None,
            abstentions=abstentions,
            timestamp=timestamp,
            has_supervisor=self.has_supervisor,
        )

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
        votes = _voting.validate_votes(resolution.votes, allow_empty=True, limits=self.limits)
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
            participants=tuple(_voting._code_point_sorted(_agent_ids(votes))),
            abstentions=abstentions,
            votes=votes,
            threshold=str(threshold) if vote_type == _SUPERMAJORITY else None,
            agent_weights=agent_weights if vote_type == _WEIGHTED else {},
            elimination_order=(elimination_order if vote_type == _RANKED_CHOICE else None),
            required_votes=required_votes,
            supervisor_agent_id=supervisor_agent_id,
            supervisor_decision=supervisor_decision,
            reason=reason or f"{winner!r} won by {vote_type}",
            timestamp=timestamp,
        )
        if winner is not None:
            return resolution
        # Looked up in the voter ids (a C scan), not vote by vote.
        voters = _agent_ids(votes)
        supervisor_vote = (
            votes[voters.index(supervisor_agent_id)]
            if supervisor_agent_id and supervisor_agent_id in voters
            else None
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


#: Longest text (a decision, a reason, an id) put on a span.
_MAX_SHOWN = 256


def _shown(value: object) -> str:
    """*value* as span attribute text, at most _MAX_SHOWN characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _consensus_outcome(resolution: Resolution) -> str:
    """The ``agentkit.consensus.outcome`` of *resolution*: ``escalated`` when a supervisor
    was asked (whether it decided or not), else its status (``resolved``, ``no_consensus``)."""
    if resolution.escalated:
        return "escalated"
    return resolution.status.value


def resolution_attributes(resolution: Resolution) -> dict[str, str | bool | float | int]:
    """What *resolution* decided, as OpenTelemetry span attributes (``agentkit.consensus.*``).

    The ``resolve`` span of :meth:`ConflictResolver.resolve_conflict` and a swarm's
    ``consensus`` span carry these; texts are cut to 256 characters.
    """
    attributes: dict[str, str | bool | float | int] = {
        "agentkit.consensus.votes": len(resolution.votes),
        "agentkit.consensus.status": resolution.status.value,
        "agentkit.consensus.outcome": _consensus_outcome(resolution),
        "agentkit.consensus.resolved": resolution.winning_option is not None,
        "agentkit.consensus.score": float(resolution.consensus_score),
        "agentkit.consensus.escalated": resolution.escalated,
    }
    if resolution.winning_option is not None:
        attributes["agentkit.consensus.decision"] = _shown(resolution.winning_option)
    if resolution.resolved_by is not None:
        attributes["agentkit.consensus.resolved_by"] = resolution.resolved_by
    if resolution.abstentions:
        attributes["agentkit.consensus.abstentions"] = len(resolution.abstentions)
    if resolution.reason:
        attributes["agentkit.consensus.reason"] = _shown(resolution.reason)
    return attributes


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


def _agent_ids(votes: tuple[AgentVote, ...]) -> list[str]:
    """The voters of *votes*, in vote order (kept from the check when there was one)."""
    known = getattr(votes, "agent_ids", None)
    return known if known is not None else [vote.agent_id for vote in votes]


def _ballot_entries_over(
    votes: Sequence[object], limit: int, *, ranked: bool = True, types: set[type] | None = None
) -> bool:
    """Whether *votes* hold more than *limit* entries (votes plus ranked options).

    Stops as soon as the answer is known, so it costs O(limit) at most; what is not a
    well-formed vote counts as one entry (the check after rejects it). Votes checked where
    they entered need no look at their rankings unless the method reads them (*ranked*).
    """
    if len(votes) > limit:
        return True
    if types is None:
        types = set(map(type, votes))
    if not types - _CHECKED_TYPES:
        if not ranked:
            return False
        # Checked votes: their rankings are tuples or None; summed in C.
        rankings = filter(None, [vote.ranking for vote in votes])  # type: ignore[attr-defined]
        return len(votes) + sum(map(len, rankings)) > limit
    entries = 0
    for vote in votes:
        ranking = vote.ranking if isinstance(vote, AgentVote) else None
        entries += 1 + (len(ranking) if isinstance(ranking, tuple | list) else 0)
        if entries > limit:
            return True
    return False


def _checked_plugin_count(name: str, count: VoteCount) -> VoteCount:
    """*count* if its fields are what a VoteCount promises, else ``PluginError``."""
    score = count.consensus_score
    if (
        (count.winner is not None and not isinstance(count.winner, str))
        or not isinstance(count.tallies, dict)
        or isinstance(score, bool)
        or not isinstance(score, int | float)
        or not 0 <= score <= 1
    ):
        raise PluginError(
            f"voting method {name!r} returned a malformed VoteCount (winner a str or None,"
            f" consensus_score in [0, 1]): {_voting._shown(count)}"
        )
    return count


def _plugin_tallies_count(name: str, answer: Mapping[Any, Any]) -> VoteCount:
    """The count a plugin's ``{option: total}`` stands for: strictly the highest total wins."""
    tallies: dict[str, float] = {}
    for option, value in answer.items():
        if (
            not isinstance(option, str)
            or isinstance(value, bool)
            or not isinstance(value, int | float)
            # Comparisons, not float(): a huge int must not raise OverflowError.
            or not -_PLUGIN_MAX_TOTAL <= value <= _PLUGIN_MAX_TOTAL
        ):
            raise PluginError(
                f"voting method {name!r} returned {_voting._shown(option)}:"
                f" {_voting._shown(value)}; tallies map option names (str) to finite numbers"
                f" within +-{_PLUGIN_MAX_TOTAL:g}"
            )
        tallies[option] = float(value) + 0.0
    if not tallies:
        return VoteCount(winner=None, tallies={}, consensus_score=0.0)
    tallies = {option: tallies[option] for option in _voting._code_point_sorted(tallies)}
    # At most 1e300 each over at most max_votes-sized answers cannot overflow a float sum
    # for any answer that fits in memory (1.8e308 / 1e300 is 10^8 options at the limit).
    try:
        total = math.fsum(tallies.values())
    except OverflowError:
        raise PluginError(
            f"voting method {name!r} returned tallies whose total overflows a float; scale"
            " them down"
        ) from None
    top = max(tallies.values())
    leaders = [option for option, value in tallies.items() if value == top]
    share = top / total if total > 0 else 1.0 / len(tallies)
    return VoteCount(
        winner=leaders[0] if len(leaders) == 1 else None,
        tallies=tallies,
        consensus_score=min(1.0, max(0.0, share)),
        reason="" if len(leaders) == 1 else "the top options tie",
    )
