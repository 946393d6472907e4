"""Orchestrator: the guide's migration-guide call, proposals over the bus, disagreement resolved."""

from __future__ import annotations

import pytest

from agentkit import (
    Agent,
    AgentVote,
    Ballot,
    ConfigurationError,
    ConflictResolver,
    InMemoryPubSub,
    NatsPubSub,
    Orchestrator,
    ResolutionStatus,
    VoteType,
)


class Proposer(Agent):
    """Proposes a fixed plan for any task, with a confidence."""

    def __init__(self, agent_id: str, plan: str, confidence: float = 1.0) -> None:
        super().__init__(agent_id)
        self.plan = plan
        self.confidence = confidence
        self.tasks: list[object] = []

    async def vote(self, ballot: Ballot) -> AgentVote:
        self.tasks.append(ballot.context["task"])
        return AgentVote(self.agent_id, self.plan, self.confidence)


def team() -> list[Proposer]:
    """Two agents propose "refund", one "escalate"."""
    return [
        Proposer("a1", "refund", 0.6),
        Proposer("a2", "refund", 0.5),
        Proposer("a3", "escalate", 0.95),
    ]


async def test_the_guide_migration_call_decides_by_majority() -> None:
    """Orchestrator(agents, message_broker=pubsub, ...) sends the task and resolves proposals."""
    agents = team()
    async with InMemoryPubSub() as pubsub:
        orchestrator = Orchestrator(
            agents, message_broker=pubsub, enable_pubsub=True, enable_conflict_resolution=True
        )
        async with orchestrator:
            decision = await orchestrator.run({"ticket": 7, "text": "charged twice"})
    assert decision.option == "refund"
    assert decision.status is ResolutionStatus.RESOLVED
    assert decision.consensus_score == pytest.approx(2 / 3)
    assert {vote.agent_id for vote in decision.proposals} == {"a1", "a2", "a3"}
    assert decision.resolution is not None
    assert decision.resolution.participants == ("a1", "a2", "a3")
    assert all(agent.tasks == [{"ticket": 7, "text": "charged twice"}] for agent in agents)
    assert orchestrator.decisions == [decision]


async def test_a_weighted_orchestrator_follows_confidence() -> None:
    """With vote_type=WEIGHTED the confident expert's plan loses 0.95 to 1.1."""
    async with Orchestrator(team(), vote_type=VoteType.WEIGHTED) as orchestrator:
        decision = await orchestrator.run("what now?")
    assert decision.option == "refund"
    assert decision.resolution is not None
    assert decision.resolution.tallies == {"escalate": 0.95, "refund": 1.1}


async def test_disagreement_goes_to_the_supervisor() -> None:
    """A split the vote cannot settle is decided by the resolver's supervisor callback."""
    resolver = ConflictResolver(supervisor=lambda conflict: "escalate")
    agents = [Proposer("a1", "refund"), Proposer("a2", "escalate")]
    async with Orchestrator(agents, resolver=resolver) as orchestrator:
        decision = await orchestrator.run("split")
    assert decision.option == "escalate"
    assert decision.resolution is not None
    assert decision.resolution.resolved_by == "supervisor"


async def test_without_pubsub_agents_are_asked_directly() -> None:
    """enable_pubsub=False calls each agent's vote() in this process."""
    orchestrator = Orchestrator(team(), enable_pubsub=False)
    decision = await orchestrator.run("task")
    await orchestrator.close()
    assert decision.option == "refund"
    assert orchestrator.message_broker is None


async def test_without_conflict_resolution_only_agreement_decides() -> None:
    """enable_conflict_resolution=False: a split is no decision; agreement is one."""
    split = Orchestrator(team(), enable_conflict_resolution=False)
    async with split:
        undecided = await split.run("task")
    assert (undecided.option, undecided.status) == (None, ResolutionStatus.NO_CONSENSUS)
    assert undecided.resolution is None
    agreed = Orchestrator(
        [Proposer("a", "x"), Proposer("b", "x")],
        enable_pubsub=False,
        enable_conflict_resolution=False,
    )
    decision = await agreed.run("task")
    assert (decision.option, decision.consensus_score) == ("x", 1.0)


async def test_a_silent_agent_abstains_instead_of_blocking() -> None:
    """An agent that never proposes is an abstention; the others still decide."""

    class Silent(Agent):
        async def vote(self, ballot: Ballot) -> None:
            return None

    agents = [Proposer("a1", "refund"), Proposer("a2", "refund"), Silent("a3")]
    async with Orchestrator(agents, timeout=0.2) as orchestrator:
        decision = await orchestrator.run("task")
    assert decision.option == "refund"
    assert decision.resolution is not None
    assert decision.resolution.abstentions == ("a3",)
    assert decision.consensus_score == 1.0


def test_bad_orchestrator_arguments_are_refused() -> None:
    """No agents, duplicate ids, non-agents and a bad timeout raise ConfigurationError."""
    with pytest.raises(ConfigurationError, match="at least one agent"):
        Orchestrator([])
    with pytest.raises(ConfigurationError, match="unique"):
        Orchestrator([Proposer("a", "x"), Proposer("a", "y")])
    with pytest.raises(ConfigurationError, match="not an agent"):
        Orchestrator(["a"])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="timeout"):
        Orchestrator(team(), timeout=0)


@pytest.mark.nats
@pytest.mark.timeout(60)
async def test_the_orchestrator_over_nats(nats_url: str) -> None:
    """The same decision over a real nats-server."""
    async with await NatsPubSub(nats_url).connect() as bus:
        async with Orchestrator(team(), message_broker=bus, timeout=10) as orchestrator:
            decision = await orchestrator.run({"ticket": 8})
        assert not bus.closed
    assert decision.option == "refund"
