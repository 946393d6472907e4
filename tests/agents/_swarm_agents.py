"""Agents for ``agentkit worker tests/agents/_swarm_agents.py:factory`` in the cross-process tests.

``AGENTKIT_TEST_AGENTS`` lists ``agent_id:option`` pairs (comma-separated); each agent votes
for its option and answers work with its process id, so the test can tell processes apart.
"""

from __future__ import annotations

import os
from typing import Any

from agentkit import Agent, AgentVote, Ballot, WorkItem


class FixedVoter(Agent):
    """Votes for one option; work results name the process that did them."""

    def __init__(self, agent_id: str, option: str) -> None:
        super().__init__(agent_id)
        self.option = option

    async def vote(self, ballot: Ballot) -> AgentVote:
        return AgentVote(self.agent_id, self.option, 0.8, reasoning=f"pid {os.getpid()}")

    async def work(self, item: WorkItem) -> Any:
        return {"task": item.task, "pid": os.getpid(), "agent": self.agent_id}


def factory() -> list[FixedVoter]:
    """The agents named in ``AGENTKIT_TEST_AGENTS`` (default ``w1:yes,w2:yes``)."""
    spec = os.environ.get("AGENTKIT_TEST_AGENTS", "w1:yes,w2:yes")
    pairs = [item.split(":", 1) for item in spec.split(",") if item]
    return [FixedVoter(agent_id, option) for agent_id, option in pairs]
