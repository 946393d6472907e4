"""Voting and consensus beside their anchors: a plain Counter tally, the bare bus, raw nats-py.

* every method resolving 3 to 1,000,000 votes (``ConflictResolver.resolve_conflict``, the
  whole path: checks, count, Resolution) beside ``collections.Counter(...).most_common(1)``,
  the two sides **interleaved in rounds** in one process; ns per vote, medians and spread;
* instant runoff over 10,000 ballots ranking 20 options beside a Counter of first preferences;
* instant runoff with one ballot ranking 6,000 or 100,000 options and a rival ballot (so every
  option is eliminated in its own round): CPU seconds, tracemalloc peak, the round records'
  size, and the longest event-loop stall of ``resolve_conflict`` beside a 1 ms ticker
  (``stall.longest_stall``). These are figures in ``extra_info`` and on stdout, not ratios;
  only the behaviour (rounds, record sizes) is asserted;
* a full consensus round (ballot out, every agent's vote back, resolution) through
  ``AgentSwarm.request_consensus`` with 3 and 10 agents, in memory and over NATS, beside the
  same fan-out/fan-in done with bare bus subscriptions (memory) or raw nats-py (NATS).

Run with ``pytest benchmarks/bench_voting.py --benchmark-only`` (figures) or
``--benchmark-disable`` (a smoke test).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import msgspec
import nats
import pytest
from _util import RESULTS_KEY, Figure, NothingToClose, Round, release, rounds, run_figure
from stall import longest_stall

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
from agentkit.voting._voting import ranked_choice

OPTIONS = ("approve", "reject", "defer")
VOTE_SIZES = (3, 1_000, 10_000, 100_000, 1_000_000)
#: Votes resolved per timed sample (at least one resolution), so each sample lasts ~10 ms+.
VOTES_PER_SAMPLE = 50_000
IRV_BALLOTS = 10_000
IRV_OPTIONS = 20
CONSENSUS_ROUNDS = 20
IRV = "IRV 10,000 ballots x 20 options"
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


# -- 1. every method at 3 to 1,000,000 votes, interleaved with a Counter tally ------------------


def _resolve_seconds(
    loop: asyncio.AbstractEventLoop,
    resolver: ConflictResolver,
    votes: list[AgentVote],
    vote_type: VoteType,
    repeats: int,
) -> float:
    """Seconds per ``resolve_conflict`` (the whole path: checks, count, Resolution)."""

    async def run() -> float:
        started = time.perf_counter()
        for _ in range(repeats):
            resolution = await resolver.resolve_conflict(
                "bench", ConflictType.DECISION, votes, vote_type
            )
            # The supervisor (agent-00000) breaks a tie, so every method resolves.
            assert resolution.status is ResolutionStatus.RESOLVED, resolution.reason
        return (time.perf_counter() - started) / repeats

    return loop.run_until_complete(run())


def _counter_seconds(votes: list[AgentVote], repeats: int) -> float:
    """Seconds per ``Counter(vote.option for vote in votes).most_common(1)``: the anchor."""
    started = time.perf_counter()
    for _ in range(repeats):
        (winner, _count), *_ = Counter(vote.option for vote in votes).most_common(1)
        assert winner
    return (time.perf_counter() - started) / repeats


@pytest.mark.timeout(1800)
def test_resolve_every_method_beside_counter(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """Each method resolves 3 to 10^6 votes, interleaved with a Counter tally of the same votes.

    Per size and method, SAMPLES rounds alternate the two sides (agentkit first in even
    rounds); each side's figure is the median over rounds of the time per call, printed per
    vote with the spread over rounds and the Counter/agentkit ratio (1.00x = as fast).
    """
    enabled = bool(benchmark.enabled)
    sizes = VOTE_SIZES if enabled else (3, 1_000)
    samples = rounds(7) if enabled else 1
    resolver = ConflictResolver(supervisor_agent_id="agent-00000", max_votes=max(VOTE_SIZES))
    measured: dict[tuple[int, str], dict[str, list[float]]] = {}

    def run_all() -> None:
        for size in sizes:
            votes = make_votes(size)
            repeats = max(1, VOTES_PER_SAMPLE // size) if enabled else 1
            for vote_type in VoteType:
                times: dict[str, list[float]] = {"agentkit": [], "anchor": []}
                _resolve_seconds(bench_loop, resolver, votes, vote_type, 1)  # warm-up
                for index in range(samples):
                    sides = ("agentkit", "anchor") if index % 2 == 0 else ("anchor", "agentkit")
                    for side in sides:
                        seconds = (
                            _resolve_seconds(bench_loop, resolver, votes, vote_type, repeats)
                            if side == "agentkit"
                            else _counter_seconds(votes, repeats)
                        )
                        times[side].append(seconds)
                measured[(size, vote_type.value)] = times

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    assert len(measured) == len(sizes) * len(VoteType)
    if not enabled:
        return
    print("\nresolve_conflict beside Counter(...).most_common(1): ns per vote (median, spread)")
    for (size, method), times in measured.items():
        ours, theirs = statistics.median(times["agentkit"]), statistics.median(times["anchor"])
        ratios = [
            anchor / agentkit
            for agentkit, anchor in zip(times["agentkit"], times["anchor"], strict=True)
        ]
        print(
            f"  {size:>9,} votes {method:>14}: resolve {ours / size * 1e9:8.1f} ns/vote"
            f" ({min(times['agentkit']) / size * 1e9:.1f}-"
            f"{max(times['agentkit']) / size * 1e9:.1f}), Counter"
            f" {theirs / size * 1e9:6.1f} ns/vote; ratio {theirs / ours:.2f}x"
            f" (rounds {min(ratios):.2f}-{max(ratios):.2f})"
        )
        for role, label, median in (
            ("agentkit", f"resolve_conflict {method}", ours),
            ("anchor", "collections.Counter", theirs),
        ):
            request.config.stash.setdefault(RESULTS_KEY, []).append(
                {
                    "name": f"{request.node.name}[{size}-{method}-{role}]",
                    "figure": f"resolve {size:,} votes, {method}",
                    "role": role,
                    "label": label,
                    "unit": "resolutions",
                    "rate": 1 / median,
                    "requests_per_s": 1 / median,
                    "us_per_request": median * 1e6,
                    "median_s": median,
                }
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


class IrvRound(NothingToClose):
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


class FirstPreferenceRound(NothingToClose):
    """The anchor: a Counter of first preferences (round one of the count, nothing more)."""

    def __init__(self, votes: list[AgentVote]) -> None:
        self.votes = votes

    async def run(self) -> int:
        return int(bool(Counter(vote.ballot[0] for vote in self.votes).most_common(1)))


def test_irv_10000_ballots(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """RANKED_CHOICE over 10,000 ballots of 20 options runs to a result (19 rounds at most)."""
    votes = irv_votes()
    made: list[IrvRound] = []

    async def make_round() -> IrvRound:
        made.append(IrvRound(votes))
        return made[-1]

    spec = Figure(IRV, "agentkit", "ranked_choice", 1, default_rounds=5, unit="resolutions")
    run_figure(benchmark, bench_loop, pytestconfig, make_round, spec)
    assert 1 <= len(made[-1].resolution.rounds) <= IRV_OPTIONS - 1


def test_irv_anchor_first_preferences(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """A Counter of the 10,000 first preferences."""
    votes = irv_votes()

    async def make_round() -> FirstPreferenceRound:
        return FirstPreferenceRound(votes)

    spec = Figure(
        IRV, "anchor", "Counter of first preferences", 1, default_rounds=5, unit="resolutions"
    )
    run_figure(benchmark, bench_loop, pytestconfig, make_round, spec)


# -- 2b. instant runoff over one ballot ranking very many options ----------------------------


def many_option_votes(options: int) -> list[AgentVote]:
    """One ballot ranking *options* options and a rival ranking them backwards."""
    names = tuple(f"option-{index:06d}" for index in range(options))
    return [
        AgentVote("forward", names[0], ranking=names),
        AgentVote("backward", names[-1], ranking=names[::-1]),
    ]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("options", [6_000, 100_000])
def test_irv_many_options(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, options: int
) -> None:
    """Every option but two goes in its own round; the rounds record each count once."""
    if options > 6_000 and not benchmark.enabled:
        pytest.skip("the 100,000-option figure runs with --benchmark-only")
    votes = many_option_votes(options)
    started = time.process_time()
    count = ranked_choice(votes)
    cpu_s = time.process_time() - started
    tracemalloc.start()
    try:
        ranked_choice(votes)
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    resolver = ConflictResolver()
    stall_ms, resolution = bench_loop.run_until_complete(
        longest_stall(
            resolver.resolve_conflict("many", ConflictType.DECISION, votes, VoteType.RANKED_CHOICE)
        )
    )
    recorded = sum(len(round_.tallies) for round_ in count.rounds)
    assert len(count.rounds) == options - 1
    assert recorded == options
    assert resolution.rounds == count.rounds
    figures = {"cpu_s": cpu_s, "tracemalloc_peak_mb": peak_mb, "stall_ms": stall_ms}
    benchmark.extra_info.update({"figure": f"IRV one ballot x {options:,} options", **figures})
    print(
        f"\nIRV one ballot x {options:,} options (+ a rival): {cpu_s:.3f} s CPU,"
        f" peak {peak_mb:.1f} MB, {len(count.rounds):,} rounds recording {recorded:,} counts,"
        f" longest loop stall {stall_ms:.1f} ms"
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
        await release(self, "buses")


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

    async def run(self, count: int = CONSENSUS_ROUNDS) -> int:
        done = 0
        for _ in range(count):
            self.votes.clear()
            self.enough.clear()
            await self.bus.publish("bare.ballot", {"question": "Proceed?", "context": {"n": 1}})
            await asyncio.wait_for(self.enough.wait(), ROUND_TIMEOUT)
            (winner, _), *_ = Counter(vote["option"] for vote in self.votes).most_common(1)
            done += winner == "yes"
        return done

    async def close(self) -> None:
        await release(self, "bus")


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
        await release(self, "connections")


_SWARM = "AgentSwarm.request_consensus"


@pytest.mark.parametrize("agents", [3, 10])
@pytest.mark.parametrize(
    ("make", "role", "label"),
    [
        pytest.param(partial(SwarmConsensusRound, nats_url=None), "agentkit", _SWARM, id="swarm"),
        pytest.param(BareMemoryConsensusRound, "anchor", "bare bus subscriptions", id="anchor"),
    ],
)
def test_consensus_round_in_memory(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    make: Callable[[int], Any],
    role: str,
    label: str,
    agents: int,
) -> None:
    """request_consensus over InMemoryPubSub, and bare subscriptions: every round gives "yes"."""

    async def make_round() -> Round:
        return await make(agents).open()  # type: ignore[no-any-return]

    figure = f"consensus round, in memory, {agents} agents"
    spec = Figure(figure, role, label, CONSENSUS_ROUNDS, unit="rounds")
    run_figure(benchmark, bench_loop, pytestconfig, make_round, spec)


@pytest.mark.nats
@pytest.mark.timeout(120)
@pytest.mark.parametrize("agents", [3, 10])
@pytest.mark.parametrize(
    ("make", "role", "label"),
    [
        pytest.param(SwarmConsensusRound, "agentkit", _SWARM, id="swarm"),
        pytest.param(RawNatsConsensusRound, "anchor", "raw nats-py", id="anchor"),
    ],
)
def test_consensus_round_nats(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    nats_server: NatsServer,
    make: Callable[[int, str], Any],
    role: str,
    label: str,
    agents: int,
) -> None:
    """request_consensus over NATS (agents on their own connection), and raw nats-py, resolve."""

    async def make_round() -> Round:
        return await make(agents, nats_server.url).open()  # type: ignore[no-any-return]

    figure = f"consensus round, NATS, {agents} agents"
    spec = Figure(figure, role, label, CONSENSUS_ROUNDS, unit="rounds")
    run_figure(benchmark, bench_loop, pytestconfig, make_round, spec)
