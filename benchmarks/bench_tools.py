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
from _util import Figure, NothingToClose, Round, run_figure

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


class ExecuteRound(NothingToClose):
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


class DirectCallRound(NothingToClose):
    """The anchor: CALLS direct calls of the same function with the same arguments."""

    async def run(self) -> int:
        done = 0
        for _ in range(CALLS):
            done += shorten(**PARAMS) == "Long document..."
        return done


class JsonschemaRound(NothingToClose):
    """The anchor: CALLS checks of the same parameters by jsonschema's compiled validator."""

    def __init__(self) -> None:
        self.is_valid: Callable[[Any], bool] = jsonschema.Draft202012Validator(PARAMETERS).is_valid

    async def run(self) -> int:
        is_valid = self.is_valid
        done = 0
        for _ in range(CALLS):
            done += is_valid(PARAMS)
        return done


_EXECUTE_TOOL = "ToolRegistry.execute_tool (whole call)"


def _side(
    name: str,
    make: Callable[[], Round],
    figure: str,
    role: str,
    label: str,
    target: float | None = None,
) -> Any:
    spec = Figure(figure, role, label, CALLS, unit="calls/s", target=target)
    return pytest.param(make, spec, id=name)


#: Each figure's two sides; execute_tool is measured once beside each anchor.
SIDES = [
    _side("vs-jsonschema", ExecuteRound, VS_JSONSCHEMA, "agentkit", _EXECUTE_TOOL, target=1.0),
    _side(
        "anchor-jsonschema",
        JsonschemaRound,
        VS_JSONSCHEMA,
        "anchor",
        "Draft202012Validator.is_valid",
    ),
    _side("vs-direct", ExecuteRound, VS_DIRECT, "agentkit", _EXECUTE_TOOL),
    _side("anchor-direct", DirectCallRound, VS_DIRECT, "anchor", "shorten(**params)"),
]


@pytest.mark.parametrize(("make", "spec"), SIDES)
def test_tool_call(
    benchmark: Any,
    bench_loop: asyncio.AbstractEventLoop,
    pytestconfig: pytest.Config,
    make: Callable[[], Round],
    spec: Figure,
) -> None:
    """Each side (execute_tool, jsonschema alone, the direct call) succeeds on all 5,000 calls."""

    async def make_round() -> Round:
        return make()

    run_figure(benchmark, bench_loop, pytestconfig, make_round, spec)
