"""Hooks that agentkit plugins implement (entry-point group ``agentkit``).

A plugin is a module holding functions marked with :data:`agentkit.hookimpl` whose names are
the hooks below. Installed distributions declare it under ``[project.entry-points.agentkit]``;
agentkit's own plugins (``tools``, ``ray``) are declared the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from agentkit.protocols import Bus, Executor, Registry

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "agentkit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec(firstresult=True)
def agentkit_make_bus(url: str, options: Mapping[str, Any]) -> Bus | None:
    """Return an unconnected bus for *url* (e.g. ``nats://127.0.0.1:4222``), or None.

    Called by :func:`agentkit.connect` for each URL; the first non-None answer wins. *options*
    are the keyword arguments the caller gave ``connect``. Implementations look at the URL's
    scheme and must not open connections here: ``connect`` does that.
    """


@hookspec(firstresult=True)
def agentkit_make_executor(mode: str, options: Mapping[str, Any]) -> Executor | None:
    """Return an executor for *mode* (e.g. ``"ray"``), or None; the first answer wins.

    Called when a ``DistributedEngine`` is created. Heavy imports belong inside this function.
    """


@hookspec
def agentkit_register_tools(registry: Registry) -> None:
    """Add this plugin's tools to *registry*; called once when the plugin is activated."""


@hookspec
def agentkit_register_voting_methods() -> Mapping[str, Any] | None:
    """Return ``{name: method}`` voting methods to add to every ``ConflictResolver``.

    Called when a resolver is created; a method takes the ballots and returns the tally. All
    answers are merged; two plugins naming the same method is an error for the later one.
    """
