"""FailoverManager: chains, failover on probes and on failed calls, failback with hysteresis."""

from __future__ import annotations

import asyncio

import pytest

from agentkit import (
    ConfigurationError,
    FailoverEvent,
    FailoverKind,
    FailoverManager,
    HealthMonitor,
    HealthStatus,
    NoHealthyComponentError,
)
from agentkit.testing import VirtualClock


class Switch:
    """A component's health, set by the test; the check reads it."""

    def __init__(self) -> None:
        self.up = True

    async def check(self) -> bool:
        return self.up


def setup(
    *, unhealthy_threshold: int = 1, healthy_threshold: int = 1, interval: float = 1.0
) -> tuple[VirtualClock, HealthMonitor, dict[str, Switch]]:
    clock = VirtualClock()
    monitor = HealthMonitor(
        check_interval_seconds=interval,
        unhealthy_threshold=unhealthy_threshold,
        healthy_threshold=healthy_threshold,
        clock=clock,
    )
    switches = {name: Switch() for name in ("primary", "backup", "backup2")}
    for name, switch in switches.items():
        monitor.register_component(name, "agent", switch.check)
    return clock, monitor, switches


async def test_routes_to_the_primary_while_it_is_usable() -> None:
    """UNKNOWN and HEALTHY primaries are used; nothing is recorded."""
    clock, monitor, _ = setup()
    failover = FailoverManager(monitor)
    failover.register_backup("primary", "backup")
    assert await failover.get_active_component("primary") == "primary"
    async with monitor:
        await clock.settle()
        assert await failover.get_active_component("primary") == "primary"
    assert failover.events == []


async def test_probe_failure_fails_over_and_records_the_time() -> None:
    """The probe that marks the primary UNHEALTHY moves traffic to the backup at once."""
    clock, monitor, switches = setup(unhealthy_threshold=2, interval=10)
    failover = FailoverManager(monitor)
    failover.register_backup("primary", "backup")
    async with monitor:
        await clock.settle()
        await clock.advance(5)
        switches["primary"].up = False  # the fault, at t=5
        await clock.advance(5)  # t=10: first failed probe
        assert await failover.get_active_component("primary") == "primary"
        await clock.advance(10)  # t=20: second failed probe -> UNHEALTHY -> failover
        assert await failover.get_active_component("primary") == "backup"
    [event] = failover.events
    assert event.kind is FailoverKind.FAILOVER
    assert (event.from_component, event.to_component) == ("primary", "backup")
    assert event.fault_at == 10
    assert event.switched_at == 20
    assert event.failover_seconds == 10


async def test_chains_skip_unhealthy_backups() -> None:
    """primary -> backup -> backup2: with the first two down, backup2 is active."""
    _clock, monitor, switches = setup()
    failover = FailoverManager(monitor)
    failover.register_backup("primary", "backup")
    failover.register_backup("backup", "backup2")
    assert failover.chain("primary") == ["primary", "backup", "backup2"]
    switches["primary"].up = switches["backup"].up = False
    await monitor.check_all()
    assert await failover.get_active_component("primary") == "backup2"
    switches["backup2"].up = False
    await monitor.check_all()
    with pytest.raises(NoHealthyComponentError, match="primary -> backup -> backup2"):
        await failover.get_active_component("primary")


async def test_failback_waits_for_the_failback_threshold() -> None:
    """Traffic returns only after failback_threshold passes in a row (no flapping)."""
    _clock, monitor, switches = setup()
    failover = FailoverManager(monitor, failback_threshold=3)
    failover.register_backup("primary", "backup")
    switches["primary"].up = False
    await monitor.check_now("primary")
    assert await failover.get_active_component("primary") == "backup"
    switches["primary"].up = True
    for _ in range(2):
        await monitor.check_now("primary")
        assert monitor.status("primary") is HealthStatus.HEALTHY
        assert await failover.get_active_component("primary") == "backup"
    switches["primary"].up = False  # a flap resets the count
    await monitor.check_now("primary")
    switches["primary"].up = True
    for _ in range(2):
        await monitor.check_now("primary")
        assert await failover.get_active_component("primary") == "backup"
    await monitor.check_now("primary")
    assert await failover.get_active_component("primary") == "primary"
    kinds = [event.kind for event in failover.events]
    assert kinds == [FailoverKind.FAILOVER, FailoverKind.FAILBACK]
    assert failover.events[-1].failover_seconds is None


async def test_call_moves_to_the_backup_at_once_when_a_call_fails() -> None:
    """A failed call is retried on the backup in the same call; later calls go to the backup."""
    _clock, monitor, _ = setup(unhealthy_threshold=3)
    failover = FailoverManager(monitor)
    failover.register_backup("primary", "backup")
    served: list[str] = []

    async def handle(component: str, request: str) -> str:
        served.append(component)
        if component == "primary":
            raise ConnectionError("primary refused")
        return f"{component}:{request}"

    assert await failover.call("primary", handle, "q1") == "backup:q1"
    assert await failover.call("primary", handle, "q2") == "backup:q2"
    assert served == ["primary", "backup", "backup"]
    [event] = failover.events
    assert "call failed" in event.reason
    assert event.failover_seconds == 0
    # The monitor heard it: one passive failure (threshold 3, so still not UNHEALTHY).
    assert monitor.get_health("primary").consecutive_failures == 1
    # One good probe of the primary (failback threshold 1) brings traffic back to it; the
    # call fails there again and moves on to the backup within the same call.
    await monitor.check_now("primary")
    assert await failover.call("primary", handle, "q3") == "backup:q3"
    assert served[-2:] == ["primary", "backup"]
    kinds = [event.kind for event in failover.events]
    assert kinds == [FailoverKind.FAILOVER, FailoverKind.FAILBACK, FailoverKind.FAILOVER]


async def test_call_raises_when_every_component_fails() -> None:
    """When every component's call fails, NoHealthyComponentError carries the last error."""
    _, monitor, _ = setup()
    failover = FailoverManager(monitor)
    failover.register_backup("primary", "backup")

    def always_fails(component: str) -> None:
        raise ConnectionError(f"{component} down")

    with pytest.raises(NoHealthyComponentError) as caught:
        await failover.call("primary", always_fails)
    assert isinstance(caught.value.__cause__, ConnectionError)
    assert "backup down" in str(caught.value.__cause__)


async def test_unmonitored_components_count_as_usable_and_retry_after_a_while() -> None:
    """Unknown names are usable; a failed one returns after retry_after_seconds."""
    clock = VirtualClock()
    monitor = HealthMonitor(clock=clock)
    failover = FailoverManager(monitor, retry_after_seconds=30)
    failover.register_backup("svc-a", "svc-b")
    broken = {"svc-a"}

    def handle(component: str) -> str:
        if component in broken:
            raise OSError("down")
        return component

    assert await failover.call("svc-a", handle) == "svc-b"
    broken.clear()
    await clock.advance(29)
    assert await failover.call("svc-a", handle) == "svc-b"
    await clock.advance(1)
    assert await failover.call("svc-a", handle) == "svc-a"


async def test_restore_makes_a_demoted_component_usable() -> None:
    """restore() forgets a failed call at once."""
    _, monitor, _ = setup()
    failover = FailoverManager(monitor, retry_after_seconds=3600)
    failover.register_backup("x", "y")
    calls: list[str] = []

    def flaky(component: str) -> str:
        calls.append(component)
        if len(calls) == 1:
            raise OSError("once")
        return component

    assert await failover.call("x", flaky) == "y"
    failover.restore("x")
    assert await failover.get_active_component("x") == "x"


async def test_listeners_receive_events() -> None:
    """Sync and async failover listeners receive each FailoverEvent."""
    clock, monitor, switches = setup()
    failover = FailoverManager(monitor)
    failover.register_backup("primary", "backup")
    got: list[FailoverEvent] = []
    got_async: list[FailoverEvent] = []

    async def later(event: FailoverEvent) -> None:
        got_async.append(event)

    failover.add_listener(got.append)
    failover.add_listener(later)
    await failover.get_active_component("primary")
    switches["primary"].up = False
    await monitor.check_now("primary")
    await clock.settle()
    assert [e.to_component for e in got] == ["backup"] == [e.to_component for e in got_async]


async def test_guide_flow_with_probes_on_virtual_time() -> None:
    """The guide's setup: 30 s probes, 3 failures; failover after the third failed probe."""
    clock = VirtualClock()
    monitor = HealthMonitor(check_interval_seconds=30, unhealthy_threshold=3, clock=clock)
    primary_up = True

    async def primary_check() -> bool:
        return primary_up

    monitor.register_component("primary", "agent", primary_check)
    monitor.register_component("backup", "agent", lambda: True)
    await monitor.start_monitoring()
    failover = FailoverManager(monitor)
    failover.register_backup("primary", "backup")
    await clock.settle()
    assert await failover.get_active_component("primary") == "primary"
    primary_up = False
    await clock.advance(60)
    assert await failover.get_active_component("primary") == "primary"
    await clock.advance(30)
    assert await failover.get_active_component("primary") == "backup"
    primary_up = True
    await clock.advance(30)
    assert await failover.get_active_component("primary") == "primary"
    await monitor.stop_monitoring()
    await asyncio.sleep(0)


def test_bad_configuration_is_refused() -> None:
    """Self-backups, empty names, a non-monitor and bad thresholds are refused clearly."""
    monitor = HealthMonitor()
    failover = FailoverManager(monitor)
    with pytest.raises(ConfigurationError, match="its own backup"):
        failover.register_backup("a", "a")
    with pytest.raises(ConfigurationError, match="non-empty"):
        failover.register_backup("a", "")
    with pytest.raises(ConfigurationError, match="HealthMonitor"):
        FailoverManager(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="failback_threshold"):
        FailoverManager(monitor, failback_threshold=0)
    with pytest.raises(ConfigurationError, match="callable"):
        failover.add_listener(42)  # type: ignore[arg-type]


def test_reliability_is_core_and_no_plugin_claims_it() -> None:
    """The reliability parts come from agentkit.reliability; no entry point poses as them."""
    import agentkit
    from agentkit import PluginManager, reliability

    shared = set(reliability.__all__) & set(agentkit.__all__)
    assert {"CircuitBreaker", "FailoverManager", "HealthMonitor"} <= shared
    for name in shared:
        assert getattr(agentkit, name) is getattr(reliability, name)
    assert "failover" not in PluginManager().discover_plugins()
