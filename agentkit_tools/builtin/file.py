"""File tools, confined to ``ToolsConfig.sandbox_root``.

Every tool is a plain function made a :class:`~agentkit.tools.FunctionTool` by ``@tool``,
taking the settings as an injected ``config``: ``file_read.bind(config=ToolsConfig(...))``.

Every path is relative to the sandbox root and is opened one component at a time through
directory file descriptors (see :mod:`agentkit_tools.builtin._sandbox`): ``..`` may not climb
above the root, absolute paths are refused, and symlinks are never followed — a path through one is
refused, a copy skips them, a delete removes the link itself. Only regular files with a single
link are read or written, at most ``max_file_bytes`` each; FIFOs, sockets and devices are
refused without being waited on. Walks (``file_list``, ``file_search``, directory copies) stop
at ``max_scan_entries`` entries and ``max_scan_depth`` levels, and ``file_search`` reads at most
``max_search_bytes``; results say when a limit stopped them.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, NotRequired, TypedDict

import msgspec

from agentkit.exceptions import LimitExceededError, SandboxViolationError
from agentkit.tools import FunctionTool, Injected, SafePattern, Tool, compile_pattern, escape, tool
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._errors import typed_errors
from agentkit_tools.builtin._file_transfer import transfer
from agentkit_tools.builtin._sandbox import (
    Entry,
    Sandbox,
    glob_pattern,
    kind_of,
    split_path,
)
from agentkit_tools.builtin._typed import Shape

__all__ = [
    "TOOLS",
    "check_writable",
    "file_copy",
    "file_delete",
    "file_hash",
    "file_info",
    "file_list",
    "file_mkdir",
    "file_move",
    "file_read",
    "file_replace",
    "file_search",
    "file_tools",
    "file_write",
    "write_file_bytes",
]

Config = Annotated[ToolsConfig, Injected]
SandboxPath = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=4096,
        description="Path relative to the sandbox root, e.g. 'notes/todo.txt'",
    ),
]
Encoding = Annotated[str, msgspec.Meta(max_length=40, description="Text encoding")]
Overwrite = Annotated[bool, msgspec.Meta(description="Replace an existing destination")]
#: Lines file_search tries at once before it looks at them one by one.
_BATCH_LINES: Final = 256


def _show(parts: tuple[str, ...]) -> str:
    return "/".join(parts) or "."


def check_writable(config: ToolsConfig, path: str, *, overwrite: bool) -> str:
    """Refuse early what :func:`write_file_bytes` would refuse; return the relative path.

    Raises:
        SandboxViolationError: *path* leaves the sandbox, goes through a symlink, or names a
            symlink, a special or a hard-linked file.
        FileExistsError: *path* exists and *overwrite* is false.
        IsADirectoryError: *path* is a directory (and *overwrite* is true).
    """
    parts = split_path(path)
    shown = _show(parts)
    if not parts:
        raise IsADirectoryError("'.' is the sandbox root, a directory")
    sandbox = Sandbox(config)
    try:
        with sandbox.parent(parts) as dir_fd:
            existing = sandbox.lstat_at(dir_fd, parts[-1])
    except FileNotFoundError:
        return shown  # the directories are made when writing
    if existing is not None:
        if not overwrite:
            raise FileExistsError(f"{shown!r} exists; pass overwrite=true to replace it")
        sandbox.check_regular(existing, shown, writing=True)
    return shown


def write_file_bytes(config: ToolsConfig, path: str, data: bytes, *, overwrite: bool) -> str:
    """Write *data* to the sandbox file *path* atomically; return the relative path.

    Raises what :func:`check_writable` raises, and ``LimitExceededError`` over
    ``max_file_bytes``.
    """
    parts = split_path(path)
    check_writable(config, path, overwrite=overwrite)
    Sandbox(config).write_bytes(parts, data, mode="overwrite" if overwrite else "create")
    return _show(parts)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _lines(text: str) -> list[str]:
    """*text* split at \\n, \\r\\n and \\r, as a text-mode file reads it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and not lines[-1] else lines


def _matching_lines(
    compiled: SafePattern, quick: SafePattern | None, lines: list[str]
) -> Iterator[tuple[int, str]]:
    """The (1-based number, text) of each line *compiled* finds something in."""
    for start in range(0, len(lines), _BATCH_LINES):
        batch = lines[start : start + _BATCH_LINES]
        if quick is not None and not quick.search("\n".join(batch)):
            continue
        for offset, line in enumerate(batch):
            if compiled.search(line):
                yield start + offset + 1, line


def _decode(data: bytes, encoding: str, shown: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{shown!r} is not valid {encoding} text ({exc.reason} at byte {exc.start}); "
            "try another encoding or file_hash"
        ) from exc
    except LookupError as exc:
        raise ValueError(f"unknown encoding {encoding!r}") from exc


# -- return shapes -------------------------------------------------------------------------------


class ReadResult(TypedDict):
    """What file_read returns."""

    path: str
    content: str
    size: int
    total_lines: NotRequired[int]
    truncated: NotRequired[bool]


class WriteResult(TypedDict):
    """What file_write returns."""

    path: str
    bytes_written: int
    size: NotRequired[int]
    created: NotRequired[bool]


class TransferResult(TypedDict):
    """What file_copy and file_move return."""

    source: NotRequired[str]
    destination: str
    bytes: NotRequired[int]
    skipped: NotRequired[
        Annotated[
            int, msgspec.Meta(description="Symlinks, special and hard-linked files a copy left out")
        ]
    ]
    skipped_paths: NotRequired[list[str]]


class DeleteResult(TypedDict):
    """What file_delete returns."""

    path: str
    deleted: bool
    type: NotRequired[str]


class ListEntry(TypedDict):
    """One entry of a listing."""

    path: str
    name: str
    type: str
    size: int
    modified: str


class ListResult(TypedDict):
    """What file_list returns."""

    path: NotRequired[str]
    entries: list[ListEntry]
    count: int
    truncated: NotRequired[bool]
    stopped_by: NotRequired[
        Annotated[str, msgspec.Meta(description="The limit that ended the walk early")]
    ]


class InfoResult(TypedDict):
    """What file_info returns."""

    path: str
    exists: bool
    type: NotRequired[str]
    is_symlink: NotRequired[bool]
    size: NotRequired[int]
    modified: NotRequired[str]
    mime_type: NotRequired[str | None]


class MkdirResult(TypedDict):
    """What file_mkdir returns."""

    path: str
    created: bool


class SearchMatch(TypedDict, total=False):
    """One matching line."""

    path: str
    line: int
    text: str


class SearchResult(TypedDict):
    """What file_search returns."""

    matches: list[SearchMatch]
    count: int
    files_searched: NotRequired[int]
    files_skipped: NotRequired[
        Annotated[
            int, msgspec.Meta(description="Files over max_file_bytes, hard-linked or changed")
        ]
    ]
    bytes_searched: NotRequired[int]
    truncated: NotRequired[bool]
    stopped_by: NotRequired[
        Annotated[
            str | None,
            msgspec.Meta(
                description="The limit that ended the search early: max_results, "
                "max_search_bytes, max_scan_entries or max_scan_depth"
            ),
        ]
    ]


class HashResult(TypedDict):
    """What file_hash returns."""

    path: NotRequired[str]
    algorithm: NotRequired[str]
    hexdigest: str
    size: NotRequired[int]


class ReplaceResult(TypedDict):
    """What file_replace returns."""

    path: NotRequired[str]
    replacements: int
    size: NotRequired[int]


def _file_parts(path: str) -> tuple[str, ...]:
    parts = split_path(path)
    if not parts:
        raise IsADirectoryError("'.' is the sandbox root, a directory, not a file")
    return parts


# -- the tools -----------------------------------------------------------------------------------


@tool(
    name="file_read",
    category="file",
    tags=("file",),
    read_only=True,
    idempotent=True,
    blocking=True,
)
@typed_errors
def file_read(
    path: SandboxPath,
    encoding: Encoding = "utf-8",
    start_line: Annotated[int, msgspec.Meta(ge=1)] = 1,
    max_lines: Annotated[int, msgspec.Meta(ge=1)] | None = None,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(ReadResult)]:
    """Read a text file from the sandbox, optionally a range of lines.

    Args:
        path: Path relative to the sandbox root, e.g. 'notes/todo.txt'.
        encoding: Text encoding.
        start_line: First line (1-based).
        max_lines: Lines to return (default: all from start_line).
        config: The sandbox and its limits.
    """
    parts = _file_parts(path)
    data = Sandbox(config).read_bytes(parts)
    text = _decode(data, encoding, path)
    lines = text.splitlines(keepends=True)
    end = len(lines) if max_lines is None else start_line - 1 + max_lines
    whole = start_line == 1 and end >= len(lines)
    return {
        "path": _show(parts),
        "content": text if whole else "".join(lines[start_line - 1 : end]),
        "size": len(data),
        "total_lines": len(lines),
        "truncated": not whole,
    }


@tool(
    name="file_write",
    category="file",
    tags=("file",),
    read_only=False,
    destructive=True,
    idempotent=False,
    blocking=True,
)
@typed_errors
def file_write(
    path: SandboxPath,
    content: str,
    mode: Literal["overwrite", "append", "create"] = "overwrite",
    encoding: Encoding = "utf-8",
    create_dirs: bool = True,
    *,
    config: Config,
) -> WriteResult:
    """Write text to a file in the sandbox (overwrite, append, or create only when absent).

    Args:
        path: Path relative to the sandbox root, e.g. 'notes/todo.txt'.
        content: Text to write.
        mode: overwrite, append, or create (fails when the file exists).
        encoding: Text encoding.
        create_dirs: Create missing parent directories.
        config: The sandbox and its limits.
    """
    parts = _file_parts(path)
    try:
        data = content.encode(encoding)
    except (LookupError, UnicodeEncodeError) as exc:
        raise ValueError(f"cannot encode the content as {encoding!r}: {exc}") from exc
    try:
        created, size = Sandbox(config).write_bytes(parts, data, mode=mode, create_dirs=create_dirs)
    except FileNotFoundError as exc:
        if create_dirs:
            raise
        raise FileNotFoundError(f"the directory of {path!r} does not exist") from exc
    return {"path": _show(parts), "bytes_written": len(data), "size": size, "created": created}


@tool(
    name="file_copy",
    category="file",
    tags=("file",),
    read_only=False,
    idempotent=True,
    blocking=True,
)
@typed_errors
def file_copy(
    source: SandboxPath, destination: SandboxPath, overwrite: bool = False, *, config: Config
) -> Annotated[dict[str, Any], Shape(TransferResult)]:
    """Copy a file or directory inside the sandbox.

    Args:
        source: Sandbox-relative path of the file or directory to copy.
        destination: Sandbox-relative path of the copy.
        overwrite: Replace an existing destination.
        config: The sandbox and its limits.
    """
    return transfer(Sandbox(config), source, destination, overwrite=overwrite, move=False)


@tool(
    name="file_move",
    category="file",
    tags=("file",),
    read_only=False,
    idempotent=False,
    blocking=True,
)
@typed_errors
def file_move(
    source: SandboxPath, destination: SandboxPath, overwrite: bool = False, *, config: Config
) -> Annotated[dict[str, Any], Shape(TransferResult)]:
    """Move or rename a file or directory inside the sandbox.

    Args:
        source: Sandbox-relative path of the file or directory to move.
        destination: Sandbox-relative path it moves to.
        overwrite: Replace an existing destination.
        config: The sandbox and its limits.
    """
    return transfer(Sandbox(config), source, destination, overwrite=overwrite, move=True)


@tool(
    name="file_delete",
    category="file",
    tags=("file",),
    read_only=False,
    destructive=True,
    idempotent=True,
    blocking=True,
)
@typed_errors
def file_delete(path: SandboxPath, recursive: bool = False, *, config: Config) -> DeleteResult:
    """Delete a file, a symlink (never its target), or (with recursive) a directory.

    Args:
        path: Path relative to the sandbox root, e.g. 'notes/todo.txt'.
        recursive: Delete a directory with everything in it.
        config: The sandbox and its limits.
    """
    parts = split_path(path)
    if not parts:
        raise SandboxViolationError("the sandbox root itself cannot be deleted")
    sandbox = Sandbox(config)
    with sandbox.parent(parts) as dir_fd:
        kind = sandbox.remove_at(dir_fd, parts[-1], _show(parts), recursive=recursive)
    return {"path": _show(parts), "deleted": True, "type": kind}


@tool(
    name="file_list",
    category="file",
    tags=("file",),
    read_only=True,
    idempotent=True,
    blocking=True,
)
@typed_errors
def file_list(
    path: Annotated[str, msgspec.Meta(max_length=4096)] = ".",
    pattern: Annotated[str, msgspec.Meta(max_length=4096)] = "*",
    recursive: bool = False,
    include_hidden: bool = False,
    max_entries: Annotated[int, msgspec.Meta(ge=1, le=10000)] = 1000,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(ListResult)]:
    """List a sandbox directory, optionally recursively and by glob.

    Args:
        path: Sandbox-relative directory ('.' is the root).
        pattern: Glob on names.
        recursive: Include subdirectories' entries.
        include_hidden: Include names starting with '.'.
        max_entries: Most entries returned.
        config: The sandbox and its limits.
    """
    sandbox = Sandbox(config)
    parts = split_path(path)
    matcher = glob_pattern(pattern)
    entries: list[dict[str, Any]] = []
    scan = sandbox.new_scan()
    truncated = False
    with sandbox.directory(parts) as dir_fd:
        for entry in sandbox.walk(dir_fd, scan, recursive=recursive, hidden=include_hidden):
            if not matcher.fullmatch(entry.name):
                continue
            if len(entries) >= max_entries:
                truncated = True
                break
            entries.append(
                {
                    "path": "/".join(parts + entry.parts),
                    "name": entry.name,
                    "type": entry.kind,
                    "size": entry.info.st_size,
                    "modified": _iso(entry.info.st_mtime),
                }
            )
    result: dict[str, Any] = {
        "path": _show(parts),
        "entries": entries,
        "count": len(entries),
        "truncated": truncated or scan.limit_hit is not None,
    }
    if scan.limit_hit:
        result["stopped_by"] = scan.limit_hit
    return result


@tool(
    name="file_info",
    category="file",
    tags=("file",),
    read_only=True,
    idempotent=True,
    blocking=True,
)
@typed_errors
def file_info(path: SandboxPath, *, config: Config) -> InfoResult:
    """Whether a path exists, and its type, size, time and MIME type.

    Args:
        path: Path relative to the sandbox root, e.g. 'notes/todo.txt'.
        config: The sandbox and its limits.
    """
    sandbox = Sandbox(config)
    parts = split_path(path)
    try:
        with sandbox.parent(parts) if parts else sandbox.directory(()) as dir_fd:
            info = sandbox.lstat_at(dir_fd, parts[-1]) if parts else os.fstat(dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        info = None
    if info is None:
        return {"path": path, "exists": False}
    regular = stat.S_ISREG(info.st_mode)
    return {
        "path": _show(parts),
        "exists": True,
        "type": kind_of(info.st_mode),
        "is_symlink": stat.S_ISLNK(info.st_mode),
        "size": info.st_size,
        "modified": _iso(info.st_mtime),
        "mime_type": mimetypes.guess_type(parts[-1])[0] if regular else None,
    }


@tool(
    name="file_mkdir",
    category="file",
    tags=("file",),
    read_only=False,
    idempotent=True,
    blocking=True,
)
@typed_errors
def file_mkdir(path: SandboxPath, parents: bool = True, *, config: Config) -> MkdirResult:
    """Create a directory (and its parents) in the sandbox.

    Args:
        path: Path relative to the sandbox root, e.g. 'notes/todo.txt'.
        parents: Create missing parent directories too.
        config: The sandbox and its limits.
    """
    sandbox = Sandbox(config)
    parts = split_path(path)
    if not parts:
        return {"path": ".", "created": False}
    with sandbox.parent(parts, create=parents) as dir_fd:
        try:
            os.mkdir(parts[-1], 0o755, dir_fd=dir_fd)
        except FileExistsError:
            info = sandbox.lstat_at(dir_fd, parts[-1])
            if info is not None and stat.S_ISDIR(info.st_mode):
                return {"path": _show(parts), "created": False}
            kind = kind_of(info.st_mode) if info is not None else "file"
            raise FileExistsError(f"{path!r} exists and is a {kind}") from None
    return {"path": _show(parts), "created": True}


@tool(
    name="file_search",
    category="file",
    tags=("file",),
    read_only=True,
    idempotent=True,
    blocking=True,
)
@typed_errors
def file_search(
    pattern: Annotated[str, msgspec.Meta(min_length=1, max_length=500)],
    path: Annotated[str, msgspec.Meta(max_length=4096)] = ".",
    glob: Annotated[str, msgspec.Meta(max_length=4096)] = "*",
    regex: bool = False,
    case_sensitive: bool = False,
    max_results: Annotated[int, msgspec.Meta(ge=1, le=10000)] = 100,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(SearchResult)]:
    """Find lines matching text or a regex in sandbox files (grep).

    Args:
        pattern: The text (or, with regex, the RE2 regular expression) to find.
        path: Sandbox-relative file or directory to search.
        glob: Which files, e.g. '*.py'.
        regex: Treat pattern as a regular expression.
        case_sensitive: Match case exactly.
        max_results: Most matching lines returned.
        config: The sandbox and its limits.
    """
    sandbox = Sandbox(config)
    source = pattern if regex else escape(pattern)
    compiled = compile_pattern(source, ignore_case=not case_sensitive)
    # Whole batches of lines are tried first with ^ and $ at line breaks; a batch without
    # a match skips its lines. \A, \z and inline flags such as (?-m) mean something else
    # in a batch than in a line, so such patterns are tried line by line only.
    quick = (
        None
        if any(marker in source for marker in ("\\A", "\\z", "(?"))
        else compile_pattern(source, ignore_case=not case_sensitive, multiline=True)
    )
    matcher = glob_pattern(glob)
    parts = split_path(path)
    matches: list[dict[str, Any]] = []
    searched = skipped = scanned = 0
    stopped_by: str | None = None

    def search(entry: Entry, shown: str) -> str | None:
        """Search one file; return the limit that stops the search, if one does."""
        nonlocal searched, skipped, scanned
        size = entry.info.st_size
        if size > config.max_file_bytes or entry.info.st_nlink > 1:
            skipped += 1
            return None
        if scanned + size > config.max_search_bytes:
            return "max_search_bytes"
        try:
            data = sandbox.read_at(entry.dir_fd, entry.name, shown)
        except (SandboxViolationError, LimitExceededError, FileNotFoundError):
            skipped += 1  # changed since it was listed
            return None
        scanned += len(data)
        searched += 1
        lines = _lines(data.decode("utf-8", "replace"))
        for number, line in _matching_lines(compiled, quick, lines):
            matches.append({"path": shown, "line": number, "text": line[:500]})
            if len(matches) >= max_results:
                return "max_results"
        return None

    scan = sandbox.new_scan()
    if parts and not sandbox.is_directory(parts):
        with sandbox.parent(parts) as dir_fd:
            info = sandbox.lstat_at(dir_fd, parts[-1])
            if info is None:
                raise FileNotFoundError(f"no such file or directory: {path!r}")
            stopped_by = search(Entry(parts, info, dir_fd), _show(parts))
    else:
        with sandbox.directory(parts) as dir_fd:
            for entry in sandbox.walk(dir_fd, scan, recursive=True, hidden=True):
                relative = "/".join(entry.parts)
                if entry.kind == "file" and matcher.fullmatch(relative):
                    stopped_by = search(entry, "/".join(parts + entry.parts))
                    if stopped_by:
                        break
    stopped_by = stopped_by or scan.limit_hit
    return {
        "matches": matches,
        "count": len(matches),
        "files_searched": searched,
        "files_skipped": skipped,
        "bytes_searched": scanned,
        "truncated": stopped_by is not None,
        "stopped_by": stopped_by,
    }


@tool(
    name="file_hash",
    category="file",
    tags=("file",),
    read_only=True,
    idempotent=True,
    blocking=True,
)
@typed_errors
def file_hash(
    path: SandboxPath,
    algorithm: Literal["sha256", "sha1", "md5", "sha512", "blake2b"] = "sha256",
    *,
    config: Config,
) -> HashResult:
    """Checksum of a sandbox file (sha256, sha1, md5, sha512, blake2b).

    Args:
        path: Path relative to the sandbox root, e.g. 'notes/todo.txt'.
        algorithm: The hash function.
        config: The sandbox and its limits.
    """
    parts = _file_parts(path)
    digest = hashlib.new(algorithm)
    data = Sandbox(config).read_bytes(parts)
    digest.update(data)
    return {
        "path": _show(parts),
        "algorithm": algorithm,
        "hexdigest": digest.hexdigest(),
        "size": len(data),
    }


@tool(
    name="file_replace",
    category="file",
    tags=("file",),
    read_only=False,
    destructive=True,
    idempotent=False,
    blocking=True,
)
@typed_errors
def file_replace(
    path: SandboxPath,
    old: Annotated[str, msgspec.Meta(min_length=1)],
    new: str,
    count: Annotated[int, msgspec.Meta(ge=0)] = 0,
    *,
    config: Config,
) -> ReplaceResult:
    """Replace exact text in a sandbox file (all or the first N).

    Args:
        path: Path relative to the sandbox root, e.g. 'notes/todo.txt'.
        old: The exact text to replace.
        new: What replaces it.
        count: How many occurrences to replace; 0 replaces all.
        config: The sandbox and its limits.
    """
    sandbox = Sandbox(config)
    parts = _file_parts(path)
    data = sandbox.read_bytes(parts)
    text = _decode(data, "utf-8", path)
    found = text.count(old)
    if found == 0:
        raise ValueError(f"{old!r} does not occur in {path!r}; nothing was changed")
    replacements = min(found, count) if count > 0 else found
    try:
        growth = len(new.encode()) - len(old.encode())
    except UnicodeEncodeError as exc:
        raise ValueError(f"the text cannot be written as UTF-8: {exc}") from exc
    size = len(data) + replacements * growth
    if size > config.max_file_bytes:
        raise sandbox.over_limit(size, path)
    replaced = text.replace(old, new, replacements).encode()
    sandbox.write_bytes(parts, replaced, create_dirs=False)
    return {"path": _show(parts), "replacements": replacements, "size": len(replaced)}


TOOLS: tuple[FunctionTool[..., Any], ...] = (
    file_copy,
    file_delete,
    file_hash,
    file_info,
    file_list,
    file_mkdir,
    file_move,
    file_read,
    file_replace,
    file_search,
    file_write,
)


def file_tools(config: ToolsConfig) -> list[Tool]:
    """The file tools, bound to *config*'s sandbox."""
    return [each.bind(config=config) if each.injected else each for each in TOOLS]
