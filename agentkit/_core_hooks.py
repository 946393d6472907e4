"""Core's always-on hook implementations: the ``memory://`` and ``nats://`` buses and the
local executor. Listed in :data:`agentkit._plugins.CORE_PLUGINS`; plugins may override them
(these run last), and heavy imports stay inside the hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from agentkit.hookspecs import hookimpl
from agentkit.protocols import Bus, Executor

__all__ = ["NATS_SCHEMES", "agentkit_make_bus", "agentkit_make_executor"]

#: URL schemes the NATS bus accepts (nats-py's own).
NATS_SCHEMES = frozenset({"nats", "tls", "ws", "wss"})


@hookimpl(trylast=True)
def agentkit_make_bus(url: str, options: Mapping[str, Any]) -> Bus | None:
    """Make an in-memory bus for ``memory://`` and a NATS bus for ``nats://`` URLs."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        from agentkit._memory_bus import InMemoryPubSub

        return InMemoryPubSub(**options)
    if scheme in NATS_SCHEMES:
        from agentkit._nats_bus import NatsPubSub

        servers = [part.strip() for part in url.split(",") if part.strip()]
        return NatsPubSub(servers, **options)
    return None


@hookimpl(trylast=True)
def agentkit_make_executor(mode: str, options: Mapping[str, Any]) -> Executor | None:
    """Make a :class:`~agentkit.LocalExecutor` for mode ``"local"``, None for any other mode.

    *options* are the ``LocalExecutor`` keyword arguments (``min_workers``, ``clock``, ...).
    """
    if mode != "local":
        return None
    from agentkit._local_executor import LocalExecutor

    return LocalExecutor(**options)
