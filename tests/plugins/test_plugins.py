"""Tests for plugin discovery, availability and activation (agentkit.plugins._manager)."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from agentkit import ConfigurationError, DistributedEngine, ExecutionMode
from agentkit.plugins import (
    CORE_PLUGINS,
    DISABLE_PLUGINS_ENV,
    ENTRY_POINT_GROUP,
    PluginInfo,
    PluginManager,
    PluginStatus,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CORE_VERSION = importlib.metadata.version("agentkit-kernel")

#: Our own plugins and the distribution that brings each one.
OWN_PLUGINS = {
    "tools": "agentkit-tools",
    "openapi": "agentkit-tools",
    "ray": "agentkit-ray",
    "mcp": "agentkit-mcp",
}


def distribution_installed(plugin: str) -> bool:
    """Whether the distribution behind our own *plugin* is installed."""
    try:
        importlib.metadata.distribution(OWN_PLUGINS[plugin])
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def expected_status(plugin: str) -> PluginStatus:
    """ACTIVE for our own *plugin* when its distribution is installed, else UNAVAILABLE."""
    return PluginStatus.ACTIVE if distribution_installed(plugin) else PluginStatus.UNAVAILABLE


class FakeSite:
    """A folder on ``sys.path`` holding fake installed distributions and their modules."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def add_distribution(
        self,
        name: str,
        version: str = "1.0",
        *,
        entry_points: dict[str, str] | None = None,
        extras: dict[str, list[str]] | None = None,
        modules: dict[str, str] | None = None,
    ) -> None:
        """Write ``<name>-<version>.dist-info`` with METADATA, entry points and module files."""
        dist_info = self.root / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir(parents=True)
        metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        for extra, requirements in (extras or {}).items():
            metadata.append(f"Provides-Extra: {extra}")
            for requirement in requirements:
                specifier, _, marker = requirement.partition(";")
                condition = f'extra == "{extra}"'
                if marker:
                    condition = f"({marker.strip()}) and {condition}"
                metadata.append(f"Requires-Dist: {specifier.strip()} ; {condition}")
        (dist_info / "METADATA").write_text("\n".join(metadata) + "\n")
        if entry_points:
            lines = ["[agentkit]", *(f"{key} = {value}" for key, value in entry_points.items())]
            (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module_name, source in (modules or {}).items():
            (self.root / f"{module_name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    """A fake site directory on sys.path; modules imported from it are forgotten afterwards."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield FakeSite(root)
    for module_name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(root)):
            del sys.modules[module_name]


@pytest.fixture(autouse=True)
def _no_disabled_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's AGENTKIT_DISABLE_PLUGINS out of these tests."""
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)


class RecordingRegistry:
    """A registry that only records what plugins register."""

    def __init__(self) -> None:
        self.tools: list[Any] = []
        self.builtin: list[Any] = []

    def register_tool(self, tool: Any, executor: Callable[..., Any] | None = None) -> None:
        """Record *tool*; the tools plugin's built-in library is kept apart in ``builtin``."""
        from agentkit import Tool

        (self.builtin if isinstance(tool, Tool) else self.tools).append(tool)

    def get_tool(self, name: str) -> Any:
        """The recorded tool equal to *name*."""
        return self.tools[self.tools.index(name)]

    def list_tools(self) -> list[Any]:
        """Every recorded tool."""
        return list(self.tools)

    async def execute_tool(
        self,
        name: str,
        params: Mapping[str, Any],
        timeout: float | None = None,
    ) -> Any:
        """Refuse: plugin tests never run tools."""
        raise NotImplementedError(name)


GOOD_PLUGIN = """
from agentkit.hookspecs import hookimpl

@hookimpl
def agentkit_register_tools(registry):
    registry.register_tool("acme_tool")
"""


@pytest.fixture
def good_plugin(fake_site: FakeSite) -> str:
    """Install a fake distribution with one working plugin and return the plugin's name."""
    fake_site.add_distribution(
        "acme-good",
        entry_points={"acme_good": "acme_good_plugin"},
        modules={"acme_good_plugin": GOOD_PLUGIN},
    )
    return "acme_good"


def by_name(manager: PluginManager) -> dict[str, PluginInfo]:
    """The manager's plugins keyed by name."""
    return {info.name: info for info in manager.plugins()}


def test_own_plugins_are_discovered_and_active() -> None:
    """tools, openapi and ray come from their own distributions' entry points, active when
    installed; without their distribution they are unavailable with the kernel extra's pip line."""
    manager = PluginManager()
    manager.discover_plugins()
    plugins = by_name(manager)
    for name, module in [
        ("tools", "agentkit_tools.builtin._plugin"),
        ("openapi", "agentkit_tools.openapi._plugin"),
        ("ray", "agentkit_ray._plugin"),
        ("mcp", "agentkit_mcp._plugin"),
    ]:
        info = plugins[name]
        assert info.status is expected_status(name), info
        distribution = OWN_PLUGINS[name]
        if distribution_installed(name):
            version = importlib.metadata.version(distribution)
            assert info.module == module
            assert info.version == version
            assert info.source == f"entry point {module} ({distribution} {version})"
            assert info.error is None
            assert info.install_hint is None
        else:  # the kernel alone
            assert info.source == f"distribution {distribution} (not installed)"
            assert info.error == f"{distribution} is not installed"
            assert info.install_hint == f"pip install 'agentkit-kernel[{name}]'"
            assert not manager.install_plugin(name)


def test_core_plugins_are_registered_when_the_manager_is_created() -> None:
    """Every module in CORE_PLUGINS is registered and listed with source "core"."""
    manager = PluginManager(entry_points=False)
    assert manager.discover_plugins() == []
    assert [info.name for info in manager.plugins()] == sorted(CORE_PLUGINS)
    for info in manager.plugins():
        assert info.source == "core"
        assert info.status is PluginStatus.ACTIVE
        assert manager.pluggy_manager.get_plugin(info.name) is sys.modules[info.module]


def test_managers_do_not_share_state(good_plugin: str) -> None:
    """Uninstalling a plugin in one manager leaves another manager's plugin active."""
    first, second = PluginManager(), PluginManager()
    assert first.uninstall_plugin(good_plugin)
    assert by_name(first)[good_plugin].status is PluginStatus.INACTIVE
    assert by_name(second)[good_plugin].status is PluginStatus.ACTIVE
    assert first.pluggy_manager is not second.pluggy_manager


@pytest.mark.ray
def test_ray_plugin_answers_only_for_ray_mode() -> None:
    """The ray plugin's executor hook returns None for other modes and a RayExecutor for "ray"."""
    from agentkit_ray import _plugin as ray_plugin

    manager = PluginManager()
    manager.discover_plugins()
    assert ray_plugin.agentkit_make_executor(mode="local", options={}) is None
    assert manager.hook.agentkit_make_executor(mode="spark", options={}) is None
    executor = manager.hook.agentkit_make_executor(mode="ray", options={"num_cpus": 1})
    assert type(executor).__name__ == "RayExecutor"


def test_core_answers_local_mode_with_a_local_executor() -> None:
    """Core's executor hook makes a LocalExecutor with the given options for mode "local"."""
    from agentkit import LocalExecutor

    manager = PluginManager(entry_points=False)
    executor = manager.hook.agentkit_make_executor(mode="local", options={"max_workers": 3})
    assert isinstance(executor, LocalExecutor)
    assert executor.max_workers == 3


@pytest.mark.skipif(not distribution_installed("tools"), reason="agentkit-tools is not installed")
def test_tools_plugin_accepts_a_registry() -> None:
    """With a registry the tools plugin's register hook runs without error."""
    registry = RecordingRegistry()
    manager = PluginManager(registry=registry)
    assert by_name(manager)["tools"].status is PluginStatus.ACTIVE
    assert manager.registry is registry
    assert registry.tools == []
    assert len(registry.builtin) >= 60


def test_plugin_gets_the_registry_on_activation(good_plugin: str) -> None:
    """An activated plugin's agentkit_register_tools is called once with the manager's registry."""
    registry = RecordingRegistry()
    manager = PluginManager(registry=registry)
    assert good_plugin in manager.discover_plugins()
    info = by_name(manager)[good_plugin]
    assert info.status is PluginStatus.ACTIVE
    assert info.source == "entry point acme_good_plugin (acme-good 1.0)"
    assert registry.tools == ["acme_tool"]


def test_extras_are_not_guessed(fake_site: FakeSite) -> None:
    """An installed plugin distribution is activated whatever its extras declare: pip installed
    what it needs, and nothing is judged from extras metadata."""
    fake_site.add_distribution(
        "acme-plugins",
        "2.3",
        entry_points={"heavy": "acme_heavy_plugin"},
        extras={"heavy": ["acme-not-installed-anywhere>=1.0"]},
        modules={"acme_heavy_plugin": GOOD_PLUGIN},
    )
    info = by_name(PluginManager())["heavy"]
    assert info.status is PluginStatus.ACTIVE, info
    assert info.install_hint is None


@pytest.fixture
def ray_distribution_hidden(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Hide the ray plugin's entry point, as if agentkit-ray were not installed; the returned
    function shows it again (as a later ``pip install`` would)."""
    real = importlib.metadata.entry_points
    hidden = [True]

    def entry_points(**params: Any) -> Any:
        found = real(**params)
        if hidden[0] and params.get("group") == ENTRY_POINT_GROUP:
            return importlib.metadata.EntryPoints(ep for ep in found if ep.name != "ray")
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)

    def show() -> None:
        hidden[0] = False

    return show


@pytest.mark.skipif(not distribution_installed("ray"), reason="needs agentkit-ray installed")
def test_own_plugin_without_its_distribution_is_unavailable_until_installed(
    ray_distribution_hidden: Callable[[], None],
) -> None:
    """Without agentkit-ray, ``ray`` is listed unavailable with the kernel extra's pip line and
    cannot be installed; once the distribution is there, discovering again activates it."""
    manager = PluginManager()
    info = by_name(manager)["ray"]
    assert info.status is PluginStatus.UNAVAILABLE
    assert info.install_hint == "pip install 'agentkit-kernel[ray]'"
    assert info.error == "agentkit-ray is not installed"
    assert not manager.install_plugin("ray")
    assert not manager.uninstall_plugin("ray")
    ray_distribution_hidden()
    assert "ray" in manager.discover_plugins()
    assert by_name(manager)["ray"].status is PluginStatus.ACTIVE


@pytest.mark.skipif(not distribution_installed("ray"), reason="needs agentkit-ray installed")
def test_engine_without_the_ray_plugin_names_the_pip_line(
    ray_distribution_hidden: Callable[[], None],
) -> None:
    """DistributedEngine(mode=RAY) without agentkit-ray says which pip line adds it."""
    with pytest.raises(ConfigurationError, match=r"pip install 'agentkit-kernel\[ray\]'"):
        DistributedEngine(mode=ExecutionMode.RAY)


def test_plugin_that_fails_to_import_is_an_error_and_others_work(fake_site: FakeSite) -> None:
    """A module raising on import gets status error with the reason; other plugins stay active."""
    fake_site.add_distribution(
        "acme-plugins",
        entry_points={"broken": "acme_broken_plugin", "good": "acme_good_plugin"},
        modules={
            "acme_broken_plugin": "raise RuntimeError('broken on purpose')\n",
            "acme_good_plugin": GOOD_PLUGIN,
        },
    )
    manager = PluginManager()
    plugins = by_name(manager)
    assert plugins["broken"].status is PluginStatus.ERROR
    assert plugins["broken"].error == "RuntimeError: broken on purpose"
    assert plugins["good"].status is PluginStatus.ACTIVE
    for name in OWN_PLUGINS:
        assert plugins[name].status is expected_status(name)
    assert not manager.install_plugin("broken")
    assert manager.hook.agentkit_make_executor(mode="spark", options={}) is None


def test_misspelled_hook_name_is_an_error(fake_site: FakeSite) -> None:
    """A hookimpl whose name matches no hookspec makes the plugin an error and unregisters it."""
    fake_site.add_distribution(
        "acme-plugins",
        entry_points={"typo": "acme_typo_plugin"},
        modules={
            "acme_typo_plugin": """
                from agentkit.hookspecs import hookimpl

                @hookimpl
                def agentkit_make_buss(url, options):
                    return None
            """
        },
    )
    manager = PluginManager()
    info = by_name(manager)["typo"]
    assert info.status is PluginStatus.ERROR
    assert info.error is not None
    assert info.error.startswith("PluginValidationError: ")
    assert "agentkit_make_buss" in info.error
    assert manager.pluggy_manager.get_plugin("typo") is None
    manager.pluggy_manager.check_pending()  # nothing of the bad plugin is left behind


def test_hook_with_wrong_arguments_is_an_error(fake_site: FakeSite) -> None:
    """A hookimpl asking for an argument its hookspec does not have makes the plugin an error."""
    fake_site.add_distribution(
        "acme-plugins",
        entry_points={"badargs": "acme_badargs_plugin"},
        modules={
            "acme_badargs_plugin": """
                from agentkit.hookspecs import hookimpl

                @hookimpl
                def agentkit_make_bus(url, options, loop):
                    return None
            """
        },
    )
    info = by_name(PluginManager())["badargs"]
    assert info.status is PluginStatus.ERROR
    assert info.error is not None
    assert "loop" in info.error


def test_register_tools_hook_that_raises_is_an_error(fake_site: FakeSite) -> None:
    """A plugin whose agentkit_register_tools raises is an error and is unregistered."""
    fake_site.add_distribution(
        "acme-plugins",
        entry_points={"raiser": "acme_raiser_plugin", "good": "acme_good_plugin"},
        modules={
            "acme_raiser_plugin": """
                from agentkit.hookspecs import hookimpl

                @hookimpl
                def agentkit_register_tools(registry):
                    raise ValueError("no tools today")
            """,
            "acme_good_plugin": GOOD_PLUGIN,
        },
    )
    registry = RecordingRegistry()
    manager = PluginManager(registry=registry)
    plugins = by_name(manager)
    assert plugins["raiser"].status is PluginStatus.ERROR
    assert plugins["raiser"].error == "ValueError: no tools today"
    assert manager.pluggy_manager.get_plugin("raiser") is None
    assert plugins["good"].status is PluginStatus.ACTIVE
    assert manager.pluggy_manager.get_plugin("good") is not None
    assert registry.tools == ["acme_tool"]


def test_disable_variable_makes_plugins_inactive(
    monkeypatch: pytest.MonkeyPatch, fake_site: FakeSite
) -> None:
    """Names in AGENTKIT_DISABLE_PLUGINS are inactive, say why, and cannot be installed."""
    fake_site.add_distribution(
        "acme-plugins",
        entry_points={"first": "acme_first_plugin", "second": "acme_second_plugin"},
        modules={"acme_first_plugin": GOOD_PLUGIN, "acme_second_plugin": GOOD_PLUGIN},
    )
    monkeypatch.setenv(DISABLE_PLUGINS_ENV, " first , ray, not-a-plugin,,")
    manager = PluginManager()
    monkeypatch.delenv(DISABLE_PLUGINS_ENV)  # read when the manager was created
    plugins = by_name(manager)
    for name in ("first", "ray"):
        assert plugins[name].status is PluginStatus.INACTIVE
        assert plugins[name].error == f"disabled by the {DISABLE_PLUGINS_ENV} environment variable"
    assert "acme_first_plugin" not in sys.modules
    assert manager.hook.agentkit_make_executor(mode="ray", options={}) is None
    assert not manager.install_plugin("first")
    assert plugins["second"].status is PluginStatus.ACTIVE
    assert by_name(PluginManager())["first"].status is PluginStatus.ACTIVE


def test_disabled_argument_makes_plugins_inactive(good_plugin: str) -> None:
    """Names passed as ``disabled=`` are inactive like those in the variable."""
    info = by_name(PluginManager(disabled={good_plugin}))[good_plugin]
    assert info.status is PluginStatus.INACTIVE
    assert info.error == "disabled by PluginManager(disabled=...)"


def test_install_and_uninstall_round_trip(good_plugin: str) -> None:
    """install_plugin activates, is idempotent, and uninstall_plugin makes the plugin inactive."""
    registry = RecordingRegistry()
    manager = PluginManager(registry=registry, auto_activate=False)
    assert by_name(manager)[good_plugin].status is PluginStatus.DISCOVERED
    assert "acme_good_plugin" not in sys.modules
    assert manager.install_plugin(good_plugin)
    assert manager.install_plugin(good_plugin)
    assert by_name(manager)[good_plugin].status is PluginStatus.ACTIVE
    assert registry.tools == ["acme_tool"]
    assert manager.hook.agentkit_register_tools.get_hookimpls()
    assert manager.uninstall_plugin(good_plugin)
    assert by_name(manager)[good_plugin].status is PluginStatus.INACTIVE
    assert manager.hook.agentkit_register_tools.get_hookimpls() == []
    assert manager.uninstall_plugin(good_plugin)
    assert manager.install_plugin(good_plugin)
    assert by_name(manager)[good_plugin].status is PluginStatus.ACTIVE
    assert registry.tools == ["acme_tool", "acme_tool"]


def test_unknown_and_core_names_are_refused() -> None:
    """install_plugin and uninstall_plugin return False for unknown names; core stays on."""
    manager = PluginManager()
    assert not manager.install_plugin("weather_tools")
    assert not manager.uninstall_plugin("weather_tools")
    assert manager.plugin_info("weather_tools") is None
    core = CORE_PLUGINS[0]
    assert manager.install_plugin(core)
    assert not manager.uninstall_plugin(core)
    assert by_name(manager)[core].status is PluginStatus.ACTIVE


def test_discovering_again_keeps_state(fake_site: FakeSite, good_plugin: str) -> None:
    """A second scan returns the same names and leaves plugin states alone."""
    manager = PluginManager()
    first = manager.discover_plugins()
    manager.uninstall_plugin(good_plugin)
    assert manager.discover_plugins() == first
    assert by_name(manager)[good_plugin].status is PluginStatus.INACTIVE
    fake_site.add_distribution(
        "acme-late",
        entry_points={"late": "acme_late_plugin"},
        modules={"acme_late_plugin": GOOD_PLUGIN},
    )
    assert manager.discover_plugins() == sorted([*first, "late"])
    assert by_name(manager)["late"].status is PluginStatus.ACTIVE


def test_list_plugins_returns_the_guide_dicts() -> None:
    """list_plugins gives one dict per plugin, sorted by name, with the guide's keys."""
    manager = PluginManager(plugin_dirs=[Path("plugins"), "more"])
    listing = manager.list_plugins()
    assert [entry["name"] for entry in listing] == sorted(entry["name"] for entry in listing)
    assert manager.plugin_dirs == (Path("plugins"), Path("more"))
    for entry in listing:
        assert {"name", "version", "source", "status", "error", "install_hint"} <= set(entry)
        assert isinstance(entry["status"], str)
    ray = next(entry for entry in listing if entry["name"] == "ray")
    assert ray["status"] == expected_status("ray").value
    json.dumps(listing)


def run_python(code: str, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh interpreter with the repository (and *extra_path*) importable."""
    paths = [str(REPO_ROOT)] if extra_path is None else [str(extra_path), str(REPO_ROOT)]
    env = {key: value for key, value in os.environ.items() if key != DISABLE_PLUGINS_ENV}
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


HEAVY_MODULES = ["ray", "nats", "httpx", "agentkit_tools.builtin._plugin", "agentkit_ray._plugin"]


def test_import_agentkit_loads_no_plugin_and_no_heavy_dependency() -> None:
    """``import agentkit`` imports neither ray, nats nor httpx, and scans no plugins."""
    result = run_python(
        f"""
        import json, sys
        import agentkit
        print(json.dumps([name for name in {HEAVY_MODULES!r} if name in sys.modules]))
        """
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_activating_plugins_imports_no_heavy_dependency() -> None:
    """Discovering and activating every plugin still imports neither ray, nats nor httpx."""
    result = run_python(
        """
        import json, sys
        from agentkit.plugins._manager import PluginManager
        manager = PluginManager()
        statuses = {info.name: info.status.value for info in manager.plugins()}
        heavy = [name for name in ("ray", "nats", "httpx") if name in sys.modules]
        print(json.dumps({"statuses": statuses, "heavy": heavy}))
        """
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["heavy"] == []
    for name in OWN_PLUGINS:
        assert report["statuses"][name] == expected_status(name).value


def test_hook_scans_entry_points_on_first_use(good_plugin: str) -> None:
    """Calling a hook before discover_plugins still reaches the entry-point plugins."""
    registry = RecordingRegistry()
    manager = PluginManager()
    assert "acme_good_plugin" not in sys.modules  # nothing is scanned when the manager is made
    manager.hook.agentkit_register_tools(registry=registry)
    assert "acme_tool" in registry.tools
    assert by_name(manager)[good_plugin].status is PluginStatus.ACTIVE


def test_tools_plugin_keeps_tools_the_user_registered_first() -> None:
    """Activating the tools plugin adds the built-ins but leaves a same-named user tool alone."""
    pytest.importorskip("httpx", reason="the tools plugin needs the tools extra")
    from agentkit import Tool, ToolRegistry

    registry = ToolRegistry()
    mine = Tool(
        name="text_summarize",
        description="my own summariser",
        function=lambda **params: {"summary": "mine"},
        blocking=False,
    )
    registry.register_tool(mine)
    manager = PluginManager(registry=registry)
    manager.discover_plugins()
    tools = manager.plugin_info("tools")
    assert tools is not None
    assert tools.status.value == "active"
    assert registry.get_tool("text_summarize") is mine
    assert len(registry.list_tools()) >= 60


#: Module bodies raising BaseException subclasses, and the error each one leaves.
HOSTILE_BODIES = [
    ("import sys\nsys.exit(2)\n", "SystemExit: 2"),
    ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("raise GeneratorExit('bye')\n", "GeneratorExit: bye"),
    ("import asyncio\nraise asyncio.CancelledError('self')\n", "CancelledError: self"),
    ("class Own(BaseException): pass\nraise Own('own')\n", "Own: own"),
]


@pytest.mark.parametrize(("body", "error"), HOSTILE_BODIES)
def test_entry_point_raising_base_exception_at_import_fails_only_itself(
    fake_site: FakeSite, body: str, error: str
) -> None:
    """sys.exit(), KeyboardInterrupt or any BaseException while importing an entry point is
    that plugin's error; the plugins after it are still found and activated."""
    fake_site.add_distribution(
        "acme-plugins",
        entry_points={"aa_hostile": "acme_hostile_plugin", "zz_good": "acme_good_plugin"},
        modules={"acme_hostile_plugin": body, "acme_good_plugin": GOOD_PLUGIN},
    )
    registry = RecordingRegistry()
    plugins = by_name(PluginManager(registry=registry))
    assert plugins["aa_hostile"].status is PluginStatus.ERROR
    assert plugins["aa_hostile"].error == error
    assert plugins["zz_good"].status is PluginStatus.ACTIVE
    assert "acme_tool" in registry.tools
    for name in OWN_PLUGINS:
        assert plugins[name].status is expected_status(name)


@pytest.mark.parametrize(("body", "error"), HOSTILE_BODIES)
def test_entry_point_hook_raising_base_exception_fails_only_itself(
    fake_site: FakeSite, body: str, error: str
) -> None:
    """A register hook raising any BaseException is that plugin's error; others stay active."""
    hook = (
        "from agentkit.hookspecs import hookimpl\n\n"
        "@hookimpl\n"
        "def agentkit_register_tools(registry):\n" + textwrap.indent(body, "    ")
    )
    fake_site.add_distribution(
        "acme-plugins",
        entry_points={"aa_hostile": "acme_hostile_plugin", "zz_good": "acme_good_plugin"},
        modules={"acme_hostile_plugin": hook, "acme_good_plugin": GOOD_PLUGIN},
    )
    registry = RecordingRegistry()
    plugins = by_name(PluginManager(registry=registry))
    assert plugins["aa_hostile"].status is PluginStatus.ERROR
    assert plugins["aa_hostile"].error == error
    assert plugins["zz_good"].status is PluginStatus.ACTIVE
    assert "acme_tool" in registry.tools
