"""Tests for plugin health checks (agentkit_health_checks), HealthServer and the bus probes."""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentkit.bus import InMemoryPubSub, connect
from agentkit.exceptions import ConfigurationError
from agentkit.plugins import PluginManager
from agentkit.reliability import (
    HealthMonitor,
    HealthProbe,
    HealthReport,
    HealthServer,
    HealthStatus,
    readiness,
)
from agentkit.testing import NatsServer, VirtualClock

pytestmark = pytest.mark.timeout(60)


def make_plugin(root: Path, name: str, body: str) -> Path:
    """Write a directory plugin *name* whose ``__init__.py`` is *body*; return its folder."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "plugin.json").write_text(
        json.dumps({"name": name, "version": "1.0", "description": f"{name} checks"})
    )
    header = "from agentkit.hookspecs import hookimpl\nfrom agentkit.reliability import *\n"
    (folder / "__init__.py").write_text(header + textwrap.dedent(body))
    return folder


def manager_with(tmp_path: Path, **plugins: str) -> PluginManager:
    """A manager holding only core's plugins and the directory plugins given as name=body."""
    for name, body in plugins.items():
        make_plugin(tmp_path / "plugins", name, body)
    return PluginManager(plugin_dirs=[tmp_path / "plugins"], entry_points=False)


GOOD = """
@hookimpl
def agentkit_health_checks():
    async def fine():
        return HealthReport(True, "all good")
    return [HealthProbe("good", fine, kind="service")]
"""

MIXED = """
import asyncio

@hookimpl
def agentkit_health_checks(bus):
    async def raises():
        raise ConnectionRefusedError("db refused")

    async def hangs():
        await asyncio.sleep(3600)

    def garbage():
        return 0

    class Hostile:
        def __bool__(self):
            raise RuntimeError("no truth here")

    return [
        HealthProbe("raises", raises),
        HealthProbe("hangs", hangs, timeout_seconds=0.2),
        HealthProbe("garbage", garbage),
        HealthProbe("hostile", lambda: Hostile()),
    ]
"""

BROKEN = """
@hookimpl
def agentkit_health_checks():
    raise RuntimeError("hook exploded")
"""

NONSENSE = """
@hookimpl
def agentkit_health_checks():
    return "not probes"
"""


async def test_plugins_contribute_checks_next_to_the_bus(tmp_path: Path) -> None:
    """A plugin's probes and the core's bus probe are gathered and all come out healthy."""
    manager = manager_with(tmp_path, goodplugin=GOOD)
    bus = InMemoryPubSub()
    monitor = HealthMonitor(unhealthy_threshold=1)
    names = monitor.register_plugin_checks(manager, bus=bus)
    assert sorted(names) == ["bus", "good"]
    snapshot = await monitor.check_all()
    assert {name: health.status for name, health in snapshot.items()} == {
        "bus": HealthStatus.HEALTHY,
        "good": HealthStatus.HEALTHY,
    }
    assert snapshot["good"].kind == "service"
    assert snapshot["good"].last_report is not None
    assert snapshot["good"].last_report.message == "all good"
    assert snapshot["good"].last_latency_seconds is not None
    await bus.close()


async def test_a_check_that_raises_hangs_or_returns_garbage_fails_alone(tmp_path: Path) -> None:
    """Each misbehaving check is unhealthy with its own typed reason; the good ones stay healthy."""
    manager = manager_with(tmp_path, goodplugin=GOOD, mixed=MIXED)
    monitor = HealthMonitor(check_timeout_seconds=5, unhealthy_threshold=1, cancel_grace_seconds=1)
    monitor.register_plugin_checks(manager, bus=InMemoryPubSub())
    snapshot = await asyncio.wait_for(monitor.check_all(), 10)
    assert snapshot["good"].healthy
    assert snapshot["bus"].healthy
    types = {}
    for name in ("raises", "hangs", "garbage", "hostile"):
        health = snapshot[name]
        assert health.status is HealthStatus.UNHEALTHY, name
        assert health.last_report is not None
        types[name] = health.last_report.error_type
    assert types == {
        "raises": "ConnectionRefusedError",
        "hangs": "TimeoutError",
        "garbage": "InvalidResult",
        "hostile": "InvalidResult",
    }
    raised = snapshot["raises"].as_dict()
    assert "db refused" in raised["reason"]
    assert "0.2 s" in snapshot["hangs"].as_dict()["reason"]


async def test_a_plugin_whose_hook_fails_becomes_one_failing_check(tmp_path: Path) -> None:
    """A hook that raises or answers with garbage is a failing plugin:<name>; others still run."""
    manager = manager_with(tmp_path, broken=BROKEN, nonsense=NONSENSE, goodplugin=GOOD)
    monitor = HealthMonitor(unhealthy_threshold=1)
    names = monitor.register_plugin_checks(manager)
    assert sorted(names) == ["good", "plugin:broken", "plugin:nonsense"]
    snapshot = await monitor.check_all()
    broken, nonsense = snapshot["plugin:broken"], snapshot["plugin:nonsense"]
    assert not broken.healthy
    assert not nonsense.healthy
    assert broken.last_report is not None
    assert nonsense.last_report is not None
    assert broken.last_report.error_type == "RuntimeError"
    assert "hook exploded" in broken.last_report.message
    assert nonsense.last_report.error_type == "InvalidResult"
    assert snapshot["good"].healthy


async def test_registering_a_taken_name_needs_replace(tmp_path: Path) -> None:
    """A plugin check whose name is registered already raises unless replace=True."""
    manager = manager_with(tmp_path, goodplugin=GOOD)
    monitor = HealthMonitor()
    monitor.register_component("good", "service", lambda: True)
    with pytest.raises(ConfigurationError):
        monitor.register_plugin_checks(manager)
    assert monitor.register_plugin_checks(manager, replace=True) == ["good"]


def test_probe_and_timeout_arguments_are_checked() -> None:
    """A nameless probe, a non-callable check and a non-positive timeout are refused."""
    with pytest.raises(ConfigurationError):
        HealthProbe("", lambda: True)
    with pytest.raises(ConfigurationError):
        HealthProbe("x", "not callable")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        HealthMonitor().register_component("x", "service", lambda: True, timeout_seconds=0)


async def test_per_check_timeout_runs_on_the_monitor_clock() -> None:
    """A probe's own timeout, not the monitor's, decides when a hanging check fails."""
    clock = VirtualClock()
    monitor = HealthMonitor(check_interval_seconds=60, unhealthy_threshold=1, clock=clock)

    async def hangs() -> bool:
        await clock.sleep(3600)
        return True

    monitor.register_component("slow", "service", hangs, timeout_seconds=2)
    checking = asyncio.ensure_future(monitor.check_now("slow"))
    await clock.advance(1.5)
    assert not checking.done()
    await clock.advance(1)
    health = await checking
    assert health.status is HealthStatus.UNHEALTHY
    assert health.last_latency_seconds == pytest.approx(2, abs=0.01)


async def test_the_memory_bus_probe_fails_once_the_bus_is_closed() -> None:
    """The in-memory bus is healthy while open and unhealthy (BusClosedError) once closed."""
    bus = await connect("memory://")
    monitor = HealthMonitor(unhealthy_threshold=1)
    monitor.register_plugin_checks(PluginManager(entry_points=False), bus=bus)
    assert (await monitor.check_now("bus")).healthy
    await bus.close()
    health = await monitor.check_now("bus")
    assert not health.healthy
    assert health.last_report is not None
    assert health.last_report.error_type == "BusClosedError"


async def test_the_ray_plugin_probes_only_a_ray_executor() -> None:
    """The ray plugin probes a RayExecutor: healthy before it starts, unhealthy once shut down."""
    ray_plugin = pytest.importorskip("agentkit_ray")
    manager = PluginManager()
    if "ray" not in {info.name for info in manager.plugins() if info.status.value == "active"}:
        pytest.skip("the ray plugin is not active here")
    monitor = HealthMonitor(unhealthy_threshold=1)
    assert "ray" not in monitor.register_plugin_checks(manager, bus=None)
    executor = ray_plugin.RayExecutor()
    monitor = HealthMonitor(unhealthy_threshold=1)
    assert "ray" in monitor.register_plugin_checks(manager, executor=executor)
    assert (await monitor.check_now("ray")).healthy
    await executor.shutdown()
    after = await monitor.check_now("ray")
    assert not after.healthy
    assert after.last_report is not None
    assert after.last_report.error_type == "ExecutionError"


# -- the HTTP endpoint ------------------------------------------------------------------------


async def http(port: int, raw: bytes, *, timeout: float = 10) -> tuple[int, dict[str, Any]]:
    """Send *raw* to 127.0.0.1:*port*; return the status and the JSON body."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(raw)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body) if body else {}


async def get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    """GET *path*."""
    return await http(port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())


async def test_livez_and_readyz_follow_the_monitor() -> None:
    """/livez is 200; /readyz is 503 while a check is unknown or failing and 200 when healthy."""
    verdict = {"healthy": True}
    monitor = HealthMonitor(unhealthy_threshold=1)
    monitor.register_component("db", "service", lambda: HealthReport(verdict["healthy"], "db"))
    async with HealthServer(monitor, port=0) as server:
        assert server.host == "127.0.0.1"
        assert (await get(server.port, "/livez"))[0] == 200
        status, body = await get(server.port, "/readyz")
        assert status == 503
        assert body["checks"][0]["status"] == "unknown"
        await monitor.check_all()
        status, body = await get(server.port, "/readyz")
        assert (status, body["status"]) == (200, "ready")
        verdict["healthy"] = False
        await monitor.check_all()
        status, body = await get(server.port, "/readyz?verbose")
        assert (status, body["status"]) == (503, "not ready")
        assert body["checks"][0]["name"] == "db"
        assert body["checks"][0]["healthy"] is False


async def test_the_endpoint_answers_bad_requests_without_dying() -> None:
    """Unknown paths, other methods, garbage, huge and slow requests get 4xx; serving goes on."""
    monitor = HealthMonitor()
    async with HealthServer(monitor, port=0, read_timeout_seconds=0.3) as server:
        port = server.port
        assert (await get(port, "/metrics"))[0] == 404
        assert (await http(port, b"POST /readyz HTTP/1.1\r\n\r\n"))[0] == 405
        assert (await http(port, b"\x00\xff garbage\r\n\r\n"))[0] == 400
        huge = b"GET /livez HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n"
        assert (await http(port, huge))[0] == 431
        assert (await http(port, b"GET /livez HTTP/1.1\r\n"))[0] == 408
        assert (await get(port, "/readyz"))[0] == 200  # no components: nothing to wait for
        assert readiness(monitor) == (True, {"status": "ready", "checks": []})


def test_server_arguments_are_checked() -> None:
    """A port out of range and a non-monitor are refused."""
    with pytest.raises(ConfigurationError):
        HealthServer(HealthMonitor(), port=70000)
    with pytest.raises(ConfigurationError):
        HealthServer(object())  # type: ignore[arg-type]


# -- a real NATS server going away and coming back ---------------------------------------------


@pytest.fixture
def own_nats() -> Iterator[NatsServer]:
    """A nats-server of this test's own, which it may kill and restart on the same port."""
    with NatsServer(jetstream=False) as server:
        yield server


async def wait_for_status(port: int, want: int, limit: float = 20) -> dict[str, Any]:
    """Poll /readyz until it answers *want*; fail after *limit* seconds."""
    async with asyncio.timeout(limit):
        while True:
            status, body = await get(port, "/readyz")
            if status == want:
                return body
            await asyncio.sleep(0.05)


async def test_readyz_follows_a_nats_server_that_dies_and_comes_back(own_nats: NatsServer) -> None:
    """Killed: /readyz is 503 by the next probe (one interval); restarted: 200 again."""
    interval = 0.5
    bus = await connect(own_nats.url, reconnect_time_wait=0.1, connect_timeout=1)
    monitor = HealthMonitor(check_interval_seconds=interval, unhealthy_threshold=1)
    monitor.register_plugin_checks(PluginManager(entry_points=False), bus=bus)
    checks_at_change: list[int] = []
    monitor.add_listener(lambda event: checks_at_change.append(monitor.get_health("bus").checks))
    try:
        async with monitor, HealthServer(monitor, port=0) as server:
            body = await wait_for_status(server.port, 200)
            assert body["checks"][0]["details"]["server"].endswith(str(own_nats.port))
            own_nats.kill()
            checks_at_kill = monitor.get_health("bus").checks
            body = await wait_for_status(server.port, 503)
            # The probe running at the kill may still pass; the next one (one interval on) fails.
            assert checks_at_change[-1] - checks_at_kill <= 2
            assert body["checks"][0]["error_type"] == "ConnectionLostError"
            own_nats.start()
            body = await wait_for_status(server.port, 200)
            assert body["checks"][0]["healthy"] is True
    finally:
        await bus.close()
