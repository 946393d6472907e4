"""Hook implementations of the ``ray`` plugin.

This module is imported when the plugin is activated, so it must stay cheap: ray is imported
inside the hooks, never here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentkit.exceptions import ConfigurationError
from agentkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from agentkit.protocols import Executor

__all__ = ["agentkit_make_executor"]


@hookimpl
def agentkit_make_executor(mode: str, options: Mapping[str, Any]) -> Executor | None:
    """Return a Ray executor for mode ``"ray"``, None for any other mode.

    Raises:
        ConfigurationError: for ``"ray"`` until the distributed-execution issue lands.
    """
    if mode != "ray":
        return None
    raise ConfigurationError("the Ray executor arrives with the distributed-execution issue")
