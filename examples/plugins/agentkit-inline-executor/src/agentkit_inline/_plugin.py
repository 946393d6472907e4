"""The plugin module named by the ``agentkit`` entry point: the executor hook only.

agentkit imports this module when it activates the plugin, so it stays cheap: the executor's
module is imported inside the hook.
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
    """Return an :class:`~agentkit_inline.InlineExecutor` for mode ``"inline"``, else None.

    *options* are the ``InlineExecutor`` keyword arguments (``backoff_base``, ``clock``, ...).

    Raises:
        ConfigurationError: an option the inline executor does not take.
    """
    if mode != "inline":
        return None
    from agentkit_inline._executor import OPTIONS, InlineExecutor

    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigurationError(
            f"the inline executor takes {', '.join(OPTIONS)}; not {', '.join(unknown)}"
        )
    return InlineExecutor(**options)
