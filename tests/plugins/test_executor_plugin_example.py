"""The third-party example executor plugin examples/plugins/agentkit-inline-executor, installed.

The package is installed with ``pip install --no-deps --target <tmp>`` and ``<tmp>`` is put on
``sys.path``, so agentkit finds it through real ``importlib.metadata`` entry points, exactly as
after ``pip install agentkit-inline-executor``, while the live venv stays untouched.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pip_target import pip_install_to_target

import agentkit
from agentkit import ConfigurationError, TaskFailedError, TaskState
from agentkit.plugins import DISABLE_PLUGINS_ENV, PluginStatus

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "examples" / "plugins" / "agentkit-inline-executor"
#: The agentkit modules the example's code may import: the public kit, nothing private.
PUBLIC_KIT = {
    "agentkit",
    "agentkit.exceptions",
    "agentkit.execution",
    "agentkit.hookspecs",
    "agentkit.protocols",
}

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def installed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package installed with pip into a fresh target folder (not the venv)."""
    return pip_install_to_target(PACKAGE, tmp_path_factory)


@pytest.fixture
def inline_site(installed_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The installed package on sys.path for one test; its modules are forgotten around it."""
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)
    _forget_agentkit_inline()  # a copy imported from the source tree must not stand in
    monkeypatch.syspath_prepend(str(installed_site))
    importlib.invalidate_caches()
    yield installed_site
    _forget_agentkit_inline()
    importlib.invalidate_caches()


def _forget_agentkit_inline() -> None:
    """Drop every imported agentkit_inline module from sys.modules."""
    for name in [name for name in sys.modules if name.split(".")[0] == "agentkit_inline"]:
        del sys.modules[name]


def test_plugin_manager_lists_inline_from_its_entry_point(inline_site: Path) -> None:
    """PluginManager lists "inline" active, from the installed distribution's entry point."""
    listing = {item["name"]: item for item in agentkit.PluginManager().list_plugins()}
    inline = listing["inline"]
    assert inline["status"] == PluginStatus.ACTIVE.value, inline["error"]
    assert inline["version"] == "0.1.0"
    assert (
        inline["source"] == "entry point agentkit_inline._plugin (agentkit-inline-executor 0.1.0)"
    )
    assert inline["module"] == "agentkit_inline._plugin"
    assert sys.modules["agentkit_inline._plugin"].__file__.startswith(str(inline_site))  # type: ignore[union-attr]


async def test_engine_in_inline_mode_runs_tasks_maps_and_retries(inline_site: Path) -> None:
    """DistributedEngine(mode="inline") runs named tasks, maps, and retries then fails."""
    calls: list[int] = []

    def flaky(payload: int) -> int:
        calls.append(payload)
        raise ConnectionError(f"attempt {len(calls)} failed")

    engine = agentkit.DistributedEngine(
        mode="inline", backoff_base=0.001, tasks={"square": lambda x: x * x, "flaky": flaky}
    )
    async with engine:
        assert type(engine.executor).__module__ == "agentkit_inline._executor"
        task_id = await engine.submit_task("square", 12)
        assert await engine.wait_for_task(task_id, timeout_seconds=30) == 144
        outcome = await engine.get_task_result(task_id)
        assert (outcome.name, outcome.where) == ("square", "inline")

        assert await engine.parallel_map(lambda x: x + 1, range(5)) == [1, 2, 3, 4, 5]

        failing = await engine.submit_task("flaky", 7, max_attempts=3)
        with pytest.raises(TaskFailedError, match="attempt 3 failed") as caught:
            await engine.wait_for_task(failing, timeout_seconds=30)
        assert isinstance(caught.value.__cause__, ConnectionError)
        assert calls == [7, 7, 7]
        assert engine.get_task_state(failing) is TaskState.FAILED
        stats = engine.get_cluster_stats()
        assert stats["mode"] == "inline"
        assert stats["tasks"]["failed"] == 1


def test_engine_refuses_an_option_the_inline_executor_lacks(inline_site: Path) -> None:
    """An executor option the plugin does not know raises ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match="not num_cpus"):
        agentkit.DistributedEngine(mode="inline", num_cpus=2)


def _agentkit_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for every import of an agentkit module in *path*."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            found += [(str(node.module), alias.name) for alias in node.names]
    return [(module, name) for module, name in found if module.split(".")[0] == "agentkit"]


def test_the_example_imports_only_public_agentkit_modules() -> None:
    """The example's code imports the public kit only: no agentkit._x or agentkit.x._y."""
    sources = sorted((PACKAGE / "src").rglob("*.py"))
    tests = sorted((PACKAGE / "tests").rglob("*.py"))
    assert [path.name for path in sources] == ["__init__.py", "_executor.py", "_plugin.py"]
    used: set[str] = set()
    for path in sources + tests:
        for module, name in _agentkit_imports(path):
            private = [part for part in module.split(".") if part.startswith("_")]
            assert not private, f"{path.name} imports the private module {module}"
            assert name is None or not name.startswith("_"), f"{path.name}: {module}.{name}"
            if path in sources:
                used.add(module)
    assert used == PUBLIC_KIT


def test_the_packages_own_tests_pass_against_the_install(
    installed_site: Path, tmp_path: Path
) -> None:
    """The package's tests pass with the installed copy; only the 3 gated suite tests skip."""
    env = {key: value for key, value in os.environ.items() if key != DISABLE_PLUGINS_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(installed_site), str(REPO_ROOT)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ in the example's folder
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(PACKAGE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    skips = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 3, result.stdout
    assert all("plain blocking function" in line for line in skips), result.stdout
    assert " passed" in result.stdout
