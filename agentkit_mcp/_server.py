"""Serve a :class:`~agentkit.tools.ToolRegistry` to any MCP client with the official SDK.

:class:`RegistryServer` wraps the SDK's low-level ``Server``: ``tools/list`` pages through
the registry's tools (sorted by name, ``page_size`` a page, an opaque cursor naming the last
tool sent), and ``tools/call`` runs :meth:`~agentkit.tools.ToolRegistry.execute_tool`, so
the registry's validation, timeouts and sandbox rules apply unchanged. A failed call (bad
arguments, a tool that raised, an unknown tool) comes back as a ``CallToolResult`` with
``isError`` set and the error type and message as text, never as a protocol error.

Nothing is worked out before serving: ``initialize`` is answered at once whatever the
registry's size, and each tool's MCP definition is built the first time it is listed.

Tools added to or removed from the registry while serving reach every connected client as
``notifications/tools/list_changed`` (coalesced: a burst of changes sends one): on the
standalone stream of a handshake-era (2025) connection, and on the ``subscriptions/listen``
streams of a 2026-07-28 one.

Output schemas: the MCP specification makes a client reject a result whose
``structuredContent`` does not conform to the tool's declared ``outputSchema``, and the
official SDK client also rejects a successful result that has an ``outputSchema`` but no
``structuredContent``. So an ``outputSchema`` is declared only for a tool whose ``returns``
is an object schema and that the ``output_schemas`` policy accepts. The default policy,
:func:`trusted_output_schemas`, leaves out open-world tools (an OpenAPI-imported tool's
output is whatever the remote API answers, e.g. an enum value outside its spec); their
results come back as text only. A declared tool whose output does not conform to its schema
at call time gets an ``isError`` result naming the mismatch (with the output as JSON text),
the only answer the SDK client accepts that does not pass off wrong structured content.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

import mcp_types as types
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.applications import Starlette

from agentkit.exceptions import ConfigurationError
from agentkit.tools import SchemaValidator, Tool, ToolRegistry, compile_schema, to_mcp_tool

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "OutputSchemaPolicy",
    "RegistryServer",
    "create_server",
    "trusted_output_schemas",
]

_logger = logging.getLogger("agentkit.mcp")

#: Tools per ``tools/list`` page unless told otherwise.
DEFAULT_PAGE_SIZE: Final = 100
#: The most tools one page may hold.
MAX_PAGE_SIZE: Final = 10_000

_CURSOR_PREFIX: Final = "after:"

#: Whether a tool's listing declares an ``outputSchema``: True (every tool whose ``returns``
#: is an object schema), False (none), or a function of the tool.
OutputSchemaPolicy = bool | Callable[[Tool], bool]


def trusted_output_schemas(tool: Tool) -> bool:
    """The default policy: declare output schemas except for open-world tools.

    An open-world tool (``hints.open_world``: an API, the web) returns what the outside
    answers, which need not match its declared schema; a client would reject such a result
    if an ``outputSchema`` were declared, so its results are sent as text only.
    """
    return not tool.hints.open_world


@dataclass(slots=True)
class _Listed:
    """A tool's MCP definition, built once per registered Tool."""

    tool: Tool
    definition: types.Tool
    output: SchemaValidator | None


class _Server(Server[dict[str, Any]]):
    """The SDK's low-level server, declaring ``tools.listChanged`` on every transport.

    The Streamable HTTP session manager (and ``Server.run`` callers that pass no options)
    build the ``initialize`` answer from ``create_initialization_options()`` with no
    notification options, which would declare ``listChanged: false``.
    """

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        """The SDK's options, with tool-list changes announced unless told otherwise."""
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True),
            experimental_capabilities,
            extensions,
        )


class RegistryServer:
    """An MCP server offering the tools of *registry*.

    Args:
        registry: The tools to serve; changes while serving are announced to clients.
        name: The server's name in ``serverInfo``.
        version: The server's version in ``serverInfo``.
        tools: Serve only the tools with these names (None: every tool).
        categories: Serve only the tools in these categories (None: every category). With
            both filters, a tool must pass both.
        page_size: Tools per ``tools/list`` page (1 to 10,000).
        output_schemas: Which tools declare an ``outputSchema`` (see the module docstring):
            True, False, or ``policy(tool) -> bool``; only tools whose ``returns`` is an
            object schema ever do.
        instructions: Optional ``instructions`` sent to clients at initialization.

    Raises:
        ConfigurationError: A bad option.

    Attributes:
        server: The SDK's low-level ``mcp.server.lowlevel.Server``.
    """

    def __init__(
        self,
        registry: ToolRegistry,
        *,
        name: str = "agentkit",
        version: str = "",
        tools: Collection[str] | None = None,
        categories: Collection[str] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        output_schemas: OutputSchemaPolicy = trusted_output_schemas,
        instructions: str | None = None,
    ) -> None:
        if not isinstance(registry, ToolRegistry):
            raise ConfigurationError(f"expected a ToolRegistry, got {type(registry).__name__}")
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= MAX_PAGE_SIZE
        ):
            raise ConfigurationError(
                f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got {page_size!r}"
            )
        if not (isinstance(output_schemas, bool) or callable(output_schemas)):
            raise ConfigurationError(
                f"output_schemas must be True, False or a function of the tool, "
                f"got {output_schemas!r}"
            )
        for option, value in (("tools", tools), ("categories", categories)):
            if isinstance(value, str):
                raise ConfigurationError(f"{option} must be a collection of names, not a string")
        self.registry = registry
        self.page_size = page_size
        self._names = frozenset(tools) if tools is not None else None
        self._categories = frozenset(categories) if categories is not None else None
        self._policy = output_schemas
        self._listed: dict[str, _Listed] = {}
        self._bus = InMemorySubscriptionBus()
        self._listen = ListenHandler(self._bus)
        # Handshake-era connections, with the registry version when each was first seen.
        self._connections: dict[Connection, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = 0
        self._remove_listener: Callable[[], None] | None = None
        self._announce_pending = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.server: Server[dict[str, Any]] = _Server(
            name,
            version=version,
            instructions=instructions,
            lifespan=self._lifespan,
            get_tool_input_schema=self._input_schema,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_subscriptions_listen=self._listen,
        )
        self.server.middleware.append(self._track_connection)

    def __repr__(self) -> str:
        return f"RegistryServer(name={self.server.name!r}, tools={len(self.served_tools())})"

    # -- what is served ------------------------------------------------------------------------

    def serves(self, tool: Tool) -> bool:
        """Whether the filters let *tool* through."""
        return (self._names is None or tool.name in self._names) and (
            self._categories is None or tool.category in self._categories
        )

    def served_tools(self) -> list[Tool]:
        """The tools this server offers now, sorted by name (the ``tools/list`` order)."""
        return [tool for tool in self.registry.list_tools() if self.serves(tool)]

    def _served(self, name: str) -> Tool | None:
        if name not in self.registry:
            return None
        tool = self.registry.get_tool(name)
        return tool if self.serves(tool) else None

    def _declares_output(self, tool: Tool) -> bool:
        returns = tool.returns
        if returns is None or returns.get("type") != "object":
            return False
        policy = self._policy
        return policy if isinstance(policy, bool) else bool(policy(tool))

    def _listing(self, tool: Tool) -> _Listed:
        listed = self._listed.get(tool.name)
        if listed is not None and listed.tool is tool:
            return listed
        definition = to_mcp_tool(tool)
        output = None
        if self._declares_output(tool) and tool.returns is not None:
            output = compile_schema(tool.returns, what=f"returns of tool {tool.name!r}")
        else:
            definition.pop("outputSchema", None)
        listed = _Listed(tool, types.Tool.model_validate(definition), output)
        self._listed[tool.name] = listed
        return listed

    def tool_definition(self, name: str) -> types.Tool:
        """The MCP definition ``tools/list`` gives for the served tool *name*.

        Raises:
            KeyError: No served tool has that name.
        """
        tool = self._served(name)
        if tool is None:
            raise KeyError(name)
        return self._listing(tool).definition

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        tool = self._served(name)
        return dict(tool.parameters) if tool is not None else None

    # -- handlers ------------------------------------------------------------------------------

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        after = _decode_cursor(params.cursor) if params is not None and params.cursor else None
        tools = self.served_tools()
        start = 0
        if after is not None:
            start = next((i for i, tool in enumerate(tools) if tool.name > after), len(tools))
        page = tools[start : start + self.page_size]
        more = start + self.page_size < len(tools)
        return types.ListToolsResult(
            tools=[self._listing(tool).definition for tool in page],
            next_cursor=_encode_cursor(page[-1].name) if more and page else None,
        )

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = self._served(params.name)
        if tool is None:
            known = ", ".join(t.name for t in self.served_tools()[:20]) or "none"
            return _error(f"unknown_tool: no tool named {params.name!r} (served: {known})")
        result = await self.registry.execute_tool(tool.name, params.arguments or {})
        if not result.success:
            return _error(f"{result.error_type}: {result.error}")
        text = _as_text(result.output)
        listed = self._listing(tool)
        if listed.output is None:
            return types.CallToolResult(content=[types.TextContent(text=text)])
        violation = listed.output.first_error(result.output)
        if violation is not None:
            where = violation.pointer or "/"
            _logger.warning(
                "tool %r returned output outside its schema at %s: %s",
                tool.name,
                where,
                violation.message,
            )
            return _error(
                f"output_validation: the output does not match the tool's outputSchema at "
                f"{where}: {violation.message}",
                text,
            )
        return types.CallToolResult(
            content=[types.TextContent(text=text)], structured_content=result.output
        )

    # -- change notifications ------------------------------------------------------------------

    @asynccontextmanager
    async def _lifespan(self, _server: Server[Any]) -> AsyncIterator[dict[str, Any]]:
        """Listen to the registry while at least one transport is serving."""
        self._loop = asyncio.get_running_loop()
        self._running += 1
        if self._remove_listener is None:
            self._remove_listener = self.registry.add_change_listener(self._on_change)
        try:
            yield {}
        finally:
            self._running -= 1
            if self._running == 0 and self._remove_listener is not None:
                self._remove_listener()
                self._remove_listener = None

    async def _track_connection(
        self, ctx: ServerRequestContext[Any], call_next: CallNext
    ) -> HandlerResult:
        """Remember each handshake-era connection, to send it ``tools/list_changed``."""
        result = await call_next(ctx)
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return result
        # The SDK gives handlers a per-request session; the connection behind it is where
        # connection-wide notifications go.
        connection = getattr(ctx.session, "_connection", None)
        if not isinstance(connection, Connection):
            return result
        if connection not in self._connections:
            self._connections[connection] = self.registry.version
            connection.exit_stack.callback(self._connections.pop, connection, None)
        elif (
            ctx.method == "notifications/initialized"
            and self._connections[connection] != self.registry.version
        ):
            # Changes made during the handshake were not sent (the client was not ready).
            await connection.send_tool_list_changed()
        return result

    def _on_change(self, change: str, name: str) -> None:
        """Registry listener (any thread): schedule one announcement for a burst of changes."""
        if change != "added":
            self._listed.pop(name, None)  # rebuilt from the new Tool when next listed
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._schedule_announce()
            return
        try:
            loop.call_soon_threadsafe(self._schedule_announce)
        except RuntimeError:  # the loop closed meanwhile: nobody is connected any more
            _logger.debug("tools/list_changed not sent: the event loop is closed")

    def _schedule_announce(self) -> None:
        if self._announce_pending:
            return
        self._announce_pending = True
        task = asyncio.get_running_loop().create_task(self._announce())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce(self) -> None:
        await asyncio.sleep(0)  # let the rest of a burst of changes land first
        self._announce_pending = False
        await self._bus.publish(ToolsListChanged())
        for connection in list(self._connections):
            if connection.initialized.is_set():
                await connection.send_tool_list_changed()

    async def notify_tools_changed(self) -> None:
        """Send ``tools/list_changed`` to every connected client now."""
        self._announce_pending = True
        await self._announce()

    # -- transports ----------------------------------------------------------------------------

    def initialization_options(self) -> InitializationOptions:
        """The SDK's initialization options, with the ``tools.listChanged`` capability."""
        return self.server.create_initialization_options()

    async def run_streams(self, read_stream: Any, write_stream: Any) -> None:
        """Serve one connection over an SDK stream pair (e.g. in-memory streams in tests)."""
        await self.server.run(read_stream, write_stream, self.initialization_options())

    async def run_stdio(self) -> None:
        """Serve one client over stdin/stdout until it closes stdin.

        Only the protocol is written to stdout (the SDK points file descriptor 1 at stderr
        while serving, so stray prints cannot corrupt it).
        """
        from mcp.server.stdio import stdio_server

        async with stdio_server() as (read_stream, write_stream):
            await self.run_streams(read_stream, write_stream)

    def http_app(self, *, host: str = "127.0.0.1", path: str = "/mcp") -> Starlette:
        """An ASGI app serving Streamable HTTP at *path* (build it once per server).

        For a loopback *host*, DNS-rebinding protection is on (only loopback ``Host`` and
        ``Origin`` headers are accepted), as the SDK sets it up.
        """
        return self.server.streamable_http_app(streamable_http_path=path, host=host)

    async def run_http(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        path: str = "/mcp",
        ready: Callable[[str], None] | None = None,
    ) -> None:
        """Serve Streamable HTTP at ``http://host:port/path`` with uvicorn until cancelled.

        Args:
            host: Address to bind (only loopback unless told otherwise).
            port: Port to bind (0: a free port, reported through *ready*).
            path: The MCP endpoint.
            ready: Called with the endpoint's URL once the socket is listening.
        """
        import uvicorn

        config = uvicorn.Config(
            self.http_app(host=host, path=path),
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
        )
        server = uvicorn.Server(config)
        serving = asyncio.ensure_future(server.serve())
        try:
            while not server.started:
                if serving.done():
                    await serving  # bind failure: raise it
                    return
                await asyncio.sleep(0.01)
            bound = server.servers[0].sockets[0].getsockname()
            shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
            if ready is not None:
                ready(f"http://{shown}:{bound[1]}{path}")
            await asyncio.shield(serving)
        finally:
            if not serving.done():
                server.should_exit = True
                try:
                    await asyncio.wait_for(asyncio.shield(serving), 5)
                except (TimeoutError, asyncio.CancelledError):
                    serving.cancel()


def create_server(
    registry: ToolRegistry,
    *,
    name: str = "agentkit",
    version: str = "",
    tools: Collection[str] | None = None,
    categories: Collection[str] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    output_schemas: OutputSchemaPolicy = trusted_output_schemas,
) -> RegistryServer:
    """A :class:`RegistryServer` for *registry* (see its arguments)."""
    return RegistryServer(
        registry,
        name=name,
        version=version,
        tools=tools,
        categories=categories,
        page_size=page_size,
        output_schemas=output_schemas,
    )


# -- helpers -----------------------------------------------------------------------------------


def _error(message: str, *extra: str) -> types.CallToolResult:
    content = [types.TextContent(text=text) for text in (message, *extra)]
    return types.CallToolResult(content=list(content), is_error=True)


def _as_text(output: Any) -> str:
    """The text content of an output: a string as it is, anything else as JSON."""
    if isinstance(output, str):
        return output
    try:
        return json.dumps(output, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return json.dumps(_jsonable(output), ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + name).encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(_CURSOR_PREFIX):
        raise MCPError(types.INVALID_PARAMS, f"invalid cursor {cursor!r}")
    return text[len(_CURSOR_PREFIX) :]
