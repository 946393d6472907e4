"""Swarm consensus rounds from 3 to 1,000 agents, beside the same fan-out on the bare bus.

agentkit: ``AgentSwarm.request_consensus`` on an ``InMemoryPubSub`` (default options) whose
members are YesAgents attached in this process: a ballot out, every member's vote back, the
resolution (majority). Anchor: the same bus, one publish to N bare subscriptions that each
publish a small vote back to one collecting subscription, which counts them with a Counter.

The two sides are **interleaved in rounds** in one process (each round times ROUNDS_PER_SAMPLE
consensus rounds on one side, then the other, the order alternating), so drift on the shared
machine hits both alike. Printed per size: the median µs per agent of each side and the spread
over rounds, the agentkit/anchor speed ratio, and the growth of agentkit's per-agent cost from
10 agents. Run with ``pytest benchmarks/bench_swarm.py --benchmark-only -s``; under
``--benchmark-disable`` each size runs one short round and checks every resolution.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import pytest
from _util import RESULTS_KEY, rounds
from bench_voting import BareMemoryConsensusRound

from agentkit import (
    Agent,
    AgentSwarm,
    AgentVote,
    Ballot,
    InMemoryPubSub,
)

SIZES = (3, 10, 50, 200, 1_000)
#: Consensus rounds per timed sample, so a sample lasts a few ms at every size.
ROUNDS_PER_SAMPLE = {3: 200, 10: 100, 50: 30, 200: 10, 1_000: 3}
ROUND_TIMEOUT = 60.0


class YesAgent(Agent):
    """Votes "yes" at once."""

    async def vote(self, ballot: Ballot) -> AgentVote:
        return AgentVote(self.agent_id, "yes", 0.9)


class SwarmSide:
    """request_consensus with *agents* YesAgents attached to one in-memory bus."""

    def __init__(self, agents: int) -> None:
        self.agents = agents

    async def open(self) -> SwarmSide:
        self.bus = InMemoryPubSub()
        members = [YesAgent(f"agent-{index:04d}") for index in range(self.agents)]
        self.swarm = AgentSwarm("bench", self.bus, members)
        await self.swarm.start()
        return self

    async def run(self, count: int) -> int:
        done = 0
        for _ in range(count):
            resolution = await self.swarm.request_consensus(
                "bench", "Proceed?", {"n": 1}, timeout=ROUND_TIMEOUT
            )
            done += resolution.winning_option == "yes" and len(resolution.votes) == self.agents
        return done

    async def close(self) -> None:
        await self.swarm.close()
        await self.bus.close()


async def _interleaved(agents: int, samples: int, count: int) -> dict[str, list[float]]:
    """µs per agent per consensus round of each side, one figure per sample, alternating."""
    sides = {
        "agentkit": await SwarmSide(agents).open(),
        "anchor": await BareMemoryConsensusRound(agents).open(),
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    try:
        for side in sides.values():  # warm-up, untimed
            assert await side.run(1) == 1
        for index in range(samples):
            order = ("agentkit", "anchor") if index % 2 == 0 else ("anchor", "agentkit")
            for name in order:
                started = time.perf_counter()
                done = await sides[name].run(count)
                elapsed = time.perf_counter() - started
                assert done == count, f"{name}: {done} of {count} rounds resolved"
                times[name].append(elapsed / count / agents * 1e6)
    finally:
        for side in sides.values():
            await side.close()
    return times


@pytest.mark.timeout(900)
def test_swarm_round_scaling(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    """Consensus rounds at 3-1,000 agents beside the bare-bus fan-out; all rounds resolve."""
    enabled = bool(benchmark.enabled)
    samples = rounds(10) if enabled else 1
    measured: dict[int, dict[str, list[float]]] = {}

    def run_all() -> None:
        for agents in SIZES:
            count = ROUNDS_PER_SAMPLE[agents] if enabled else 1
            measured[agents] = bench_loop.run_until_complete(_interleaved(agents, samples, count))

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    assert all(len(values) == samples for side in measured.values() for values in side.values())
    if not enabled:
        return
    base = statistics.median(measured[10]["agentkit"])
    print("\nswarm consensus round, in memory: µs per agent (median, spread over rounds)")
    for agents, times in measured.items():
        ours, theirs = statistics.median(times["agentkit"]), statistics.median(times["anchor"])
        ratios = [
            anchor / swarm for swarm, anchor in zip(times["agentkit"], times["anchor"], strict=True)
        ]
        print(
            f"  {agents:>5} agents: AgentSwarm {ours:7.2f} µs/agent"
            f" ({min(times['agentkit']):.2f}-{max(times['agentkit']):.2f}),"
            f" bare bus {theirs:7.2f} µs/agent"
            f" ({min(times['anchor']):.2f}-{max(times['anchor']):.2f});"
            f" ratio {theirs / ours:.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f});"
            f" growth vs 10 agents {ours / base:.2f}x"
        )
        for role, label, median in (
            ("agentkit", "AgentSwarm.request_consensus", ours),
            ("anchor", "bare bus fan-out", theirs),
        ):
            request.config.stash.setdefault(RESULTS_KEY, []).append(
                {
                    "name": f"{request.node.name}[{agents}-{role}]",
                    "figure": f"swarm round, in memory, {agents} agents (per agent)",
                    "role": role,
                    "label": label,
                    "unit": "agents/s",
                    "rate": 1e6 / median,
                    "requests_per_s": 1e6 / median,
                    "us_per_request": median,
                    "median_s": median / 1e6,
                }
            )
