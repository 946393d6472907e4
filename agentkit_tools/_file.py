"""File tools, confined to ``ToolsConfig.sandbox_root``.

Every path is relative to the sandbox root. Absolute paths are refused, and a path that leaves
the root — through ``..`` or through a symlink, anywhere along the path — is refused after the
real path is worked out. Copies keep symlinks as links, so a link pointing outside is never
followed to read outside data.
"""

from __future__ import annotations

import fnmatch
import hashlib
import mimetypes
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentkit._tool import Tool
from agentkit.exceptions import SandboxViolationError
from agentkit_tools._config import ToolsConfig
from agentkit_tools._schema import array, boolean, integer, make_tool, obj, string

__all__ = ["file_tools", "relative_path", "sandbox_path", "write_file_bytes"]

_PATH = string(
    "Path relative to the sandbox root, e.g. 'notes/todo.txt'", minLength=1, maxLength=4096
)
_ENCODING = string("Text encoding", default="utf-8", maxLength=40)


def sandbox_path(config: ToolsConfig, path: str) -> Path:
    """The real path of *path* inside the sandbox.

    Raises:
        SandboxViolationError: *path* is absolute or leads outside the sandbox root.
        ValueError: *path* is empty or holds a NUL byte.
    """
    if not path or "\x00" in path:
        raise ValueError("path must be a non-empty string without NUL bytes")
    if os.path.isabs(path) or path.startswith(("\\", "~")) or re.match(r"^[A-Za-z]:", path):
        raise SandboxViolationError(
            f"absolute path {path!r} refused: give a path relative to the sandbox root"
        )
    root = config.root
    real = Path(os.path.realpath(root / path))
    if real != root and root not in real.parents:
        raise SandboxViolationError(f"path {path!r} leads outside the sandbox root")
    return real


def relative_path(config: ToolsConfig, real: Path) -> str:
    """*real* as a POSIX path relative to the sandbox root ('.' for the root)."""
    return real.relative_to(config.root).as_posix() or "."


def write_file_bytes(real: Path, data: bytes, *, append: bool = False) -> None:
    """Write *data* to the sandbox file *real* (mode 0o644), replacing or appending.

    The last path component is opened with ``O_NOFOLLOW`` where the system has it, so a
    symlink put there after *real* was checked is refused instead of followed.
    """
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= os.O_APPEND if append else os.O_TRUNC
    with os.fdopen(os.open(real, flags, 0o644), "wb") as handle:
        handle.write(data)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _kind(path: Path) -> str:
    if path.is_symlink():
        return "symlink"
    return "directory" if path.is_dir() else "file"


def file_tools(config: ToolsConfig) -> list[Tool]:
    """The file tools, bound to *config*'s sandbox."""

    def existing_file(path: str) -> Path:
        real = sandbox_path(config, path)
        if not real.exists():
            raise FileNotFoundError(f"no such file: {path!r}")
        if real.is_dir():
            raise IsADirectoryError(f"{path!r} is a directory, not a file")
        if real.stat().st_size > config.max_file_bytes:
            raise ValueError(f"{path!r} is larger than the {config.max_file_bytes}-byte limit")
        return real

    def file_read(
        path: str, encoding: str = "utf-8", start_line: int = 1, max_lines: int | None = None
    ) -> dict[str, Any]:
        real = existing_file(path)
        try:
            text = real.read_text(encoding=encoding)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path!r} is not valid {encoding} text ({exc.reason} at byte {exc.start}); "
                "try another encoding or file_hash"
            ) from exc
        except LookupError as exc:
            raise ValueError(f"unknown encoding {encoding!r}") from exc
        lines = text.splitlines(keepends=True)
        end = len(lines) if max_lines is None else start_line - 1 + max_lines
        selected = lines[start_line - 1 : end]
        whole = start_line == 1 and end >= len(lines)
        return {
            "path": relative_path(config, real),
            "content": text if whole else "".join(selected),
            "size": real.stat().st_size,
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
        real = sandbox_path(config, path)
        data = content.encode(encoding) if encoding != "utf-8" else content.encode()
        if real.is_dir():
            raise IsADirectoryError(f"{path!r} is a directory")
        existed = real.exists()
        if mode == "create" and existed:
            raise FileExistsError(f"{path!r} exists and mode is 'create'")
        previous = real.stat().st_size if existed and mode == "append" else 0
        if previous + len(data) > config.max_file_bytes:
            raise ValueError(f"the file would exceed the {config.max_file_bytes}-byte limit")
        if create_dirs:
            real.parent.mkdir(parents=True, exist_ok=True)
        elif not real.parent.is_dir():
            raise FileNotFoundError(f"the directory of {path!r} does not exist")
        write_file_bytes(real, data, append=mode == "append")
        return {
            "path": relative_path(config, real),
            "bytes_written": len(data),
            "size": real.stat().st_size,
            "created": not existed,
        }

    def _transfer(source: str, destination: str, overwrite: bool, move: bool) -> dict[str, Any]:
        src = sandbox_path(config, source)
        dst = sandbox_path(config, destination)
        if not src.exists():
            raise FileNotFoundError(f"no such file or directory: {source!r}")
        if src == config.root:
            raise SandboxViolationError("the sandbox root itself cannot be copied or moved")
        if dst.is_dir() and not src.is_dir():
            dst = dst / src.name
        if dst.exists():
            if not overwrite:
                raise FileExistsError(f"{destination!r} exists; pass overwrite=true to replace it")
            if dst.is_dir() and not dst.is_symlink():
                shutil.rmtree(dst)
            else:
                dst.unlink()
        if src.is_dir() and (dst == src or src in dst.parents):
            raise ValueError(f"cannot put {source!r} inside itself")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if move:
            shutil.move(src, dst)
        elif src.is_dir():
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
        size = (
            sum(p.stat().st_size for p in dst.rglob("*") if p.is_file())
            if dst.is_dir()
            else dst.stat().st_size
        )
        return {
            "source": relative_path(config, src),
            "destination": relative_path(config, dst),
            "bytes": size,
        }

    def file_copy(source: str, destination: str, overwrite: bool = False) -> dict[str, Any]:
        return _transfer(source, destination, overwrite, move=False)

    def file_move(source: str, destination: str, overwrite: bool = False) -> dict[str, Any]:
        return _transfer(source, destination, overwrite, move=True)

    def file_delete(path: str, recursive: bool = False) -> dict[str, Any]:
        parent_rel, name = os.path.split(path.rstrip("/"))
        if name not in ("", ".", ".."):
            # A symlink is removed itself (even one pointing outside), never its target.
            lexical = sandbox_path(config, parent_rel or ".") / name
            if lexical.is_symlink():
                lexical.unlink()
                return {"path": relative_path(config, lexical), "deleted": True, "type": "symlink"}
        real = sandbox_path(config, path)
        if real == config.root:
            raise SandboxViolationError("the sandbox root itself cannot be deleted")
        if not real.exists():
            raise FileNotFoundError(f"no such file or directory: {path!r}")
        kind = _kind(real)
        if real.is_dir():
            if any(real.iterdir()) and not recursive:
                raise OSError(f"{path!r} is a non-empty directory; pass recursive=true")
            shutil.rmtree(real)
        else:
            real.unlink()
        return {"path": relative_path(config, real), "deleted": True, "type": kind}

    def file_list(
        path: str = ".",
        pattern: str = "*",
        recursive: bool = False,
        include_hidden: bool = False,
        max_entries: int = 1000,
    ) -> dict[str, Any]:
        real = sandbox_path(config, path)
        if not real.is_dir():
            raise NotADirectoryError(f"{path!r} is not a directory")
        entries: list[dict[str, Any]] = []
        candidates = real.rglob("*") if recursive else real.iterdir()
        truncated = False
        for entry in sorted(candidates):
            rel = entry.relative_to(real)
            if not include_hidden and any(part.startswith(".") for part in rel.parts):
                continue
            if not fnmatch.fnmatch(entry.name, pattern):
                continue
            if len(entries) >= max_entries:
                truncated = True
                break
            info = entry.lstat()
            entries.append(
                {
                    "path": relative_path(config, real) + "/" + rel.as_posix()
                    if path not in (".", "")
                    else rel.as_posix(),
                    "name": entry.name,
                    "type": _kind(entry),
                    "size": info.st_size,
                    "modified": _iso(info.st_mtime),
                }
            )
        return {
            "path": relative_path(config, real),
            "entries": entries,
            "count": len(entries),
            "truncated": truncated,
        }

    def file_info(path: str) -> dict[str, Any]:
        real = sandbox_path(config, path)
        lexical = config.root / path
        if not real.exists():
            return {"path": path, "exists": False}
        info = real.stat()
        return {
            "path": relative_path(config, real),
            "exists": True,
            "type": "directory" if real.is_dir() else "file",
            "is_symlink": lexical.is_symlink(),
            "size": info.st_size,
            "modified": _iso(info.st_mtime),
            "mime_type": mimetypes.guess_type(real.name)[0] if real.is_file() else None,
        }

    def file_mkdir(path: str, parents: bool = True) -> dict[str, Any]:
        real = sandbox_path(config, path)
        existed = real.is_dir()
        if real.exists() and not existed:
            raise FileExistsError(f"{path!r} exists and is not a directory")
        real.mkdir(parents=parents, exist_ok=True)
        return {"path": relative_path(config, real), "created": not existed}

    def file_search(
        pattern: str,
        path: str = ".",
        glob: str = "*",
        regex: bool = False,
        case_sensitive: bool = False,
        max_results: int = 100,
    ) -> dict[str, Any]:
        real = sandbox_path(config, path)
        flags = 0 if case_sensitive else re.IGNORECASE
        try:
            compiled = re.compile(pattern if regex else re.escape(pattern), flags)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        files = [real] if real.is_file() else sorted(real.rglob(glob))
        matches: list[dict[str, Any]] = []
        searched = 0
        truncated = False
        for file in files:
            if truncated:
                break
            if file.is_symlink() or not file.is_file():
                continue
            if file.stat().st_size > config.max_file_bytes:
                continue
            searched += 1
            with file.open(encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, start=1):
                    if compiled.search(line):
                        matches.append(
                            {
                                "path": relative_path(config, file),
                                "line": number,
                                "text": line.rstrip("\n")[:500],
                            }
                        )
                        if len(matches) >= max_results:
                            truncated = True
                            break
        return {
            "matches": matches,
            "count": len(matches),
            "files_searched": searched,
            "truncated": truncated,
        }

    def file_hash(path: str, algorithm: str = "sha256") -> dict[str, Any]:
        real = sandbox_path(config, path)
        if not real.is_file():
            raise FileNotFoundError(f"no such file: {path!r}")
        digest = hashlib.new(algorithm)
        with real.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
        return {
            "path": relative_path(config, real),
            "algorithm": algorithm,
            "hexdigest": digest.hexdigest(),
            "size": real.stat().st_size,
        }

    def file_replace(path: str, old: str, new: str, count: int = 0) -> dict[str, Any]:
        real = existing_file(path)
        text = real.read_text(encoding="utf-8")
        found = text.count(old)
        if found == 0:
            raise ValueError(f"{old!r} does not occur in {path!r}; nothing was changed")
        replaced = text.replace(old, new, count if count > 0 else -1)
        real.write_text(replaced, encoding="utf-8")
        return {
            "path": relative_path(config, real),
            "replacements": min(found, count or found),
            "size": real.stat().st_size,
        }

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
        {"source": string(), "destination": string(), "bytes": integer()}, ["destination"]
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
            description="Delete a file, a symlink, or (with recursive) a directory.",
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
                    "pattern": string("Glob on names", default="*"),
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
                    "glob": string("Which files, e.g. '*.py'", default="*"),
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
                    "truncated": boolean(),
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
