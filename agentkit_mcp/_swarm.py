"""A swarm as tools: ask a swarm of agents on the bus to vote, or hand it work, from any MCP
client (or any LLM that calls tools).

:func:`swarm_tools` makes two :class:`~agentkit.Tool`\\ s for an :class:`~agentkit.AgentSwarm`:
``<prefix>request_consensus`` returns the :class:`~agentkit.Resolution` (winner, score,
tallies, escalation, every vote) as structured content, and ``<prefix>distribute_work`` returns
the assignments and every agent's result. Register them in the registry an MCP server serves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from agentkit import AgentSwarm, ConfigurationError, Tool, ToolHints, VoteType
from agentkit.agents import STRATEGIES

__all__ = ["MAX_SWARM_TASKS", "MAX_SWARM_TIMEOUT", "swarm_tools"]

#: The longest a swarm tool waits for votes or results, whatever the caller asks.
MAX_SWARM_TIMEOUT = 300.0
#: The most tasks one distribute_work call hands out.
MAX_SWARM_TASKS = 1000

_PREFIX = re.compile(r"^[A-Za-z0-9_-]{0,40}$")

_RESOLUTION = {
    "type": "object",
    "properties": {
        "conflict_id": {"type": "string"},
        "status": {"type": "string", "description": "resolved, no_consensus or escalated"},
        "winning_option": {"type": ["string", "null"]},
        "consensus_score": {"type": "number"},
        "tallies": {"type": "object", "additionalProperties": {"type": "number"}},
        "vote_type": {"type": "string"},
        "escalated": {"type": "boolean"},
        "resolved_by": {"type": ["string", "null"]},
        "participants": {"type": "array", "items": {"type": "string"}},
        "abstentions": {"type": "array", "items": {"type": "string"}},
        "votes": {"type": "array", "items": {"type": "object"}},
        "reason": {"type": "string"},
    },
    "required": ["status", "winning_option", "consensus_score", "tallies", "escalated"],
}

_WORK = {
    "type": "object",
    "properties": {
        "assignments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"index": {"type": "integer"}, "agent_id": {"type": "string"}},
            },
        },
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "agent_id": {"type": "string"},
                    "ok": {"type": "boolean"},
                    "result": {},
                    "error": {"type": ["string", "null"]},
                    "error_type": {"type": ["string", "null"]},
                },
            },
        },
    },
    "required": ["assignments", "results"],
}


def swarm_tools(
    swarm: AgentSwarm,
    *,
    prefix: str | None = None,
    from_agent: str = "mcp-client",
    options: Sequence[str] | None = None,
) -> list[Tool]:
    """Two tools that put *swarm* to work: ``request_consensus`` and ``distribute_work``.

    *prefix* names them (default ``"<swarm name>_"``, made a valid tool name); *from_agent* is
    who asks (the ballot's ``from_agent``); *options*, when given, are the only options a
    caller may put to a vote (an enum in the schema). Each call waits at most
    :data:`MAX_SWARM_TIMEOUT` seconds; a wait that runs out is a failed call
    (``TaskTimeoutError``), never a hang.

    Raises:
        ConfigurationError: *prefix* is not 0-40 letters, digits, ``_`` or ``-``.
    """
    if prefix is None:
        prefix = re.sub(r"[^A-Za-z0-9_-]", "_", swarm.name)[:39] + "_"
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ConfigurationError(f"prefix must be 0-40 letters, digits, '_' or '-', got {prefix!r}")
    option_schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 200}
    if options is not None:
        option_schema = {"type": "string", "enum": list(options)}

    async def request_consensus(
        question: str,
        context: dict[str, Any] | None = None,
        options: list[str] | None = None,
        required_votes: int | None = None,
        vote_type: str | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        resolution = await swarm.request_consensus(
            from_agent,
            question,
            context,
            required_votes=required_votes,
            options=options,
            vote_type=vote_type,
            timeout=min(timeout, MAX_SWARM_TIMEOUT),
        )
        data: dict[str, Any] = _json_ready(resolution)
        return data

    async def distribute_work(
        tasks: list[Any],
        strategy: str = "round_robin",
        key: str | None = None,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        distribution = await swarm.distribute_work(from_agent, tasks, strategy, key=key)
        results = await distribution.wait(min(timeout, MAX_SWARM_TIMEOUT))
        return {
            "assignments": [
                {"index": item.index, "agent_id": item.agent_id}
                for item in distribution.assignments
            ],
            "results": [
                {
                    "index": result.index,
                    "agent_id": result.agent_id,
                    "ok": result.ok,
                    "result": _json_ready(result.result),
                    "error": result.error,
                    "error_type": result.error_type,
                }
                for result in results
            ],
        }

    members = ", ".join(sorted(swarm.members)) or "none yet"
    timeout_schema = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SWARM_TIMEOUT}
    consensus = Tool(
        name=f"{prefix}request_consensus",
        description=(
            f"Ask the agents of swarm {swarm.name!r} (members: {members}) to vote on a "
            "question and return the resolution: the winning option, the consensus score, "
            "the tallies, whether it was escalated to a supervisor, and every vote."
        ),
        parameters={
            "type": "object",
            "properties": {
                "question": {"type": "string", "minLength": 1, "maxLength": 10_000},
                "context": {"type": "object", "description": "facts the agents vote on"},
                "options": {
                    "type": "array",
                    "items": option_schema,
                    "minItems": 1,
                    "maxItems": 100,
                    "description": "the options to choose from (default: any)",
                },
                "required_votes": {"type": "integer", "minimum": 1},
                "vote_type": {"type": "string", "enum": [item.value for item in VoteType]},
                "timeout": {**timeout_schema, "description": "seconds to collect votes"},
            },
            "required": ["question"],
            "additionalProperties": False,
        },
        returns=_RESOLUTION,
        function=request_consensus,
        category="swarm",
        tags=("swarm", "consensus"),
        hints=ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False),
        timeout=MAX_SWARM_TIMEOUT + 5,
    )
    work = Tool(
        name=f"{prefix}distribute_work",
        description=(
            f"Hand a list of tasks to the agents of swarm {swarm.name!r} (members: {members}) "
            "and return which agent got each task and every agent's result, in task order."
        ),
        parameters={
            "type": "object",
            "properties": {
                "tasks": {"type": "array", "minItems": 1, "maxItems": MAX_SWARM_TASKS},
                "strategy": {"type": "string", "enum": list(STRATEGIES)},
                "key": {"type": "string", "description": "field name for the hash strategy"},
                "timeout": {**timeout_schema, "description": "seconds to wait for results"},
            },
            "required": ["tasks"],
            "additionalProperties": False,
        },
        returns=_WORK,
        function=distribute_work,
        category="swarm",
        tags=("swarm", "work"),
        hints=ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False),
        timeout=MAX_SWARM_TIMEOUT + 5,
    )
    return [consensus, work]


def _json_ready(value: Any) -> Any:
    """*value* as plain JSON values (tuples become lists), as a client will read it."""
    return msgspec.json.decode(msgspec.json.encode(value))
