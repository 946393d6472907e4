"""``agentkit demo``: a fraud-review swarm that publishes, votes, runs tasks and fails over."""

from __future__ import annotations

from agentkit.demo._demo import run_demo

__all__ = ["run_demo"]
