"""A swarm as tools: consensus and work through the registry (and so through MCP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from agentkit import (
    Agent,
    AgentSwarm,
    AgentVote,
    Ballot,
    ConfigurationError,
    InMemoryPubSub,
    ToolRegistry,
    WorkItem,
)
from agentkit_mcp import RegistryServer, swarm_tools


class Analyst(Agent):
    """Votes for a fixed option with a fixed confidence and squares numbers as work."""

    def __init__(self, agent_id: str, option: str, confidence: float = 0.9) -> None:
        super().__init__(agent_id)
        self.option = option
        self.confidence = confidence

    async def vote(self, ballot: Ballot) -> AgentVote:
        return AgentVote(self.agent_id, self.option, self.confidence, reasoning=ballot.question)

    async def work(self, item: WorkItem) -> Any:
        if item.task == "boom":
            raise ValueError("cannot do boom")
        return item.task * item.task


@pytest.fixture
async def registry() -> AsyncIterator[ToolRegistry]:
    """A registry holding the tools of a three-analyst swarm on the in-memory bus."""
    bus = InMemoryPubSub()
    agents = [Analyst("a1", "approve"), Analyst("a2", "approve"), Analyst("a3", "reject")]
    async with AgentSwarm("fraud-desk", bus, agents) as swarm:
        tools = ToolRegistry()
        for tool in swarm_tools(swarm):
            tools.register_tool(tool)
        yield tools
    await bus.close()


async def test_consensus_tool_returns_the_resolution(registry: ToolRegistry) -> None:
    """request_consensus runs a real vote and returns winner, score, tallies and the votes."""
    result = await registry.execute_tool(
        "fraud-desk_request_consensus",
        {"question": "Approve T-1?", "options": ["approve", "reject"], "timeout": 5},
    )
    assert result.success, result.error
    resolution = result.output
    assert resolution["status"] == "resolved"
    assert resolution["winning_option"] == "approve"
    assert resolution["escalated"] is False
    assert resolution["tallies"]["approve"] > resolution["tallies"]["reject"]
    assert sorted(vote["agent_id"] for vote in resolution["votes"]) == ["a1", "a2", "a3"]


async def test_work_tool_returns_assignments_and_results(registry: ToolRegistry) -> None:
    """distribute_work hands tasks out and returns every result in task order, failures too."""
    result = await registry.execute_tool(
        "fraud-desk_distribute_work", {"tasks": [2, 3, "boom", 5], "timeout": 5}
    )
    assert result.success, result.error
    results = result.output["results"]
    assert [item["index"] for item in results] == [0, 1, 2, 3]
    assert [item["result"] for item in results if item["ok"]] == [4, 9, 25]
    failed = [item for item in results if not item["ok"]]
    assert failed[0]["error_type"] == "ValueError"
    assert {item["agent_id"] for item in result.output["assignments"]} == {"a1", "a2", "a3"}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"question": ""},
        {"question": "q", "vote_type": "dictatorship"},
        {"question": "q", "timeout": 10_000},
        {"question": "q", "surprise": 1},
    ],
)
async def test_bad_consensus_arguments_are_refused_before_a_vote(
    registry: ToolRegistry, params: dict[str, Any]
) -> None:
    """Arguments outside the schema are a validation failure; no ballot goes out."""
    result = await registry.execute_tool("fraud-desk_request_consensus", params)
    assert not result.success
    assert result.error_type == "validation"


def test_a_bad_prefix_is_a_configuration_error() -> None:
    """A prefix that cannot start a tool name is refused."""
    bus = InMemoryPubSub()
    swarm = AgentSwarm("s", bus, [])
    with pytest.raises(ConfigurationError, match="prefix"):
        swarm_tools(swarm, prefix="bad prefix!")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_an_mcp_client_asks_the_swarm_to_vote(registry: ToolRegistry, mode: str) -> None:
    """Through the official MCP client, request_consensus returns the Resolution as
    structured content, and a refused argument comes back as an isError result."""
    from mcp import Client

    server = RegistryServer(registry)
    async with Client(server.server, mode=mode) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        voted = await client.call_tool(
            "fraud-desk_request_consensus",
            {"question": "Approve T-2?", "options": ["approve", "reject"], "timeout": 5},
        )
        refused = await client.call_tool("fraud-desk_request_consensus", {"question": ""})
    assert listed["fraud-desk_request_consensus"].output_schema is not None
    assert not voted.is_error
    assert voted.structured_content is not None
    assert voted.structured_content["winning_option"] == "approve"
    assert voted.structured_content["status"] == "resolved"
    assert refused.is_error
