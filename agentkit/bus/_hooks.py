"""The core's bus hook: ``memory://`` and ``nats://`` URLs make the buses of this package.

Registered by name (``agentkit.plugins.CORE_PLUGINS``) as a core plugin; plugins may override it
(it runs last), and the NATS client is imported only when a ``nats://`` bus is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from agentkit.hookspecs import hookimpl
from agentkit.protocols import Bus

__all__ = ["NATS_SCHEMES", "agentkit_make_bus"]

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
