"""The big real-world specs of ``specs/`` (see its README): where they are, and their text."""

from __future__ import annotations

import lzma
import os
from pathlib import Path

import pytest

#: The folder of the committed (xz-compressed) specs.
FOLDER = Path(__file__).parent / "specs"
#: Specs not committed (no package ships them): looked for in this variable's folder, then here.
OUTSIDE_VARIABLE = "AGENTKIT_OPENAPI_SPECS_DIR"
OUTSIDE_DEFAULT = Path(__file__).resolve().parents[4].parent / "shared" / "openapi-specs"

#: name -> file name.
FILES = {
    "github": "github.json",
    "stripe": "stripe.json",
    "kubernetes": "kubernetes.json",
    "discord": "discord.json",
    "openai": "openai.yaml",
}


def find(name: str) -> Path | None:
    """The file of spec *name* (plain or ``.xz``), or None when it is nowhere."""
    file_name = FILES[name]
    folders = [FOLDER]
    outside = os.environ.get(OUTSIDE_VARIABLE)
    folders += [Path(outside)] if outside else []
    folders.append(OUTSIDE_DEFAULT)
    for folder in folders:
        for candidate in (folder / file_name, folder / f"{file_name}.xz"):
            if candidate.is_file():
                return candidate
    return None


def text(name: str) -> str:
    """The text of spec *name*; skips the test when it is not available."""
    path = find(name)
    if path is None:
        pytest.skip(
            f"{FILES[name]} is not in the repository (see specs/README.md): put it in "
            f"${OUTSIDE_VARIABLE} or {OUTSIDE_DEFAULT}"
        )
    data = path.read_bytes()
    if path.suffix == ".xz":
        data = lzma.decompress(data)
    return data.decode("utf-8")
