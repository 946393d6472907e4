"""File tools, confined to ``ToolsConfig.sandbox_root``.

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
from typing import Any, Final

from agentkit.exceptions import LimitExceededError, SandboxViolationError
from agentkit.tools import SafePattern, Tool, compile_pattern, escape
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._file_transfer import transfer
from agentkit_tools.builtin._sandbox import (
    Entry,
    Sandbox,
    glob_pattern,
    kind_of,
    split_path,
)
from agentkit_tools.builtin._schema import array, boolean, integer, make_tool, obj, string

__all__ = ["check_writable", "file_tools", "write_file_bytes"]

_PATH = string(
    "Path relative to the sandbox root, e.g. 'notes/todo.txt'", minLength=1, maxLength=4096
)
_ENCODING = string("Text encoding", default="utf-8", maxLength=40)
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


def file_tools(config: ToolsConfig) -> list[Tool]:
    """The file tools, bound to *config*'s sandbox."""
    sandbox = Sandbox(config)

    def file_parts(path: str) -> tuple[str, ...]:
        parts = split_path(path)
        if not parts:
            raise IsADirectoryError("'.' is the sandbox root, a directory, not a file")
        return parts

    def file_read(
        path: str, encoding: str = "utf-8", start_line: int = 1, max_lines: int | None = None
    ) -> dict[str, Any]:
        parts = file_parts(path)
        data = sandbox.read_bytes(parts)
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

    def file_write(
        path: str,
        content: str,
        mode: str = "overwrite",
        encoding: str = "utf-8",
        create_dirs: bool = True,
    ) -> dict[str, Any]:
        parts = file_parts(path)
        try:
            data = content.encode(encoding)
        except (LookupError, UnicodeEncodeError) as exc:
            raise ValueError(f"cannot encode the content as {encoding!r}: {exc}") from exc
        try:
            created, size = sandbox.write_bytes(parts, data, mode=mode, create_dirs=create_dirs)
        except FileNotFoundError as exc:
            if create_dirs:
                raise
            raise FileNotFoundError(f"the directory of {path!r} does not exist") from exc
        return {
            "path": _show(parts),
            "bytes_written": len(data),
            "size": size,
            "created": created,
        }

    def file_copy(source: str, destination: str, overwrite: bool = False) -> dict[str, Any]:
        return transfer(sandbox, source, destination, overwrite=overwrite, move=False)

    def file_move(source: str, destination: str, overwrite: bool = False) -> dict[str, Any]:
        return transfer(sandbox, source, destination, overwrite=overwrite, move=True)

    def file_delete(path: str, recursive: bool = False) -> dict[str, Any]:
        parts = split_path(path)
        if not parts:
            raise SandboxViolationError("the sandbox root itself cannot be deleted")
        with sandbox.parent(parts) as dir_fd:
            kind = sandbox.remove_at(dir_fd, parts[-1], _show(parts), recursive=recursive)
        return {"path": _show(parts), "deleted": True, "type": kind}

    def file_list(
        path: str = ".",
        pattern: str = "*",
        recursive: bool = False,
        include_hidden: bool = False,
        max_entries: int = 1000,
    ) -> dict[str, Any]:
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

    def file_info(path: str) -> dict[str, Any]:
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

    def file_mkdir(path: str, parents: bool = True) -> dict[str, Any]:
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

    def file_search(
        pattern: str,
        path: str = ".",
        glob: str = "*",
        regex: bool = False,
        case_sensitive: bool = False,
        max_results: int = 100,
    ) -> dict[str, Any]:
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

    def file_hash(path: str, algorithm: str = "sha256") -> dict[str, Any]:
        parts = file_parts(path)
        digest = hashlib.new(algorithm)
        data = sandbox.read_bytes(parts)
        digest.update(data)
        return {
            "path": _show(parts),
            "algorithm": algorithm,
            "hexdigest": digest.hexdigest(),
            "size": len(data),
        }

    def file_replace(path: str, old: str, new: str, count: int = 0) -> dict[str, Any]:
        parts = file_parts(path)
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

    entry_schema = obj(
        {
            "path": string(),
            "name": string(),
            "type": string(),
            "size": integer(),
            "modified": string(),
        },
        closed=False,
    )
    # file_copy and file_move take and return the same things.
    transfer_parameters = obj(
        {"source": _PATH, "destination": _PATH, "overwrite": boolean(default=False)},
        ["source", "destination"],
    )
    transfer_returns = obj(
        {
            "source": string(),
            "destination": string(),
            "bytes": integer(),
            "skipped": integer("Symlinks, special and hard-linked files a copy left out"),
            "skipped_paths": array(string()),
        },
        ["destination"],
    )
    return [
        make_tool(
            file_read,
            name="file_read",
            category="file",
            blocking=True,
            description="Read a text file from the sandbox, optionally a range of lines.",
            parameters=obj(
                {
                    "path": _PATH,
                    "encoding": _ENCODING,
                    "start_line": integer("First line (1-based)", minimum=1, default=1),
                    "max_lines": integer("Lines to return", minimum=1),
                },
                ["path"],
            ),
            returns=obj(
                {
                    "path": string(),
                    "content": string(),
                    "size": integer(),
                    "total_lines": integer(),
                    "truncated": boolean(),
                },
                ["path", "content", "size"],
            ),
        ),
        make_tool(
            file_write,
            name="file_write",
            category="file",
            blocking=True,
            read_only=False,
            destructive=True,
            idempotent=False,
            description="Write text to a file in the sandbox (overwrite, append, or "
            "create only when absent).",
            parameters=obj(
                {
                    "path": _PATH,
                    "content": string("Text to write"),
                    "mode": string(enum=["overwrite", "append", "create"], default="overwrite"),
                    "encoding": _ENCODING,
                    "create_dirs": boolean("Create missing parent directories", default=True),
                },
                ["path", "content"],
            ),
            returns=obj(
                {
                    "path": string(),
                    "bytes_written": integer(),
                    "size": integer(),
                    "created": boolean(),
                },
                ["path", "bytes_written"],
            ),
        ),
        make_tool(
            file_copy,
            name="file_copy",
            category="file",
            blocking=True,
            read_only=False,
            description="Copy a file or directory inside the sandbox.",
            parameters=transfer_parameters,
            returns=transfer_returns,
        ),
        make_tool(
            file_move,
            name="file_move",
            category="file",
            blocking=True,
            read_only=False,
            idempotent=False,
            description="Move or rename a file or directory inside the sandbox.",
            parameters=transfer_parameters,
            returns=transfer_returns,
        ),
        make_tool(
            file_delete,
            name="file_delete",
            category="file",
            blocking=True,
            read_only=False,
            destructive=True,
            description="Delete a file, a symlink (never its target), or (with recursive) a "
            "directory.",
            parameters=obj({"path": _PATH, "recursive": boolean(default=False)}, ["path"]),
            returns=obj(
                {"path": string(), "deleted": boolean(), "type": string()}, ["path", "deleted"]
            ),
        ),
        make_tool(
            file_list,
            name="file_list",
            category="file",
            blocking=True,
            description="List a sandbox directory, optionally recursively and by glob.",
            parameters=obj(
                {
                    "path": string(default=".", maxLength=4096),
                    "pattern": string("Glob on names", default="*", maxLength=4096),
                    "recursive": boolean(default=False),
                    "include_hidden": boolean(default=False),
                    "max_entries": integer(minimum=1, maximum=10000, default=1000),
                }
            ),
            returns=obj(
                {
                    "path": string(),
                    "entries": array(entry_schema),
                    "count": integer(),
                    "truncated": boolean(),
                    "stopped_by": string("The limit that ended the walk early"),
                },
                ["entries", "count"],
            ),
        ),
        make_tool(
            file_info,
            name="file_info",
            category="file",
            blocking=True,
            description="Whether a path exists, and its type, size, time and MIME type.",
            parameters=obj({"path": _PATH}, ["path"]),
            returns=obj(
                {
                    "path": string(),
                    "exists": boolean(),
                    "type": string(),
                    "is_symlink": boolean(),
                    "size": integer(),
                    "modified": string(),
                    "mime_type": {"type": ["string", "null"]},
                },
                ["path", "exists"],
            ),
        ),
        make_tool(
            file_mkdir,
            name="file_mkdir",
            category="file",
            blocking=True,
            read_only=False,
            description="Create a directory (and its parents) in the sandbox.",
            parameters=obj({"path": _PATH, "parents": boolean(default=True)}, ["path"]),
            returns=obj({"path": string(), "created": boolean()}, ["path", "created"]),
        ),
        make_tool(
            file_search,
            name="file_search",
            category="file",
            blocking=True,
            description="Find lines matching text or a regex in sandbox files (grep).",
            parameters=obj(
                {
                    "pattern": string(minLength=1, maxLength=500),
                    "path": string(default=".", maxLength=4096),
                    "glob": string("Which files, e.g. '*.py'", default="*", maxLength=4096),
                    "regex": boolean(default=False),
                    "case_sensitive": boolean(default=False),
                    "max_results": integer(minimum=1, maximum=10000, default=100),
                },
                ["pattern"],
            ),
            returns=obj(
                {
                    "matches": array(obj({"path": string(), "line": integer(), "text": string()})),
                    "count": integer(),
                    "files_searched": integer(),
                    "files_skipped": integer("Files over max_file_bytes, hard-linked or changed"),
                    "bytes_searched": integer(),
                    "truncated": boolean(),
                    "stopped_by": {
                        "type": ["string", "null"],
                        "description": "The limit that ended the search early: max_results, "
                        "max_search_bytes, max_scan_entries or max_scan_depth",
                    },
                },
                ["matches", "count"],
            ),
        ),
        make_tool(
            file_hash,
            name="file_hash",
            category="file",
            blocking=True,
            description="Checksum of a sandbox file (sha256, sha1, md5, sha512, blake2b).",
            parameters=obj(
                {
                    "path": _PATH,
                    "algorithm": string(
                        enum=["sha256", "sha1", "md5", "sha512", "blake2b"], default="sha256"
                    ),
                },
                ["path"],
            ),
            returns=obj(
                {"path": string(), "algorithm": string(), "hexdigest": string(), "size": integer()},
                ["hexdigest"],
            ),
        ),
        make_tool(
            file_replace,
            name="file_replace",
            category="file",
            blocking=True,
            read_only=False,
            destructive=True,
            idempotent=False,
            description="Replace exact text in a sandbox file (all or the first N).",
            parameters=obj(
                {
                    "path": _PATH,
                    "old": string(minLength=1),
                    "new": string(),
                    "count": integer("0 replaces all", minimum=0, default=0),
                },
                ["path", "old", "new"],
            ),
            returns=obj(
                {"path": string(), "replacements": integer(), "size": integer()}, ["replacements"]
            ),
        ),
    ]
