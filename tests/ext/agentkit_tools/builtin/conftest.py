"""Fixtures for the built-in tool tests: a sandboxed config and a schema-checking caller."""

from __future__ import annotations

import contextlib
import inspect
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agentkit import Tool
from agentkit_tools import ToolsConfig, create_builtin_tools_library

Call = Callable[..., Awaitable[Any]]


def schema_errors(schema: Any, value: Any) -> list[str]:
    """Every JSON-Schema error of *value* against *schema*, as 'pointer: message'."""
    validator = jsonschema.Draft202012Validator(schema)
    return [
        "/" + "/".join(str(p) for p in error.absolute_path) + ": " + error.message
        for error in validator.iter_errors(value)
    ]


async def call_tool(tool: Tool, **params: Any) -> Any:
    """Call *tool* as the registry does: params checked first, output checked after."""
    assert schema_errors(tool.parameters, params) == [], "the test passed invalid parameters"
    assert tool.function is not None
    output = tool.function(**params)
    if inspect.isawaitable(output):
        output = await output
    assert schema_errors(tool.returns, output) == [], output
    return output


@pytest.fixture
def config(tmp_path: Path) -> ToolsConfig:
    """A config whose sandbox is a fresh directory."""
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    return ToolsConfig(sandbox_root=sandbox)


@pytest.fixture
def tools(config: ToolsConfig) -> dict[str, Tool]:
    """The library built on the sandboxed config, by name."""
    return {tool.name: tool for tool in create_builtin_tools_library(config)}


@pytest.fixture
def call(tools: dict[str, Tool]) -> Call:
    """Call a built-in tool by name with schema-checked params and output."""

    async def run(name: str, **params: Any) -> Any:
        return await call_tool(tools[name], **params)

    return run


@pytest.fixture
def rejects(tools: dict[str, Tool]) -> Callable[..., list[str]]:
    """The schema errors of params for a tool (empty when the registry would accept them)."""

    def check(name: str, **params: Any) -> list[str]:
        return schema_errors(tools[name].parameters, params)

    return check


@pytest.fixture
def make_caller(config: ToolsConfig) -> Callable[..., Call]:
    """Build the library with config options (same sandbox) and return its caller."""

    def make(**options: Any) -> Call:
        options.setdefault("sandbox_root", config.root)
        tools = {tool.name: tool for tool in create_builtin_tools_library(ToolsConfig(**options))}

        async def run(name: str, **params: Any) -> Any:
            return await call_tool(tools[name], **params)

        return run

    return make


Reply = tuple[int, dict[str, str], bytes]
Route = Callable[["RecordedRequest"], Reply]


@dataclass
class RecordedRequest:
    """One request the local server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class LocalServer:
    """A real HTTP server on 127.0.0.1 whose answers the test chooses per path."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)

    def route(
        self,
        path: str,
        status: int = 200,
        body: bytes | str | Any = b"",
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer *path* (without query) with a fixed reply; non-bytes/str bodies as JSON."""
        if isinstance(body, str):
            payload = body.encode()
        elif isinstance(body, bytes):
            payload = body
        else:
            payload, content_type = json.dumps(body).encode(), "application/json"
        reply_headers = {"Content-Type": content_type, **(headers or {})}
        self.routes[path] = lambda _request: (status, reply_headers, payload)


def _handler_class(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = RecordedRequest(
                self.command,
                self.path,
                dict(self.headers.items()),
                self.rfile.read(length) if length else b"",
            )
            server.requests.append(request)
            route = server.routes.get(self.path.split("?", 1)[0])
            status, headers, body = route(request) if route else (404, {}, b"not found")
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                # The client may give up (size cap, timeout): that is what those tests want.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A real threaded HTTP server on a free 127.0.0.1 port."""
    state = LocalServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
