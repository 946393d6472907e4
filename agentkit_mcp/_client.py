"""Bring the tools of any MCP server into a :class:`~agentkit.tools.ToolRegistry`.

:class:`MCPServerTools` owns the connections to one MCP server (a command run over stdio, or a
Streamable HTTP URL) and registers each of the server's tools as an ordinary agentkit
:class:`~agentkit.tools.Tool`: ``registry.execute_tool`` validates the arguments against the
server's own input schema before anything is sent, holds the call to the tool's timeout, and
reports the outcome as a :class:`~agentkit.tools.ToolResult`.

Connections are bound to the event loop they were opened in (the MCP SDK's streams and task
groups belong to one loop). A source therefore keeps one connection per event loop, opened
lazily on the first call made in that loop, each run by a task of its own so that any caller
task may use it. A connection that is lost is opened again on the next call; a call whose
connection is lost while it runs is retried once on a new connection only when the tool says
it is read-only or idempotent (otherwise it may or may not have run, and it fails).

``AGENTKIT_MCP_SERVERS`` (see :func:`register_configured_servers`) names servers whose tools
the plugin registers at discovery time.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from agentkit.exceptions import ConfigurationError, ToolError, ToolRegistrationError
from agentkit.tools import TOOL_NAME_PATTERN, Tool, ToolHints, fit_description

if TYPE_CHECKING:
    import mcp_types
    from mcp.client.client import Client

    from agentkit.protocols import Registry
    from agentkit.reliability import CircuitBreaker

__all__ = [
    "ENV_VAR",
    "load_server_specs",
    "source_from_spec",
    "MCPConnectionError",
    "MCPServerTools",
    "MCPToolError",
    "register_configured_servers",
]

_logger = logging.getLogger("agentkit_mcp.client")

#: The environment variable naming the MCP servers whose tools the plugin registers.
ENV_VAR: Final = "AGENTKIT_MCP_SERVERS"
#: Seconds allowed for connecting (spawning a server or opening an HTTP session) and the
#: handshake.
CONNECT_TIMEOUT: Final = 30.0
#: Seconds allowed for closing one connection (the SDK's own stdio shutdown takes at most
#: about 5 s: close stdin, wait 2 s, SIGTERM, wait 2 s, SIGKILL).
CLOSE_TIMEOUT: Final = 10.0
#: Pages of ``tools/list`` followed at most (a server whose cursor never ends cannot hang us).
MAX_LIST_PAGES: Final = 1_000
_CONNECTION_CLOSED: Final = -32000
_INVALID_REQUEST: Final = -32600
_INVALID_NAME_CHARACTERS = re.compile(r"[^a-zA-Z0-9_-]")


class MCPToolError(ToolError):
    """The MCP server answered a tool call with ``isError``; the message is the server's text."""


class MCPConnectionError(ToolError, ConnectionError):
    """The MCP server could not be reached, or the connection to it was lost."""


class _Connection:
    """One MCP client session in one event loop, entered and exited by a task of its own.

    The SDK's ``Client`` must be entered and exited in the same task (anyio task groups);
    running it in a dedicated task lets any task of the loop send requests through it.
    """

    def __init__(self, source: MCPServerTools) -> None:
        self._source = source
        self.client: Client | None = None
        self.error: BaseException | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.task = self.loop.create_task(self._run(), name=f"mcp-connection-{source.name}")

    @property
    def settled(self) -> bool:
        """Whether the connection is up or has failed (not still connecting)."""
        return self._ready.is_set()

    @property
    def alive(self) -> bool:
        return self.client is not None and not self.task.done() and not self._stop.is_set()

    async def _run(self) -> None:
        try:
            async with self._source._new_client() as client:
                self.client = client
                self._ready.set()
                await self._stop.wait()
        except Exception as exc:  # connection failures arrive as exception groups too
            self.error = exc
        finally:
            self.client = None
            self._ready.set()

    async def opened(self, timeout: float) -> Client:
        """Wait (at most *timeout* seconds) until the session is up, and return it."""
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            self.stop()
            raise MCPConnectionError(
                f"MCP server {self._source.name!r} did not answer within {timeout} s"
            ) from None
        client = self.client
        if client is None:
            raise MCPConnectionError(
                f"cannot connect to MCP server {self._source.name!r}: {_describe(self.error)}"
            ) from self.error
        return client

    def stop(self) -> None:
        """Ask the connection's task to close the session (it reaps a stdio child).

        A connection still connecting (a server that never answers the handshake) is
        cancelled instead: the SDK unwinds the transport and terminates the process.
        """
        self._stop.set()
        if not self._ready.is_set():
            self.task.cancel()

    async def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Close the session and wait (bounded) for its task to end."""
        self.stop()
        if self.task.done():
            return
        done, _ = await asyncio.wait({self.task}, timeout=timeout)
        if not done:
            self.task.cancel()
            await asyncio.wait({self.task}, timeout=timeout)


class MCPServerTools:
    """The tools of one MCP server, ready to register in a :class:`ToolRegistry`.

    Give either *command* (run over stdio; the first item is the executable) or *url*
    (Streamable HTTP)::

        async with MCPServerTools(command=["mcp-server-time"]) as source:
            names = await source.register(registry, prefix="time_")
            result = await registry.execute_tool("time_get_current_time", {"timezone": "UTC"})

    Connections are per event loop: the first call in a loop opens one there (the ``async
    with`` opens one at once, to fail early), and :meth:`aclose` closes them all; a stdio
    server's process is terminated and reaped. Use the source and the tools it registered
    only while it is open.

    Args:
        command: The server's command line, e.g. ``["mcp-server-time"]``.
        url: The server's Streamable HTTP endpoint, e.g. ``"http://127.0.0.1:8000/mcp"``.
        env: Extra environment variables for a stdio server (the MCP SDK passes only a few
            safe ones, such as ``PATH`` and ``HOME``, of the parent's).
        cwd: Working directory of a stdio server.
        headers: HTTP headers sent with every request to a URL server.
        name: Shown in errors and logs (default: the command's or URL's text).
        connect_timeout: Seconds allowed to connect and complete the handshake.
        stderr: Where a stdio server's stderr goes (default: this process's stderr).
        mode: How the SDK negotiates the protocol: ``"auto"`` (try the 2026-07-28
            ``server/discover``, fall back to the ``initialize`` handshake), ``"legacy"``
            (the handshake only), or a protocol version to adopt directly.

    Raises:
        ConfigurationError: Neither or both of *command* and *url*, or a value of the wrong
            kind.
    """

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        url: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        headers: Mapping[str, str] | None = None,
        name: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        stderr: IO[str] | None = None,
        mode: str = "auto",
    ) -> None:
        if (command is None) == (url is None):
            raise ConfigurationError("give exactly one of command= (stdio) or url= (HTTP)")
        if command is not None:
            if isinstance(command, str) or not command:
                raise ConfigurationError(
                    f"command must be a non-empty list of strings, got {command!r}"
                )
            if not all(isinstance(part, str) and part for part in command):
                raise ConfigurationError(f"command must hold non-empty strings, got {command!r}")
            if headers is not None:
                raise ConfigurationError("headers= applies to a url= server only")
        if url is not None:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ConfigurationError(f"url must be an http(s) URL, got {url!r}")
            if env is not None or cwd is not None:
                raise ConfigurationError("env= and cwd= apply to a command= server only")
        for label, mapping in (("env", env), ("headers", headers)):
            if mapping is not None and not (
                isinstance(mapping, Mapping)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())
            ):
                raise ConfigurationError(f"{label} must map strings to strings, got {mapping!r}")
        if isinstance(connect_timeout, bool) or not (
            isinstance(connect_timeout, int | float) and connect_timeout > 0
        ):
            raise ConfigurationError(
                f"connect_timeout must be a positive number, got {connect_timeout!r}"
            )
        self._command = list(command) if command is not None else None
        self._url = url
        self._env = dict(env) if env is not None else None
        self._cwd = os.fspath(cwd) if cwd is not None else None
        self._headers = dict(headers) if headers is not None else None
        self.name: str = name or (" ".join(self._command) if self._command else str(url))
        self._connect_timeout = float(connect_timeout)
        if not isinstance(mode, str) or not mode:
            raise ConfigurationError(f"mode must be 'auto', 'legacy' or a version, got {mode!r}")
        self._mode = mode
        self._stderr = stderr
        self._connections: dict[asyncio.AbstractEventLoop, _Connection] = {}
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        target = f"command={self._command!r}" if self._command else f"url={self._url!r}"
        return f"MCPServerTools({target})"

    # -- connections ---------------------------------------------------------------------------

    def _new_client(self) -> Client:
        from mcp.client.client import Client

        if self._command is not None:
            from mcp.client.stdio import StdioServerParameters, stdio_client

            parameters = StdioServerParameters(
                command=self._command[0], args=self._command[1:], env=self._env, cwd=self._cwd
            )
            transport: Any = stdio_client(parameters, errlog=self._errlog())
        elif self._headers:
            assert self._url is not None
            transport = _http_transport(self._url, self._headers)
        else:
            transport = self._url
        # No response cache: a listing must be fresh (the SDK caches by default).
        return Client(transport, cache=None, mode=self._mode)

    def _errlog(self) -> Any:
        stream = self._stderr if self._stderr is not None else sys.stderr
        try:
            stream.fileno()
        except (AttributeError, OSError, ValueError):  # e.g. a captured stderr: no descriptor
            # anyio's open_process takes subprocess.DEVNULL too (the SDK's type says TextIO).
            return subprocess.DEVNULL
        return stream

    async def _connection(self) -> tuple[_Connection, Client]:
        """The open connection of the running loop (connecting first when there is none)."""
        if self._closed:
            raise MCPConnectionError(f"the MCP source {self.name!r} is closed")
        loop = asyncio.get_running_loop()
        with self._lock:
            for other in [key for key in self._connections if key.is_closed()]:
                del self._connections[other]
            connection = self._connections.get(loop)
            if connection is not None and not connection.alive and connection.settled:
                connection.stop()
                connection = None
            if connection is None:
                connection = _Connection(self)
                self._connections[loop] = connection
        try:
            return connection, await connection.opened(self._connect_timeout)
        except MCPConnectionError:
            await self._drop(connection)
            raise

    async def _drop(self, connection: _Connection) -> None:
        """Close *connection* (it was lost); the next call in its loop opens a new one."""
        with self._lock:
            if self._connections.get(connection.loop) is connection:
                del self._connections[connection.loop]
        await connection.close()

    async def __aenter__(self) -> MCPServerTools:
        await self._connection()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection; a stdio server's process is terminated and reaped.

        The running loop's connection is closed and awaited; a connection of another loop
        that is still running is asked to close there. Calls after this fail.
        """
        self._closed = True
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            connections = list(self._connections.items())
            self._connections.clear()
        for owner, connection in connections:
            if owner is loop:
                await connection.close()
            elif not owner.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    owner.call_soon_threadsafe(connection.stop)

    # -- listing and calling -------------------------------------------------------------------

    async def list_tools(self, *, timeout: float = CONNECT_TIMEOUT) -> list[mcp_types.Tool]:
        """The server's tool definitions, every page of them.

        Raises:
            MCPConnectionError: The server cannot be reached or did not answer in time.
        """
        try:
            async with asyncio.timeout(timeout):
                connection, client = await self._connection()
                tools: list[mcp_types.Tool] = []
                cursor: str | None = None
                seen: set[str] = set()
                for _ in range(MAX_LIST_PAGES):
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if cursor is None or cursor in seen:
                        break
                    seen.add(cursor)
                return tools
        except TimeoutError:
            raise MCPConnectionError(
                f"MCP server {self.name!r} did not list its tools within {timeout} s"
            ) from None
        except MCPConnectionError:
            raise
        except Exception as exc:
            await self._drop(connection)
            raise MCPConnectionError(
                f"listing the tools of MCP server {self.name!r} failed: {_describe(exc)}"
            ) from exc

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any],
        *,
        timeout: float | None = None,
        retry_on_lost_connection: bool = False,
    ) -> Any:
        """Call the server's tool *name* and return its output.

        The output is the result's structured content when there is some, else its text
        (parsed when it is JSON), else its content blocks as dicts.

        Raises:
            MCPToolError: The server reported the call failed (``isError``).
            MCPConnectionError: The server cannot be reached, or the connection was lost
                during the call (then the call is sent again on a new connection once when
                *retry_on_lost_connection*).
        """
        retried = False
        while True:
            connection, client = await self._connection()
            try:
                result = await client.call_tool(name, dict(arguments), read_timeout_seconds=timeout)
            except TimeoutError:
                raise  # the registry reports it as a timeout
            except Exception as exc:
                # A dropped session (the server restarted, or forgot it) is refused before the
                # tool runs, so it is always safe to send the call again on a new one.
                expired = _session_expired(exc)
                if not expired and not _is_connection_failure(exc):
                    raise MCPToolError(
                        f"MCP tool {name!r} of {self.name!r} failed: {_describe(exc)}"
                    ) from exc
                await self._drop(connection)
                if not retried and (expired or retry_on_lost_connection):
                    retried = True
                    _logger.info("reconnecting to MCP server %r: %s", self.name, _describe(exc))
                    continue
                raise MCPConnectionError(
                    f"lost the connection to MCP server {self.name!r} during {name!r} "
                    f"({_describe(exc)}); the next call reconnects"
                ) from exc
            return _output(name, result)

    async def register(
        self,
        registry: Registry,
        *,
        prefix: str = "",
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        timeout: float = 30.0,
        breaker: CircuitBreaker | None = None,
    ) -> list[str]:
        """List the server's tools and register each in *registry*; return the names used.

        A tool is registered as *prefix* + its server name, with characters outside
        ``[a-zA-Z0-9_-]`` replaced by ``_``, cut to 64 and made unique. *include* and *exclude*
        hold server tool names or ``fnmatch`` patterns. A tool whose schema the registry
        refuses, or whose name is taken by a different tool, is skipped with a warning.

        Args:
            registry: Where the tools go.
            prefix: Put before each tool's name, e.g. ``"time_"``.
            include: Only these tools (names or patterns); None: all.
            exclude: Not these tools (names or patterns).
            timeout: Each tool's default timeout in seconds.
            breaker: A circuit breaker every call of these tools goes through.

        Raises:
            MCPConnectionError: The server cannot be reached.
            ConfigurationError: A bad *prefix* or *timeout*.
        """
        tools = await self.list_tools(timeout=max(timeout, self._connect_timeout))
        return self.register_listed(
            registry,
            tools,
            prefix=prefix,
            include=include,
            exclude=exclude,
            timeout=timeout,
            breaker=breaker,
        )

    def register_listed(
        self,
        registry: Registry,
        tools: Sequence[mcp_types.Tool],
        *,
        prefix: str = "",
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        timeout: float = 30.0,
        breaker: CircuitBreaker | None = None,
    ) -> list[str]:
        """Register *tools* (a listing of this server, e.g. from :meth:`list_tools`).

        As :meth:`register`, without listing; the proxies connect on their first call.
        """
        if not isinstance(prefix, str):
            raise ConfigurationError(f"prefix must be a string, got {prefix!r}")
        if isinstance(timeout, bool) or not (isinstance(timeout, int | float) and timeout > 0):
            raise ConfigurationError(f"timeout must be a positive number, got {timeout!r}")
        included = _patterns(include, "include")
        excluded = _patterns(exclude, "exclude") or []
        registered: list[str] = []
        used: set[str] = set()
        for definition in tools:
            server_name = definition.name
            if included is not None and not _matches(server_name, included):
                continue
            if _matches(server_name, excluded):
                continue
            name = _unique_name(prefix + server_name, used)
            used.add(name)
            hints = _hints(definition.annotations)
            # A call lost with its connection is sent again only when doing so is harmless.
            proxy = _Proxy(
                self, server_name, breaker, repeatable=hints.read_only or hints.idempotent
            )
            description = (
                definition.description
                or definition.title
                or f"{server_name} (a tool of the MCP server {self.name})"
            )
            tool = Tool(
                name=name,
                # The server's text is not ours: a description too long to index is cut.
                description=fit_description(description, category="mcp", tags=("mcp",)),
                category="mcp",
                parameters=definition.input_schema,
                returns=definition.output_schema,
                tags=("mcp",),
                timeout=float(timeout),
                hints=hints,
                function=proxy,
            )
            try:
                registry.register_tool(tool)
            except ToolRegistrationError as exc:
                _logger.warning(
                    "skipping tool %r of MCP server %r: %s", server_name, self.name, exc
                )
                continue
            registered.append(name)
        return registered


@contextlib.asynccontextmanager
async def _http_transport(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    """Streamable HTTP with *headers* on every request; the HTTP client is closed after."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    # The SDK's own defaults: 30 s to connect or write, 300 s between reads of a stream.
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


class _Proxy:
    """The function of a registered MCP tool: calls the server's tool through its source."""

    __slots__ = ("_breaker", "_name", "_repeatable", "_source")

    def __init__(
        self,
        source: MCPServerTools,
        name: str,
        breaker: CircuitBreaker | None,
        *,
        repeatable: bool,
    ) -> None:
        self._source = source
        self._name = name
        self._breaker = breaker
        self._repeatable = repeatable

    def __repr__(self) -> str:
        return f"<MCP tool {self._name!r} of {self._source.name!r}>"

    async def __call__(self, **arguments: Any) -> Any:
        if self._breaker is not None:
            return await self._breaker.call(self._call, arguments)
        return await self._call(arguments)

    async def _call(self, arguments: dict[str, Any]) -> Any:
        return await self._source.call_tool(
            self._name, arguments, retry_on_lost_connection=self._repeatable
        )


def _hints(annotations: mcp_types.ToolAnnotations | None) -> ToolHints:
    """agentkit hints from MCP annotations (MCP's defaults where a hint is absent)."""
    if annotations is None:
        return ToolHints(open_world=True)
    read_only = bool(annotations.read_only_hint)
    destructive = (
        bool(annotations.destructive_hint)
        if annotations.destructive_hint is not None
        else not read_only
    )
    return ToolHints(
        read_only=read_only,
        destructive=destructive and not read_only,
        idempotent=bool(annotations.idempotent_hint),
        open_world=annotations.open_world_hint is not False,
    )


def _output(name: str, result: mcp_types.CallToolResult) -> Any:
    texts = [getattr(block, "text", None) for block in result.content]
    text = "\n".join(t for t in texts if isinstance(t, str))
    if result.is_error:
        raise MCPToolError(text or f"the MCP tool {name!r} failed without saying why")
    if result.structured_content is not None:
        return result.structured_content
    if result.content and all(isinstance(t, str) for t in texts):
        if len(texts) == 1:
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text
    return [
        block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in result.content
    ]


def _is_connection_failure(exc: BaseException) -> bool:
    """Whether *exc* says the connection (not the tool) failed."""
    from mcp.shared.exceptions import MCPError

    if isinstance(exc, MCPError):
        return exc.code == _CONNECTION_CLOSED
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_connection_failure(inner) for inner in exc.exceptions)
    import anyio

    if isinstance(exc, TimeoutError):
        return False
    if isinstance(exc, anyio.ClosedResourceError | anyio.BrokenResourceError | OSError):
        return True
    return type(exc).__module__.split(".")[0] in {"httpx2", "httpcore2", "httpx", "httpcore"}


def _session_expired(exc: BaseException) -> bool:
    """Whether *exc* says the server no longer knows our HTTP session (a 404 on it)."""
    from mcp.shared.exceptions import MCPError

    return (
        isinstance(exc, MCPError)
        and exc.code == _INVALID_REQUEST
        and "session" in exc.message.lower()
    )


def _describe(exc: BaseException | None) -> str:
    """A one-line account of *exc*, looking inside exception groups."""
    if exc is None:
        return "the connection closed"
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _patterns(values: Iterable[str] | None, label: str) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    patterns = list(values)
    if not all(isinstance(p, str) for p in patterns):
        raise ConfigurationError(f"{label} must hold tool names or fnmatch patterns")
    return patterns


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(name == p or fnmatch.fnmatchcase(name, p) for p in patterns)


def _unique_name(raw: str, used: set[str]) -> str:
    """*raw* made valid for ``TOOL_NAME_PATTERN`` and different from every name in *used*."""
    base = _INVALID_NAME_CHARACTERS.sub("_", raw)[:64] or "tool"
    name, number = base, 2
    while name in used:
        suffix = f"_{number}"
        name = base[: 64 - len(suffix)] + suffix
        number += 1
    assert TOOL_NAME_PATTERN.fullmatch(name)
    return name


# -- configuration -------------------------------------------------------------------------------

_SPEC_KEYS: Final = frozenset(
    {
        "name",
        "command",
        "url",
        "env",
        "cwd",
        "headers",
        "prefix",
        "include",
        "exclude",
        "timeout",
        "connect_timeout",
        "mode",
    }
)


def load_server_specs(value: str | None = None) -> list[dict[str, Any]]:
    """The server specs in *value* (default: ``$AGENTKIT_MCP_SERVERS``): JSON text of a list of
    objects, or the path of a file holding that JSON. Empty or unset: no servers.

    Raises:
        ConfigurationError: Not valid JSON, not a list of objects, or an unreadable file.
    """
    text = os.environ.get(ENV_VAR, "") if value is None else value
    text = text.strip()
    if not text:
        return []
    if not text.startswith(("[", "{")):
        try:
            text = Path(text).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"{ENV_VAR} is neither a JSON list nor a readable file: {exc}"
            ) from exc
    try:
        specs = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{ENV_VAR} is not valid JSON: {exc}") from exc
    if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
        raise ConfigurationError(f"{ENV_VAR} must be a JSON list of objects")
    return specs


def source_from_spec(spec: Mapping[str, Any]) -> MCPServerTools:
    """An :class:`MCPServerTools` for one server spec (see :func:`register_configured_servers`).

    Raises:
        ConfigurationError: An unknown key, or a value of the wrong kind.
    """
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise ConfigurationError(f"unknown keys {unknown} (known: {sorted(_SPEC_KEYS)})")
    name = spec.get("name")
    if name is not None and not (isinstance(name, str) and name):
        raise ConfigurationError(f"name must be a non-empty string, got {name!r}")
    command = spec.get("command")
    if isinstance(command, str):
        raise ConfigurationError('command must be a list of strings, e.g. ["mcp-server-time"]')
    return MCPServerTools(
        command,
        url=spec.get("url"),
        env=spec.get("env"),
        cwd=spec.get("cwd"),
        headers=spec.get("headers"),
        name=name,
        connect_timeout=spec.get("connect_timeout", CONNECT_TIMEOUT),
        mode=spec.get("mode", "auto"),
    )


def register_configured_servers(registry: Registry, value: str | None = None) -> list[str]:
    """Register the tools of every MCP server named in ``AGENTKIT_MCP_SERVERS``.

    The variable holds a JSON list (or the path of a JSON file holding it) of server specs::

        [{"name": "time", "command": ["mcp-server-time"], "prefix": "time_"},
         {"name": "x", "url": "http://127.0.0.1:9000/mcp", "headers": {"Authorization": "..."}}]

    Keys: ``command`` (list) or ``url``; optional ``name``, ``env``, ``cwd`` (stdio),
    ``headers`` (HTTP), ``prefix``, ``include``/``exclude`` (names or fnmatch patterns),
    ``timeout`` (seconds per call), ``connect_timeout`` and ``mode`` (``"auto"``,
    ``"legacy"`` or a protocol version).

    Synchronous, for the plugin's ``agentkit_register_tools`` hook: each server's tools are
    listed in a short-lived worker thread with its own event loop (bounded by
    ``connect_timeout``), and proxies are registered whose calls connect lazily in the
    caller's event loop (one connection per loop). A bad spec or an unreachable server is
    logged as a warning naming it and skipped; this never raises for them.

    Returns:
        The names of the tools registered.
    """
    try:
        specs = load_server_specs(value)
    except ConfigurationError as exc:
        _logger.warning("ignoring %s: %s", ENV_VAR, exc)
        return []
    registered: list[str] = []
    for index, spec in enumerate(specs):
        label = spec.get("name") or spec.get("command") or spec.get("url") or f"#{index}"
        try:
            source = source_from_spec(spec)
            timeout = spec.get("timeout", 30.0)
            listing = _list_in_thread(spec, source._connect_timeout)
            names = source.register_listed(
                registry,
                listing,
                prefix=spec.get("prefix", ""),
                include=spec.get("include"),
                exclude=spec.get("exclude"),
                timeout=timeout,
            )
        except Exception as exc:  # one bad server never breaks plugin discovery
            _logger.warning("skipping MCP server %s from %s: %s", label, ENV_VAR, exc)
            continue
        _logger.debug("registered %d tools of MCP server %s", len(names), label)
        registered.extend(names)
    return registered


def _list_in_thread(spec: Mapping[str, Any], timeout: float) -> list[mcp_types.Tool]:
    """List a server's tools from a worker thread with its own event loop (the caller may be
    synchronous, or inside a running loop it must not block on)."""
    outcome: list[Any] = []

    async def list_once() -> list[mcp_types.Tool]:
        async with source_from_spec(spec) as source:
            return await source.list_tools(timeout=timeout)

    def work() -> None:
        try:
            outcome.append(asyncio.run(_bounded(list_once(), timeout)))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work, name="agentkit-mcp-list", daemon=True)
    thread.start()
    # Listing is bounded by *timeout*; closing (reaping a stdio child) by CLOSE_TIMEOUT.
    thread.join(timeout + CLOSE_TIMEOUT)
    if not outcome:
        raise MCPConnectionError(f"listing the tools took longer than {timeout} s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    tools: list[mcp_types.Tool] = result
    return tools


async def _bounded(awaitable: Any, timeout: float) -> Any:
    try:
        async with asyncio.timeout(timeout):
            return await awaitable
    except TimeoutError:
        raise MCPConnectionError(f"no answer within {timeout} s") from None
