"""Load a callable named on the command line: ``package.module:name`` or ``file.py:name``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentkit.exceptions import ConfigurationError

__all__ = ["load_callable"]


def load_callable(reference: str) -> Callable[..., Any]:
    """Import ``package.module:attr`` (dots allowed after the colon) or ``path/file.py:attr``.

    The working directory is importable, as with ``python -m``. Raises ConfigurationError
    saying what is wrong: the form, the import, the attribute, or a value that is not callable.
    """
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigurationError(
            f"{reference!r} must look like 'package.module:name' or 'path/to/file.py:name'"
        )
    if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
        path = Path(module_name).resolve()
        if not path.is_file():
            raise ConfigurationError(f"file {str(path)!r} does not exist")
        spec = importlib.util.spec_from_file_location(f"agentkit_ref_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ConfigurationError(f"cannot import {str(path)!r}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigurationError(f"cannot import {module_name!r}: {exc}") from None
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigurationError(f"{module_name!r} has no attribute {attribute!r}") from None
    if not callable(target):
        raise ConfigurationError(f"{reference!r} is not callable ({type(target).__name__})")
    loaded: Callable[..., Any] = target
    return loaded
