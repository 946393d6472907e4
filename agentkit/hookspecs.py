"""Hooks that agentkit plugins implement (entry-point group ``agentkit``).

A plugin is a module holding functions marked with :data:`agentkit.hookimpl` whose names are
the hooks below. Installed distributions declare it under ``[project.entry-points.agentkit]``;
agentkit's own plugins (``tools``, ``openapi``, ``ray``) are declared the same way, by the
agentkit-tools and agentkit-ray distributions. Directory plugins (``plugins/<name>/plugin.json``
+ ``__init__.py``) hold the same functions in their ``__init__.py``.

A function marked ``@hookimpl`` whose name is not one of these hooks puts the plugin in status
``error`` (pluggy's ``check_pending``), and so does a hook asking for an argument its spec does
not have. A hook may accept fewer arguments than its spec passes. Hooks marked "first result"
stop at the first implementation that returns something other than None; plugins registered
later are asked first, core's own implementations last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from agentkit.protocols import Bus, Executor, Registry
    from agentkit.reliability import HealthProbe

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "agentkit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec(firstresult=True)
def agentkit_make_bus(url: str, options: Mapping[str, Any]) -> Bus | None:
    """Return an unconnected bus for *url* (e.g. ``redis://127.0.0.1:6379``), or None.

    Called by :func:`agentkit.connect` each time it is asked for a bus; first result: the
    first non-None answer wins, and core's ``memory://`` / ``nats://`` buses answer last.
    *options* are the keyword arguments the caller gave ``connect``. Look at the URL's scheme
    and return None for schemes that are not yours; do not open connections here (``connect``
    awaits the bus's ``connect()``). Returns a :class:`agentkit.protocols.Bus`.
    """


@hookspec(firstresult=True)
def agentkit_make_executor(mode: str, options: Mapping[str, Any]) -> Executor | None:
    """Return an executor for *mode* (e.g. ``"ray"``), or None; the first answer wins.

    Called when a ``DistributedEngine`` needs an executor for *mode* (first result; core's
    local executor answers last, for ``"local"`` only). *options* are the engine's executor keyword
    arguments. Return an unstarted :class:`agentkit.protocols.Executor`, or None for modes that
    are not yours. Heavy imports (ray, ...) belong inside this function.
    """


@hookspec
def agentkit_register_tools(registry: Registry) -> None:
    """Add this plugin's tools to *registry* with ``registry.register_tool(tool)``.

    Called once when the plugin is activated by a ``PluginManager`` that was given a registry
    (and again if it is uninstalled and installed again); returns nothing. The manager
    remembers the tools added here: if this hook raises, or a name is already taken by a
    different tool (``ToolRegistrationError``), the plugin goes to status ``error`` and the
    tools it added so far are unregistered again; ``uninstall_plugin`` unregisters them too.
    """


@hookspec
def agentkit_register_voting_methods() -> Mapping[str, Any] | None:
    """Return ``{name: method}`` voting methods to add to a ``ConflictResolver``, or None.

    Called when a ``ConflictResolver(plugins=manager)`` is created; every plugin's answer is
    merged. A method takes the tuple of ``AgentVote`` ballots and returns the tallies
    (``{option: score}``) or a full ``VoteCount``. A name taken by a built-in method or by a
    plugin registered earlier is ignored with a warning.
    """


@hookspec
def agentkit_add_commands(commands: Any) -> None:
    """Add subcommands to the ``agentkit`` command line (``agentkit openapi`` comes this way).

    *commands* is the ``agentkit`` parser's argparse sub-parsers object: add a command with
    ``parser = commands.add_parser(name, help=...)``, give it arguments, and name the function
    that runs it with ``parser.set_defaults(run=fn)``. ``fn(args, out, err)`` gets the parsed
    ``argparse.Namespace`` and the output and error streams and returns the exit status (0 ok,
    1 failure, 2 usage error). Called each time the command line starts, after the core's own
    commands; a plugin whose hook raises (a name already taken, say) loses its commands and
    the others keep theirs. Keep imports inside *fn*: every ``agentkit`` invocation runs this.
    """


@hookspec
def agentkit_health_checks(
    bus: Bus | None, executor: Executor | None
) -> Iterable[HealthProbe] | None:
    """Return this plugin's health checks, as :class:`~agentkit.reliability.HealthProbe` objects.

    Called by ``HealthMonitor.register_plugin_checks`` (and so by ``agentkit health``) with
    the *bus* and *executor* the caller has, either of which may be None; every plugin's
    answer is gathered. Return probes only for what is yours (the core answers for its
    ``InMemoryPubSub`` and ``NatsPubSub`` with a probe ``bus``, the ``ray`` plugin for a
    ``RayExecutor`` with ``ray``, the ``openapi`` plugin with ``openapi:<name>`` for each spec
    in ``AGENTKIT_OPENAPI_SPECS``), None or an empty list otherwise. Do no I/O here: a probe's
    check does it, when the monitor runs it, within the probe's ``timeout_seconds``. A hook
    that raises or returns something other than probes becomes one failing check
    ``plugin:<name>`` with the reason; the other plugins' checks are not affected.
    """
