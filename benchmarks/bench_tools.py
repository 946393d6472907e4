"""``ToolRegistry.execute_tool`` beside its anchors: a direct call and jsonschema alone.

The tool is trivial, sync and inline (``blocking=False``), so what is measured is the
registry's own work: lookup, validating the parameters, calling, timing, building the
``ToolResult``. Anchors, on the same parameters in the same run:

* the tool's function called directly (the floor: no registry at all);
* jsonschema's compiled validator alone (``Draft202012Validator(schema).is_valid(params)``),
  i.e. only the validation that a registry built on jsonschema would do per call.

Target: the whole ``execute_tool`` (function call included) takes less time than jsonschema's
validator alone, a ratio >= 1.0x in the "execute_tool vs jsonschema" row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from _util import measure, record, rounds

from agentkit import Tool, ToolRegistry

#: Calls per timed round.
CALLS = 5_000

VS_JSONSCHEMA = "execute_tool vs jsonschema validation alone"
VS_DIRECT = "execute_tool vs calling the function directly"

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "max_length": {"type": "integer", "minimum": 1, "maximum": 100_000},
        "style": {"enum": ["plain", "bullets"]},
    },
    "required": ["text"],
    "additionalProperties": False,
}
PARAMS: dict[str, Any] = {"text": "Long document...", "max_length": 100, "style": "plain"}


def shorten(text: str, max_length: int = 100, style: str = "plain") -> str:
    """The trivial tool: cut the text."""
    return text[:max_length]


class ExecuteRound:
    """CALLS sequential ``execute_tool`` calls of the inline tool."""

    def __init__(self) -> None:
        self.registry = ToolRegistry()
        self.registry.register_tool(
            Tool(
                name="text_shorten",
                description="Cut a text.",
                parameters=PARAMETERS,
                function=shorten,
                blocking=False,
            )
        )

    async def run(self) -> int:
        execute = self.registry.execute_tool
        succeeded = 0
        for _ in range(CALLS):
            result = await execute("text_shorten", PARAMS)
            succeeded += result.success
        return succeeded

    async def close(self) -> None:
        return None


class DirectCallRound:
    """The anchor: CALLS direct calls of the same function with the same arguments."""

    async def run(self) -> int:
        done = 0
        for _ in range(CALLS):
            done += shorten(**PARAMS) == "Long document..."
        return done

    async def close(self) -> None:
        return None


class JsonschemaRound:
    """The anchor: CALLS checks of the same parameters by jsonschema's compiled validator."""

    def __init__(self) -> None:
        self.is_valid: Callable[[Any], bool] = jsonschema.Draft202012Validator(PARAMETERS).is_valid

    async def run(self) -> int:
        is_valid = self.is_valid
        done = 0
        for _ in range(CALLS):
            done += is_valid(PARAMS)
        return done

    async def close(self) -> None:
        return None


def _run(benchmark: Any, loop: asyncio.AbstractEventLoop, make: Callable[[], Any]) -> None:
    async def make_round() -> Any:
        return make()

    measure(benchmark, loop, make_round, expected=CALLS, rounds=rounds(10))


def test_execute_tool_against_jsonschema(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """execute_tool of the inline tool succeeds on every one of 5,000 calls."""
    _run(benchmark, bench_loop, ExecuteRound)
    record(
        benchmark,
        pytestconfig,
        figure=VS_JSONSCHEMA,
        role="agentkit",
        label="ToolRegistry.execute_tool (whole call)",
        operations=CALLS,
        unit="calls/s",
        target=1.0,
    )


def test_anchor_jsonschema_validator(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """jsonschema's compiled validator accepts the same parameters 5,000 times."""
    _run(benchmark, bench_loop, JsonschemaRound)
    record(
        benchmark,
        pytestconfig,
        figure=VS_JSONSCHEMA,
        role="anchor",
        label="Draft202012Validator.is_valid",
        operations=CALLS,
        unit="calls/s",
    )


def test_execute_tool_against_direct_call(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """execute_tool again, paired with the direct call to show the registry's overhead."""
    _run(benchmark, bench_loop, ExecuteRound)
    record(
        benchmark,
        pytestconfig,
        figure=VS_DIRECT,
        role="agentkit",
        label="ToolRegistry.execute_tool (whole call)",
        operations=CALLS,
        unit="calls/s",
    )


def test_anchor_direct_call(
    benchmark: Any, bench_loop: asyncio.AbstractEventLoop, pytestconfig: pytest.Config
) -> None:
    """The function called directly with the same arguments, 5,000 times."""
    _run(benchmark, bench_loop, DirectCallRound)
    record(
        benchmark,
        pytestconfig,
        figure=VS_DIRECT,
        role="anchor",
        label="shorten(**params)",
        operations=CALLS,
        unit="calls/s",
    )
