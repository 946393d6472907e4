"""Agents hosted by ``agentkit worker`` in another OS process vote and work over real NATS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit import Agent, AgentSwarm, AgentVote, Ballot, NatsPubSub, ResolutionStatus
from agentkit.cli._main import main

FACTORY = f"{Path(__file__).parent / '_swarm_agents.py'}:factory"


class LocalVoter(Agent):
    """An agent in the test process, voting "no"."""

    async def vote(self, ballot: Ballot) -> AgentVote:
        return AgentVote(self.agent_id, "no", 0.6)


@pytest.fixture
def worker(nats_url: str) -> Iterator[subprocess.Popen[str]]:
    """``python -m agentkit worker`` hosting w1 and w2 (both vote "yes") on swarm "cross"."""
    env = {**os.environ, "AGENTKIT_TEST_AGENTS": "w1:yes,w2:yes"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentkit",
            "worker",
            FACTORY,
            "--bus",
            nats_url,
            "--swarm",
            "cross",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "ready w1 w2", line + (
            process.stderr.read() if process.stderr else ""
        )
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.mark.nats
@pytest.mark.timeout(60)
async def test_consensus_across_two_processes(worker: subprocess.Popen[str], nats_url: str) -> None:
    """Two remote agents and one local agent vote on a ballot; the remote majority wins."""
    async with await NatsPubSub(nats_url).connect() as bus:
        members: list[str | Agent] = ["w1", "w2", LocalVoter("local")]
        async with AgentSwarm("cross", bus, members) as swarm:
            resolution = await swarm.request_consensus(
                "local", "Deploy?", {"build": 42}, options=["yes", "no"], timeout=15
            )
            distribution = await swarm.distribute_work(
                "local", ["t0", "t1"], strategy="round_robin"
            )
            results = await distribution.wait(timeout=15)
    assert resolution.status is ResolutionStatus.RESOLVED
    assert resolution.winning_option == "yes"
    assert resolution.participants == ("local", "w1", "w2")
    assert resolution.tallies == {"no": 1, "yes": 2}
    remote = {
        vote.agent_id: vote.reasoning for vote in resolution.votes if vote.agent_id != "local"
    }
    assert remote == {"w1": f"pid {worker.pid}", "w2": f"pid {worker.pid}"}
    assert [(r.agent_id, r.result["pid"]) for r in results] == [
        ("w1", worker.pid),
        ("w2", worker.pid),
    ]


@pytest.mark.nats
@pytest.mark.timeout(60)
def test_the_worker_stops_gracefully_on_sigterm(worker: subprocess.Popen[str]) -> None:
    """SIGTERM makes the worker detach, close the bus and exit 0."""
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0


def test_a_bad_factory_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unimportable module, a missing attribute or a malformed reference exits 1 saying why."""
    assert main(["worker", "no_such_module_xyz:factory", "--swarm", "s"]) == 1
    assert "cannot import 'no_such_module_xyz'" in capsys.readouterr().err
    assert main(["worker", f"{FACTORY[: -len(':factory')]}:missing", "--swarm", "s"]) == 1
    assert "no attribute 'missing'" in capsys.readouterr().err
    assert main(["worker", "nocolon", "--swarm", "s"]) == 1
    assert "must look like" in capsys.readouterr().err
    assert main(["worker", "os:getcwd", "--swarm", "bad.name"]) == 1
    assert "swarm name 'bad.name'" in capsys.readouterr().err


def test_a_factory_must_return_agents(capsys: pytest.CaptureFixture[str]) -> None:
    """A factory returning something else, or raising, is refused with the reason."""
    assert main(["worker", "os:getcwd", "--swarm", "s"]) == 1
    assert "not an agent" in capsys.readouterr().err
    assert main(["worker", "json:dumps", "--swarm", "s"]) == 1
    assert "factory <function dumps" in capsys.readouterr().err
