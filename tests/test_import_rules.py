"""Plugins and examples import only agentkit's public API (import-linter checks the packages;
this checks the example plugins and scripts it cannot see)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Everything written as a user or a third-party plugin author would write it.
OUTSIDE_CODE = sorted(
    path
    for folder in ("examples", "agentkit_tools", "agentkit_ray")
    for path in (REPO_ROOT / folder).rglob("*.py")
    if "tests" not in path.relative_to(REPO_ROOT).parts
)


def private_agentkit_imports(source: str) -> list[str]:
    """The modules and names of agentkit's private (``_``) parts that *source* imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
            names: list[str] = []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            names = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] != "agentkit":
                continue
            if any(part.startswith("_") for part in parts[1:]):
                found.append(module)
            found.extend(
                f"{module}.{name}"
                for name in names
                if name.startswith("_") and not name.startswith("__")
            )
    return found


def test_the_checker_finds_private_imports() -> None:
    """The checker flags private modules and names at any depth and leaves public ones alone."""
    source = (
        "import agentkit._clock\n"
        "from agentkit.bus._base import BusBase\n"
        "from agentkit import _version\n"
        "from agentkit.execution import TaskTable\n"
        "import agentkit.tools\n"
        "from agentkit_tools._netguard import guard\n"
    )
    assert private_agentkit_imports(source) == [
        "agentkit._clock",
        "agentkit.bus._base",
        "agentkit._version",
    ]


@pytest.mark.parametrize("path", OUTSIDE_CODE, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_plugins_and_examples_use_only_public_api(path: Path) -> None:
    """No plugin, example plugin or example script imports a private part of agentkit."""
    assert private_agentkit_imports(path.read_text(encoding="utf-8")) == []
