"""Host agents in their own process: ``agentkit worker module:factory --bus URL --swarm NAME``.

The factory is imported (``package.module:factory`` or ``path/to/file.py:factory``) and called
with no arguments; it returns an agent or an iterable of agents (or an awaitable of either).
Each agent is attached to swarm *NAME* on the bus; the worker prints one line
``ready <agent ids>`` when they all listen, then runs until SIGTERM or SIGINT and closes the
bus gracefully (queued votes and work are still handled).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from agentkit._references import load_callable
from agentkit.agents._agent import AgentAttachment, AgentProtocol, attach, validate_swarm_name
from agentkit.exceptions import ConfigurationError

__all__ = ["load_factory", "make_agents", "run_worker"]

logger = logging.getLogger("agentkit.worker")


def load_factory(reference: str) -> Callable[[], Any]:
    """Import ``module:factory`` (or ``file.py:factory``) and return the factory."""
    return load_callable(reference)


async def make_agents(factory: Callable[[], Any]) -> list[AgentProtocol]:
    """Call *factory* and return its agents as a list (one agent or many, sync or async)."""
    try:
        made = factory()
        if inspect.isawaitable(made):
            made = await made
    except Exception as exc:
        raise ConfigurationError(f"the agent factory {factory!r} failed: {exc!r}") from exc
    agents = [made] if isinstance(made, AgentProtocol) else list(_iterable(made))
    for agent in agents:
        if not isinstance(agent, AgentProtocol):
            raise ConfigurationError(
                f"the factory returned {agent!r}, not an agent (agent_id, handle, vote, work)"
            )
    if not agents:
        raise ConfigurationError("the factory returned no agents")
    return agents


def _iterable(made: Any) -> Iterable[Any]:
    if isinstance(made, Iterable) and not isinstance(made, str | bytes):
        return made
    raise ConfigurationError(f"the factory returned {made!r}, not an agent or a list of agents")


async def run_worker(
    factory: str | Callable[[], Any],
    bus_url: str,
    swarm: str,
    *,
    out: TextIO | None = None,
    stop: asyncio.Event | None = None,
    install_signal_handlers: bool = True,
) -> int:
    """Attach the factory's agents to *swarm* on the bus at *bus_url* and serve until stopped.

    Stops on SIGTERM/SIGINT (when *install_signal_handlers*) or when *stop* is set; then
    detaches the agents and closes the bus. Returns the exit code (0).
    """
    from agentkit.bus import connect

    validate_swarm_name(swarm)
    make = load_factory(factory) if isinstance(factory, str) else factory
    agents = await make_agents(make)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if install_signal_handlers:
        for signum in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(signum, stop.set)
                installed.append(signum)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - not on Windows
                pass
    bus = await connect(bus_url)
    attachments: list[AgentAttachment] = []
    try:
        for agent in agents:
            attachments.append(await attach(agent, bus, swarm))
        # A round trip to the server: the subscriptions are live before we say "ready".
        await bus.drain()
        ids = " ".join(agent.agent_id for agent in agents)
        print(f"ready {ids}", file=out or sys.stdout, flush=True)
        logger.info("worker serving %s on swarm %r at %s", ids, swarm, bus_url)
        await stop.wait()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        for attachment in attachments:
            try:
                await attachment.detach()
            except Exception:
                logger.warning("detaching %r failed", attachment.agent.agent_id)
        await bus.close()
    return 0
