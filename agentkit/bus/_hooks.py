"""The core's bus hooks: ``memory://`` and ``nats://`` URLs make the buses of this package,
and each of them contributes its health check (probe ``bus``).

Registered by name (``agentkit.plugins.CORE_PLUGINS``) as a core plugin; plugins may override it
(it runs last), and the NATS client is imported only when a ``nats://`` bus is made.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentkit.hookspecs import hookimpl
from agentkit.protocols import Bus

if TYPE_CHECKING:
    from agentkit.bus._base import BusBase
    from agentkit.bus._nats import NatsPubSub
    from agentkit.reliability import HealthProbe, HealthReport

__all__ = ["BUS_CHECK_TIMEOUT", "NATS_SCHEMES", "agentkit_health_checks", "agentkit_make_bus"]

#: How long the bus's health check may take (a NATS PING/PONG round trip), in seconds.
BUS_CHECK_TIMEOUT = 5.0

#: URL schemes the NATS bus accepts (nats-py's own).
NATS_SCHEMES = frozenset({"nats", "tls", "ws", "wss"})


@hookimpl(trylast=True)
def agentkit_make_bus(url: str, options: Mapping[str, Any]) -> Bus | None:
    """Make an in-memory bus for ``memory://`` and a NATS bus for ``nats://`` URLs."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        from agentkit.bus._memory import InMemoryPubSub

        return InMemoryPubSub(**options)
    if scheme in NATS_SCHEMES:
        from agentkit.bus._nats import NatsPubSub

        servers = [part.strip() for part in url.split(",") if part.strip()]
        return NatsPubSub(servers, **options)
    return None


@hookimpl(trylast=True)
def agentkit_health_checks(bus: object) -> list[HealthProbe] | None:
    """Probe ``bus`` for the core's buses: open (in-memory); connected and answering (NATS).

    The NATS check fails at once while the client has no connection (the server went away;
    it reconnects in the background) and otherwise makes one PING/PONG round trip to the
    server, so a server that stopped answering fails it too. Another ``BusBase`` gets the
    in-memory check (open or closed); a bus that is not a ``BusBase`` gets no probe here.
    """
    from agentkit.bus._base import BusBase
    from agentkit.bus._nats import NatsPubSub
    from agentkit.reliability import HealthProbe

    if isinstance(bus, NatsPubSub):
        return [HealthProbe("bus", _NatsCheck(bus), kind="bus", timeout_seconds=BUS_CHECK_TIMEOUT)]
    if isinstance(bus, BusBase):
        return [HealthProbe("bus", _OpenCheck(bus), kind="bus", timeout_seconds=BUS_CHECK_TIMEOUT)]
    return None


class _OpenCheck:
    """Healthy while the bus is open."""

    def __init__(self, bus: BusBase) -> None:
        self.bus = bus

    def __repr__(self) -> str:
        return f"<bus open check {self.bus!r}>"

    async def __call__(self) -> HealthReport:
        from agentkit.reliability import HealthReport

        if self.bus.closed:
            return HealthReport(False, "the bus is closed", error_type="BusClosedError")
        return HealthReport(True, f"{type(self.bus).__name__} open")


class _NatsCheck:
    """Healthy while the NATS client is connected and the server answers a PING."""

    def __init__(self, bus: NatsPubSub) -> None:
        self.bus = bus

    def __repr__(self) -> str:
        return f"<NATS connection check {self.bus.servers}>"

    async def __call__(self) -> HealthReport:
        from agentkit.reliability import HealthReport

        bus = self.bus
        servers = ", ".join(bus.servers)
        if bus.closed:
            return HealthReport(False, "the bus is closed", error_type="BusClosedError")
        nc = bus._nc
        if nc is None:
            return HealthReport(
                False, f"not connected to NATS at {servers}", error_type="ConnectionLostError"
            )
        details = {"servers": list(bus.servers), "reconnects": bus.counters.get("reconnects", 0)}
        if not nc.is_connected:
            state = "reconnecting to" if nc.is_reconnecting else "not connected to"
            return HealthReport(
                False, f"{state} NATS at {servers}", details, error_type="ConnectionLostError"
            )
        started = time.perf_counter()
        await nc.flush(timeout=BUS_CHECK_TIMEOUT)
        rtt_ms = (time.perf_counter() - started) * 1000
        url = getattr(nc, "connected_url", None)
        server = f"{url.hostname}:{url.port}" if url is not None else servers
        details.update({"server": server, "rtt_ms": round(rtt_ms, 3)})
        return HealthReport(True, f"connected to NATS at {server}", details)
