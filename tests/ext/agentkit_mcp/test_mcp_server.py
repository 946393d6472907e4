"""RegistryServer in process: the official MCP SDK client against a real ToolRegistry.

Both protocol eras the SDK speaks are covered: the 2025 handshake (``mode="legacy"``, over
in-memory streams) and 2026-07-28 (``mode="auto"``, the SDK's direct in-process dispatch).
"""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import anyio
import mcp_types as types
import pytest
from _server_api import OPERATIONS, running_api
from mcp import Client
from mcp.shared.exceptions import MCPError

from agentkit import ToolRegistry
from agentkit.exceptions import AgentkitError, ConfigurationError
from agentkit.tools import Tool, ToolHints
from agentkit_mcp._cli import import_specs_in_background
from agentkit_mcp._server import RegistryServer, trusted_output_schemas

pytestmark = pytest.mark.timeout(60)

SUM = {"type": "object", "properties": {"sum": {"type": "integer"}}, "required": ["sum"]}
AB = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}
MODES = ("legacy", "auto")


def _add(a: int, b: int) -> dict[str, int]:
    return {"sum": a + b}


def _wrong_sum() -> dict[str, str]:
    return {"sum": "many"}


def _boom() -> None:
    raise ValueError("the tool broke")


def _noop() -> str:
    return "ok"


def _registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register_tool(
        Tool(
            name="math_add",
            description="Add two integers.",
            category="math",
            parameters=AB,
            returns=SUM,
            hints=ToolHints(read_only=True, idempotent=True),
            function=_add,
        )
    )
    registry.register_tool(
        Tool(
            name="math_wrong",
            description="Claims a sum.",
            category="math",
            returns=SUM,
            function=_wrong_sum,
        )
    )
    registry.register_tool(
        Tool(name="text_boom", description="Always fails.", category="text", function=_boom)
    )
    registry.register_tool(
        Tool(
            name="web_wipe",
            description="Deletes something remote.",
            category="web",
            returns=SUM,
            hints=ToolHints(destructive=True, open_world=True),
            function=_add,
            parameters=AB,
        )
    )
    return registry


async def _all_tools(client: Client) -> tuple[list[types.Tool], int]:
    """Every listed tool, following cursors, and how many pages it took."""
    tools: list[types.Tool] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        tools.extend(page.tools)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return tools, pages


def _text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


@pytest.mark.parametrize("mode", MODES)
async def test_listing_pages_in_name_order(mode: str) -> None:
    """tools/list pages through every tool in name order, page_size at a time."""
    registry = ToolRegistry()
    for index in range(7):
        registry.register_tool(Tool(name=f"tool_{6 - index}", description="x", function=_noop))
    server = RegistryServer(registry, page_size=3)
    async with Client(server.server, mode=mode) as client:
        first = await client.list_tools()
        assert [tool.name for tool in first.tools] == ["tool_0", "tool_1", "tool_2"]
        tools, pages = await _all_tools(client)
    assert [tool.name for tool in tools] == [f"tool_{index}" for index in range(7)]
    assert pages == 3


async def test_cursor_survives_a_change_between_pages() -> None:
    """A cursor names the last tool sent, so removing a listed tool skips nothing after it."""
    registry = ToolRegistry()
    for index in range(6):
        registry.register_tool(Tool(name=f"tool_{index}", description="x", function=_noop))
    server = RegistryServer(registry, page_size=2)
    async with Client(server.server, mode="legacy") as client:
        first = await client.list_tools()
        registry.unregister_tool("tool_0")
        second = await client.list_tools(cursor=first.next_cursor)
    assert [tool.name for tool in second.tools] == ["tool_2", "tool_3"]


async def test_bad_cursor_is_invalid_params() -> None:
    """A cursor this server did not make is refused with INVALID_PARAMS."""
    server = RegistryServer(_registry())
    async with Client(server.server, mode="legacy") as client:
        with pytest.raises(MCPError) as caught:
            await client.list_tools(cursor="not-a-cursor")
    assert caught.value.error.code == types.INVALID_PARAMS


async def test_annotations_titles_and_output_schemas() -> None:
    """Hints become annotations; only trusted tools with object returns declare outputSchema."""
    server = RegistryServer(_registry())
    async with Client(server.server, mode="legacy") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    add = tools["math_add"]
    assert add.title == "Math add"
    assert add.description == "Add two integers."
    assert add.input_schema == AB
    assert add.output_schema == SUM
    assert add.annotations is not None
    assert add.annotations.read_only_hint is True
    assert add.annotations.idempotent_hint is True
    assert add.annotations.destructive_hint is False
    assert add.annotations.open_world_hint is False
    wipe = tools["web_wipe"]
    assert wipe.annotations is not None
    assert wipe.annotations.destructive_hint is True
    assert wipe.annotations.open_world_hint is True
    assert wipe.output_schema is None  # open world: its output is not ours to promise
    assert tools["text_boom"].output_schema is None  # no returns schema


@pytest.mark.parametrize(
    ("policy", "declared"),
    [
        (True, {"math_add", "math_wrong", "web_wipe"}),
        (False, set()),
        (lambda tool: tool.name == "web_wipe", {"web_wipe"}),
        (trusted_output_schemas, {"math_add", "math_wrong"}),
    ],
)
async def test_output_schema_policy(policy: Any, declared: set[str]) -> None:
    """output_schemas=True/False/callable decides which tools declare an outputSchema."""
    server = RegistryServer(_registry(), output_schemas=policy)
    async with Client(server.server, mode="legacy") as client:
        tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools if tool.output_schema is not None} == declared


@pytest.mark.parametrize("mode", MODES)
async def test_calls_succeed_and_fail_as_results(mode: str) -> None:
    """Success carries text and structuredContent; every failure is an isError result."""
    server = RegistryServer(_registry())
    async with Client(server.server, mode=mode) as client:
        await client.list_tools()
        ok = await client.call_tool("math_add", {"a": 2, "b": 3})
        broken = await client.call_tool("text_boom", {})
        invalid = await client.call_tool("math_add", {"a": "two", "b": 3})
        unknown = await client.call_tool("no_such_tool", {})
    assert not ok.is_error
    assert ok.structured_content == {"sum": 5}
    assert _text(ok) == '{"sum": 5}'
    assert broken.is_error
    assert _text(broken) == "ValueError: the tool broke"
    assert invalid.is_error
    assert _text(invalid).startswith("validation: invalid parameters at /a:")
    assert unknown.is_error
    assert "no tool named 'no_such_tool'" in _text(unknown)


@pytest.mark.parametrize("mode", MODES)
async def test_output_outside_its_schema_is_an_error_result(mode: str) -> None:
    """Output that breaks the declared schema is an isError result the client accepts."""
    server = RegistryServer(_registry())
    async with Client(server.server, mode=mode) as client:
        await client.list_tools()
        result = await client.call_tool("math_wrong", {})
    assert result.is_error
    assert result.structured_content is None
    assert "output_validation" in _text(result)
    assert "/sum" in _text(result)
    assert '{"sum": "many"}' in _text(result)


async def test_open_world_tool_answers_text_only() -> None:
    """A tool without a declared outputSchema gets text content and no structuredContent."""
    server = RegistryServer(_registry())
    async with Client(server.server, mode="legacy") as client:
        await client.list_tools()
        result = await client.call_tool("web_wipe", {"a": 1, "b": 1})
    assert not result.is_error
    assert result.structured_content is None
    assert _text(result) == '{"sum": 2}'


async def test_filters_limit_listing_and_calls() -> None:
    """tools= and categories= limit what is listed and what may be called."""
    by_category = RegistryServer(_registry(), categories=["math"])
    by_name = RegistryServer(_registry(), tools=["text_boom", "web_wipe", "absent"])
    both = RegistryServer(_registry(), tools=["math_add", "text_boom"], categories=["math"])
    async with Client(by_category.server, mode="legacy") as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == {
            "math_add",
            "math_wrong",
        }
        hidden = await client.call_tool("text_boom", {})
    async with Client(by_name.server, mode="legacy") as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == {
            "text_boom",
            "web_wipe",
        }
    async with Client(both.server, mode="legacy") as client:
        assert [tool.name for tool in (await client.list_tools()).tools] == ["math_add"]
    assert hidden.is_error
    assert "no tool named 'text_boom'" in _text(hidden)


class _Announcements:
    """Collects the tools/list_changed notifications a client receives."""

    def __init__(self) -> None:
        self.count = 0
        self._send, self._receive = anyio.create_memory_object_stream[int](100)

    async def handler(self, message: Any) -> None:
        """The client's message handler."""
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            self.count += 1
            await self._send.send(self.count)

    async def next(self) -> int:
        """Wait for the next announcement; its number."""
        with anyio.fail_after(20):
            return await self._receive.receive()


async def test_list_changed_on_the_handshake_era() -> None:
    """Registering and unregistering a tool send tools/list_changed (2025 protocol)."""
    registry = _registry()
    server = RegistryServer(registry)
    announcements = _Announcements()
    async with Client(
        server.server, mode="legacy", message_handler=announcements.handler
    ) as client:
        assert client.server_capabilities.tools is not None
        assert client.server_capabilities.tools.list_changed is True
        registry.register_tool(Tool(name="late", description="x", function=_noop))
        assert await announcements.next() == 1
        assert "late" in {tool.name for tool in (await client.list_tools()).tools}
        registry.unregister_tool("late")
        assert await announcements.next() == 2
        assert "late" not in {tool.name for tool in (await client.list_tools()).tools}


async def test_list_changed_on_a_listen_stream() -> None:
    """On 2026-07-28 a subscriptions/listen stream gets the change (from another thread too)."""
    registry = _registry()
    server = RegistryServer(registry)
    async with Client(server.server) as client:
        assert client.protocol_version >= "2026"
        async with client.listen(tools_list_changed=True) as subscription:
            worker = threading.Thread(
                target=registry.register_tool,
                args=(Tool(name="from_thread", description="x", function=_noop),),
            )
            worker.start()
            worker.join(10)
            with anyio.fail_after(10):
                async for event in subscription:
                    assert type(event).__name__ == "ToolsListChanged"
                    break
        names = {tool.name for tool in (await client.list_tools(cache_mode="refresh")).tools}
    assert "from_thread" in names


async def test_a_burst_of_changes_sends_one_notification() -> None:
    """Ten tools registered at once are announced once."""
    registry = _registry()
    server = RegistryServer(registry)
    announcements = _Announcements()
    async with Client(
        server.server, mode="legacy", message_handler=announcements.handler
    ) as client:
        await client.list_tools()  # the handshake is complete
        for index in range(10):
            registry.register_tool(Tool(name=f"burst_{index}", description="x", function=_noop))
        assert await announcements.next() == 1
        await client.list_tools()  # a second announcement would arrive before this answer
    assert announcements.count == 1


async def test_initialize_answers_before_a_slow_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server answers while an OpenAPI import is held, then announces its tools."""
    monkeypatch.setenv("AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES", "1")
    registry = _registry()
    server = RegistryServer(registry)
    announcements = _Announcements()
    err = io.StringIO()
    with running_api(hold_spec=True) as api:
        parsers: list[Any] = []
        importing = asyncio.ensure_future(
            import_specs_in_background(registry, [api.spec_url], err, parsers)
        )
        try:
            async with Client(
                server.server, mode="legacy", message_handler=announcements.handler
            ) as client:
                assert await anyio.to_thread.run_sync(api.spec_requested.wait, 20)
                before = {tool.name for tool in (await client.list_tools()).tools}
                assert not importing.done()
                api.spec_gate.set()
                await announcements.next()
                after = {tool.name for tool in (await client.list_tools()).tools}
                status = await client.call_tool("get_status", {})
            assert await importing == len(OPERATIONS)
        finally:
            importing.cancel()
            for parser in parsers:
                await parser.aclose()
    assert not set(OPERATIONS) & before
    assert set(OPERATIONS) <= after
    assert "imported 2 tools" in err.getvalue()
    assert not status.is_error
    assert '"paused"' in _text(status)


async def test_enum_outside_the_spec_with_declared_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    """With output_schemas=True, an API's out-of-enum answer is an isError result, not a
    rejected call; its in-spec answers carry structuredContent."""
    monkeypatch.setenv("AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES", "1")
    registry = ToolRegistry()
    server = RegistryServer(registry, output_schemas=True)
    err = io.StringIO()
    parsers: list[Any] = []
    with running_api() as api:
        try:
            assert await import_specs_in_background(registry, [api.spec_url], err, parsers) == 2
            async with Client(server.server) as client:
                tools = {tool.name: tool for tool in (await client.list_tools()).tools}
                status = await client.call_tool("get_status", {})
                added = await client.call_tool("add_numbers", {"a": 2, "b": 40})
        finally:
            for parser in parsers:
                await parser.aclose()
    assert tools["get_status"].output_schema is not None
    assert status.is_error
    assert "output_validation" in _text(status)
    assert "/state" in _text(status)
    assert not added.is_error
    assert added.structured_content == {"sum": 42}


async def test_failed_import_is_reported_and_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A spec that cannot be read is reported and the next one is still imported."""
    monkeypatch.setenv("AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES", "1")
    registry = ToolRegistry()
    err = io.StringIO()
    parsers: list[Any] = []
    with running_api() as api:
        try:
            count = await import_specs_in_background(
                registry, [f"{api.url}/missing.json", api.spec_url], err, parsers
            )
        finally:
            for parser in parsers:
                await parser.aclose()
    assert count == 2
    assert f"could not import OpenAPI spec {api.url}/missing.json" in err.getvalue()
    assert set(OPERATIONS) <= {tool.name for tool in registry.list_tools()}


@pytest.mark.parametrize(
    "options",
    [
        {"page_size": 0},
        {"page_size": True},
        {"output_schemas": "yes"},
        {"tools": "math_add"},
    ],
)
def test_bad_options_raise_configuration_error(options: dict[str, Any]) -> None:
    """A bad option is a ConfigurationError (an AgentkitError)."""
    with pytest.raises(ConfigurationError) as caught:
        RegistryServer(ToolRegistry(), **options)
    assert isinstance(caught.value, AgentkitError)


def test_tool_definition_matches_the_listing() -> None:
    """tool_definition gives a served tool's MCP definition and refuses a filtered one."""
    server = RegistryServer(_registry(), categories=["math"])
    assert server.tool_definition("math_add").output_schema == SUM
    assert [tool.name for tool in server.served_tools()] == ["math_add", "math_wrong"]
    with pytest.raises(KeyError):
        server.tool_definition("text_boom")


async def test_a_replaced_tool_is_listed_anew() -> None:
    """After a tool is replaced, tools/list gives the new definition, not a cached one."""
    registry = _registry()
    server = RegistryServer(registry)
    async with Client(server.server, mode="legacy") as client:
        before = {tool.name: tool for tool in (await client.list_tools()).tools}
        registry.register_tool(
            Tool(name="text_boom", description="Fails differently.", function=_boom),
            replace=True,
        )
        after = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert before["text_boom"].description == "Always fails."
    assert after["text_boom"].description == "Fails differently."
