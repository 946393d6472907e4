"""In-process agents share one decoded ballot and still vote concurrently, one ballot at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agentkit import (
    Agent,
    AgentSwarm,
    AgentVote,
    Ballot,
    InMemoryPubSub,
    ResolutionStatus,
    attach,
)
from agentkit.testing import VirtualClock


class Recorder(Agent):
    """Votes *option* after *delay* virtual seconds (and a few bare yields); records ballots."""

    def __init__(
        self, agent_id: str, clock: VirtualClock, option: str = "yes", delay: float = 0.0
    ) -> None:
        super().__init__(agent_id)
        self.clock = clock
        self.option = option
        self.delay = delay
        self.ballots: list[Ballot] = []
        self.finished: list[str] = []

    async def vote(self, ballot: Ballot) -> AgentVote:
        self.ballots.append(ballot)
        if self.delay:
            await asyncio.sleep(0)
            await self.clock.sleep(self.delay)
            await asyncio.sleep(0)
        self.finished.append(ballot.question)
        return AgentVote(self.agent_id, self.option)


class Failing(Agent):
    """Fails after waiting once."""

    async def vote(self, ballot: Ballot) -> AgentVote:
        await asyncio.sleep(0)
        raise RuntimeError("model unavailable")


@pytest.fixture
def clock() -> VirtualClock:
    """Virtual time."""
    return VirtualClock()


@pytest.fixture
async def bus(clock: VirtualClock) -> AsyncIterator[InMemoryPubSub]:
    """An in-memory bus on virtual time."""
    async with InMemoryPubSub(clock=clock) as memory:
        yield memory


async def test_local_agents_share_one_decoded_ballot(
    bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """Every local member gets the same (frozen) Ballot object; the round resolves."""
    agents = [Recorder(f"a{index}", clock) for index in range(5)]
    async with AgentSwarm("s", bus, agents) as swarm:
        resolution = await swarm.request_consensus("a0", "Go?", {}, timeout=5)
    assert resolution.status is ResolutionStatus.RESOLVED
    assert len(resolution.votes) == 5
    first = agents[0].ballots[0]
    assert all(agent.ballots[0] is first for agent in agents)


async def test_a_slow_agent_does_not_hold_up_the_others(
    bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """Fast agents answer a second ballot while a slow one is still on the first."""
    slow = Recorder("slow", clock, delay=10.0)
    fast = [Recorder("f1", clock), Recorder("f2", clock)]
    async with AgentSwarm("s", bus, [slow, *fast]) as swarm:
        first = await swarm.request_consensus("f1", "one", {}, required_votes=2, timeout=30)
        second = await swarm.request_consensus("f1", "two", {}, required_votes=2, timeout=30)
        assert first.participants == second.participants == ("f1", "f2")
        # The slow agent is on ballot one; ballot two waits for it (one ballot at a time).
        assert slow.finished == []
        assert [ballot.question for ballot in slow.ballots] == ["one"]
        await clock.advance(10.0)
        await clock.settle()
        await clock.advance(10.0)
        await bus.drain()
    assert slow.finished == ["one", "two"]
    assert [late.vote.agent_id for late in swarm.late_votes] == ["slow", "slow"]


async def test_a_failing_agent_abstains_and_the_others_vote(
    bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """An error after a suspension is an abstention; the rest of the desk is unaffected."""
    async with AgentSwarm("s", bus, [Recorder("a1", clock), Failing("a2")]) as swarm:
        round_ = asyncio.ensure_future(swarm.request_consensus("a1", "Go?", {}, timeout=1))
        await clock.settle()
        await clock.advance(1)
        resolution = await round_
    assert resolution.participants == ("a1",)
    assert resolution.abstentions == ("a2",)


async def test_detached_agents_stop_voting_and_can_come_back(
    bus: InMemoryPubSub, clock: VirtualClock
) -> None:
    """Detaching one agent leaves the others voting; attaching again answers again."""
    one, two = Recorder("a1", clock), Recorder("a2", clock)
    first, second = await attach(one, bus, "s"), await attach(two, bus, "s")
    swarm = AgentSwarm("s", bus, ["a1", "a2"])
    await first.detach()
    assert not first.attached
    round_ = asyncio.ensure_future(swarm.request_consensus("a2", "q", {}, timeout=1))
    await clock.settle()
    await clock.advance(1)
    assert (await round_).participants == ("a2",)
    await second.detach()
    again = await attach(one, bus, "s")
    resolution = await swarm.request_consensus("a1", "q", {}, required_votes=1, timeout=5)
    await again.detach()
    await swarm.close()
    assert resolution.participants == ("a1",)
    assert len(one.ballots) == 1


async def test_closing_the_bus_with_a_vote_in_flight_does_not_hang(clock: VirtualClock) -> None:
    """A vote parked forever is cancelled when the bus (real time) closes; close returns."""
    bus = InMemoryPubSub()
    stuck = Recorder("stuck", clock, delay=1.0)  # its virtual clock never moves
    attachment = await attach(stuck, bus, "s")
    swarm = AgentSwarm("s", bus, ["stuck"])
    resolution = await swarm.request_consensus("x", "q", {}, timeout=0.2)
    assert resolution.abstentions == ("stuck",)
    await asyncio.wait_for(bus.close(timeout=0.2), 10)
    assert stuck.finished == []
    assert attachment.votes_cast == 0


async def test_many_local_agents_let_the_loop_run_between_votes(bus: InMemoryPubSub) -> None:
    """600 local members: other tasks get turns while the desk starts their votes."""
    ticks = 0
    seen: list[int] = []

    class Ticking(Agent):
        async def vote(self, ballot: Ballot) -> AgentVote:
            seen.append(ticks)
            return AgentVote(self.agent_id, "yes")

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    agents = [Ticking(f"a{index:03d}") for index in range(600)]
    running = asyncio.ensure_future(ticker())
    try:
        async with AgentSwarm("s", bus, agents) as swarm:
            resolution = await swarm.request_consensus("a000", "Go?", {}, timeout=30)
    finally:
        running.cancel()
    assert len(resolution.votes) == 600
    assert len(seen) == 600
    assert seen[-1] > seen[0]
