"""Plugins: the :class:`PluginManager` over pluggy, entry-point and directory plugins.

Hooks are declared in :mod:`agentkit.hookspecs` (implement them with ``hookimpl``); a
directory plugin's ``plugin.json`` is validated against ``plugin.schema.json`` in this package.
"""

from __future__ import annotations

from agentkit.plugins._dirs import MANIFEST_NAME, DirectoryPlugin, PluginManifest
from agentkit.plugins._manager import (
    CORE_PLUGINS,
    DISABLE_PLUGINS_ENV,
    ENTRY_POINT_GROUP,
    PluginInfo,
    PluginManager,
    PluginStatus,
)

__all__ = [
    "CORE_PLUGINS",
    "DISABLE_PLUGINS_ENV",
    "DirectoryPlugin",
    "ENTRY_POINT_GROUP",
    "MANIFEST_NAME",
    "PluginInfo",
    "PluginManager",
    "PluginManifest",
    "PluginStatus",
]
