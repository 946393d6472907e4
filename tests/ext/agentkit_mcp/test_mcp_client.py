"""MCP servers' tools in a ToolRegistry: real servers over stdio and Streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agentkit import CircuitBreaker, CircuitState, ConfigurationError, PluginManager, ToolRegistry
from agentkit.plugins import PluginStatus
from agentkit.testing import VirtualClock
from agentkit_mcp._client import (
    ENV_VAR,
    MCPServerTools,
    load_server_specs,
    register_configured_servers,
)

HERE = Path(__file__).parent
FASTMCP_SERVER = str(HERE / "_client_fastmcp_server.py")
TIME_COMMAND = [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]
FASTMCP_STDIO = [sys.executable, FASTMCP_SERVER, "stdio"]


def _children(parent: int | None = None) -> set[int]:
    """The pids of this process's (or *parent*'s) children, zombies included."""
    pids: set[int] = set()
    for task in Path(f"/proc/{parent or os.getpid()}/task").iterdir():
        try:
            pids.update(int(pid) for pid in (task / "children").read_text().split())
        except OSError:
            continue
    return pids


def _mcp_children(before: set[int]) -> list[int]:
    return sorted(_children() - before)


@pytest.fixture
def no_leaked_children() -> Iterator[set[int]]:
    """Fail the test if it leaves a child process (live or zombie) behind."""
    before = _children()
    yield before
    deadline = time.monotonic() + 10
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _children() - before == set()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _spawn_http(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, FASTMCP_SERVER, "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _start_http(port: int) -> subprocess.Popen[bytes]:
    """Start the FastMCP server over HTTP on *port* and wait until it accepts connections."""
    process = _spawn_http(port)
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("the FastMCP test server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            await asyncio.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError("the FastMCP test server did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


@pytest.fixture
async def http_server(
    no_leaked_children: set[int],
) -> AsyncIterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A FastMCP server over Streamable HTTP on a free port (restartable by the test)."""
    port = _free_port()
    processes = [await _start_http(port)]
    yield port, processes
    for process in processes:
        _stop(process)


@pytest.mark.timeout(60)
async def test_time_server_tools_run_through_the_registry(no_leaked_children: set[int]) -> None:
    """The published time server's tools register with a prefix and run via execute_tool."""
    registry = ToolRegistry()
    async with MCPServerTools(TIME_COMMAND) as source:
        names = await source.register(registry, prefix="time_")
        assert sorted(names) == ["time_convert_time", "time_get_current_time"]
        tool = registry.get_tool("time_get_current_time")
        assert tool.category == "mcp"
        assert tool.hints.read_only
        assert tool.hints.idempotent
        assert not tool.hints.open_world
        assert tool.returns is not None
        assert "datetime" in tool.returns["properties"]
        assert tool.parameters["required"] == ["timezone"]

        now = await registry.execute_tool("time_get_current_time", {"timezone": "UTC"})
        assert now.success, now.error
        assert now.output["timezone"] == "UTC"
        assert now.output["datetime"].endswith("+00:00")

        converted = await registry.execute_tool(
            "time_convert_time",
            {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"},
        )
        assert converted.success, converted.error
        assert converted.output["target"]["datetime"].startswith(
            converted.output["source"]["datetime"][:10]
        )
        assert "T21:00" in converted.output["target"]["datetime"]
    assert _mcp_children(no_leaked_children) == []


@pytest.mark.timeout(60)
async def test_server_error_becomes_a_failed_result_with_its_text(
    no_leaked_children: set[int],
) -> None:
    """An isError answer (an unknown time zone) is a failed ToolResult with the server's text."""
    registry = ToolRegistry()
    async with MCPServerTools(TIME_COMMAND) as source:
        await source.register(registry)
        result = await registry.execute_tool("get_current_time", {"timezone": "Nowhere/Atlantis"})
    assert not result.success
    assert result.error_type == "MCPToolError"
    assert result.error is not None
    assert "Invalid timezone" in result.error
    assert "Nowhere/Atlantis" in result.error


@pytest.mark.timeout(60)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    no_leaked_children: set[int],
) -> None:
    """Arguments that break the server's schema never reach the server (it counts calls)."""
    registry = ToolRegistry()
    async with MCPServerTools(FASTMCP_STDIO) as source:
        await source.register(registry, include=["add", "calls_received"])
        assert (await registry.execute_tool("add", {"a": 1, "b": 2})).success
        refused = await registry.execute_tool("add", {"a": "one", "b": 2})
        assert not refused.success
        assert refused.error_type == "validation"
        assert refused.error_path == "/a"
        missing = await registry.execute_tool("add", {"a": 1})
        assert missing.error_type == "validation"
        counted = await registry.execute_tool("calls_received", {})
    assert counted.success
    assert counted.output == {"result": 1}


@pytest.mark.timeout(60)
async def test_names_are_sanitized_deduplicated_and_filtered(
    no_leaked_children: set[int],
) -> None:
    """Names outside the tool-name pattern are rewritten, clashes get a suffix, filters apply."""
    registry = ToolRegistry()
    async with MCPServerTools(FASTMCP_STDIO) as source:
        names = await source.register(
            registry, prefix="fm.", include=["text*", "echo", "add"], exclude=["add"]
        )
        assert sorted(names) == ["fm_echo", "fm_text_upper", "fm_text_upper_2"]
        upper = [n for n in names if n.startswith("fm_text_upper")]
        outputs = [await registry.execute_tool(n, {"text": "abc"}) for n in upper]
    assert [o.output for o in outputs] == [{"result": "ABC"}, {"result": "ABC"}]


@pytest.mark.timeout(90)
async def test_streamable_http_server_structured_output(
    http_server: tuple[int, list[subprocess.Popen[bytes]]],
) -> None:
    """A FastMCP server over Streamable HTTP: structured content becomes the output."""
    port, _ = http_server
    registry = ToolRegistry()
    url = f"http://127.0.0.1:{port}/mcp"
    async with MCPServerTools(url=url, headers={"X-Test": "1"}) as source:
        names = await source.register(registry, prefix="fm_")
        assert {"fm_add", "fm_echo", "fm_fail", "fm_calls_received"} <= set(names)
        assert registry.get_tool("fm_add").returns is not None
        added = await registry.execute_tool("fm_add", {"a": 2, "b": 40})
        assert added.success, added.error
        assert added.output == {"total": 42, "operands": [2, 40]}
        failed = await registry.execute_tool("fm_fail", {"reason": "out of coffee"})
        assert not failed.success
        assert failed.error_type == "MCPToolError"
        assert failed.error is not None
        assert "out of coffee" in failed.error


@pytest.mark.timeout(90)
async def test_http_server_killed_then_restarted(
    http_server: tuple[int, list[subprocess.Popen[bytes]]],
) -> None:
    """A dead HTTP server gives a failed result (no hang); once it is back, calls work again."""
    port, processes = http_server
    registry = ToolRegistry()
    async with MCPServerTools(url=f"http://127.0.0.1:{port}/mcp", connect_timeout=5) as source:
        await source.register(registry, timeout=20)
        assert (await registry.execute_tool("echo", {"text": "one"})).output == {"result": "one"}
        _stop(processes[0])
        lost = await registry.execute_tool("echo", {"text": "two"})
        assert not lost.success
        assert lost.error_type == "MCPConnectionError"
        assert lost.error is not None
        assert "http://127.0.0.1:" in lost.error
        processes.append(await _start_http(port))
        back = await registry.execute_tool("echo", {"text": "three"})
        assert back.success, back.error
        assert back.output == {"result": "three"}


@pytest.mark.timeout(90)
async def test_http_session_lost_to_a_restart_is_reopened(
    http_server: tuple[int, list[subprocess.Popen[bytes]]],
) -> None:
    """With a session-based (handshake) connection, a restarted server's 404 opens a new one."""
    port, processes = http_server
    registry = ToolRegistry()
    url = f"http://127.0.0.1:{port}/mcp"
    async with MCPServerTools(url=url, mode="legacy", connect_timeout=5) as source:
        await source.register(registry, include=["echo", "calls_received"])
        assert (await registry.execute_tool("echo", {"text": "one"})).success
        _stop(processes[0])
        processes.append(await _start_http(port))
        again = await registry.execute_tool("echo", {"text": "two"})
        assert again.success, again.error
        assert again.output == {"result": "two"}
        counted = await registry.execute_tool("calls_received", {})
    assert counted.output == {"result": 1}


@pytest.mark.timeout(90)
async def test_stdio_child_killed_mid_session(no_leaked_children: set[int]) -> None:
    """SIGKILLing the stdio server: a read-only call reconnects at once, others fail once."""
    registry = ToolRegistry()
    async with (
        MCPServerTools(TIME_COMMAND) as time_source,
        MCPServerTools(FASTMCP_STDIO) as fm_source,
    ):
        await time_source.register(registry, prefix="t_")
        await fm_source.register(registry, prefix="f_", include=["echo"])
        children = _mcp_children(no_leaked_children)
        assert len(children) == 2
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        # The time server's tools are read-only: the call is sent again on a new connection.
        again = await registry.execute_tool("t_get_current_time", {"timezone": "UTC"})
        assert again.success, again.error
        # echo says nothing about being repeatable: it fails, and the next call reconnects.
        lost = await registry.execute_tool("f_echo", {"text": "a"})
        assert not lost.success
        assert lost.error_type == "MCPConnectionError"
        assert lost.error is not None
        assert "next call reconnects" in lost.error
        back = await registry.execute_tool("f_echo", {"text": "b"})
        assert back.output == {"result": "b"}
        new_children = _mcp_children(no_leaked_children)
        assert len(new_children) == 2
        assert not set(new_children) & set(children)
    assert _mcp_children(no_leaked_children) == []
    assert asyncio.all_tasks() == {asyncio.current_task()}


@pytest.mark.timeout(60)
async def test_concurrent_calls_and_a_timeout_share_one_connection(
    no_leaked_children: set[int],
) -> None:
    """Concurrent calls share the loop's connection; a timed-out call leaves it usable."""
    registry = ToolRegistry()
    async with MCPServerTools(FASTMCP_STDIO) as source:
        await source.register(registry, include=["echo", "sleep"])
        results = await asyncio.gather(
            *(registry.execute_tool("echo", {"text": str(i)}) for i in range(8))
        )
        assert [r.output for r in results] == [{"result": str(i)} for i in range(8)]
        slow = await registry.execute_tool("sleep", {"seconds": 30}, timeout=0.5)
        assert slow.error_type == "timeout"
        after = await registry.execute_tool("echo", {"text": "still here"})
        assert after.output == {"result": "still here"}
        assert len(_mcp_children(no_leaked_children)) == 1
    assert asyncio.all_tasks() == {asyncio.current_task()}


def _alive(pid: int) -> bool:
    """Whether *pid* is a live process (not gone, not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    """Wait up to *seconds* for *pid* to end; whether it did."""
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


@pytest.mark.timeout(120)
async def test_agentkit_serve_re_serves_configured_servers(no_leaked_children: set[int]) -> None:
    """`agentkit mcp serve` with AGENTKIT_MCP_SERVERS is an aggregating MCP proxy."""
    agentkit = str(Path(sys.executable).with_name("agentkit"))
    spec = json.dumps([{"name": "time", "command": TIME_COMMAND, "prefix": "upstream_"}])
    registry = ToolRegistry()
    command = [agentkit, "mcp", "serve", "--category", "mcp"]
    async with MCPServerTools(command, env={ENV_VAR: spec}) as source:
        names = await source.register(registry, prefix="agg_")
        assert sorted(names) == ["agg_upstream_convert_time", "agg_upstream_get_current_time"]
        now = await registry.execute_tool("agg_upstream_get_current_time", {"timezone": "UTC"})
        assert now.success, now.error
        assert now.output["timezone"] == "UTC"
        wrong = await registry.execute_tool("agg_upstream_get_current_time", {"timezone": "X/Y"})
        assert wrong.error_type == "MCPToolError"
        assert "Invalid timezone" in str(wrong.error)
        (proxy,) = _mcp_children(no_leaked_children)
        upstream = _children(proxy)
        assert len(upstream) == 1
    # Closing the proxy's stdin ends it, and it ends the time server it started.
    assert await asyncio.to_thread(_gone_within, upstream.pop(), 15)


@pytest.mark.timeout(60)
async def test_unreachable_server_is_a_typed_error(no_leaked_children: set[int]) -> None:
    """A missing command, a closed port or a mute server raises MCPConnectionError in time."""
    from agentkit_mcp._client import MCPConnectionError

    with pytest.raises(MCPConnectionError, match="no-such-mcp-server"):
        async with MCPServerTools(["no-such-mcp-server-xyz"], connect_timeout=5):
            pass
    with pytest.raises(MCPConnectionError):
        async with MCPServerTools(url=f"http://127.0.0.1:{_free_port()}/mcp", connect_timeout=5):
            pass
    mute = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(MCPConnectionError, match="did not answer within 1"):
        async with MCPServerTools(mute, connect_timeout=1):
            pass
    # The silent server's process was terminated and reaped (the fixture checks).


def test_tools_the_registry_refuses_are_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A listed tool with a broken schema or a taken name is skipped; the others register."""
    import mcp_types

    from agentkit import Tool

    registry = ToolRegistry()
    registry.register_tool(Tool(name="taken", description="already here", function=lambda: 1))
    listing = [
        mcp_types.Tool(name="good", input_schema={"type": "object", "properties": {}}),
        mcp_types.Tool(name="broken", input_schema={"type": "object", "properties": {"a": 5}}),
        mcp_types.Tool(name="taken", input_schema={"type": "object"}),
        mcp_types.Tool(name="list", input_schema={"type": "array"}),
    ]
    source = MCPServerTools(TIME_COMMAND, name="listing")
    with caplog.at_level(logging.WARNING, logger="agentkit_mcp.client"):
        names = source.register_listed(registry, listing)
    assert names == ["good"]
    for skipped in ("broken", "taken", "list"):
        assert f"skipping tool {skipped!r} of MCP server 'listing'" in caplog.text
    assert registry.get_tool("taken").description == "already here"


def test_a_listed_description_too_long_to_index_is_cut_to_fit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server's tool with a description of a million characters registers, its description
    cut to fit MAX_TOOL_TEXT; nothing is skipped."""
    import mcp_types

    from agentkit.tools import MAX_TOOL_TEXT, tool_text_size

    registry = ToolRegistry()
    text = "\u03a3" * 1_000_000
    listing = [mcp_types.Tool(name="wordy", description=text, input_schema={"type": "object"})]
    source = MCPServerTools(TIME_COMMAND, name="listing")
    with caplog.at_level(logging.WARNING, logger="agentkit_mcp.client"):
        names = source.register_listed(registry, listing)
    assert names == ["wordy"]
    assert "skipping" not in caplog.text
    tool = registry.get_tool("wordy")
    assert tool.description.startswith("\u03a3" * 100)
    assert tool.description.endswith(" …")
    assert tool_text_size(tool.description, tool.category, tool.tags) <= MAX_TOOL_TEXT


def test_bad_constructor_arguments_are_configuration_errors() -> None:
    """Neither or both of command and url, or a string command, is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        MCPServerTools()
    with pytest.raises(ConfigurationError):
        MCPServerTools(["x"], url="http://127.0.0.1:1/mcp")
    with pytest.raises(ConfigurationError):
        MCPServerTools("mcp-server-time")
    with pytest.raises(ConfigurationError):
        MCPServerTools(url="ftp://127.0.0.1/mcp")


@pytest.mark.timeout(60)
async def test_breaker_opens_after_repeated_failures(no_leaked_children: set[int]) -> None:
    """With a breaker, repeated failures open it and further calls are not sent."""
    clock = VirtualClock()
    breaker = CircuitBreaker("mcp", failure_threshold=2, timeout_seconds=30, clock=clock)
    registry = ToolRegistry()
    async with MCPServerTools(FASTMCP_STDIO) as source:
        await source.register(registry, include=["fail"], breaker=breaker)
        await source.register(registry, include=["calls_received"])
        first = await registry.execute_tool("fail", {"reason": "no"})
        second = await registry.execute_tool("fail", {"reason": "no"})
        assert [first.error_type, second.error_type] == ["MCPToolError", "MCPToolError"]
        assert breaker.state is CircuitState.OPEN
        rejected = await registry.execute_tool("fail", {"reason": "no"})
        assert rejected.error_type == "CircuitOpenError"
        counted = await registry.execute_tool("calls_received", {})
    assert counted.output == {"result": 2}


@pytest.mark.timeout(120)
def test_configured_servers_appear_through_the_plugin(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    no_leaked_children: set[int],
) -> None:
    """AGENTKIT_MCP_SERVERS brings a server's tools in; bad entries are skipped with a warning."""
    specs = [
        {"name": "time", "command": TIME_COMMAND, "prefix": "time_"},
        {"name": "ghost", "command": ["no-such-mcp-server-xyz"], "connect_timeout": 5},
        {"name": "typo", "command": "mcp-server-time"},
        {"name": "odd", "command": TIME_COMMAND, "colour": "blue"},
    ]
    monkeypatch.setenv(ENV_VAR, json.dumps(specs))
    registry = ToolRegistry()
    with caplog.at_level(logging.WARNING, logger="agentkit_mcp.client"):
        manager = PluginManager(registry=registry)
        manager.discover_plugins()
    info = manager.plugin_info("mcp")
    assert info is not None
    assert info.status is PluginStatus.ACTIVE
    assert {"time_convert_time", "time_get_current_time"} <= set(info.tools)
    assert "time_get_current_time" in registry
    warnings = " ".join(r.getMessage() for r in caplog.records)
    for name in ("ghost", "typo", "odd"):
        assert f"skipping MCP server {name}" in warnings
    # The proxies connect lazily in whichever event loop calls them.
    result = asyncio.run(registry.execute_tool("time_get_current_time", {"timezone": "UTC"}))
    assert result.success, result.error
    assert result.output["timezone"] == "UTC"
    # asyncio.run cancelled the connection's task: its child is gone (the fixture checks).


def test_malformed_configuration_is_skipped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Malformed JSON in the variable (or its file) is a warning; the plugin stays active."""
    monkeypatch.setenv(ENV_VAR, "[{not json")
    registry = ToolRegistry()
    with caplog.at_level(logging.WARNING, logger="agentkit_mcp.client"):
        manager = PluginManager(registry=registry)
        manager.discover_plugins()
        assert register_configured_servers(ToolRegistry()) == []
    info = manager.plugin_info("mcp")
    assert info is not None
    assert info.status is PluginStatus.ACTIVE
    assert f"ignoring {ENV_VAR}" in caplog.text
    spec_file = tmp_path / "servers.json"
    spec_file.write_text(json.dumps([{"url": "http://127.0.0.1:1/mcp"}]))
    assert load_server_specs(str(spec_file)) == [{"url": "http://127.0.0.1:1/mcp"}]
    with pytest.raises(ConfigurationError):
        load_server_specs('{"name": "not a list"}')
    with pytest.raises(ConfigurationError):
        load_server_specs(str(tmp_path / "missing.json"))
