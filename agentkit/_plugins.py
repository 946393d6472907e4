"""Plugin loading: a typed wrapper around a pluggy manager for the ``agentkit`` project.

Plugins come from two places:

* :data:`CORE_PLUGINS`, core's always-on hook implementations, registered when a
  :class:`PluginManager` is created;
* the ``agentkit`` entry-point group, scanned by :meth:`PluginManager.discover_plugins`.
  agentkit's own ``tools`` and ``ray`` plugins are found there exactly like third-party ones.

Whether an entry-point plugin can run is judged from distribution metadata alone, without
importing the plugin or its heavy dependency: when the entry point's name is an extra of its
distribution (entry point ``ray`` of ``agentkit-kernel``, extra ``ray``), every requirement of
that extra must be installed in a matching version. One broken plugin never stops the others,
and nothing here runs at import time.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import importlib.metadata
import logging
import os
import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion

from agentkit import hookspecs
from agentkit.exceptions import PluginError

if TYPE_CHECKING:
    from agentkit.protocols import Registry

__all__ = [
    "CORE_PLUGINS",
    "DISABLE_PLUGINS_ENV",
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "PluginManager",
    "PluginStatus",
]

#: Module names of core's always-on hook implementations, registered by every manager.
CORE_PLUGINS: tuple[str, ...] = ("agentkit._bus_hooks",)

#: The entry-point group plugins declare themselves in (``[project.entry-points.agentkit]``).
ENTRY_POINT_GROUP = "agentkit"

#: Comma-separated plugin names that no manager created afterwards activates.
DISABLE_PLUGINS_ENV = "AGENTKIT_DISABLE_PLUGINS"

_CORE_DISTRIBUTION = "agentkit-kernel"
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
    """A requirement of its extra is missing; ``install_hint`` says what to install."""
    ERROR = "error"
    """It failed to import, to validate or in a hook; ``error`` says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class PluginInfo:
    """What a manager knows about one plugin."""

    name: str
    """The entry-point name (``ray``), or the module name for a core plugin."""
    version: str
    """The version of the distribution that provides the plugin."""
    source: str
    """``core``, or ``entry point agentkit_ray._plugin (agentkit-kernel 0.1.0)``."""
    status: PluginStatus
    """Where the plugin stands (see :class:`PluginStatus`)."""
    module: str
    """The module holding the hook implementations."""
    error: str | None = None
    """Why the plugin is not active (``"<ExcType>: <message>"`` for a failure), else None."""
    install_hint: str | None = None
    """The exact ``pip install`` line that makes an unavailable plugin available."""

    def as_dict(self) -> dict[str, Any]:
        """The seed's dict: name, version, source, status, error, install_hint (and module)."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "status": self.status.value,
            "error": self.error,
            "install_hint": self.install_hint,
            "module": self.module,
        }


class PluginManager:
    """Finds, checks, activates and deactivates agentkit plugins.

    Each manager owns its own ``pluggy.PluginManager("agentkit")``; there is no global one.
    Entry points are scanned by :meth:`discover_plugins`, or on first use of :attr:`hook` or
    any method that needs them. With ``auto_activate`` every available plugin is activated
    when discovered, and when a *registry* is given each activated plugin's
    ``agentkit_register_tools`` is called with it.

    Args:
        plugin_dirs: Folders of directory plugins (``plugin.json`` + ``__init__.py``).
            Stored only: directory plugins arrive with a later issue.
        registry: Tool registry handed to ``agentkit_register_tools`` on activation.
        auto_activate: Activate every available plugin when it is discovered.
        entry_points: Scan the ``agentkit`` entry-point group (off: core plugins only).
        disabled: Plugin names never activated, on top of ``AGENTKIT_DISABLE_PLUGINS``
            (read here, when the manager is created).
    """

    def __init__(
        self,
        plugin_dirs: Iterable[str | os.PathLike[str]] | None = None,
        registry: Registry | None = None,
        auto_activate: bool = True,
        *,
        entry_points: bool = True,
        disabled: Collection[str] | None = None,
    ) -> None:
        self._plugin_dirs = tuple(Path(folder) for folder in plugin_dirs or ())
        self._registry = registry
        self._auto_activate = auto_activate
        self._scan_entry_points = entry_points
        self._disabled_by_env = frozenset(_parse_names(os.environ.get(DISABLE_PLUGINS_ENV, "")))
        self._disabled_by_argument = frozenset(disabled or ())
        self._infos: dict[str, PluginInfo] = {}
        self._entry_points: dict[str, importlib.metadata.EntryPoint] = {}
        self._discovered = False
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
        """Scan the ``agentkit`` entry-point group and return the plugin names found, sorted.

        New plugins are checked for availability (from metadata, nothing imported) and, with
        ``auto_activate``, activated. Plugins already known keep their state, so scanning again
        is cheap and only picks up new entry points.
        """
        self._discovered = True
        if not self._scan_entry_points:
            return []
        found: list[str] = []
        for entry_point in sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
        ):
            found.append(entry_point.name)
            known = self._entry_points.get(entry_point.name)
            if known is not None or entry_point.name in self._infos:
                if known is not None and known.value != entry_point.value:
                    _logger.warning(
                        "plugin %r from %s ignored: the name is taken by %s",
                        entry_point.name,
                        entry_point.value,
                        known.value,
                    )
                continue
            self._add_entry_point(entry_point)
        return sorted(set(found))

    def install_plugin(self, name: str) -> bool:
        """Activate the plugin called *name*; return True if it is active afterwards.

        An active plugin returns True at once. A disabled, unavailable or unknown plugin
        returns False; a plugin that fails to load returns False with status ``error``.
        Availability is checked again, so a plugin whose extra was installed since can be
        activated without a new manager.
        """
        self._ensure_discovered()
        info = self._infos.get(name)
        if info is None:
            return False
        if info.status is PluginStatus.ACTIVE:
            return True
        entry_point = self._entry_points.get(name)
        if entry_point is None or self._disabled_reason(name) is not None:
            return False
        self._check_availability(entry_point)
        if self._infos[name].status is PluginStatus.UNAVAILABLE:
            return False
        return self._activate(name, entry_point)

    def uninstall_plugin(self, name: str) -> bool:
        """Unregister the plugin called *name*; return True if it is not registered afterwards.

        Its status becomes ``inactive`` (an unavailable or disabled plugin keeps its reason).
        Unknown names and core plugins return False. Tools the plugin already added to a
        registry stay there.
        """
        self._ensure_discovered()
        info = self._infos.get(name)
        if info is None or name not in self._entry_points:
            return False
        if self._pm.get_plugin(name) is not None:
            self._pm.unregister(name=name)
        if info.status not in (PluginStatus.UNAVAILABLE, PluginStatus.INACTIVE):
            self._set(name, status=PluginStatus.INACTIVE, error=None)
        return True

    def plugins(self) -> list[PluginInfo]:
        """Every plugin this manager knows, core ones included, sorted by name."""
        self._ensure_discovered()
        return [self._infos[name] for name in sorted(self._infos)]

    def list_plugins(self) -> list[dict[str, Any]]:
        """The seed's listing: one dict per plugin (see :meth:`PluginInfo.as_dict`), by name."""
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

    def _add_entry_point(self, entry_point: importlib.metadata.EntryPoint) -> None:
        name = entry_point.name
        distribution = entry_point.dist
        if distribution is None:
            version = _UNKNOWN_VERSION
            source = f"entry point {entry_point.value}"
        else:
            version = distribution.version
            source = f"entry point {entry_point.value} ({distribution.name} {version})"
        self._entry_points[name] = entry_point
        self._infos[name] = PluginInfo(
            name=name,
            version=version,
            source=source,
            status=PluginStatus.DISCOVERED,
            module=entry_point.module,
        )
        reason = self._disabled_reason(name)
        if reason is not None:
            self._set(name, status=PluginStatus.INACTIVE, error=reason)
            return
        self._check_availability(entry_point)
        if self._auto_activate and self._infos[name].status is PluginStatus.DISCOVERED:
            self._activate(name, entry_point)

    def _check_availability(self, entry_point: importlib.metadata.EntryPoint) -> None:
        """Set status ``unavailable`` or ``discovered`` from the metadata of the plugin's extra."""
        name = entry_point.name
        distribution = entry_point.dist
        if distribution is None:
            return
        extras = _plugin_extras(entry_point, distribution)
        if not extras:
            return
        try:
            missing = _missing_requirements(distribution, extras, set())
        except Exception as exc:
            self._fail(name, exc)
            return
        if missing:
            install_hint = f"pip install '{distribution.name}[{','.join(extras)}]'"
            self._set(
                name,
                status=PluginStatus.UNAVAILABLE,
                error=f"missing requirement: {'; '.join(missing)}",
                install_hint=install_hint,
            )
        else:
            self._set(name, status=PluginStatus.DISCOVERED, error=None, install_hint=None)

    def _activate(self, name: str, entry_point: importlib.metadata.EntryPoint) -> bool:
        try:
            plugin = entry_point.load()
        except Exception as exc:
            self._fail(name, exc)
            return False
        return self._register(name, plugin)

    def _register(self, name: str, plugin: object) -> bool:
        """Register *plugin*, validate its hooks and hand it the registry; False on failure."""
        try:
            self._pm.register(plugin, name)
            # A hookimpl naming no known hook (a typo such as agentkit_make_buss) only shows
            # up here; everything registered earlier already passed this check.
            self._pm.check_pending()
            if self._registry is not None:
                others = [other for other in self._pm.get_plugins() if other is not plugin]
                register_tools = self._pm.subset_hook_caller("agentkit_register_tools", others)
                register_tools(registry=self._registry)
        except Exception as exc:
            if self._pm.is_registered(plugin):
                self._pm.unregister(plugin)
            self._fail(name, exc)
            return False
        self._set(name, status=PluginStatus.ACTIVE, error=None)
        return True

    def _fail(self, name: str, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"
        _logger.warning("plugin %r failed: %s", name, error, exc_info=exc)
        self._set(name, status=PluginStatus.ERROR, error=error)


def _parse_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _distribution_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return _UNKNOWN_VERSION


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _plugin_extras(
    entry_point: importlib.metadata.EntryPoint, distribution: importlib.metadata.Distribution
) -> list[str]:
    """The extras a plugin needs: its entry point's own ``[extras]``, or its name if an extra."""
    provided = {
        _canonical(extra) for extra in distribution.metadata.get_all("Provides-Extra") or ()
    }
    extras = [extra for extra in entry_point.extras if _canonical(extra) in provided]
    if not extras and _canonical(entry_point.name) in provided:
        extras = [entry_point.name]
    return extras


def _missing_requirements(
    distribution: importlib.metadata.Distribution,
    extras: Iterable[str],
    seen: set[tuple[str, str]],
) -> list[str]:
    """Describe each requirement of *distribution*'s *extras* that is not installed.

    Requirements of nested extras (``ray[default]``, ``agentkit-kernel[nats]``) are followed;
    *seen* stops cycles. Only metadata is read: nothing is imported.
    """
    missing: list[str] = []
    for extra in extras:
        key = (_canonical(distribution.name), _canonical(extra))
        if key in seen:
            continue
        seen.add(key)
        for line in distribution.requires or ():
            try:
                requirement = Requirement(line)
            except InvalidRequirement as exc:
                raise PluginError(
                    f"{distribution.name} has a malformed requirement: {exc}"
                ) from exc
            marker = requirement.marker
            # A requirement belongs to the extra when its marker holds for this extra but not
            # for a plain install (markers also test the platform and Python version).
            if marker is None or not marker.evaluate({"extra": extra}):
                continue
            if marker.evaluate({"extra": ""}):
                continue
            missing.extend(_requirement_problems(requirement, seen))
    return missing


def _requirement_problems(requirement: Requirement, seen: set[tuple[str, str]]) -> list[str]:
    try:
        installed = importlib.metadata.distribution(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return [f"{_without_marker(requirement)} ({requirement.name} is not installed)"]
    try:
        matches = requirement.specifier.contains(installed.version, prereleases=True)
    except InvalidVersion:
        matches = True  # a version packaging cannot parse cannot be checked; trust the install
    if not matches:
        return [
            f"{_without_marker(requirement)} ({requirement.name} {installed.version} is installed)"
        ]
    return _missing_requirements(installed, sorted(requirement.extras), seen)


def _without_marker(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"
