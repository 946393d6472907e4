"""Install an example plugin package for real, into a target folder instead of the venv."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def pip_install_to_target(package: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install --no-deps --target <tmp> package`` from a copy of *package*; the target.

    pip builds in the source tree, so it builds a copy and leaves the repository clean.
    """
    source = tmp_path_factory.mktemp("source") / package.name
    shutil.copytree(package, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target)]
    if importlib.util.find_spec("hatchling") is not None:
        # The build backend is already here; an isolated build would fetch it from an index.
        command.append("--no-build-isolation")
    result = subprocess.run(
        [*command, "--quiet", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target
