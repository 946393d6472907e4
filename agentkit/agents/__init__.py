"""Agents: the agent protocol, swarms that vote and share work, the orchestrator, workers.

The package root re-exports the same names for the quick start.
"""

from __future__ import annotations

from agentkit.agents._agent import (
    Agent,
    AgentAttachment,
    AgentProtocol,
    Ballot,
    BallotVote,
    Broadcast,
    WorkItem,
    WorkResult,
    attach,
)
from agentkit.agents._orchestrator import Decision, Orchestrator
from agentkit.agents._swarm import (
    STRATEGIES,
    AgentSwarm,
    Assignment,
    IgnoredVote,
    WorkDistribution,
)
from agentkit.agents._worker import run_worker

__all__ = [
    "Agent",
    "AgentAttachment",
    "AgentProtocol",
    "AgentSwarm",
    "Assignment",
    "Ballot",
    "BallotVote",
    "Broadcast",
    "Decision",
    "IgnoredVote",
    "Orchestrator",
    "STRATEGIES",
    "WorkDistribution",
    "WorkItem",
    "WorkResult",
    "attach",
    "run_worker",
]
