"""``connect(url)``: pick a bus backend by URL through the ``agentkit_make_bus`` hook."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from agentkit.exceptions import ConfigurationError

if TYPE_CHECKING:
    from agentkit.plugins import PluginManager
    from agentkit.protocols import Bus

__all__ = ["DEFAULT_BUS_URL", "connect"]

DEFAULT_BUS_URL = "memory://"


async def connect(
    url: str | None = None, /, *, plugins: PluginManager | None = None, **options: Any
) -> Bus:
    """Open a connected bus for *url*; ``AGENTKIT_BUS_URL`` or ``memory://`` when omitted.

    ``memory://`` gives an :class:`InMemoryPubSub`; ``nats://host:port`` (several servers
    comma-separated, ``tls://`` for TLS) a :class:`NatsPubSub`; other schemes come from
    plugins implementing ``agentkit_make_bus``. *options* go to the bus's constructor.
    """
    if url is None:
        url = os.environ.get("AGENTKIT_BUS_URL") or DEFAULT_BUS_URL
    if "://" not in url:
        raise ConfigurationError(
            f"bus URL {url!r} has no scheme; use memory:// or nats://host:4222"
        )
    if plugins is None:
        from agentkit.plugins import PluginManager

        plugins = PluginManager()
    bus: Bus | None = plugins.hook.agentkit_make_bus(url=url, options=options)
    if bus is None:
        raise ConfigurationError(
            f"no bus backend handles {url!r}: core knows memory:// and nats:// (tls://,"
            " ws://, wss://); other schemes need a plugin that implements agentkit_make_bus"
            " (see `agentkit plugins`)"
        )
    connect_bus = getattr(bus, "connect", None)
    if connect_bus is not None:
        await connect_bus()
    return bus
