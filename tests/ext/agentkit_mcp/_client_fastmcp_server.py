"""A small FastMCP server for the MCP client tests, run as a subprocess.

``python _client_fastmcp_server.py stdio`` or ``python _client_fastmcp_server.py http PORT``.
Its ``calls_received`` tool reports how many ``tools/call`` requests reached the server (its
own calls excluded), so a test can prove that a refused call was never sent.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from fastmcp import FastMCP
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from pydantic import BaseModel

_received: list[str] = []


class _CountCalls(Middleware):
    """Counts every ``tools/call`` request the server receives, valid or not."""

    async def on_call_tool(
        self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]
    ) -> Any:
        name = context.message.name
        if name != "calls_received":
            _received.append(name)
        return await call_next(context)


class Sum(BaseModel):
    """The structured output of ``add``."""

    total: int
    operands: list[int]


server = FastMCP("agentkit-test")
server.add_middleware(_CountCalls())


@server.tool
def add(a: int, b: int) -> Sum:
    """Add two integers."""
    return Sum(total=a + b, operands=[a, b])


@server.tool
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool
def calls_received() -> int:
    """How many tools/call requests (other than this one) the server has received."""
    return len(_received)


@server.tool
async def sleep(seconds: float) -> str:
    """Wait *seconds*, then say so."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool(name="text.upper")
def upper(text: str) -> str:
    """Upper-case the text (a name that agentkit must sanitize)."""
    return text.upper()


@server.tool(name="text_upper")
def upper_again(text: str) -> str:
    """Upper-case the text (clashes with ``text.upper`` once sanitized)."""
    return text.upper()


@server.tool
def fail(reason: str) -> str:
    """Always fail with the given reason."""
    raise ValueError(reason)


if __name__ == "__main__":
    if sys.argv[1] == "http":
        server.run(transport="http", host="127.0.0.1", port=int(sys.argv[2]), show_banner=False)
    else:
        server.run(transport="stdio", show_banner=False)
