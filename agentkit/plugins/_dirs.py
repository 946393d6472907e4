"""Directory plugins: ``plugins/<folder>/plugin.json`` beside an ``__init__.py`` with hookimpls.

A directory plugin is found only in a folder the caller names (``PluginManager(plugin_dirs=...)``
or ``agentkit plugins --plugin-dir``): it runs code, so nothing is picked up from the working
directory or ``sys.path`` by itself. Its ``plugin.json`` is checked against the JSON Schema
shipped as ``agentkit/plugins/plugin.schema.json`` before any of its code runs; its ``name`` is the
plugin's name. The manifest is read defensively, since its folder may come from anyone: a
regular file only (a FIFO, a device or a directory is refused without being read), a symlink
only when it stays inside the plugin folder, at most ``max_manifest_bytes`` (64 KiB) read, and
arrays and objects nested at most ``max_manifest_depth`` (32) deep, checked before parsing.
Whatever is wrong with one manifest becomes that plugin's error; discovery goes on.

The folder is imported as a package under a private module name made from the plugin's name
and the folder's path, so two plugins never collide with each other or with an installed
package, and relative imports inside the plugin work.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import importlib.resources
import importlib.util
import json
import logging
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from agentkit.exceptions import PluginError

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

    from agentkit.tools import SafePattern

__all__ = [
    "DEFAULT_ENTRY_MODULE",
    "DEFAULT_MAX_MANIFEST_BYTES",
    "DEFAULT_MAX_MANIFEST_DEPTH",
    "MANIFEST_NAME",
    "SCHEMA_RESOURCE",
    "DirectoryPlugin",
    "PluginManifest",
    "check_agentkit_version",
    "find_directory_plugins",
    "import_directory_plugin",
    "load_manifest",
    "manifest_schema",
    "module_name_for",
]

#: The manifest file every directory plugin holds.
MANIFEST_NAME = "plugin.json"

#: The JSON Schema of ``plugin.json``, shipped inside the ``agentkit`` package.
SCHEMA_RESOURCE = "plugin.schema.json"

#: ``entry_module`` when the manifest names none: the plugin folder's own ``__init__.py``.
DEFAULT_ENTRY_MODULE = "__init__"

#: The largest ``plugin.json`` read, in bytes (``PluginManager(max_manifest_bytes=...)``); a
#: real one is a few hundred bytes, and anything this size parses and validates in milliseconds.
DEFAULT_MAX_MANIFEST_BYTES = 64 << 10

#: The deepest nesting of arrays and objects in ``plugin.json``
#: (``PluginManager(max_manifest_depth=...)``); a valid manifest needs 2.
DEFAULT_MAX_MANIFEST_DEPTH = 32

_MODULE_PREFIX = "_agentkit_dir_plugin_"

# For the nesting check: JSON strings (a bracket inside one does not count), then whatever
# is not a bracket.
_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")

# Schema messages quote the offending value, which may be a megabyte long.
_MAX_PROBLEM_CHARS = 500

_logger = logging.getLogger("agentkit.plugins._manager")


@dataclasses.dataclass(frozen=True, slots=True)
class PluginManifest:
    """A validated ``plugin.json`` (see ``agentkit/plugins/plugin.schema.json``)."""

    name: str
    version: str
    description: str
    agentkit_version: str | None = None
    """A PEP 440 specifier the running agentkit must satisfy, or None for any version."""
    entry_module: str = DEFAULT_ENTRY_MODULE
    author: str | None = None
    homepage: str | None = None
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class DirectoryPlugin:
    """One plugin folder: its manifest, or why the manifest cannot be used."""

    folder: Path
    """The plugin's folder, resolved to an absolute path."""
    name: str
    """The manifest's ``name``; the folder's name when the manifest is unusable."""
    manifest: PluginManifest | None
    problem: str | None = None
    """Why the manifest is unusable (bad JSON, a schema violation naming the field), or None."""

    @property
    def source(self) -> str:
        """``directory /abs/path/plugins/weather``, as ``list_plugins`` shows it."""
        return f"directory {self.folder}"

    @property
    def module_name(self) -> str:
        """The private module name the plugin folder is imported as."""
        return module_name_for(self.folder, self.name)


def find_directory_plugins(
    plugin_dirs: Iterable[str | os.PathLike[str]],
    *,
    max_manifest_bytes: int = DEFAULT_MAX_MANIFEST_BYTES,
    max_manifest_depth: int = DEFAULT_MAX_MANIFEST_DEPTH,
) -> Iterator[DirectoryPlugin]:
    """Yield every plugin in *plugin_dirs*, in order; each folder's plugins sorted by folder name.

    A folder in *plugin_dirs* is either a folder of plugin folders (``./plugins``, holding
    ``weather/plugin.json``) or one plugin folder itself. Sub-folders without a ``plugin.json``
    (``__pycache__``, helpers) are skipped; a folder that does not exist or cannot be listed
    yields nothing. A ``plugin.json`` of any kind (a symlink, a FIFO) makes its folder a plugin,
    so that a manifest that cannot be used is reported rather than skipped. Nothing is
    imported here.
    """
    for base in plugin_dirs:
        base_path = Path(base)
        try:
            folders = _plugin_folders(base_path)
        except OSError as exc:
            _logger.warning("plugin folder %s cannot be listed; skipped: %s", base_path, exc)
            continue
        for folder in folders:
            yield read_directory_plugin(
                folder, max_manifest_bytes=max_manifest_bytes, max_manifest_depth=max_manifest_depth
            )


def _plugin_folders(base: Path) -> list[Path]:
    if os.path.lexists(base / MANIFEST_NAME):
        return [base]
    if not base.is_dir():
        _logger.debug("plugin folder %s does not exist; skipped", base)
        return []
    folders = []
    for child in base.iterdir():
        try:
            if (
                not child.name.startswith(".")
                and child.is_dir()
                and os.path.lexists(child / MANIFEST_NAME)
            ):
                folders.append(child)
        except OSError as exc:  # a sub-folder we may not look into is not a plugin
            _logger.warning("plugin folder %s cannot be read; skipped: %s", child, exc)
    return sorted(folders)


def read_directory_plugin(
    folder: Path,
    *,
    max_manifest_bytes: int = DEFAULT_MAX_MANIFEST_BYTES,
    max_manifest_depth: int = DEFAULT_MAX_MANIFEST_DEPTH,
) -> DirectoryPlugin:
    """Read *folder*'s ``plugin.json``; an unusable manifest is kept as the plugin's problem."""
    folder = folder.resolve()
    path = folder / MANIFEST_NAME
    try:
        manifest = load_manifest(path, max_bytes=max_manifest_bytes, max_depth=max_manifest_depth)
    except PluginError as exc:
        return DirectoryPlugin(folder=folder, name=folder.name, manifest=None, problem=str(exc))
    except Exception as exc:  # a parser or validator failure we did not foresee
        problem = _clip(f"{path}: cannot be used: {type(exc).__name__}: {exc}")
        return DirectoryPlugin(folder=folder, name=folder.name, manifest=None, problem=problem)
    return DirectoryPlugin(folder=folder, name=manifest.name, manifest=manifest)


def load_manifest(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_MANIFEST_BYTES,
    max_depth: int = DEFAULT_MAX_MANIFEST_DEPTH,
) -> PluginManifest:
    """Read and validate the ``plugin.json`` at *path*.

    The file must be a regular file (or a symlink to one inside *path*'s folder) of at most
    *max_bytes* bytes, with arrays and objects nested at most *max_depth* deep.

    Raises:
        PluginError: The file is not a regular file, leaves its folder, is too large or too
            deeply nested, cannot be read, is not JSON, breaks the schema (the message names
            the field), or holds a version or specifier PEP 440 cannot parse.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    raw = _read_regular_file(path, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PluginError(f"{path}: cannot be read: {exc}") from exc
    if _nested_deeper_than(text, max_depth):
        raise PluginError(
            f"{path}: arrays and objects nested more than {max_depth} deep; a plugin.json"
            " needs 2 (raise PluginManager(max_manifest_depth=...) if you must)"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PluginError(
            f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except (ValueError, RecursionError) as exc:  # a number too long to convert, say
        raise PluginError(_clip(f"{path}: not valid JSON: {exc}")) from exc
    violation = _precheck(data) or _first_violation(data)
    if violation is not None:
        raise PluginError(f"{path}: {violation}")
    try:
        Version(data["version"])
    except (InvalidVersion, ValueError) as exc:
        raise PluginError(
            f'{path}: field "version": {data["version"]!r} is not a PEP 440 version (e.g. 1.0.0)'
        ) from exc
    agentkit_version = data.get("agentkit_version")
    if agentkit_version is not None:
        try:
            SpecifierSet(agentkit_version)
        except (InvalidSpecifier, ValueError) as exc:
            raise PluginError(
                f'{path}: field "agentkit_version": {agentkit_version!r} is not a PEP 440'
                " version specifier (e.g. >=0.1,<1)"
            ) from exc
    return PluginManifest(
        name=data["name"],
        version=data["version"],
        description=data["description"],
        agentkit_version=agentkit_version,
        entry_module=data.get("entry_module", DEFAULT_ENTRY_MODULE),
        author=data.get("author"),
        homepage=data.get("homepage"),
        tags=tuple(data.get("tags", ())),
    )


def _read_regular_file(path: Path, max_bytes: int) -> bytes:
    """At most *max_bytes* of the regular file at *path*, refusing anything that could block.

    A symlink is followed only to a target inside *path*'s folder. The type is checked before
    opening (a FIFO or device is never opened) and again on the open descriptor, which is
    opened with ``O_NOFOLLOW | O_NONBLOCK`` so that a swap in between cannot make it block.
    """
    try:
        target = path
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            target = Path(os.path.realpath(path))
            if not target.is_relative_to(Path(os.path.realpath(path.parent))):
                raise PluginError(
                    f"{path}: a symlink leading out of the plugin folder (to {target});"
                    " copy the file into the folder instead"
                )
            info = os.stat(target)
        _check_regular(path, info, max_bytes)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(target, flags)
        try:
            _check_regular(path, os.fstat(descriptor), max_bytes)
            chunks: list[bytes] = []
            remaining = max_bytes + 1
            while remaining > 0 and (chunk := os.read(descriptor, min(remaining, 1 << 16))):
                chunks.append(chunk)
                remaining -= len(chunk)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise PluginError(f"{path}: cannot be read: {exc}") from exc
    if remaining <= 0:
        raise PluginError(_too_large(path, max_bytes))
    return b"".join(chunks)


def _check_regular(path: Path, info: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise PluginError(f"{path}: not a regular file (a FIFO, device or directory is refused)")
    if info.st_size > max_bytes:
        raise PluginError(_too_large(path, max_bytes))


def _too_large(path: Path, max_bytes: int) -> str:
    return (
        f"{path}: larger than {max_bytes} bytes"
        " (raise PluginManager(max_manifest_bytes=...) if you must)"
    )


def _nested_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON *text* nests arrays and objects more than *limit* deep.

    Linear time at C speed: strings are cut out (by RE2, whose time is linear even for an
    unterminated string), then each round removes the innermost ``[]`` / ``{}`` pairs, at
    most *limit* rounds. Pairs left after that are nested deeper; unmatched openers left over
    (invalid JSON) count as depth too, so the parser never recurses on them.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _json_strings().subn("", text)[0])
    for _ in range(limit):
        brackets, removed = _INNERMOST_PAIR.subn("", brackets)
        if not removed:
            break
    if _INNERMOST_PAIR.search(brackets):
        return True
    return brackets.count("[") + brackets.count("{") > limit


@functools.cache
def _json_strings() -> SafePattern:
    from agentkit.tools import compile_pattern

    return compile_pattern(_JSON_STRING, dotall=True)


def _precheck(data: object) -> str | None:
    """Refuse what would make schema validation slow: ``uniqueItems`` on a long array."""
    if isinstance(data, dict) and isinstance(data.get("tags"), list):
        max_tags: int = manifest_schema()["properties"]["tags"]["maxItems"]
        if len(data["tags"]) > max_tags:
            return f'field "tags": more than {max_tags} tags'
    return None


def _clip(text: str) -> str:
    if len(text) <= _MAX_PROBLEM_CHARS:
        return text
    return text[: _MAX_PROBLEM_CHARS - 1] + "…"


def check_agentkit_version(manifest: PluginManifest, installed: str) -> None:
    """Raise :class:`PluginError` unless agentkit *installed* satisfies the manifest's needs."""
    from packaging.specifiers import SpecifierSet

    if manifest.agentkit_version is None:
        return
    if not SpecifierSet(manifest.agentkit_version).contains(installed, prereleases=True):
        raise PluginError(
            f"plugin {manifest.name!r} needs agentkit {manifest.agentkit_version},"
            f" but agentkit {installed} is installed"
        )


def module_name_for(folder: Path, name: str) -> str:
    """A private module name, unique per plugin folder: ``_agentkit_dir_plugin_<name>_<hash>``."""
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    return f"{_MODULE_PREFIX}{re.sub(r'[^0-9a-zA-Z_]', '_', name)}_{digest}"


def import_directory_plugin(plugin: DirectoryPlugin) -> ModuleType:
    """Import *plugin*'s folder as a package and return its entry module.

    A folder already imported (by another manager) is reused. When importing fails, every
    module of the plugin is forgotten, so a fixed plugin can be imported again.

    Raises:
        PluginError: The manifest is unusable or the folder has no ``__init__.py``.
        Exception: Whatever the plugin's code raised while being imported.
    """
    if plugin.manifest is None:
        raise PluginError(plugin.problem or f"{plugin.folder}: no usable {MANIFEST_NAME}")
    init_file = plugin.folder / "__init__.py"
    if not init_file.is_file():
        raise PluginError(f"{plugin.folder}: a directory plugin needs an __init__.py")
    package_name = plugin.module_name
    package = sys.modules.get(package_name)
    if package is None or getattr(package, "__file__", None) != str(init_file):
        spec = importlib.util.spec_from_file_location(
            package_name, init_file, submodule_search_locations=[str(plugin.folder)]
        )
        if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
            raise PluginError(f"{init_file}: cannot be imported")
        package = importlib.util.module_from_spec(spec)
        sys.modules[package_name] = package
        try:
            spec.loader.exec_module(package)
        except BaseException:
            forget_modules(package_name)
            raise
    entry_module = plugin.manifest.entry_module
    if entry_module == DEFAULT_ENTRY_MODULE:
        return package
    try:
        return importlib.import_module(f"{package_name}.{entry_module}")
    except BaseException:
        forget_modules(package_name)
        raise


def forget_modules(package_name: str) -> None:
    """Drop *package_name* and its submodules from ``sys.modules``."""
    for module_name in [
        name for name in sys.modules if name == package_name or name.startswith(package_name + ".")
    ]:
        del sys.modules[module_name]


@functools.cache
def manifest_schema() -> Mapping[str, Any]:
    """The JSON Schema of ``plugin.json``, read once from the installed ``agentkit`` package."""
    text = (
        importlib.resources.files("agentkit.plugins").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    )
    schema: Mapping[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(manifest_schema())


def _first_violation(data: object) -> str | None:
    """Describe the most relevant schema violation in *data*, naming the field; None if valid."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))  # type: ignore[arg-type]
    return None if error is None else _clip(_describe(error))


def _describe(error: ValidationError) -> str:
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        required = error.validator_value
        missing = [field for field in required if field not in instance]  # type: ignore[union-attr]
        return f'missing the required field "{missing[0]}"'
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        unknown = sorted(set(instance) - known)
        allowed = ", ".join(sorted(known - {"$schema"}))
        return f'unknown field "{unknown[0]}" (allowed fields: {allowed})'
    field = _field_path(error.absolute_path)
    if not field:
        return f"must be a JSON object, not {type(instance).__name__}"
    return f'field "{field}": {error.message}'


def _field_path(parts: Iterable[str | int]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path
