"""The core's executor hook: mode ``"local"`` makes a :class:`~agentkit.execution.LocalExecutor`.

Registered by name (``agentkit.plugins.CORE_PLUGINS``) as a core plugin; an executor plugin
answers its own mode (``"ray"``) and this hook runs last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentkit.hookspecs import hookimpl
from agentkit.protocols import Executor

__all__ = ["agentkit_make_executor"]


@hookimpl(trylast=True)
def agentkit_make_executor(mode: str, options: Mapping[str, Any]) -> Executor | None:
    """Make a :class:`~agentkit.LocalExecutor` for mode ``"local"``, None for any other mode.

    *options* are the ``LocalExecutor`` keyword arguments (``min_workers``, ``clock``, ...).
    """
    if mode != "local":
        return None
    from agentkit.execution._local import LocalExecutor

    return LocalExecutor(**options)
