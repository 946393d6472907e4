"""Voting and consensus beside their anchors: a plain Counter tally, the bare bus, raw nats-py.

* every method resolving 3, 100 and 1,000 votes (``ConflictResolver.resolve_conflict``, the
  whole path: checks, count, Resolution) beside ``collections.Counter(...).most_common(1)``;
* instant runoff over 10,000 ballots ranking 20 options beside a Counter of first preferences;
* a full consensus round (ballot out, every agent's vote back, resolution) through
  ``AgentSwarm.request_consensus`` with 3 and 10 agents, in memory and over NATS, beside the
  same fan-out/fan-in done with bare bus subscriptions (memory) or raw nats-py (NATS).

Run with ``pytest benchmarks/bench_voting.py --benchmark-only`` (figures) or
``--benchmark-disable`` (a smoke test).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import msgspec
import nats
import pytest
from _util import measure, record, rounds

from agentkit import (
    Agent,
    AgentSwarm,
    AgentVote,
    Ballot,
    ConflictResolver,
    ConflictType,
    InMemoryPubSub,
    NatsPubSub,
    PubSubMessage,
    ResolutionStatus,
    VoteType,
    attach,
)
from agentkit.testing import NatsServer

OPTIONS = ("approve", "reject", "defer")
VOTER_COUNTS = (3, 100, 1_000)
#: Resolutions per timed round, so each round lasts long enough to time.
REPEATS = {3: 2_000, 100: 500, 1_000: 50}
IRV_BALLOTS = 10_000
IRV_OPTIONS = 20
CONSENSUS_ROUNDS = 20
ROUND_TIMEOUT = 60.0


def make_votes(voters: int, *, seed: int = 1) -> list[AgentVote]:
    """*voters* votes over OPTIONS (weighted towards "approve" so there is a winner)."""
    chooser = random.Random(seed)
    votes = []
    for index in range(voters):
        ranking = list(OPTIONS)
        chooser.shuffle(ranking)
        if chooser.random() < 0.7:
            ranking.remove("approve")
            ranking.insert(0, "approve")
        votes.append(
            AgentVote(
                f"agent-{index:05d}",
                ranking[0],
                round(chooser.uniform(0.5, 1.0), 3),
                ranking=tuple(ranking[: chooser.randint(1, 3)]),
            )
        )
    return votes


# -- 1. every method at 3, 100 and 1,000 votes ------------------------------------------------


class ResolveRound:
    """Resolve the same votes REPEATS times with one method."""

    def __init__(self, votes: list[AgentVote], vote_type: VoteType, repeats: int) -> None:
        self.votes = votes
        self.vote_type = vote_type
        self.repeats = repeats
        self.resolver = ConflictResolver(supervisor_agent_id="agent-00000")

    async def run(self) -> int:
        resolve = self.resolver.resolve_conflict
        done = 0
        for _ in range(self.repeats):
            resolution = await resolve("bench", ConflictType.DECISION, self.votes, self.vote_type)
            done += resolution.status is ResolutionStatus.RESOLVED
        return done

    async def close(self) -> None:
        return None


class CounterRound:
    """The anchor: ``Counter(vote.option for vote in votes).most_common(1)``, REPEATS times."""

    def __init__(self, votes: list[AgentVote], repeats: int) -> None:
        self.votes = votes
        self.repeats = repeats

    async def run(self) -> int:
        votes = self.votes
        done = 0
        for _ in range(self.repeats):
            (winner, _count), *_ = Counter(vote.option for vote in votes).most_common(1)
            done += bool(winner)
        return done

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("voters", VOTER_COUNTS)
@pytest.mark.parametrize("vote_type", list(VoteType), ids=lambda vote_type: vote_type.value)
def test_resolve(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    vote_type: VoteType,
    voters: int,
) -> None:
    """resolve_conflict with each method resolves every repetition (supervisor breaks ties)."""
    votes = make_votes(voters)
    # As a plain test (--benchmark-disable) a few repetitions show the work is done.
    repeats = REPEATS[voters] if benchmark.enabled else 5

    async def make_round() -> ResolveRound:
        return ResolveRound(votes, vote_type, repeats)

    measure(benchmark, bench_loop, make_round, expected=repeats, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=f"resolve {voters} votes",
        role="agentkit",
        label=vote_type.value,
        operations=repeats,
        unit="resolutions",
    )


@pytest.mark.parametrize("voters", VOTER_COUNTS)
def test_resolve_anchor_counter(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config, voters: int
) -> None:
    """A plain Counter tally of the same votes."""
    votes = make_votes(voters)
    # As a plain test (--benchmark-disable) a few repetitions show the work is done.
    repeats = REPEATS[voters] if benchmark.enabled else 5

    async def make_round() -> CounterRound:
        return CounterRound(votes, repeats)

    measure(benchmark, bench_loop, make_round, expected=repeats, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=f"resolve {voters} votes",
        role="anchor",
        label="collections.Counter",
        operations=repeats,
        unit="resolutions",
    )


# -- 2. instant runoff, 10,000 ballots over 20 options ----------------------------------------


def irv_votes() -> list[AgentVote]:
    """IRV_BALLOTS ballots, each ranking a random prefix (1-20) of the 20 options."""
    chooser = random.Random(20)
    options = [f"option-{index:02d}" for index in range(IRV_OPTIONS)]
    votes = []
    for index in range(IRV_BALLOTS):
        ranking = options[:]
        chooser.shuffle(ranking)
        ranking = ranking[: chooser.randint(1, IRV_OPTIONS)]
        votes.append(AgentVote(f"v{index:05d}", ranking[0], ranking=tuple(ranking)))
    return votes


class IrvRound:
    """One instant-runoff resolution of the 10,000 ballots."""

    def __init__(self, votes: list[AgentVote]) -> None:
        self.votes = votes
        self.resolver = ConflictResolver(supervisor=lambda conflict: "option-00")
        self.resolution: Any = None

    async def run(self) -> int:
        self.resolution = await self.resolver.resolve_conflict(
            "irv", ConflictType.DECISION, self.votes, VoteType.RANKED_CHOICE
        )
        return int(self.resolution.status is ResolutionStatus.RESOLVED)

    async def close(self) -> None:
        return None


class FirstPreferenceRound:
    """The anchor: a Counter of first preferences (round one of the count, nothing more)."""

    def __init__(self, votes: list[AgentVote]) -> None:
        self.votes = votes

    async def run(self) -> int:
        return int(bool(Counter(vote.ballot[0] for vote in self.votes).most_common(1)))

    async def close(self) -> None:
        return None


def test_irv_10000_ballots(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """RANKED_CHOICE over 10,000 ballots of 20 options runs to a result (19 rounds at most)."""
    votes = irv_votes()
    made: list[IrvRound] = []

    async def make_round() -> IrvRound:
        made.append(IrvRound(votes))
        return made[-1]

    measure(benchmark, bench_loop, make_round, expected=1, rounds=rounds(5))
    assert 1 <= len(made[-1].resolution.rounds) <= IRV_OPTIONS - 1
    record(
        benchmark,
        pytestconfig,
        figure="IRV 10,000 ballots x 20 options",
        role="agentkit",
        label="ranked_choice",
        operations=1,
        unit="resolutions",
    )


def test_irv_anchor_first_preferences(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """A Counter of the 10,000 first preferences."""
    votes = irv_votes()

    async def make_round() -> FirstPreferenceRound:
        return FirstPreferenceRound(votes)

    measure(benchmark, bench_loop, make_round, expected=1, rounds=rounds(5))
    record(
        benchmark,
        pytestconfig,
        figure="IRV 10,000 ballots x 20 options",
        role="anchor",
        label="Counter of first preferences",
        operations=1,
        unit="resolutions",
    )


# -- 3. a full consensus round over the bus ------------------------------------------------------


class YesAgent(Agent):
    """Votes "yes" at once."""

    async def vote(self, ballot: Ballot) -> AgentVote:
        return AgentVote(self.agent_id, "yes", 0.9)


class SwarmConsensusRound:
    """CONSENSUS_ROUNDS request_consensus calls answered by *agents* YesAgents."""

    def __init__(self, agents: int, nats_url: str | None) -> None:
        self.agents = agents
        self.nats_url = nats_url
        self.buses: list[Any] = []

    async def open(self) -> SwarmConsensusRound:
        if self.nats_url is None:
            requester = agent_bus = InMemoryPubSub()
            self.buses = [requester]
        else:
            # The requester and the agents on separate connections, as in separate processes.
            requester = await NatsPubSub(self.nats_url).connect()
            agent_bus = await NatsPubSub(self.nats_url).connect()
            self.buses = [requester, agent_bus]
        members = [YesAgent(f"agent-{index:02d}") for index in range(self.agents)]
        for member in members:
            await attach(member, agent_bus, "bench")
        # The agents' subscriptions must reach the server before the first ballot.
        await agent_bus.drain()
        self.swarm = AgentSwarm("bench", requester, [member.agent_id for member in members])
        await self.swarm.start()
        # One unmeasured round so NATS subscriptions are live on the server.
        await self.swarm.request_consensus("bench", "warm-up?", {}, timeout=ROUND_TIMEOUT)
        return self

    async def run(self) -> int:
        done = 0
        for _ in range(CONSENSUS_ROUNDS):
            resolution = await self.swarm.request_consensus(
                "bench", "Proceed?", {"n": 1}, timeout=ROUND_TIMEOUT
            )
            done += resolution.winning_option == "yes"
        return done

    async def close(self) -> None:
        buses, self.buses = self.buses, []
        for bus in buses:
            await bus.close()


class BareMemoryConsensusRound:
    """The in-memory anchor: the same ballot fan-out and vote fan-in with bare subscriptions."""

    def __init__(self, agents: int) -> None:
        self.agents = agents

    async def open(self) -> BareMemoryConsensusRound:
        self.bus = InMemoryPubSub()
        self.votes: list[Any] = []
        self.enough: asyncio.Event = asyncio.Event()

        async def collect(message: PubSubMessage) -> None:
            self.votes.append(message.payload)
            if len(self.votes) == self.agents:
                self.enough.set()

        await self.bus.subscribe("bare.votes", collect)
        for index in range(self.agents):
            await self.bus.subscribe("bare.ballot", self._voter(f"agent-{index:02d}"))
        return self

    def _voter(self, agent_id: str) -> Any:
        async def answer(message: PubSubMessage) -> None:
            await self.bus.publish("bare.votes", {"agent_id": agent_id, "option": "yes"})

        return answer

    async def run(self) -> int:
        done = 0
        for _ in range(CONSENSUS_ROUNDS):
            self.votes.clear()
            self.enough.clear()
            await self.bus.publish("bare.ballot", {"question": "Proceed?"})
            await asyncio.wait_for(self.enough.wait(), ROUND_TIMEOUT)
            (winner, _), *_ = Counter(vote["option"] for vote in self.votes).most_common(1)
            done += winner == "yes"
        return done

    async def close(self) -> None:
        await self.bus.close()


class RawNatsConsensusRound:
    """The NATS anchor: raw nats-py, a msgpack ballot out and msgpack votes back."""

    def __init__(self, agents: int, url: str) -> None:
        self.agents = agents
        self.url = url
        self.connections: list[Any] = []

    async def open(self) -> RawNatsConsensusRound:
        requester = await nats.connect(self.url, name="raw-requester")
        agents = await nats.connect(self.url, name="raw-agents")
        self.connections = [requester, agents]
        self.requester = requester
        self.votes: list[Any] = []
        self.enough = asyncio.Event()

        async def collect(msg: Any) -> None:
            self.votes.append(msgspec.msgpack.decode(msg.data))
            if len(self.votes) == self.agents:
                self.enough.set()

        await requester.subscribe("raw.votes", cb=collect)
        for index in range(self.agents):
            vote = msgspec.msgpack.encode({"agent_id": f"agent-{index:02d}", "option": "yes"})

            async def answer(msg: Any, vote: bytes = vote) -> None:
                msgspec.msgpack.decode(msg.data)
                await agents.publish("raw.votes", vote)

            await agents.subscribe("raw.ballot", cb=answer)
        await agents.flush()
        await requester.flush()
        return self

    async def run(self) -> int:
        ballot = msgspec.msgpack.encode({"question": "Proceed?", "context": {"n": 1}})
        done = 0
        for _ in range(CONSENSUS_ROUNDS):
            self.votes.clear()
            self.enough.clear()
            await self.requester.publish("raw.ballot", ballot)
            await asyncio.wait_for(self.enough.wait(), ROUND_TIMEOUT)
            (winner, _), *_ = Counter(vote["option"] for vote in self.votes).most_common(1)
            done += winner == "yes"
        return done

    async def close(self) -> None:
        connections, self.connections = self.connections, []
        for connection in connections:
            await connection.close()


@pytest.mark.parametrize("agents", [3, 10])
def test_consensus_round_in_memory(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config, agents: int
) -> None:
    """request_consensus over InMemoryPubSub: every round resolves "yes"."""

    async def make_round() -> SwarmConsensusRound:
        return await SwarmConsensusRound(agents, None).open()

    measure(benchmark, bench_loop, make_round, expected=CONSENSUS_ROUNDS, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=f"consensus round, in memory, {agents} agents",
        role="agentkit",
        label="AgentSwarm.request_consensus",
        operations=CONSENSUS_ROUNDS,
        unit="rounds",
    )


@pytest.mark.parametrize("agents", [3, 10])
def test_consensus_round_in_memory_anchor(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config, agents: int
) -> None:
    """The same fan-out/fan-in with bare InMemoryPubSub subscriptions and a Counter."""

    async def make_round() -> BareMemoryConsensusRound:
        return await BareMemoryConsensusRound(agents).open()

    measure(benchmark, bench_loop, make_round, expected=CONSENSUS_ROUNDS, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=f"consensus round, in memory, {agents} agents",
        role="anchor",
        label="bare bus subscriptions",
        operations=CONSENSUS_ROUNDS,
        unit="rounds",
    )


@pytest.mark.nats
@pytest.mark.timeout(120)
@pytest.mark.parametrize("agents", [3, 10])
def test_consensus_round_nats(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    nats_server: NatsServer,
    agents: int,
) -> None:
    """request_consensus over NATS, agents on their own connection: every round resolves."""

    async def make_round() -> SwarmConsensusRound:
        return await SwarmConsensusRound(agents, nats_server.url).open()

    measure(benchmark, bench_loop, make_round, expected=CONSENSUS_ROUNDS, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=f"consensus round, NATS, {agents} agents",
        role="agentkit",
        label="AgentSwarm.request_consensus",
        operations=CONSENSUS_ROUNDS,
        unit="rounds",
    )


@pytest.mark.nats
@pytest.mark.timeout(120)
@pytest.mark.parametrize("agents", [3, 10])
def test_consensus_round_nats_anchor(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    nats_server: NatsServer,
    agents: int,
) -> None:
    """The same fan-out/fan-in with raw nats-py and a Counter."""

    async def make_round() -> RawNatsConsensusRound:
        return await RawNatsConsensusRound(agents, nats_server.url).open()

    measure(benchmark, bench_loop, make_round, expected=CONSENSUS_ROUNDS, rounds=rounds(10))
    record(
        benchmark,
        pytestconfig,
        figure=f"consensus round, NATS, {agents} agents",
        role="anchor",
        label="raw nats-py",
        operations=CONSENSUS_ROUNDS,
        unit="rounds",
    )
