"""A consensus round traced: the round, the ballot's publish, each vote, the count; one trace.

In memory the whole round runs in this process; over NATS three agents in two OS processes
(the swarm and one agent here, two agents in ``_child_consensus.py``) still make one trace,
joined by the W3C context the bus carries in message headers.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from agentkit import (
    Agent,
    AgentSwarm,
    AgentVote,
    Ballot,
    ConflictResolver,
    InMemoryPubSub,
    NatsPubSub,
    ResolutionStatus,
    attach,
)
from agentkit.exceptions import DuplicateVoteError
from agentkit.observability import telemetry
from agentkit.testing import VirtualClock

from ._spans import assert_one_trace, by_name, load_spans, span_record
from .conftest import Recorded

CHILD = Path(__file__).with_name("_child_consensus.py")


class Voter(Agent):
    """Votes for a fixed option with a fixed confidence (and weight, if given)."""

    def __init__(
        self,
        agent_id: str,
        option: str,
        confidence: float = 0.9,
        weight: float | None = None,
        delay: float = 0.0,
        clock: VirtualClock | None = None,
    ) -> None:
        super().__init__(agent_id)
        self.option, self.confidence, self.weight = option, confidence, weight
        self.delay, self.clock = delay, clock

    async def vote(self, ballot: Ballot) -> AgentVote:
        if self.delay and self.clock is not None:
            await self.clock.sleep(self.delay)
        return AgentVote(self.agent_id, self.option, self.confidence, weight=self.weight)


def records(recorded: Recorded) -> list[dict[str, Any]]:
    """The finished spans as plain records (the same shape a child process prints)."""
    return [span_record(span) for span in recorded.spans()]


def only(found: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The one record in *found*."""
    assert len(found) == 1, [record["name"] for record in found]
    return found[0]


def ancestors(record: dict[str, Any], every: Sequence[dict[str, Any]]) -> list[str]:
    """The names of *record*'s ancestors, nearest first."""
    by_id = {each["span_id"]: each for each in every}
    names = []
    parent = by_id.get(record["parent_id"])
    while parent is not None:
        names.append(parent["name"])
        parent = by_id.get(parent["parent_id"])
    return names


def check_round_trace(spans: list[dict[str, Any]], swarm: str, voters: dict[str, str]) -> None:
    """The spans of one round: round root, ballot publish under it, a vote per voter under
    the ballot's delivery, the resolve span under the round; all in one trace."""
    assert_one_trace(spans)
    round_ = only(by_name(spans, "consensus "))
    assert round_["parent_id"] is None
    ballot = f"agentkit.swarm.{swarm}.ballot"
    publish = only([each for each in by_name(spans, "publish ") if each["name"].endswith(ballot)])
    assert publish["parent_id"] == round_["span_id"]
    votes = by_name(spans, f"vote {swarm}")
    assert sorted(vote["attributes"]["agentkit.agent.id"] for vote in votes) == sorted(voters)
    for vote in votes:
        assert vote["kind"] == "INTERNAL"
        assert (
            vote["attributes"]["agentkit.vote.option"]
            == voters[vote["attributes"]["agentkit.agent.id"]]
        )
        chain = ancestors(vote, spans)
        # The vote runs in the ballot's delivery, which continues the publish.
        assert chain[0].startswith("process "), chain
        assert publish["name"] in chain
        assert chain[-1] == round_["name"]
    resolve = only(by_name(spans, "resolve "))
    assert resolve["parent_id"] == round_["span_id"]
    assert resolve["attributes"]["agentkit.consensus.votes"] == len(voters)


async def test_in_memory_round_is_one_trace(recorded: Recorded) -> None:
    """Three local agents: round root, ballot publish, three votes, resolve, the decision."""
    agents = [
        Voter("a1", "block", 0.9),
        Voter("a2", "block", 0.6, weight=2.0),
        Voter("a3", "allow"),
    ]
    async with InMemoryPubSub() as bus, AgentSwarm("fraud", bus, agents) as swarm:
        resolution = await swarm.request_consensus("a1", "Block?", timeout=10)
        await bus.drain()
    assert resolution.winning_option == "block"
    spans = records(recorded)
    check_round_trace(spans, "fraud", {"a1": "block", "a2": "block", "a3": "allow"})
    round_ = only(by_name(spans, "consensus "))
    assert round_["name"] == "consensus majority"
    attributes = round_["attributes"]
    assert attributes["agentkit.swarm.name"] == "fraud"
    assert attributes["agentkit.swarm.topic"] == "agentkit.swarm.fraud.ballot"
    assert attributes["agentkit.voting.method"] == "majority"
    assert attributes["agentkit.consensus.id"] == resolution.conflict_id
    assert attributes["agentkit.consensus.voters"] == 3
    assert attributes["agentkit.consensus.required_votes"] == 3
    assert attributes["agentkit.consensus.votes"] == 3
    assert attributes["agentkit.consensus.resolved"] is True
    assert attributes["agentkit.consensus.decision"] == "block"
    assert attributes["agentkit.consensus.score"] == pytest.approx(resolution.consensus_score)
    assert attributes["agentkit.consensus.escalated"] is False
    assert attributes["agentkit.consensus.outcome"] == "resolved"
    assert round_["events"] == []
    a2 = only(
        [
            vote
            for vote in by_name(spans, "vote ")
            if vote["attributes"]["agentkit.agent.id"] == "a2"
        ]
    )
    assert a2["attributes"]["agentkit.vote.confidence"] == pytest.approx(0.6)
    assert a2["attributes"]["agentkit.vote.weight"] == pytest.approx(2.0)
    assert a2["attributes"]["agentkit.consensus.id"] == resolution.conflict_id
    resolve = only(by_name(spans, "resolve "))
    assert resolve["name"] == "resolve majority"
    assert resolve["attributes"]["agentkit.consensus.outcome"] == "resolved"
    assert resolve["attributes"]["agentkit.consensus.decision"] == "block"
    assert recorded.metric_points("agentkit.consensus.rounds") == [
        ({"agentkit.voting.method": "majority", "agentkit.consensus.outcome": "resolved"}, 1)
    ]


async def test_escalation_is_an_event_with_its_reason(recorded: Recorded) -> None:
    """A tie with a supervisor that decides: escalated, the reason in the escalation event."""
    resolver = ConflictResolver(supervisor=lambda conflict: "hold")
    agents = [Voter("a1", "go"), Voter("a2", "stop")]
    async with InMemoryPubSub() as bus, AgentSwarm("s", bus, agents, resolver=resolver) as swarm:
        resolution = await swarm.request_consensus("a1", "Go?", timeout=10)
    assert resolution.escalated
    round_ = only(by_name(records(recorded), "consensus "))
    assert round_["attributes"]["agentkit.consensus.escalated"] is True
    assert round_["attributes"]["agentkit.consensus.decision"] == "hold"
    assert round_["attributes"]["agentkit.consensus.outcome"] == "escalated"
    [event] = round_["events"]
    assert event["name"] == "escalation"
    assert event["attributes"]["agentkit.consensus.reason"] == resolution.reason
    assert "supervisor" in resolution.reason
    assert event["attributes"]["agentkit.consensus.supervisor_decided"] is True
    resolve = only(by_name(records(recorded), "resolve "))
    assert resolve["attributes"]["agentkit.consensus.escalated"] is True
    assert resolve["attributes"]["agentkit.consensus.resolved_by"] == "supervisor"
    assert recorded.metric_points("agentkit.consensus.rounds") == [
        ({"agentkit.voting.method": "majority", "agentkit.consensus.outcome": "escalated"}, 1)
    ]


async def test_timed_out_round_and_late_vote_events(recorded: Recorded) -> None:
    """A vote after the deadline: the round is timed_out; the late vote is an event in the
    round's trace (on the vote's delivery, the round having ended)."""
    clock = VirtualClock()
    slow = Voter("a2", "no", delay=60.0, clock=clock)
    async with (
        InMemoryPubSub(clock=clock) as bus,
        AgentSwarm("s", bus, [Voter("a1", "yes"), slow]) as swarm,
    ):
        round_task = asyncio.ensure_future(swarm.request_consensus("a1", "Go?", timeout=30))
        await clock.advance(30)
        resolution = await round_task
        await clock.advance(30)
        await bus.drain()
    assert resolution.status is ResolutionStatus.NO_CONSENSUS
    spans = records(recorded)
    assert_one_trace(spans)
    round_ = only(by_name(spans, "consensus "))
    assert round_["attributes"]["agentkit.consensus.timed_out"] is True
    assert round_["attributes"]["agentkit.consensus.outcome"] == "timed_out"
    assert round_["attributes"]["agentkit.consensus.resolved"] is False
    assert "agentkit.consensus.decision" not in round_["attributes"]
    ignored = [
        (record, event)
        for record in spans
        for event in record["events"]
        if event["name"] == "vote_ignored"
    ]
    [(carrier, event)] = ignored
    assert event["attributes"]["agentkit.agent.id"] == "a2"
    assert event["attributes"]["agentkit.vote.ignored_reason"] == "late"
    assert carrier["name"] != round_["name"]
    assert recorded.metric_points("agentkit.consensus.rounds") == [
        ({"agentkit.voting.method": "majority", "agentkit.consensus.outcome": "timed_out"}, 1)
    ]


async def test_vote_ignored_while_the_round_is_open_is_a_round_event(recorded: Recorded) -> None:
    """A vote for an option not on the ballot, while the round is open: event on the round."""
    agents = [Voter("a1", "yes"), Voter("a2", "maybe"), Voter("a3", "no")]
    async with InMemoryPubSub() as bus, AgentSwarm("s", bus, agents) as swarm:
        await swarm.request_consensus(
            "a1", "Go?", options=["yes", "no"], required_votes=2, timeout=10
        )
    round_ = only(by_name(records(recorded), "consensus "))
    [event] = round_["events"]
    assert event["name"] == "vote_ignored"
    assert event["attributes"]["agentkit.agent.id"] == "a2"
    assert "not on the ballot" in event["attributes"]["agentkit.vote.ignored_reason"]


async def test_an_agent_that_fails_to_vote_has_an_error_span(recorded: Recorded) -> None:
    """vote() raising: the vote span is ERROR with the exception; the agent abstains."""

    class Broken(Agent):
        async def vote(self, ballot: Ballot) -> AgentVote:
            raise RuntimeError("model unavailable")

    clock = VirtualClock()
    async with (
        InMemoryPubSub(clock=clock) as bus,
        AgentSwarm("s", bus, [Voter("a1", "y"), Broken("a2")]) as swarm,
    ):
        round_task = asyncio.ensure_future(swarm.request_consensus("a1", "Go?", timeout=1))
        await clock.advance(1)
        resolution = await round_task
    assert resolution.abstentions == ("a2",)
    spans = list(recorded.spans())
    [broken] = [span for span in spans if (span.attributes or {}).get("agentkit.agent.id") == "a2"]
    assert broken.name == "vote s"
    assert broken.kind is SpanKind.INTERNAL
    assert broken.status.status_code is StatusCode.ERROR
    assert (broken.attributes or {})["error.type"] == "RuntimeError"
    assert (broken.attributes or {})["agentkit.vote.abstained"] is True
    assert [event.name for event in broken.events] == ["exception"]


async def test_local_votes_each_have_their_own_context(recorded: Recorded) -> None:
    """Votes started eagerly by the ballot desk: no vote span is the parent of another."""
    clock = VirtualClock()
    agents = [Voter(f"a{index}", "y", delay=1.0, clock=clock) for index in range(5)]
    async with InMemoryPubSub(clock=clock) as bus, AgentSwarm("s", bus, agents) as swarm:
        round_task = asyncio.ensure_future(swarm.request_consensus("a1", "Go?", timeout=10))
        await clock.advance(1)
        await round_task
    spans = records(recorded)
    assert_one_trace(spans)
    votes = by_name(spans, "vote s")
    assert len(votes) == 5
    vote_ids = {vote["span_id"] for vote in votes}
    assert all(vote["parent_id"] not in vote_ids for vote in votes)
    assert len({vote["parent_id"] for vote in votes}) == 1


async def test_resolve_conflict_alone_is_a_span(recorded: Recorded) -> None:
    """Called without a swarm, resolve_conflict is a root span; a bad count is ERROR."""
    resolver = ConflictResolver()
    votes = [AgentVote("a", "x"), AgentVote("b", "x"), AgentVote("c", "y")]
    resolution = await resolver.resolve_conflict("c-1", "decision", votes, "weighted")
    with pytest.raises(DuplicateVoteError):
        await resolver.resolve_conflict("c-2", "decision", [votes[0], votes[0]])
    good, bad = records(recorded)
    assert good["name"] == "resolve weighted"
    assert good["parent_id"] is None
    assert good["attributes"]["agentkit.consensus.id"] == "c-1"
    assert good["attributes"]["agentkit.consensus.conflict_type"] == "decision"
    assert good["attributes"]["agentkit.consensus.votes"] == 3
    assert good["attributes"]["agentkit.consensus.decision"] == resolution.winning_option
    assert bad["name"] == "resolve majority"
    assert bad["status"] == "ERROR"
    assert bad["attributes"]["error.type"] == "DuplicateVoteError"


async def test_tracing_off_changes_nothing() -> None:
    """Without instrument() a round resolves the same and no tracer exists."""
    assert telemetry.tracer is None
    agents = [Voter("a1", "block"), Voter("a2", "block"), Voter("a3", "allow")]
    async with InMemoryPubSub() as bus, AgentSwarm("fraud", bus, agents) as swarm:
        resolution = await swarm.request_consensus("a1", "Block?", timeout=10)
    assert resolution.winning_option == "block"


# -- over NATS, three agents in two processes ----------------------------------------------------


@pytest.mark.nats
@pytest.mark.timeout(60)
async def test_nats_round_across_two_processes_is_one_trace(
    recorded: Recorded, nats_url: str
) -> None:
    """Swarm and agent here, two agents in a child process: one trace with every vote."""
    env = {**os.environ, "AGENTKIT_TEST_NATS_URL": nats_url, "AGENTKIT_TEST_AGENTS": "w1:yes,w2:no"}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    try:
        ready = await asyncio.wait_for(child.stdout.readline(), 30)
        assert ready.strip() == b"ready", ready
        bus = await NatsPubSub(nats_url).connect()
        try:
            async with AgentSwarm("xproc", bus, [Voter("local", "yes"), "w1", "w2"]) as swarm:
                resolution = await swarm.request_consensus("local", "Ship?", timeout=20)
        finally:
            await bus.close()
        child.stdin.write(b"done\n")
        await child.stdin.drain()
        output, errors = await asyncio.wait_for(child.communicate(), 30)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode == 0, errors.decode()
    assert resolution.winning_option == "yes"
    assert sorted(resolution.participants) == ["local", "w1", "w2"]
    theirs = load_spans(output.decode())
    assert sorted(span["attributes"]["agentkit.agent.id"] for span in by_name(theirs, "vote ")) == [
        "w1",
        "w2",
    ]
    spans = records(recorded) + theirs
    check_round_trace(spans, "xproc", {"local": "yes", "w1": "yes", "w2": "no"})
    round_ = only(by_name(spans, "consensus "))
    assert round_["attributes"]["agentkit.consensus.votes"] == 3
    assert round_["attributes"]["agentkit.consensus.decision"] == "yes"


async def test_attach_outside_a_swarm_votes_in_its_own_span(recorded: Recorded) -> None:
    """An agent attached with attach() (as a worker process does) traces its vote too."""
    async with InMemoryPubSub() as bus:
        attachment = await attach(Voter("w", "yes"), bus, "s")
        try:
            async with AgentSwarm("s", bus, ["w"]) as swarm:
                await swarm.request_consensus("w", "Go?", timeout=10)
        finally:
            await attachment.detach()
    spans = records(recorded)
    check_round_trace(spans, "s", {"w": "yes"})
