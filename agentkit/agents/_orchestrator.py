"""``Orchestrator``: give a task to a group of agents and decide between their proposals.

The Enterprise Features Guide's migration guide::

    orchestrator = Orchestrator(
        agents,
        message_broker=pubsub,
        enable_pubsub=True,
        enable_conflict_resolution=True
    )
    decision = await orchestrator.run(task)

Each agent's proposal is its vote on a ballot whose context holds the task
(``ballot.context["task"]``); the resolver settles disagreement.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from agentkit.agents._agent import AgentProtocol, Ballot, new_id
from agentkit.agents._swarm import AgentSwarm
from agentkit.exceptions import ConfigurationError
from agentkit.voting import (
    AgentVote,
    ConflictResolver,
    ConflictType,
    Resolution,
    ResolutionStatus,
    VoteType,
)

if TYPE_CHECKING:
    from agentkit.protocols import Bus

__all__ = ["Decision", "Orchestrator"]

logger = logging.getLogger("agentkit.orchestrator")


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the orchestrator decided for one task.

    ``option`` is the decision (None when the agents could not agree and nothing resolved
    it); ``proposals`` are the agents' votes; ``resolution`` is the resolver's record (None
    with conflict resolution off).
    """

    task: Any
    option: str | None
    status: ResolutionStatus
    consensus_score: float
    proposals: tuple[AgentVote, ...]
    resolution: Resolution | None = None

    @property
    def decided(self) -> bool:
        """True when there is a decision."""
        return self.option is not None


class Orchestrator:
    """Starts agents on a bus, sends them tasks and resolves their proposals.

    Args:
        agents: Agent objects (see :class:`Agent`); ids must be unique.
        message_broker: The bus; None makes a private ``InMemoryPubSub`` (closed by
            ``close``).
        enable_pubsub: Talk to the agents over the bus (a swarm named *name*). Off: call
            their ``vote`` directly in this process.
        enable_conflict_resolution: Resolve proposals with *resolver*. Off: the decision is
            the proposals' common option when all agree, else none.
        resolver: Default ``ConflictResolver(default_vote_type=vote_type)``.
        vote_type: The voting method for proposals (default majority).
        timeout: Seconds to wait for proposals in each ``run``.
        name: The swarm name on the bus.
    """

    def __init__(
        self,
        agents: Iterable[AgentProtocol],
        message_broker: Bus | None = None,
        enable_pubsub: bool = True,
        enable_conflict_resolution: bool = True,
        resolver: ConflictResolver | None = None,
        *,
        vote_type: VoteType | str | None = None,
        timeout: float = 30.0,
        name: str = "orchestrator",
    ) -> None:
        self.agents: tuple[AgentProtocol, ...] = tuple(agents)
        if not self.agents:
            raise ConfigurationError("an Orchestrator needs at least one agent")
        for agent in self.agents:
            if not isinstance(agent, AgentProtocol):
                raise ConfigurationError(
                    f"{agent!r} is not an agent (agent_id, handle, vote, work); subclass Agent"
                )
        ids = [agent.agent_id for agent in self.agents]
        if len(set(ids)) != len(ids):
            raise ConfigurationError(f"agent ids must be unique, got {ids}")
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.enable_pubsub = enable_pubsub
        self.enable_conflict_resolution = enable_conflict_resolution
        self.resolver = resolver or ConflictResolver(
            default_vote_type=vote_type or VoteType.MAJORITY
        )
        self.vote_type = vote_type
        self.timeout = timeout
        self.name = name
        self._owns_bus = message_broker is None and enable_pubsub
        self.message_broker = message_broker
        self.swarm: AgentSwarm | None = None
        self.decisions: list[Decision] = []

    def __repr__(self) -> str:
        ids = [agent.agent_id for agent in self.agents]
        return f"<Orchestrator {ids} pubsub={self.enable_pubsub}>"

    async def start(self) -> Orchestrator:
        """Attach the agents to the bus (done by the first ``run`` if not before)."""
        if not self.enable_pubsub or self.swarm is not None:
            return self
        if self.message_broker is None:
            from agentkit.bus import InMemoryPubSub

            self.message_broker = InMemoryPubSub()
        self.swarm = AgentSwarm(self.name, self.message_broker, self.agents, resolver=self.resolver)
        await self.swarm.start()
        return self

    async def close(self) -> None:
        """Detach the agents; close the bus if the orchestrator made it."""
        swarm, self.swarm = self.swarm, None
        if swarm is not None:
            await swarm.close()
        if self._owns_bus and self.message_broker is not None:
            bus, self.message_broker = self.message_broker, None
            await bus.close()

    async def __aenter__(self) -> Orchestrator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def run(
        self, task: Any, *, options: Sequence[str] | None = None, timeout: float | None = None
    ) -> Decision:
        """Send *task* to every agent, gather their proposals and return the decision.

        *options* limits what may be proposed. Agents that do not answer within *timeout*
        (default: the orchestrator's) abstain.
        """
        question = task if isinstance(task, str) else str(task)
        wait = self.timeout if timeout is None else timeout
        if self.enable_pubsub:
            await self.start()
            assert self.swarm is not None
            resolution = await self.swarm.request_consensus(
                "orchestrator",
                question,
                {"task": task},
                required_votes=len(self.agents),
                options=options,
                vote_type=self.vote_type,
                timeout=wait,
            )
            proposals = resolution.votes
            # Partial proposals still count: resolve again without the quorum, so an
            # absent agent is an abstention rather than a veto.
            if self.enable_conflict_resolution and proposals and resolution.abstentions:
                resolution = await self.resolver.resolve_conflict(
                    resolution.conflict_id,
                    ConflictType.DECISION,
                    proposals,
                    self.vote_type,
                    abstentions=resolution.abstentions,
                )
        else:
            proposals = await self._ask_directly(question, task, options)
            resolution = None
            if self.enable_conflict_resolution and proposals:
                resolution = await self.resolver.resolve_conflict(
                    new_id("task"), ConflictType.DECISION, proposals, self.vote_type
                )
        decision = self._decide(task, proposals, resolution)
        self.decisions.append(decision)
        return decision

    async def _ask_directly(
        self, question: str, task: Any, options: Sequence[str] | None
    ) -> tuple[AgentVote, ...]:
        ballot = Ballot(
            ballot_id=new_id("task"),
            swarm=self.name,
            from_agent="orchestrator",
            question=question,
            context={"task": task},
            options=None if options is None else tuple(options),
            members=tuple(agent.agent_id for agent in self.agents),
        )
        proposals = []
        for agent in self.agents:
            try:
                vote = await agent.vote(ballot)
            except Exception:
                logger.exception("agent %r failed to propose; abstaining", agent.agent_id)
                continue
            if vote is not None:
                proposals.append(vote)
        return tuple(proposals)

    def _decide(
        self, task: Any, proposals: tuple[AgentVote, ...], resolution: Resolution | None
    ) -> Decision:
        if not self.enable_conflict_resolution:
            options = {vote.option for vote in proposals}
            agreed = next(iter(options)) if len(options) == 1 else None
            return Decision(
                task=task,
                option=agreed,
                status=(
                    ResolutionStatus.RESOLVED
                    if agreed is not None
                    else ResolutionStatus.NO_CONSENSUS
                ),
                consensus_score=1.0 if agreed is not None else 0.0,
                proposals=proposals,
            )
        if resolution is None:
            return Decision(
                task=task,
                option=None,
                status=ResolutionStatus.NO_CONSENSUS,
                consensus_score=0.0,
                proposals=proposals,
            )
        return Decision(
            task=task,
            option=resolution.winning_option,
            status=resolution.status,
            consensus_score=resolution.consensus_score,
            proposals=proposals,
            resolution=resolution,
        )
