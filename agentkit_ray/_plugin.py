"""Hook implementations of the ``ray`` plugin.

This module is imported when the plugin is activated, so it must stay cheap: ray is imported
inside the hooks, never here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentkit.hookspecs import hookimpl

if TYPE_CHECKING:
    from agentkit.protocols import Executor

__all__ = ["agentkit_make_executor"]


@hookimpl
def agentkit_make_executor(mode: str, options: Mapping[str, Any]) -> Executor | None:
    """Return a :class:`~agentkit_ray.RayExecutor` for mode ``"ray"``, None for any other mode.

    *options* are the ``RayExecutor`` keyword arguments (``address``, ``num_cpus``, ...). The
    executor is not started here: ray is imported when it starts.
    """
    if mode != "ray":
        return None
    from agentkit_ray._executor import RayExecutor

    return RayExecutor(**options)
