"""The registry a plugin is handed while it registers tools: it remembers what the plugin added.

:class:`agentkit.PluginManager` passes a :class:`ToolTracker` to ``agentkit_register_tools``,
so that a plugin failing half-way (a name clash, an exception) has the tools it already added
removed again, and so that ``uninstall_plugin`` can remove them later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentkit.protocols import Registry

__all__ = ["ToolTracker", "lookup_tool"]


class ToolTracker:
    """The registry as one plugin sees it while registering: it remembers what was added.

    Everything except ``register_tool`` goes straight to the real registry. A tool counts as
    added when its name was free before the call and the call succeeded; registering a tool
    identical to one already there adds nothing.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry: Any = registry
        self.added: list[tuple[str, object]] = []

    def register_tool(
        self, tool: Any, executor: Callable[..., Any] | None = None, **options: Any
    ) -> None:
        """Register *tool* on the real registry and note it if its name was free."""
        name = getattr(tool, "name", None)
        was_free = isinstance(name, str) and lookup_tool(self._registry, name) is None
        self._registry.register_tool(tool, executor, **options)
        if was_free:
            assert isinstance(name, str)
            registered = lookup_tool(self._registry, name)
            self.added.append((name, tool if registered is None else registered))

    def get_tool(self, name: str) -> Any:
        """The real registry's tool called *name*."""
        return self._registry.get_tool(name)

    def list_tools(self) -> list[Any]:
        """The real registry's tools."""
        return list(self._registry.list_tools())

    async def execute_tool(
        self, name: str, params: Mapping[str, Any], timeout: float | None = None
    ) -> Any:
        """Run a tool on the real registry."""
        return await self._registry.execute_tool(name, params, timeout)

    def __contains__(self, name: object) -> bool:
        return lookup_tool(self._registry, name) is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registry, name)


def lookup_tool(registry: Any, name: object) -> object | None:
    """The tool *registry* holds under *name*, or None; any registry error counts as absent."""
    if not isinstance(name, str):
        return None
    try:
        return registry.get_tool(name)  # type: ignore[no-any-return]
    except Exception:
        return None
