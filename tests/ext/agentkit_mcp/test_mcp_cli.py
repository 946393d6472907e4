"""``agentkit mcp serve`` in a subprocess, driven by the official MCP SDK client.

Over stdio (the SDK launches the command) and over Streamable HTTP (``--http``), with the
registry built as an application builds it and OpenAPI specs imported in the background
from local APIs on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from _server_api import OPERATIONS, running_api
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from agentkit.cli import main
from agentkit_mcp._cli import parse_http_address
from agentkit_tools import OpenAPIParser

REPO = Path(__file__).resolve().parents[3]
OPENAPI_TESTS = REPO / "tests" / "ext" / "agentkit_tools" / "openapi"


def _environment() -> dict[str, str]:
    """The test's environment with plugins on and loopback APIs allowed."""
    env = {k: v for k, v in os.environ.items() if k != "AGENTKIT_DISABLE_PLUGINS"}
    env.pop("AGENTKIT_OPENAPI_SPECS", None)
    env["AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _registry_tools(env: dict[str, str]) -> list[dict[str, Any]]:
    """What ``agentkit tools list --json`` reports with *env*: the registry's tools."""
    done = subprocess.run(
        [sys.executable, "-m", "agentkit", "tools", "list", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    tools: list[dict[str, Any]] = json.loads(done.stdout)
    return tools


def _text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def _reaped(pid: int, within: float = 10.0) -> bool:
    """Whether process *pid* has exited and been reaped (waiting up to *within* seconds)."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


async def _list_all(client: Client) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return tools


async def _wait_for_tools(client: Client, names: set[str]) -> list[types.Tool]:
    """The listing once it holds *names* (a background import adds them)."""
    with anyio.fail_after(60):
        while True:
            tools = await _list_all(client)
            if names <= {tool.name for tool in tools}:
                return tools
            await anyio.sleep(0.05)


@pytest.mark.timeout(180)
async def test_stdio_serves_the_registry_and_an_openapi_import() -> None:
    """Over stdio: every registry tool is listed, calls succeed or fail as results, and an
    API's out-of-enum answer does not make the client reject the call."""
    env = _environment()
    expected = len(_registry_tools(env))
    pid: int | None = None
    with running_api() as api, tempfile.TemporaryFile("w+") as errlog:
        parameters = StdioServerParameters(
            command=sys.executable,
            args=["-m", "agentkit", "mcp", "serve", "--openapi", api.spec_url, "--page-size", "7"],
            cwd=str(REPO),
            env=env,
        )
        try:
            async with Client(stdio_client(parameters, errlog=errlog)) as client:
                errlog.seek(0)
                found = re.search(r"stdio \(pid (\d+)\)", errlog.read())
                assert found is not None
                pid = int(found.group(1))
                tools = await _wait_for_tools(client, set(OPERATIONS))
                calculated = await client.call_tool("math_calculate", {"expression": "2+3*4"})
                divided = await client.call_tool("math_calculate", {"expression": "1/0"})
                invalid = await client.call_tool("math_calculate", {"expression": 5})
                status = await client.call_tool("get_status", {})
                added = await client.call_tool("add_numbers", {"a": 2, "b": 3})
        finally:
            errlog.seek(0)
            log = errlog.read()
        assert pid is not None
        assert _reaped(pid)
    assert len(tools) == expected + len(OPERATIONS)
    assert len({tool.name for tool in tools}) == len(tools)
    assert not calculated.is_error
    assert calculated.structured_content is not None
    assert calculated.structured_content["result"] == 14
    assert divided.is_error
    assert _text(divided).startswith("ZeroDivisionError")
    assert invalid.is_error
    assert "/expression" in _text(invalid)
    assert not status.is_error
    assert json.loads(_text(status)) == {"state": "paused"}
    assert not added.is_error
    assert json.loads(_text(added)) == {"sum": 5}
    assert "imported 2 tools from OpenAPI spec" in log


@pytest.fixture
def pets_api() -> Iterator[Any]:
    """The OpenAPI tests' pets API (tests/ext/agentkit_tools/openapi/openapi_app.py)."""
    sys.path.insert(0, str(OPENAPI_TESTS))
    try:
        from openapi_app import start_api
    finally:
        sys.path.remove(str(OPENAPI_TESTS))
    state, httpd, thread = start_api()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _serve_http(
    args: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[str], str, list[str]]:
    """Start ``agentkit mcp serve --http 127.0.0.1:0 ARGS``: the process, its URL and the
    lines it wrote to stderr up to the URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "agentkit", "mcp", "serve", "--http", "127.0.0.1:0", *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"serving Streamable HTTP at (http://\S+)", line)
        if found:
            return process, found.group(1), lines
    process.kill()
    process.wait(10)
    raise AssertionError("the server never said where it listens")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(15)
    assert process.poll() is not None


@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_http_serves_filtered_tools_and_the_pets_api(
    mode: str, pets_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over Streamable HTTP (both protocol eras): --category filters the listing, and the
    pets API imported with --openapi answers a call."""
    env = _environment()
    registry = _registry_tools(env)
    math_tools = {tool["name"] for tool in registry if tool["category"] == "math"}
    monkeypatch.setenv("AGENTKIT_OPENAPI_ALLOW_PRIVATE_ADDRESSES", "1")
    parser = OpenAPIParser()
    pet_tools = {tool.name for tool in parser.extract_tools(pets_api.spec_url)}
    await parser.aclose()
    process, url, _ = _serve_http(
        ["--category", "math", "--category", "openapi", "--openapi", pets_api.spec_url], env
    )
    try:
        assert url.startswith("http://127.0.0.1:")
        async with Client(url, mode=mode) as client:
            tools = await _wait_for_tools(client, pet_tools)
            names = {tool.name for tool in tools}
            pet = await client.call_tool("getPet", {"petId": 7})
            calculated = await client.call_tool("math_calculate", {"expression": "6*7"})
            hidden = await client.call_tool("text_statistics", {"text": "a b"})
            invalid = await client.call_tool("getPet", {"petId": "seven"})
    finally:
        _stop(process)
    assert process.poll() is not None
    assert names == math_tools | pet_tools
    assert not pet.is_error
    assert "/v1/pets/7" in _text(pet)
    assert calculated.structured_content is not None
    assert calculated.structured_content["result"] == 42
    assert hidden.is_error
    assert invalid.is_error
    assert "/petId" in _text(invalid)


@pytest.mark.timeout(120)
def test_failed_import_keeps_serving() -> None:
    """A spec that cannot be imported is reported on stderr and the server keeps answering."""
    env = _environment()
    process, url, early = _serve_http(
        ["--tools", "math_calculate", "--openapi", "/no/such/spec.json"], env
    )
    try:

        async def use() -> tuple[list[str], bool]:
            async with Client(url, mode="legacy") as client:
                listed = [tool.name for tool in (await client.list_tools()).tools]
                result = await client.call_tool("math_calculate", {"expression": "1+1"})
            return listed, result.is_error

        listed, failed = anyio.run(use)
    finally:
        _stop(process)
    assert process.stderr is not None
    log = "".join(early) + process.stderr.read()
    assert listed == ["math_calculate"]
    assert not failed
    assert "could not import OpenAPI spec /no/such/spec.json" in log


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8765", ("127.0.0.1", 8765)),
        ("localhost:0", ("localhost", 0)),
        ("[::1]:9000", ("::1", 9000)),
    ],
)
def test_parse_http_address(text: str, expected: tuple[str, int]) -> None:
    """HOST:PORT and [IPv6]:PORT are read as a host and a port."""
    assert parse_http_address(text) == expected


@pytest.mark.parametrize("text", ["8765", "127.0.0.1", "host:port", "::1:80", "h:70000"])
def test_parse_http_address_refuses_nonsense(text: str) -> None:
    """Anything but HOST:PORT with a port up to 65535 is refused."""
    with pytest.raises(ValueError, match=r"\S"):
        parse_http_address(text)


def test_bad_http_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """``--http nonsense`` exits with status 2 and says why on stderr."""
    assert main(["mcp", "serve", "--http", "nonsense"]) == 2
    captured = capsys.readouterr()
    assert "--http" in captured.err
    assert captured.out == ""


def test_mcp_without_an_action_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit mcp`` alone exits with status 2 and names the actions."""
    assert main(["mcp"]) == 2
    assert "serve" in capsys.readouterr().err
