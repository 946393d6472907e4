"""Child process of the cross-process consensus test: agents that vote over NATS, traced.

Reads ``AGENTKIT_TEST_NATS_URL`` and ``AGENTKIT_TEST_AGENTS`` (``id:option`` pairs), attaches
those agents to swarm ``xproc`` with agentkit traced into an in-memory exporter, prints
``ready``, waits for a line on stdin, then prints its finished spans as JSON lines.
"""

from __future__ import annotations

import asyncio
import os
import sys

from _spans import dump_spans  # type: ignore[import-not-found]
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentkit import Agent, AgentVote, Ballot, NatsPubSub, attach
from agentkit.observability import instrument


class FixedVoter(Agent):
    """Votes for one option."""

    def __init__(self, agent_id: str, option: str) -> None:
        super().__init__(agent_id)
        self.option = option

    async def vote(self, ballot: Ballot) -> AgentVote:
        return AgentVote(self.agent_id, self.option, 0.8)


async def main() -> None:
    """Attach the agents, say ready, wait to be told the round is over, print the spans."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument(tracer_provider=provider)
    pairs = [item.split(":", 1) for item in os.environ["AGENTKIT_TEST_AGENTS"].split(",")]
    bus = await NatsPubSub(os.environ["AGENTKIT_TEST_NATS_URL"]).connect()
    attachments = [
        await attach(FixedVoter(agent_id, option), bus, "xproc") for agent_id, option in pairs
    ]
    await bus.drain()  # the subscriptions reached the server
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for attachment in attachments:
        await attachment.detach()
    await bus.close()
    provider.shutdown()
    print(dump_spans(exporter.get_finished_spans()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
