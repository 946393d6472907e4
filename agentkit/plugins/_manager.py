"""Plugin loading: a typed wrapper around a pluggy manager for the ``agentkit`` project.

Plugins come from three places:

* :data:`CORE_PLUGINS`, core's always-on hook implementations, registered when a
  :class:`PluginManager` is created;
* the ``agentkit`` entry-point group, scanned by :meth:`PluginManager.discover_plugins`.
  agentkit's own ``tools``, ``openapi`` and ``ray`` plugins are found there exactly like
  third-party ones;
* directory plugins (``plugins/<folder>/plugin.json`` + ``__init__.py``), only from the folders
  the caller names (see :mod:`agentkit.plugins._dirs`).

A plugin is available when its distribution is installed: pip installed its requirements with
it, so nothing is guessed from metadata. agentkit's own plugins that ship as distributions of
their own (:data:`OPTIONAL_PLUGINS`) are listed as ``unavailable`` while they are not installed,
with the ``pip install 'agentkit-kernel[...]'`` line that adds them. One broken plugin never
stops the others, and nothing here runs at import time.

A plugin's code is contained: anything it raises while being imported or activated, or from
its ``agentkit_register_tools`` hook, ``BaseException`` included (``sys.exit()``,
``KeyboardInterrupt``, ``GeneratorExit``, a stray ``CancelledError``), puts that plugin alone in
status ``error`` with the reason, and discovery goes on with the next one. A plugin author is
not the user, so a ``SystemExit`` from a plugin is not taken as a request to stop the process;
a ``KeyboardInterrupt`` from a Ctrl-C that lands while a plugin is being imported cannot be told
apart from one the plugin raised, and is reported as that plugin's failure the same way.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import importlib.metadata
import logging
import os
import types
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from agentkit import hookspecs
from agentkit._version import __version__
from agentkit.exceptions import ConfigurationError, PluginError
from agentkit.plugins._dirs import (
    DEFAULT_MAX_MANIFEST_BYTES,
    DEFAULT_MAX_MANIFEST_DEPTH,
    DirectoryPlugin,
    check_agentkit_version,
    find_directory_plugins,
    import_directory_plugin,
)
from agentkit.plugins._tools import ToolTracker, lookup_tool

if TYPE_CHECKING:
    from agentkit.protocols import Registry

__all__ = [
    "CORE_PLUGINS",
    "DISABLE_PLUGINS_ENV",
    "ENTRY_POINT_GROUP",
    "OPTIONAL_PLUGINS",
    "PluginInfo",
    "PluginManager",
    "PluginStatus",
]

#: Module names of core's always-on hook implementations, registered by every manager.
CORE_PLUGINS: tuple[str, ...] = ("agentkit.bus._hooks", "agentkit.execution._hooks")

#: The entry-point group plugins declare themselves in (``[project.entry-points.agentkit]``).
ENTRY_POINT_GROUP = "agentkit"

#: Comma-separated plugin names that no manager created afterwards activates.
DISABLE_PLUGINS_ENV = "AGENTKIT_DISABLE_PLUGINS"

_CORE_DISTRIBUTION = "agentkit-kernel"

#: agentkit's own plugins that are distributions of their own: entry-point name ->
#: (distribution, the kernel extra that installs it). Only names: the core imports none of them.
OPTIONAL_PLUGINS: Mapping[str, tuple[str, str]] = types.MappingProxyType(
    {
        "tools": ("agentkit-tools", "tools"),
        "openapi": ("agentkit-tools", "openapi"),
        "ray": ("agentkit-ray", "ray"),
        "mcp": ("agentkit-mcp", "mcp"),
    }
)
_UNKNOWN_VERSION = "unknown"

_logger = logging.getLogger(__name__)


class PluginStatus(enum.StrEnum):
    """Where a plugin stands in this manager."""

    DISCOVERED = "discovered"
    """Found and installable, not activated yet."""
    ACTIVE = "active"
    """Imported and registered: its hooks are called."""
    INACTIVE = "inactive"
    """Disabled or uninstalled: known, but its hooks are not called."""
    UNAVAILABLE = "unavailable"
    """One of agentkit's own plugins whose distribution is not installed; ``install_hint``
    says what to install."""
    ERROR = "error"
    """Its manifest, import, hooks, tools or agentkit version failed; ``error`` says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class PluginInfo:
    """What a manager knows about one plugin."""

    name: str
    """The entry-point name (``ray``), a directory plugin's ``plugin.json`` name, or the
    module name for a core plugin."""
    version: str
    """The version of the distribution (or ``plugin.json``) that provides the plugin."""
    source: str
    """``core``, ``entry point agentkit_ray._plugin (agentkit-kernel 0.1.0)`` or
    ``directory /abs/path/plugins/weather``."""
    status: PluginStatus
    """Where the plugin stands (see :class:`PluginStatus`)."""
    module: str
    """The module holding the hook implementations."""
    error: str | None = None
    """Why the plugin is not active (``"<ExcType>: <message>"`` for a failure), else None."""
    install_hint: str | None = None
    """The exact ``pip install`` line that makes an unavailable plugin available."""
    description: str | None = None
    """One line on what the plugin adds (``plugin.json`` or the distribution's summary)."""
    tools: tuple[str, ...] = ()
    """Names of the tools this plugin added to the manager's registry while active."""

    def as_dict(self) -> dict[str, Any]:
        """The guide's dict: name, version, source, status, error, and the other fields."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "status": self.status.value,
            "error": self.error,
            "install_hint": self.install_hint,
            "module": self.module,
            "description": self.description,
            "tools": list(self.tools),
        }


class PluginManager:
    """Finds, checks, activates and deactivates agentkit plugins.

    Each manager owns its own ``pluggy.PluginManager("agentkit")``; there is no global one.
    Entry points and *plugin_dirs* are scanned by :meth:`discover_plugins`, or on first use of
    :attr:`hook` or any method that needs them. With ``auto_activate`` every available plugin
    is activated when discovered, and when a *registry* is given each activated plugin's
    ``agentkit_register_tools`` is called with it. The tools a plugin adds are remembered:
    a plugin that fails while adding them (a clash with a registered name, an exception) has
    the ones it already added removed again, and :meth:`uninstall_plugin` removes them too.

    Args:
        plugin_dirs: Folders of directory plugins: each is a folder of plugin folders
            (``./plugins`` holding ``weather/plugin.json`` + ``weather/__init__.py``) or one
            plugin folder. Directory plugins run code, so only these folders are looked at.
        registry: Tool registry handed to ``agentkit_register_tools`` on activation.
        auto_activate: Activate every available plugin when it is discovered.
        entry_points: Scan the ``agentkit`` entry-point group (off: core plugins only).
        disabled: Plugin names never activated, on top of ``AGENTKIT_DISABLE_PLUGINS``
            (read here, when the manager is created).
        max_manifest_bytes: The largest ``plugin.json`` read (default 64 KiB); a larger one
            puts its plugin in status ``error``.
        max_manifest_depth: The deepest nesting of arrays and objects in ``plugin.json``
            (default 32), checked before parsing.
    """

    def __init__(
        self,
        plugin_dirs: Iterable[str | os.PathLike[str]] | None = None,
        registry: Registry | None = None,
        auto_activate: bool = True,
        *,
        entry_points: bool = True,
        disabled: Collection[str] | None = None,
        max_manifest_bytes: int = DEFAULT_MAX_MANIFEST_BYTES,
        max_manifest_depth: int = DEFAULT_MAX_MANIFEST_DEPTH,
    ) -> None:
        self._max_manifest_bytes = _whole("max_manifest_bytes", max_manifest_bytes)
        self._max_manifest_depth = _whole("max_manifest_depth", max_manifest_depth)
        self._plugin_dirs = tuple(Path(folder) for folder in plugin_dirs or ())
        self._registry = registry
        self._auto_activate = auto_activate
        self._scan_entry_points = entry_points
        self._disabled_by_env = frozenset(_parse_names(os.environ.get(DISABLE_PLUGINS_ENV, "")))
        self._disabled_by_argument = frozenset(disabled or ())
        self._infos: dict[str, PluginInfo] = {}
        self._entry_points: dict[str, importlib.metadata.EntryPoint] = {}
        self._directories: dict[str, DirectoryPlugin] = {}
        self._added_tools: dict[str, list[tuple[str, object]]] = {}
        self._discovered = False
        self._missing: set[str] = set()
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        for module_name in CORE_PLUGINS:
            self._register_core(module_name)

    @property
    def hook(self) -> pluggy.HookRelay:
        """The hook relay: ``manager.hook.agentkit_make_bus(url=..., options=...)``.

        Scans entry points first if that has not happened yet, so every active plugin answers.
        """
        self._ensure_discovered()
        return self._pm.hook

    @property
    def pluggy_manager(self) -> pluggy.PluginManager:
        """The underlying pluggy manager, for what this wrapper does not cover."""
        return self._pm

    @property
    def plugin_dirs(self) -> tuple[Path, ...]:
        """The directory-plugin folders given to the constructor."""
        return self._plugin_dirs

    @property
    def registry(self) -> Registry | None:
        """The registry handed to ``agentkit_register_tools`` when a plugin is activated."""
        return self._registry

    def discover_plugins(self) -> list[str]:
        """Scan entry points and *plugin_dirs*; return the names of the plugins found, sorted.

        New plugins are checked (entry points for availability from metadata, directory
        plugins for a valid ``plugin.json`` and a matching agentkit version, nothing imported)
        and, with ``auto_activate``, activated. Plugins already known keep their state, so
        scanning again is cheap and only picks up new plugins. A plugin whose name is already
        taken by another one is skipped with a warning (the first one found keeps the name).
        """
        self._discovered = True
        found: list[str] = []
        if self._scan_entry_points:
            for entry_point in sorted(
                importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
            ):
                known = self._entry_points.get(entry_point.name)
                if known is not None and known.value == entry_point.value:
                    found.append(entry_point.name)
                elif entry_point.name in self._missing:  # installed since the last scan
                    self._missing.discard(entry_point.name)
                    del self._infos[entry_point.name]
                    found.append(entry_point.name)
                    self._contained(entry_point.name, self._add_entry_point, entry_point)
                elif entry_point.name in self._infos:
                    self._warn_taken(entry_point.name, f"entry point {entry_point.value}")
                else:
                    found.append(entry_point.name)
                    self._contained(entry_point.name, self._add_entry_point, entry_point)
            for name, (distribution, extra) in OPTIONAL_PLUGINS.items():
                if name not in self._infos:
                    self._add_missing(name, distribution, extra)
        for plugin in find_directory_plugins(
            self._plugin_dirs,
            max_manifest_bytes=self._max_manifest_bytes,
            max_manifest_depth=self._max_manifest_depth,
        ):
            known_directory = self._directories.get(plugin.name)
            if known_directory is not None and known_directory.folder == plugin.folder:
                found.append(plugin.name)
            elif plugin.name in self._infos:
                self._warn_taken(plugin.name, plugin.source)
            else:
                found.append(plugin.name)
                self._contained(plugin.name, self._add_directory, plugin)
        return sorted(set(found))

    def _contained(self, name: str, add: Callable[[Any], None], plugin: object) -> None:
        """Run ``add(plugin)``; whatever escapes it fails that plugin alone."""
        try:
            add(plugin)
        except BaseException as exc:  # one plugin never ends discovery
            if name not in self._infos:
                self._infos[name] = PluginInfo(
                    name=name,
                    version=_UNKNOWN_VERSION,
                    source=str(getattr(plugin, "source", "entry point")),
                    status=PluginStatus.ERROR,
                    module="",
                )
            self._fail(name, exc)

    def install_plugin(self, name: str) -> bool:
        """Activate the plugin called *name*; return True if it is active afterwards.

        An active plugin returns True at once. A disabled, unavailable or unknown plugin
        returns False; a plugin that fails to load returns False with status ``error``.
        A plugin installed since the manager last scanned is found by ``discover_plugins()``.
        A directory plugin whose ``plugin.json`` is unusable
        cannot be installed (fix it and use a new manager).
        """
        self._ensure_discovered()
        info = self._infos.get(name)
        if info is None:
            return False
        if info.status is PluginStatus.ACTIVE:
            return True
        if self._disabled_reason(name) is not None:
            return False
        entry_point = self._entry_points.get(name)
        if entry_point is not None:
            return self._activate(name, entry_point.load)
        directory = self._directories.get(name)
        if directory is None or directory.manifest is None:
            return False
        return self._activate_directory(directory)

    def uninstall_plugin(self, name: str) -> bool:
        """Unregister the plugin called *name*; return True if it is not registered afterwards.

        Its hooks stop answering and the tools it added to the manager's registry are
        unregistered (a tool someone replaced since is left alone). Its status becomes
        ``inactive`` (an unavailable, disabled or failed plugin keeps its reason). Unknown
        names and core plugins return False.
        """
        self._ensure_discovered()
        info = self._infos.get(name)
        if info is None or (name not in self._entry_points and name not in self._directories):
            return False
        if self._pm.get_plugin(name) is not None:
            self._pm.unregister(name=name)
        self._remove_tools(self._added_tools.pop(name, []))
        if info.status is PluginStatus.ACTIVE:
            self._set(name, status=PluginStatus.INACTIVE, error=None, tools=())
        return True

    def plugins(self) -> list[PluginInfo]:
        """Every plugin this manager knows, core ones included, sorted by name."""
        self._ensure_discovered()
        return [self._infos[name] for name in sorted(self._infos)]

    def list_plugins(self) -> list[dict[str, Any]]:
        """The guide's listing: one dict per plugin (see :meth:`PluginInfo.as_dict`), by name."""
        return [info.as_dict() for info in self.plugins()]

    def plugin_info(self, name: str) -> PluginInfo | None:
        """What is known about the plugin called *name*, or None if there is no such plugin."""
        self._ensure_discovered()
        return self._infos.get(name)

    def _ensure_discovered(self) -> None:
        if not self._discovered:
            self.discover_plugins()

    def _set(self, name: str, **changes: Any) -> PluginInfo:
        info = dataclasses.replace(self._infos[name], **changes)
        self._infos[name] = info
        return info

    def _warn_taken(self, name: str, source: str) -> None:
        _logger.warning(
            "plugin %r from %s ignored: the name is taken by %s",
            name,
            source,
            self._infos[name].source,
        )

    def _disabled_reason(self, name: str) -> str | None:
        if name in self._disabled_by_env:
            return f"disabled by the {DISABLE_PLUGINS_ENV} environment variable"
        if name in self._disabled_by_argument:
            return "disabled by PluginManager(disabled=...)"
        return None

    def _register_core(self, module_name: str) -> None:
        self._infos[module_name] = PluginInfo(
            name=module_name,
            version=_distribution_version(_CORE_DISTRIBUTION),
            source="core",
            status=PluginStatus.DISCOVERED,
            module=module_name,
        )
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            self._fail(module_name, exc)
            return
        self._register(module_name, module)

    def _add_missing(self, name: str, distribution: str, extra: str) -> None:
        """List one of agentkit's own plugins whose distribution is not installed."""
        self._missing.add(name)
        self._infos[name] = PluginInfo(
            name=name,
            version=_UNKNOWN_VERSION,
            source=f"distribution {distribution} (not installed)",
            status=PluginStatus.UNAVAILABLE,
            module="",
            error=f"{distribution} is not installed",
            install_hint=f"pip install '{_CORE_DISTRIBUTION}[{extra}]'",
        )

    def _add_entry_point(self, entry_point: importlib.metadata.EntryPoint) -> None:
        name = entry_point.name
        distribution = entry_point.dist
        description = None
        if distribution is None:
            version = _UNKNOWN_VERSION
            source = f"entry point {entry_point.value}"
        else:
            version = distribution.version
            source = f"entry point {entry_point.value} ({distribution.name} {version})"
            description = next(iter(distribution.metadata.get_all("Summary") or ()), None) or None
        self._entry_points[name] = entry_point
        self._infos[name] = PluginInfo(
            name=name,
            version=version,
            source=source,
            status=PluginStatus.DISCOVERED,
            module=entry_point.module,
            description=description,
        )
        reason = self._disabled_reason(name)
        if reason is not None:
            self._set(name, status=PluginStatus.INACTIVE, error=reason)
            return
        if self._auto_activate and self._infos[name].status is PluginStatus.DISCOVERED:
            self._activate(name, entry_point.load)

    def _add_directory(self, plugin: DirectoryPlugin) -> None:
        """Record a directory plugin; check its manifest and agentkit version; maybe activate."""
        name = plugin.name
        manifest = plugin.manifest
        self._directories[name] = plugin
        self._infos[name] = PluginInfo(
            name=name,
            version=manifest.version if manifest else _UNKNOWN_VERSION,
            source=plugin.source,
            status=PluginStatus.DISCOVERED,
            module=plugin.module_name,
            description=manifest.description if manifest else None,
        )
        if manifest is None:
            self._fail(name, PluginError(plugin.problem or "unusable plugin.json"))
            return
        reason = self._disabled_reason(name)
        if reason is not None:
            self._set(name, status=PluginStatus.INACTIVE, error=reason)
            return
        if self._auto_activate:
            self._activate_directory(plugin)
        else:
            self._check_version(plugin)

    def _check_version(self, plugin: DirectoryPlugin) -> bool:
        assert plugin.manifest is not None
        try:
            check_agentkit_version(plugin.manifest, __version__)
        except PluginError as exc:
            self._fail(plugin.name, exc)
            return False
        return True

    def _activate_directory(self, plugin: DirectoryPlugin) -> bool:
        if not self._check_version(plugin):
            return False
        return self._activate(plugin.name, lambda: import_directory_plugin(plugin))

    def _activate(self, name: str, load: Callable[[], object]) -> bool:
        try:
            plugin = load()
        except BaseException as exc:  # sys.exit() in a plugin stops only it
            self._fail(name, exc)
            return False
        return self._register(name, plugin)

    def _register(self, name: str, plugin: object) -> bool:
        """Register *plugin*, validate its hooks and hand it the registry; False on failure.

        On failure the plugin is unregistered and the tools it added are removed again, so a
        half-registered plugin leaves nothing behind.
        """
        tracker = None if self._registry is None else ToolTracker(self._registry)
        try:
            self._pm.register(plugin, name)
            # A hookimpl naming no known hook (a typo such as agentkit_make_buss) only shows
            # up here; everything registered earlier already passed this check.
            self._pm.check_pending()
            if tracker is not None:
                others = [other for other in self._pm.get_plugins() if other is not plugin]
                register_tools = self._pm.subset_hook_caller("agentkit_register_tools", others)
                register_tools(registry=tracker)
        except BaseException as exc:  # a plugin's hook stops only that plugin
            self._undo_registration(plugin, tracker)
            self._fail(name, exc)
            return False
        added = [] if tracker is None else tracker.added
        self._added_tools[name] = added
        self._set(
            name, status=PluginStatus.ACTIVE, error=None, tools=tuple(tool for tool, _ in added)
        )
        return True

    def _undo_registration(self, plugin: object, tracker: ToolTracker | None) -> None:
        """Unregister a plugin that failed half-way and remove the tools it added."""
        try:
            if self._pm.is_registered(plugin):
                self._pm.unregister(plugin)
        except Exception:  # a plugin object so broken that pluggy cannot look it up
            _logger.debug("plugin %r could not be unregistered", plugin, exc_info=True)
        if tracker is not None:
            self._remove_tools(tracker.added)

    def _remove_tools(self, added: list[tuple[str, object]]) -> None:
        """Unregister tools a plugin added, newest first, unless someone replaced them since."""
        registry: Any = self._registry
        unregister = getattr(registry, "unregister_tool", None)
        if unregister is None:
            return
        for tool_name, tool in reversed(added):
            if lookup_tool(registry, tool_name) is tool:
                unregister(tool_name)

    def _fail(self, name: str, exc: BaseException) -> None:
        error = _describe_failure(exc)
        # One line for the operator; the traceback is there for whoever turns on debug logging.
        _logger.warning("plugin %r failed: %s", name, error)
        _logger.debug("plugin %r failed", name, exc_info=exc)
        self._set(name, status=PluginStatus.ERROR, error=error)


_MAX_ERROR_CHARS = 1000


def _describe_failure(exc: BaseException) -> str:
    """``"<ExcType>: <message>"``, clipped; a message that cannot be made is said to be so."""
    try:
        kind = type(exc).__name__
        message = str(exc)
    except BaseException:  # a hostile __str__ must not escape discovery
        kind = type.__dict__["__name__"].__get__(type(exc))
        message = "<the exception's message could not be read>"
    if isinstance(exc, SystemExit) and not message:
        message = "the plugin called sys.exit()"
    error = f"{kind}: {message}" if message else kind
    return error if len(error) <= _MAX_ERROR_CHARS else error[: _MAX_ERROR_CHARS - 1] + "…"


def _whole(option: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{option} must be a whole number >= 1, not {value!r}")
    return value


def _parse_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _distribution_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return _UNKNOWN_VERSION
