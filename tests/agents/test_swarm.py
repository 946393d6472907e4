"""AgentSwarm on the in-memory bus and on a real nats-server: consensus, broadcast, work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentkit import (
    Agent,
    AgentSwarm,
    AgentVote,
    Ballot,
    BallotVote,
    ConfigurationError,
    ConflictResolver,
    InMemoryPubSub,
    NatsPubSub,
    PubSubMessage,
    ResolutionStatus,
    WorkItem,
    attach,
)
from agentkit.exceptions import TaskTimeoutError
from agentkit.protocols import Bus, Clock
from agentkit.testing import VirtualClock


class Voter(Agent):
    """Votes for a fixed option (after *delay* seconds of *clock*) and echoes work."""

    def __init__(
        self,
        agent_id: str,
        option: str = "yes",
        *,
        delay: float = 0.0,
        clock: Clock | None = None,
        fail_work: bool = False,
    ) -> None:
        super().__init__(agent_id)
        self.option = option
        self.delay = delay
        self.clock = clock
        self.fail_work = fail_work
        self.ballots: list[Ballot] = []

    async def vote(self, ballot: Ballot) -> AgentVote:
        self.ballots.append(ballot)
        if self.delay and self.clock is not None:
            await self.clock.sleep(self.delay)
        return AgentVote(self.agent_id, self.option, 0.9, reasoning=ballot.question)

    async def work(self, item: WorkItem) -> Any:
        if self.fail_work:
            raise ValueError(f"cannot do {item.task}")
        return {"task": item.task, "agent": self.agent_id}


@pytest.fixture(
    params=[
        "memory",
        pytest.param("nats", marks=[pytest.mark.nats, pytest.mark.timeout(60)]),
    ]
)
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    """An in-memory bus, or a NatsPubSub on the module's real nats-server."""
    if request.param == "memory":
        async with InMemoryPubSub() as memory:
            yield memory
    else:
        url = request.getfixturevalue("nats_url")
        nats_bus = await NatsPubSub(url).connect()
        try:
            yield nats_bus
        finally:
            await nats_bus.close()


@pytest.fixture
def clock() -> VirtualClock:
    """Virtual time for deadline tests on the in-memory bus."""
    return VirtualClock()


@pytest.fixture
async def virtual_bus(clock: VirtualClock) -> AsyncIterator[InMemoryPubSub]:
    """An in-memory bus on virtual time."""
    async with InMemoryPubSub(clock=clock) as memory:
        yield memory


# -- consensus on both buses --------------------------------------------------------------


async def test_consensus_with_every_member_voting(bus: Bus) -> None:
    """Every member votes over the bus; the majority option wins with its share as score."""
    agents = [
        Voter("analyst-001", "block"),
        Voter("analyst-002", "block"),
        Voter("analyst-003", "allow"),
    ]
    async with AgentSwarm("fraud", bus, agents) as swarm:
        resolution = await swarm.request_consensus(
            "analyst-001", "Block account?", {"confidence": 0.92}, timeout=10
        )
    assert resolution.status is ResolutionStatus.RESOLVED
    assert resolution.winning_option == "block"
    assert resolution.consensus_score == pytest.approx(2 / 3)
    assert resolution.participants == ("analyst-001", "analyst-002", "analyst-003")
    assert resolution.abstentions == ()
    assert resolution.required_votes == 3
    ballot = agents[0].ballots[0]
    assert (ballot.question, ballot.context) == ("Block account?", {"confidence": 0.92})
    assert ballot.ballot_id == resolution.conflict_id


async def test_silent_members_abstain_at_the_deadline(bus: Bus) -> None:
    """A member with no agent behind it abstains; too few votes at the deadline: NO_CONSENSUS."""
    agents = [Voter("a1", "yes"), Voter("a2", "yes")]
    async with AgentSwarm("quiet", bus, [*agents, "ghost"]) as swarm:
        resolution = await swarm.request_consensus("a1", "Ship it?", {}, timeout=0.5)
    assert resolution.status is ResolutionStatus.NO_CONSENSUS
    assert resolution.abstentions == ("ghost",)
    assert resolution.tallies == {"yes": 2}
    assert "2 of the 3 required votes" in resolution.reason


async def test_broadcast_reaches_every_agent(bus: Bus) -> None:
    """broadcast(from_agent, content, data) is handed to each attached agent's handle()."""
    agents = [Voter("a1"), Voter("a2")]
    async with AgentSwarm("news", bus, agents) as swarm:
        sent = await swarm.broadcast("supervisor", "Investigate T-1", {"risk": 0.87})
        for _ in range(200):
            if all(agent.received for agent in agents):
                break
            await asyncio.sleep(0.01)
    assert sent.topic == "agentkit.swarm.news.broadcast"
    for agent in agents:
        (message,) = agent.received
        assert message.from_agent == "supervisor"
        assert message.payload["content"] == "Investigate T-1"
        assert message.payload["data"] == {"risk": 0.87}


async def test_round_robin_work_and_results(bus: Bus) -> None:
    """The guide's call returns the assignments at once; every result arrives, in task order."""
    agents = [Voter("analyst-001"), Voter("analyst-002"), Voter("analyst-003")]
    async with AgentSwarm("work", bus, agents) as swarm:
        tasks = [{"task": "analyze", "tx_id": f"T-{i}"} for i in range(10)]
        assignments = await swarm.distribute_work("supervisor", tasks, strategy="round_robin")
        assert {agent: len(items) for agent, items in assignments.items()} == {
            "analyst-001": 4,
            "analyst-002": 3,
            "analyst-003": 3,
        }
        assert assignments["analyst-002"][0] == {"task": "analyze", "tx_id": "T-1"}
        results = await assignments.wait(timeout=10)
    assert [result.index for result in results] == list(range(10))
    assert all(result.ok for result in results)
    assert results[4].result == {"task": tasks[4], "agent": "analyst-002"}
    assert assignments.done
    assert swarm.load == dict.fromkeys(swarm.members, 0)


# -- deadlines, abstentions and late votes on virtual time --------------------------------------


async def test_required_votes_close_the_round_and_later_votes_are_late(
    virtual_bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """Two quick votes meet required_votes=2; the slow agent abstains and its vote is late."""
    slow = Voter("a3", "no", delay=5.0, clock=clock)
    async with AgentSwarm("s", virtual_bus, [Voter("a1"), Voter("a2"), slow]) as swarm:
        resolution = await swarm.request_consensus("a1", "Go?", {}, required_votes=2, timeout=30)
        assert resolution.winning_option == "yes"
        assert resolution.abstentions == ("a3",)
        assert swarm.late_votes == []
        await clock.advance(5.0)
        await virtual_bus.drain()
        (late,) = swarm.late_votes
    assert (late.ballot_id, late.vote.agent_id, late.vote.option) == (
        resolution.conflict_id,
        "a3",
        "no",
    )


async def test_the_deadline_runs_on_the_bus_clock(
    virtual_bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """The round waits until the virtual deadline, then resolves what it has."""
    slow = Voter("a2", "no", delay=60.0, clock=clock)
    async with AgentSwarm("s", virtual_bus, [Voter("a1"), slow]) as swarm:
        round_ = asyncio.ensure_future(swarm.request_consensus("a1", "Go?", {}, timeout=30))
        await clock.advance(29.0)
        assert not round_.done()
        await clock.advance(1.0)
        resolution = await round_
        # Let the slow agent finish (its vote is late) so it detaches promptly.
        await clock.advance(30.0)
    assert resolution.status is ResolutionStatus.NO_CONSENSUS
    assert resolution.abstentions == ("a2",)
    assert [late.vote.agent_id for late in swarm.late_votes] == ["a2"]


async def test_a_supervisor_decides_a_round_short_of_votes(
    virtual_bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """With too few votes the swarm's resolver escalates to its supervisor callback."""
    resolver = ConflictResolver(supervisor=lambda conflict: "hold")
    async with AgentSwarm("s", virtual_bus, [Voter("a1"), "ghost"], resolver=resolver) as swarm:
        round_ = asyncio.ensure_future(swarm.request_consensus("a1", "Go?", {}, timeout=5))
        await clock.advance(5)
        resolution = await round_
    assert (resolution.winning_option, resolution.resolved_by) == ("hold", "supervisor")


async def test_votes_off_the_ballot_or_from_outsiders_are_ignored(
    virtual_bus: InMemoryPubSub,
) -> None:
    """Votes for options not offered, or from non-members, are not counted but recorded."""

    class Forger(Voter):
        """Also sends a vote in the name of an agent outside the swarm."""

        async def vote(self, ballot: Ballot) -> AgentVote:
            forged = BallotVote(ballot_id=ballot.ballot_id, vote=AgentVote("intruder", "yes"))
            await virtual_bus.publish(ballot.reply_subject, forged)
            return await super().vote(ballot)

    # An attached agent that is not a member is not asked at all.
    bystander = Voter("bystander", "yes")
    attachment = await attach(bystander, virtual_bus, "s")
    agents = [Forger("a1", "yes"), Voter("a2", "maybe"), Voter("a3", "no")]
    async with AgentSwarm("s", virtual_bus, agents) as swarm:
        resolution = await swarm.request_consensus(
            "a1", "Go?", {}, required_votes=2, options=["yes", "no"], timeout=5
        )
        await virtual_bus.drain()
    await attachment.detach()
    assert resolution.participants == ("a1", "a3")
    assert resolution.abstentions == ("a2",)
    reasons = {ignored.vote.agent_id: ignored.reason for ignored in swarm.ignored_votes}
    assert reasons["intruder"] == "not a member"
    assert "not on the ballot" in reasons["a2"]
    assert bystander.ballots == []


async def test_an_agent_that_fails_to_vote_abstains(
    virtual_bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """An exception in vote() is logged and counts as an abstention."""

    class Broken(Agent):
        async def vote(self, ballot: Ballot) -> AgentVote:
            raise RuntimeError("model unavailable")

    async with AgentSwarm("s", virtual_bus, [Voter("a1"), Broken("a2")]) as swarm:
        round_ = asyncio.ensure_future(swarm.request_consensus("a1", "Go?", {}, timeout=1))
        await clock.advance(1)
        resolution = await round_
    assert resolution.abstentions == ("a2",)


async def test_bad_consensus_arguments_fail_before_anything_is_sent(
    virtual_bus: InMemoryPubSub,
) -> None:
    """Impossible quorums, bad timeouts, options and vote types raise; no ballot goes out."""
    swarm = AgentSwarm("s", virtual_bus, ["a1", "a2"])
    with pytest.raises(ConfigurationError, match="can never be met"):
        await swarm.request_consensus("a1", "q", {}, required_votes=3)
    with pytest.raises(ConfigurationError, match="required_votes"):
        await swarm.request_consensus("a1", "q", {}, required_votes=0)
    with pytest.raises(ConfigurationError, match="timeout"):
        await swarm.request_consensus("a1", "q", {}, timeout=0)
    with pytest.raises(ConfigurationError, match="options"):
        await swarm.request_consensus("a1", "q", {}, options="yes")
    with pytest.raises(ConfigurationError, match="unknown vote type"):
        await swarm.request_consensus("a1", "q", {}, vote_type="borda")
    assert virtual_bus.history("agentkit.swarm.s.ballot") == []


def test_bad_swarm_definitions_are_refused() -> None:
    """Swarm names must be one subject token; member ids unique and subject-safe."""
    bus = InMemoryPubSub()
    with pytest.raises(ConfigurationError, match="swarm name"):
        AgentSwarm("fraud.detection", bus, ["a"])
    with pytest.raises(ConfigurationError, match="listed twice"):
        AgentSwarm("s", bus, ["a", "a"])
    with pytest.raises(ConfigurationError, match="agent id"):
        AgentSwarm("s", bus, ["a b"])
    with pytest.raises(ConfigurationError, match="agent id or an Agent"):
        AgentSwarm("s", bus, [42])  # type: ignore[list-item]


# -- work distribution strategies -----------------------------------------------------------


async def test_round_robin_continues_across_calls(virtual_bus: InMemoryPubSub) -> None:
    """A second call starts with the member after the last one used."""
    async with AgentSwarm("s", virtual_bus, [Voter("a"), Voter("b"), Voter("c")]) as swarm:
        first = await swarm.distribute_work("sup", [1, 2], strategy="round_robin")
        second = await swarm.distribute_work("sup", [3, 4], strategy="round_robin")
        await first.wait()
        await second.wait()
    assert [a.agent_id for a in first.assignments] == ["a", "b"]
    assert [a.agent_id for a in second.assignments] == ["c", "a"]


async def test_least_loaded_fills_the_idle_agents_first(virtual_bus: InMemoryPubSub) -> None:
    """Work goes to the members with the fewest unanswered items (ghosts never answer)."""
    async with AgentSwarm("s", virtual_bus, [Voter("a"), "ghost", Voter("c")]) as swarm:
        stuck = await swarm.distribute_work("sup", ["x"], strategy="round_robin", key=None)
        await virtual_bus.drain()
        assert swarm.load == {"a": 0, "ghost": 0, "c": 0}
        stuck = await swarm.distribute_work("sup", ["x", "y"], strategy="least_loaded")
        assert [a.agent_id for a in stuck.assignments] == ["a", "ghost"]
        await virtual_bus.drain()
        assert swarm.load == {"a": 0, "ghost": 1, "c": 0}
        spread = await swarm.distribute_work("sup", [1, 2, 3], strategy="least_loaded")
    assert [a.agent_id for a in spread.assignments] == ["a", "c", "a"]


async def test_hash_sends_equal_keys_to_the_same_agent(virtual_bus: InMemoryPubSub) -> None:
    """With strategy="hash" the same key always lands on the same member, in any swarm."""
    members = [Voter("a"), Voter("b"), Voter("c")]
    tasks = [{"customer": f"C-{i % 4}", "n": i} for i in range(12)]
    async with AgentSwarm("s", virtual_bus, members) as swarm:
        one = await swarm.distribute_work("sup", tasks, strategy="hash", key="customer")
        two = await swarm.distribute_work(
            "sup", tasks, strategy="hash", key=lambda task: task["customer"]
        )
        await one.wait()
        await two.wait()
    by_key: dict[str, set[str]] = {}
    for assignment in one.assignments:
        by_key.setdefault(assignment.task["customer"], set()).add(assignment.agent_id)
    assert all(len(agents) == 1 for agents in by_key.values())
    assert [a.agent_id for a in one.assignments] == [a.agent_id for a in two.assignments]
    other = AgentSwarm("t", InMemoryPubSub(), ["a", "b", "c"])
    assert list(other._assign(tasks, "hash", "customer", None)) == [
        a.agent_id for a in one.assignments
    ]


async def test_random_is_reproducible_with_a_seed(virtual_bus: InMemoryPubSub) -> None:
    """The same seed gives the same assignments."""
    async with AgentSwarm("s", virtual_bus, [Voter("a"), Voter("b"), Voter("c")]) as swarm:
        runs = [
            await swarm.distribute_work("sup", list(range(20)), strategy="random", seed=7)
            for _ in range(2)
        ]
        for run in runs:
            await run.wait()
    first, second = ([a.agent_id for a in run.assignments] for run in runs)
    assert first == second
    assert len(set(first)) > 1


async def test_results_stream_as_agents_finish(
    virtual_bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """Iterating a distribution yields results in finishing order; failures are results too."""

    class Slow(Voter):
        async def work(self, item: WorkItem) -> Any:
            await clock.sleep(10)
            return "slow"

    agents = [Slow("a"), Voter("b", fail_work=True)]
    async with AgentSwarm("s", virtual_bus, agents) as swarm:
        distribution = await swarm.distribute_work("sup", ["t0", "t1"])
        seen = []

        async def collect() -> None:
            async for result in distribution:
                seen.append(result)

        collecting = asyncio.ensure_future(collect())
        await clock.advance(10)
        await collecting
    assert [result.agent_id for result in seen] == ["b", "a"]
    assert (seen[0].ok, seen[0].error_type, seen[0].error) == (False, "ValueError", "cannot do t1")
    assert (seen[1].ok, seen[1].result) == (True, "slow")


async def test_waiting_for_work_nobody_does_times_out(
    virtual_bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """Work sent to a member with no agent raises TaskTimeoutError naming what is missing."""
    async with AgentSwarm("s", virtual_bus, ["ghost"]) as swarm:
        distribution = await swarm.distribute_work("sup", ["t0"])
        waiting = asyncio.ensure_future(distribution.wait(timeout=5))
        await clock.advance(5)
        with pytest.raises(TaskTimeoutError, match="#0→ghost"):
            await waiting
    assert [a.index for a in distribution.pending] == [0]


async def test_bad_work_arguments_are_refused(virtual_bus: InMemoryPubSub) -> None:
    """Unknown strategies, missing hash keys and memberless swarms raise before sending."""
    swarm = AgentSwarm("s", virtual_bus, ["a"])
    with pytest.raises(ConfigurationError, match="unknown strategy"):
        await swarm.distribute_work("sup", [1], strategy="fastest")
    with pytest.raises(ConfigurationError, match="hash key 'id'"):
        await swarm.distribute_work("sup", [{"x": 1}], strategy="hash", key="id")
    with pytest.raises(ConfigurationError, match="no members"):
        await AgentSwarm("e", virtual_bus, []).distribute_work("sup", [1])
    assert virtual_bus.history("agentkit.swarm.s.work.a") == []
    empty = await swarm.distribute_work("sup", [])
    assert empty.done
    assert await empty.wait() == []


async def test_a_vote_for_another_agent_is_cast_as_the_voter(virtual_bus: InMemoryPubSub) -> None:
    """An agent cannot vote in another's name: its vote carries its own id."""

    class Impostor(Agent):
        async def vote(self, ballot: Ballot) -> AgentVote:
            return AgentVote("someone-else", "yes")

    async with AgentSwarm("s", virtual_bus, [Impostor("a1")]) as swarm:
        resolution = await swarm.request_consensus("a1", "q", {}, timeout=5)
    assert resolution.participants == ("a1",)


async def test_messages_from_a_newer_version_are_skipped(virtual_bus: InMemoryPubSub) -> None:
    """A ballot with a newer wire version is not answered (and nothing breaks)."""
    agent = Voter("a1")
    attachment = await attach(agent, virtual_bus, "s")
    await virtual_bus.publish(
        "agentkit.swarm.s.ballot",
        PubSubMessage(
            topic="agentkit.swarm.s.ballot",
            payload={
                "ballot_id": "b",
                "swarm": "s",
                "from_agent": "x",
                "question": "q",
                "version": 99,
            },
        ),
    )
    await virtual_bus.drain()
    await attachment.detach()
    assert agent.ballots == []
    assert attachment.votes_cast == 0
