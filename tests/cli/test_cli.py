"""Tests for the ``agentkit`` command (agentkit.cli._main)."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.cli._main import main
from agentkit.plugins._manager import DISABLE_PLUGINS_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
PIP_LINE = "pip install 'agentkit-kernel[ray]'"


@pytest.fixture(autouse=True)
def _no_disabled_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's AGENTKIT_DISABLE_PLUGINS out of these tests."""
    monkeypatch.delenv(DISABLE_PLUGINS_ENV, raising=False)


@pytest.fixture
def broken_plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site folder on sys.path with a plugin ``heavy`` that imports a package nobody has."""
    root = tmp_path / "site"
    dist_info = root / "acme_cli_plugins-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-cli-plugins\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text("[agentkit]\nheavy = acme_cli_heavy_plugin\n")
    (root / "acme_cli_heavy_plugin.py").write_text("import acme_not_installed_anywhere\n")
    monkeypatch.syspath_prepend(str(root))
    yield root
    sys.modules.pop("acme_cli_heavy_plugin", None)


@pytest.fixture
def without_ray_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the ray plugin's entry point, as if agentkit-ray were not installed."""
    real = importlib.metadata.entry_points

    def entry_points(**params: object) -> importlib.metadata.EntryPoints:
        found = real(**params)  # type: ignore[arg-type]
        if params.get("group") == "agentkit":
            return importlib.metadata.EntryPoints(ep for ep in found if ep.name != "ray")
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def test_plugins_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit plugins`` prints a header and one row per plugin with its status."""
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "STATUS", "DETAIL"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    for name, distribution in [("ray", "agentkit-ray"), ("tools", "agentkit-tools")]:
        try:
            expected = [importlib.metadata.version(distribution), "active"]
        except importlib.metadata.PackageNotFoundError:  # the kernel alone
            expected = ["unknown", "unavailable"]
        assert rows[name][1:3] == expected


def test_plugins_list_is_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit plugins list`` prints the same table as ``agentkit plugins``."""
    assert main(["plugins"]) == 0
    bare = capsys.readouterr().out
    assert main(["plugins", "list"]) == 0
    assert capsys.readouterr().out == bare


@pytest.mark.usefixtures("without_ray_distribution")
def test_plugins_shows_the_pip_line_of_an_unavailable_plugin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without agentkit-ray the ray row says unavailable, what is missing and the pip line."""
    assert main(["plugins"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("ray"))
    assert "unavailable" in row
    assert "agentkit-ray is not installed" in row
    assert row.endswith(PIP_LINE)


def test_python_m_agentkit_plugins_in_a_subprocess(broken_plugin_site: Path) -> None:
    """``python -m agentkit plugins`` works and shows a broken plugin's error with the others."""
    env = {key: value for key, value in os.environ.items() if key != DISABLE_PLUGINS_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(broken_plugin_site), str(REPO_ROOT)])
    result = subprocess.run(
        [sys.executable, "-m", "agentkit", "plugins"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("heavy"))
    assert "error" in row
    assert "No module named 'acme_not_installed_anywhere'" in row
    assert "tools" in result.stdout


def test_plugins_show_prints_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit plugins show ray`` prints the plugin's fields one per line."""
    assert main(["plugins", "show", "ray"]) == 0
    out = capsys.readouterr().out
    fields = dict(line.split(":", 1) for line in out.splitlines())
    assert fields["name"].strip() == "ray"
    assert fields["status"].strip() == "active"
    assert fields["module"].strip() == "agentkit_ray._plugin"
    assert fields["source"].strip().startswith("entry point agentkit_ray._plugin (agentkit-ray")


def test_plugins_show_unknown_name_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit plugins show`` with an unknown name explains and exits with code 2."""
    assert main(["plugins", "show", "no-such-plugin"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no plugin named 'no-such-plugin'" in captured.err
    assert "ray" in captured.err


def test_version_prints_the_distribution_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit --version`` prints the distribution name and version and exits 0."""
    assert main(["--version"]) == 0
    version = importlib.metadata.version("agentkit-kernel")
    assert capsys.readouterr().out.strip() == f"agentkit-kernel {version}"


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit`` alone prints the usage to stderr and exits 2."""
    assert main([]) == 2
    assert "usage: agentkit" in capsys.readouterr().err


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand is a usage error with exit code 2."""
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_demo_without_demo_module_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``agentkit demo`` says the demo is unavailable and exits 1 when its module is missing."""
    monkeypatch.setitem(sys.modules, "agentkit.demo._demo", None)
    assert main(["demo"]) == 1
    assert "demo is not available" in capsys.readouterr().err


def install_fake_demo(
    monkeypatch: pytest.MonkeyPatch, urls: list[str], executors: list[str] | None = None
) -> None:
    """Put an ``agentkit.demo._demo`` module in sys.modules whose ``run`` records its arguments."""
    demo = types.ModuleType("agentkit.demo._demo")

    async def run(url: str, *, executor: str = "local") -> int:
        urls.append(url)
        if executors is not None:
            executors.append(executor)
        return 0

    demo.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "agentkit.demo._demo", demo)


def test_demo_runs_with_the_given_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    """``agentkit demo --bus URL`` runs the demo's ``run`` with that URL."""
    urls: list[str] = []
    install_fake_demo(monkeypatch, urls)
    assert main(["demo", "--bus", "nats://127.0.0.1:4222"]) == 0
    assert urls == ["nats://127.0.0.1:4222"]


def test_demo_bus_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``--bus`` the demo uses AGENTKIT_BUS_URL, else ``memory://``."""
    urls: list[str] = []
    install_fake_demo(monkeypatch, urls)
    monkeypatch.delenv("AGENTKIT_BUS_URL", raising=False)
    assert main(["demo"]) == 0
    monkeypatch.setenv("AGENTKIT_BUS_URL", "memory://from-env")
    assert main(["demo"]) == 0
    assert urls == ["memory://", "memory://from-env"]


def test_demo_passes_the_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    """``agentkit demo --executor ray`` hands ``executor="ray"`` to the demo; local by default."""
    urls: list[str] = []
    executors: list[str] = []
    install_fake_demo(monkeypatch, urls, executors)
    assert main(["demo"]) == 0
    assert main(["demo", "--executor", "ray"]) == 0
    assert executors == ["local", "ray"]


def test_demo_rejects_an_unknown_executor(capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit demo --executor spark`` is a usage error (exit 2) naming the choices."""
    assert main(["demo", "--executor", "spark"]) == 2
    assert "invalid choice" in capsys.readouterr().err
