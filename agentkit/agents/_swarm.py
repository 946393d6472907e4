"""``AgentSwarm``: broadcast, consensus rounds and work distribution over any bus.

The swarm talks to its members only through the bus (subjects in :mod:`agentkit.agents._agent`), so
members may live in this process (``Agent`` objects given as members are attached here) or in
any other process connected to the same bus (``agentkit worker``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from agentkit._clock import SYSTEM_CLOCK, wait_for
from agentkit.agents._agent import (
    AgentAttachment,
    AgentProtocol,
    Ballot,
    BallotVote,
    Broadcast,
    WorkItem,
    WorkResult,
    attach,
    new_id,
    read_payload,
    swarm_subject,
    validate_agent_id,
    validate_swarm_name,
)
from agentkit.bus import PubSubMessage
from agentkit.exceptions import ConfigurationError, TaskTimeoutError, VotingError
from agentkit.observability import telemetry
from agentkit.voting import (
    AgentVote,
    ConflictResolver,
    ConflictType,
    Resolution,
    VoteType,
    resolution_attributes,
    validate_votes,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from agentkit.protocols import Bus, Clock, Subscription

__all__ = ["STRATEGIES", "AgentSwarm", "Assignment", "IgnoredVote", "WorkDistribution"]

logger = logging.getLogger("agentkit.swarm")

#: The work-distribution strategies ``distribute_work`` knows.
STRATEGIES = ("round_robin", "least_loaded", "hash", "random")

_REMEMBERED_BALLOTS = 1_000
#: Longest text (a decision, a reason, an id) put on a span.
_MAX_SHOWN = 256


class IgnoredVote(msgspec.Struct, frozen=True, kw_only=True):
    """A vote the swarm did not count, and why (``"late"``, ``"not a member"``, ...)."""

    ballot_id: str
    vote: AgentVote
    reason: str
    received_at: float


class Assignment(msgspec.Struct, frozen=True, kw_only=True):
    """Task number ``index`` of a distribution went to ``agent_id`` as ``work_id``."""

    index: int
    work_id: str
    agent_id: str
    task: Any = None


class WorkDistribution(Mapping[str, list[Any]]):
    """The assignments of one ``distribute_work`` call, and its results as they arrive.

    As a mapping it is ``{agent_id: [tasks assigned to it]}`` (members with no task are left
    out). ``async for result in distribution`` yields :class:`WorkResult`\\ s in the order the
    agents finish; ``await distribution.wait()`` returns them all in task order.
    """

    def __init__(self, assignments: Sequence[Assignment], clock: Clock) -> None:
        self.assignments: tuple[Assignment, ...] = tuple(assignments)
        self._clock = clock
        self._by_agent: dict[str, list[Any]] = {}
        for assignment in self.assignments:
            self._by_agent.setdefault(assignment.agent_id, []).append(assignment.task)
        self._work_ids = {assignment.work_id: assignment for assignment in self.assignments}
        self._results: dict[str, WorkResult] = {}
        self._arrivals: asyncio.Queue[WorkResult] = asyncio.Queue()
        self._complete = asyncio.Event()
        if not self.assignments:
            self._complete.set()

    def __repr__(self) -> str:
        return (
            f"<WorkDistribution {len(self.assignments)} tasks over {len(self._by_agent)} agents,"
            f" {len(self._results)} done>"
        )

    def __getitem__(self, agent_id: str) -> list[Any]:
        return self._by_agent[agent_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_agent)

    def __len__(self) -> int:
        return len(self._by_agent)

    @property
    def done(self) -> bool:
        """True when every task has a result."""
        return self._complete.is_set()

    @property
    def pending(self) -> list[Assignment]:
        """The assignments still without a result, in task order."""
        return [item for item in self.assignments if item.work_id not in self._results]

    @property
    def results_so_far(self) -> list[WorkResult]:
        """The results that arrived, in task order."""
        return sorted(self._results.values(), key=lambda result: result.index)

    def deliver(self, result: WorkResult) -> bool:
        """Record *result*; False if it is not for this distribution or came twice."""
        if result.work_id not in self._work_ids or result.work_id in self._results:
            return False
        self._results[result.work_id] = result
        self._arrivals.put_nowait(result)
        if len(self._results) == len(self.assignments):
            self._complete.set()
        return True

    async def wait(self, timeout: float | None = None) -> list[WorkResult]:
        """Every result in task order; ``TaskTimeoutError`` after *timeout* (clock) seconds."""
        try:
            await wait_for(self._clock, self._complete.wait(), timeout)
        except TimeoutError:
            missing = ", ".join(f"#{item.index}→{item.agent_id}" for item in self.pending[:10])
            raise TaskTimeoutError(
                f"{len(self.pending)} of {len(self.assignments)} work items had no result"
                f" within {timeout} s ({missing}); are the agents attached to the bus?"
            ) from None
        return self.results_so_far

    async def results(self, timeout: float | None = None) -> AsyncIterator[WorkResult]:
        """Yield results as agents finish; ``TaskTimeoutError`` if one takes over *timeout*."""
        for _ in range(len(self.assignments)):
            try:
                yield await wait_for(self._clock, self._arrivals.get(), timeout)
            except TimeoutError:
                raise TaskTimeoutError(
                    f"no work result within {timeout} s; {len(self.pending)} still pending"
                ) from None

    def __aiter__(self) -> AsyncIterator[WorkResult]:
        return self.results()


class _Collector:
    """The votes of one open ballot."""

    def __init__(self, ballot: Ballot, required: int) -> None:
        self.ballot = ballot
        self.required = required
        self.members = frozenset(ballot.members)
        self.votes: dict[str, AgentVote] = {}
        self.enough = asyncio.Event()
        self.timed_out = False
        #: The round's span while tracing (ignored votes become its events).
        self.span: Span | None = None

    def offer(self, vote: AgentVote) -> str | None:
        """Count *vote*, or return why it is not counted."""
        if vote.agent_id not in self.members:
            return "not a member"
        if self.enough.is_set():
            # The round closed when the required votes arrived.
            return "late"
        if vote.agent_id in self.votes:
            return "duplicate"
        options = self.ballot.options
        if options is not None and vote.option not in options:
            return f"option {vote.option!r} is not on the ballot"
        if type(vote) is not AgentVote:
            # An AgentVote was checked where it entered (decoded here); others are checked now.
            try:
                validate_votes([vote])
            except VotingError as exc:
                return f"invalid: {exc}"
        self.votes[vote.agent_id] = vote
        if len(self.votes) >= self.required:
            self.enough.set()
        return None


class AgentSwarm:
    """A named group of agents on a bus: ``AgentSwarm(name, pubsub, members)``.

    *members* are agent ids or agent objects; objects are attached to *pubsub* in this
    process when the swarm starts (at its first use, or ``await swarm.start()``). Deadlines
    use *clock*, by default the bus's clock. Consensus rounds are counted by *resolver*
    (default: a ``ConflictResolver()``, majority).
    """

    def __init__(
        self,
        name: str,
        pubsub: Bus,
        members: Iterable[str | AgentProtocol],
        *,
        resolver: ConflictResolver | None = None,
        clock: Clock | None = None,
        ignored_vote_limit: int = 1_000,
    ) -> None:
        self.name = validate_swarm_name(name)
        self.pubsub = pubsub
        self.resolver = resolver if resolver is not None else ConflictResolver()
        self.clock: Clock = clock or getattr(pubsub, "clock", None) or SYSTEM_CLOCK
        ids: list[str] = []
        self._local_agents: list[AgentProtocol] = []
        for member in members:
            if isinstance(member, str):
                agent_id = member
            elif isinstance(member, AgentProtocol):
                agent_id = member.agent_id
                self._local_agents.append(member)
            else:
                raise ConfigurationError(
                    f"a swarm member is an agent id or an Agent, got {type(member).__name__}"
                )
            validate_agent_id(agent_id)
            if agent_id in ids:
                raise ConfigurationError(f"agent {agent_id!r} is listed twice in swarm {name!r}")
            ids.append(agent_id)
        self.members: tuple[str, ...] = tuple(ids)
        #: Work items assigned and not yet answered, per member.
        self.load: dict[str, int] = dict.fromkeys(self.members, 0)
        #: Votes not counted (late, duplicate, from non-members, invalid), oldest first.
        self.ignored_votes: deque[IgnoredVote] = deque(maxlen=ignored_vote_limit)
        self.attachments: list[AgentAttachment] = []
        self._subscriptions: list[Subscription] = []
        self._open_ballots: dict[str, _Collector] = {}
        self._closed_ballots: OrderedDict[str, None] = OrderedDict()
        self._distributions: dict[str, WorkDistribution] = {}
        self._round_robin_next = 0
        self._start_lock = asyncio.Lock()
        self._started = False
        telemetry.refresh()  # follow a tracer/meter provider the app set globally

    def __repr__(self) -> str:
        return f"<AgentSwarm {self.name!r} members={list(self.members)}>"

    def subject(self, kind: str) -> str:
        """This swarm's subject of *kind*: broadcast, ballot, votes, work, results."""
        return swarm_subject(self.name, kind)

    @property
    def late_votes(self) -> list[IgnoredVote]:
        """Votes that arrived after their ballot closed, oldest first."""
        return [ignored for ignored in self.ignored_votes if ignored.reason == "late"]

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> AgentSwarm:
        """Attach local agents and listen for votes and results (idempotent)."""
        async with self._start_lock:
            if self._started:
                return self
            self._subscriptions.append(
                await self.pubsub.subscribe(self.subject("votes"), self._on_vote)
            )
            self._subscriptions.append(
                await self.pubsub.subscribe(self.subject("results"), self._on_result)
            )
            for agent in self._local_agents:
                self.attachments.append(await attach(agent, self.pubsub, self.name))
            self._started = True
        return self

    async def close(self) -> None:
        """Detach local agents and stop listening; the bus stays open."""
        async with self._start_lock:
            attachments, self.attachments = self.attachments, []
            subscriptions, self._subscriptions = self._subscriptions, []
            for attachment in attachments:
                await attachment.detach()
            for subscription in subscriptions:
                await subscription.unsubscribe()
            self._started = False

    async def __aenter__(self) -> AgentSwarm:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- broadcast ----------------------------------------------------------------------

    async def broadcast(self, from_agent: str, content: str, data: Any = None) -> PubSubMessage:
        """Send *content* and *data* to every agent of the swarm; return the message sent."""
        await self.start()
        subject = self.subject("broadcast")
        payload = Broadcast(swarm=self.name, from_agent=from_agent, content=content, data=data)
        return await self.pubsub.publish(
            subject, PubSubMessage(topic=subject, from_agent=from_agent, payload=payload)
        )

    # -- consensus ----------------------------------------------------------------------

    async def request_consensus(
        self,
        from_agent: str,
        question: str,
        context: Mapping[str, Any] | None = None,
        required_votes: int | None = None,
        options: Sequence[str] | None = None,
        vote_type: VoteType | str | None = None,
        timeout: float = 30.0,
        *,
        conflict_type: ConflictType | str = ConflictType.DECISION,
    ) -> Resolution:
        """Ask every member to vote on *question* and resolve what arrives.

        Votes are collected until *required_votes* (default: every member) arrived or
        *timeout* seconds of the swarm's clock passed. Members that did not vote are
        ``abstentions``; votes after that are ignored and listed in ``late_votes``; so are
        duplicates, votes from non-members and votes for an option not in *options*. With
        fewer than *required_votes* the status is NO_CONSENSUS (or the resolver escalates).

        With OpenTelemetry on, the round is an INTERNAL span ``consensus <method>``, current
        while the ballot is published (the agents' vote spans and the count's ``resolve``
        span join its trace), and a point of ``agentkit.consensus.rounds`` by method and
        outcome.
        """
        required = len(self.members) if required_votes is None else required_votes
        if isinstance(required, bool) or not isinstance(required, int) or required < 1:
            raise ConfigurationError(f"required_votes must be an int >= 1, got {required_votes!r}")
        if required > len(self.members):
            raise ConfigurationError(
                f"required_votes={required} can never be met by the {len(self.members)}"
                f" members of swarm {self.name!r}"
            )
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        if options is not None:
            if (
                isinstance(options, str)
                or not options
                or not all(isinstance(option, str) and option for option in options)
            ):
                raise ConfigurationError(f"options must be a non-empty list of names: {options!r}")
            options = tuple(options)
        method = self.resolver.method_name(vote_type)
        await self.start()
        ballot = Ballot(
            ballot_id=new_id("ballot"),
            swarm=self.name,
            from_agent=from_agent,
            question=question,
            context=dict(context or {}),
            options=options,
            vote_type=method,
            members=self.members,
            deadline=self.clock.time() + timeout,
            reply_subject=self.subject("votes"),
        )
        collector = _Collector(ballot, required)
        if telemetry.tracer is not None or telemetry.metrics is not None:
            return await self._hold_round_observed(collector, timeout, conflict_type)
        return await self._hold_round(collector, timeout, conflict_type)

    async def _hold_round(
        self, collector: _Collector, timeout: float, conflict_type: ConflictType | str
    ) -> Resolution:
        """Publish the ballot, collect the votes until enough or the deadline, count them."""
        ballot, required, method = collector.ballot, collector.required, collector.ballot.vote_type
        from_agent = ballot.from_agent
        self._open_ballots[ballot.ballot_id] = collector
        try:
            subject = self.subject("ballot")
            await self.pubsub.publish(
                subject,
                PubSubMessage(
                    topic=subject,
                    from_agent=from_agent,
                    payload=ballot,
                    correlation_id=ballot.ballot_id,
                ),
            )
            try:
                await wait_for(self.clock, collector.enough.wait(), timeout)
            except TimeoutError:
                collector.timed_out = True
                logger.info(
                    "ballot %s closed at its deadline with %d of %d votes",
                    ballot.ballot_id,
                    len(collector.votes),
                    required,
                )
        finally:
            del self._open_ballots[ballot.ballot_id]
            self._closed_ballots[ballot.ballot_id] = None
            while len(self._closed_ballots) > _REMEMBERED_BALLOTS:
                self._closed_ballots.popitem(last=False)
        votes = [collector.votes[agent_id] for agent_id in sorted(collector.votes)]
        abstentions = [agent_id for agent_id in self.members if agent_id not in collector.votes]
        return await self.resolver.resolve_conflict(
            ballot.ballot_id,
            conflict_type,
            votes,
            method,
            required_votes=required,
            abstentions=abstentions,
        )

    async def _hold_round_observed(
        self, collector: _Collector, timeout: float, conflict_type: ConflictType | str
    ) -> Resolution:
        """``_hold_round`` inside the round's span, counted in the rounds metric."""
        tracer, metrics = telemetry.tracer, telemetry.metrics
        ballot = collector.ballot
        method = ballot.vote_type
        outcome = "failed"
        span = None
        try:
            if tracer is None:
                resolution = await self._hold_round(collector, timeout, conflict_type)
            else:
                from opentelemetry.trace import SpanKind, use_span

                span = collector.span = tracer.start_span(
                    f"consensus {method}",
                    kind=SpanKind.INTERNAL,
                    attributes={
                        "agentkit.swarm.name": self.name,
                        "agentkit.swarm.topic": self.subject("ballot"),
                        "agentkit.voting.method": method,
                        "agentkit.consensus.id": ballot.ballot_id,
                        "agentkit.consensus.requester": _shown(ballot.from_agent),
                        "agentkit.consensus.voters": len(self.members),
                        "agentkit.consensus.required_votes": collector.required,
                        "agentkit.consensus.timeout": float(timeout),
                    },
                )
                with use_span(
                    span, end_on_exit=False, record_exception=False, set_status_on_exception=False
                ):
                    resolution = await self._hold_round(collector, timeout, conflict_type)
        except BaseException as exc:
            outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "failed"
            if span is not None:
                _round_failed(span, exc, len(collector.votes))
            raise
        else:
            outcome = _round_outcome(resolution, collector.timed_out)
            if span is not None:
                _describe_round(span, resolution, outcome, collector)
        finally:
            if span is not None:
                span.end()
            if metrics is not None:
                metrics.consensus_rounds.add(
                    1, {"agentkit.voting.method": method, "agentkit.consensus.outcome": outcome}
                )
        return resolution

    async def _on_vote(self, message: PubSubMessage) -> None:
        answer = read_payload(message, BallotVote)
        if answer is None:
            return
        collector = self._open_ballots.get(answer.ballot_id)
        if collector is None:
            if answer.ballot_id in self._closed_ballots:
                self._ignore(answer, "late")
            # Otherwise the ballot belongs to another swarm object with the same name.
            return
        reason = collector.offer(answer.vote)
        if reason is not None:
            self._ignore(answer, reason, collector.span)

    def _ignore(self, answer: BallotVote, reason: str, span: Span | None = None) -> None:
        logger.info(
            "vote of %r on %s not counted: %s", answer.vote.agent_id, answer.ballot_id, reason
        )
        if telemetry.tracer is not None:
            _note_ignored_vote(answer, reason, span)
        self.ignored_votes.append(
            IgnoredVote(
                ballot_id=answer.ballot_id,
                vote=answer.vote,
                reason=reason,
                received_at=self.clock.time(),
            )
        )

    # -- work ---------------------------------------------------------------------------

    async def distribute_work(
        self,
        from_agent: str,
        tasks: Iterable[Any],
        strategy: str = "round_robin",
        key: str | Callable[[Any], Any] | None = None,
        seed: int | str | None = None,
    ) -> WorkDistribution:
        """Assign each task to a member, send it, and return the assignments at once.

        Strategies: ``round_robin`` (continuing where the previous call stopped),
        ``least_loaded`` (fewest unanswered items, ties by member order), ``hash`` (stable:
        the same *key* always goes to the same member; *key* is a field name, a callable, or
        None for the whole task) and ``random`` (``random.Random(seed)``). Await
        ``distribution.wait()`` or iterate it for the results.
        """
        if strategy not in STRATEGIES:
            raise ConfigurationError(
                f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}"
            )
        if not self.members:
            raise ConfigurationError(f"swarm {self.name!r} has no members to give work to")
        if isinstance(tasks, Mapping | str | bytes):
            raise ConfigurationError("tasks must be a list of tasks (one per item)")
        task_list = list(tasks)
        picks = self._assign(task_list, strategy, key, seed)
        assignments = [
            Assignment(index=index, work_id=new_id("work"), agent_id=agent_id, task=task)
            for index, (task, agent_id) in enumerate(zip(task_list, picks, strict=True))
        ]
        distribution = WorkDistribution(assignments, self.clock)
        await self.start()
        for assignment in assignments:
            self._distributions[assignment.work_id] = distribution
        reply_subject = self.subject("results")
        for assignment in assignments:
            subject = swarm_subject(self.name, "work", assignment.agent_id)
            item = WorkItem(
                work_id=assignment.work_id,
                swarm=self.name,
                from_agent=from_agent,
                agent_id=assignment.agent_id,
                index=assignment.index,
                task=assignment.task,
                reply_subject=reply_subject,
            )
            self.load[assignment.agent_id] += 1
            await self.pubsub.publish(
                subject,
                PubSubMessage(
                    topic=subject,
                    from_agent=from_agent,
                    payload=item,
                    correlation_id=assignment.work_id,
                ),
            )
        return distribution

    def _assign(
        self,
        tasks: list[Any],
        strategy: str,
        key: str | Callable[[Any], Any] | None,
        seed: int | str | None,
    ) -> list[str]:
        members = self.members
        if strategy == "round_robin":
            start = self._round_robin_next
            self._round_robin_next = (start + len(tasks)) % len(members)
            return [members[(start + index) % len(members)] for index in range(len(tasks))]
        if strategy == "least_loaded":
            load = dict(self.load)
            picks = []
            for _ in tasks:
                agent_id = min(members, key=load.__getitem__)
                load[agent_id] += 1
                picks.append(agent_id)
            return picks
        if strategy == "hash":
            return [members[_stable_hash(_task_key(task, key)) % len(members)] for task in tasks]
        chooser = random.Random(seed)
        return [chooser.choice(members) for _ in tasks]

    async def _on_result(self, message: PubSubMessage) -> None:
        result = read_payload(message, WorkResult)
        if result is None:
            return
        distribution = self._distributions.pop(result.work_id, None)
        if distribution is None or not distribution.deliver(result):
            logger.debug("ignored a work result for %s (unknown or repeated)", result.work_id)
            return
        if self.load.get(result.agent_id, 0) > 0:
            self.load[result.agent_id] -= 1


def _shown(value: object) -> str:
    """*value* as span attribute text, at most _MAX_SHOWN characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _round_outcome(resolution: Resolution, timed_out: bool) -> str:
    """The round's ``agentkit.consensus.outcome``: ``timed_out`` (the deadline came before
    the required votes), ``escalated`` (a supervisor was asked), else the resolution's
    status (``resolved``, ``no_consensus``). ``failed`` and ``cancelled`` are set on errors."""
    if timed_out:
        return "timed_out"
    if resolution.escalated:
        return "escalated"
    return resolution.status.value


def _describe_round(
    span: Span, resolution: Resolution, outcome: str, collector: _Collector
) -> None:
    """The round's resolution on its span; an escalation is its event ``escalation``."""
    attributes = resolution_attributes(resolution)
    attributes["agentkit.consensus.votes"] = len(collector.votes)
    attributes["agentkit.consensus.abstentions"] = len(resolution.abstentions)
    attributes["agentkit.consensus.timed_out"] = collector.timed_out
    attributes["agentkit.consensus.outcome"] = outcome
    span.set_attributes(attributes)
    if resolution.escalated:
        escalation: dict[str, str | bool] = {
            "agentkit.consensus.reason": _shown(resolution.reason),
            "agentkit.consensus.supervisor_decided": resolution.supervisor_decision is not None,
        }
        if resolution.supervisor_decision is not None:
            escalation["agentkit.consensus.decision"] = _shown(resolution.supervisor_decision)
        span.add_event("escalation", escalation)


def _round_failed(span: Span, exc: BaseException, votes: int) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("agentkit.consensus.votes", votes)
    span.record_exception(exc)
    span.set_attribute("error.type", type(exc).__qualname__)
    span.set_status(Status(StatusCode.ERROR, _shown(str(exc))))


def _note_ignored_vote(answer: BallotVote, reason: str, span: Span | None) -> None:
    """An event ``vote_ignored`` on the round's span while it is open, else on the current
    span (the delivery of the vote, in the round's trace)."""
    from opentelemetry import trace

    target = span if span is not None and span.is_recording() else trace.get_current_span()
    target.add_event(
        "vote_ignored",
        {
            "agentkit.agent.id": _shown(answer.vote.agent_id),
            "agentkit.consensus.id": _shown(answer.ballot_id),
            "agentkit.vote.ignored_reason": _shown(reason),
        },
    )


def _task_key(task: Any, key: str | Callable[[Any], Any] | None) -> Any:
    if key is None:
        return task
    if callable(key):
        return key(task)
    if isinstance(task, Mapping):
        if key not in task:
            raise ConfigurationError(f"hash key {key!r} is not in task {task!r}")
        return task[key]
    if not hasattr(task, key):
        raise ConfigurationError(f"hash key {key!r} is not an attribute of task {task!r}")
    return getattr(task, key)


def _stable_hash(value: Any) -> int:
    """The same number for the same value in every process (unlike ``hash``)."""
    try:
        data = msgspec.json.encode(value, order="sorted")
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"cannot hash work key {value!r}: {exc}") from exc
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")
