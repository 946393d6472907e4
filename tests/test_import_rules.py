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


def import_cycles(*packages: str) -> list[tuple[str, str]]:
    """Each import ``(a, b)`` of *packages* where *b* leads back to *a* at run time (imports
    under TYPE_CHECKING do not run and are left out)."""
    import grimp

    graph = grimp.build_graph(*packages, exclude_type_checking_imports=True)
    return [
        (module, imported)
        for module in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(module))
        if graph.chain_exists(importer=imported, imported=module)
    ]


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package whose modules import each other in a ring is reported; a type-only import is
    not."""
    package = tmp_path / "ringpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from ringpkg import b\n")
    (package / "b.py").write_text("from ringpkg import c\n")
    (package / "c.py").write_text("import ringpkg.a\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ringpkg import e\n"
    )
    (package / "e.py").write_text("from ringpkg import d\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = import_cycles("ringpkg")
    assert ("ringpkg.a", "ringpkg.b") in found
    assert ("ringpkg.c", "ringpkg.a") in found
    assert not [edge for edge in found if "ringpkg.d" in edge or "ringpkg.e" in edge]


def test_no_module_level_import_cycles() -> None:
    """No module of the three packages imports itself back through others at run time."""
    assert import_cycles("agentkit", "agentkit_tools", "agentkit_ray") == []
