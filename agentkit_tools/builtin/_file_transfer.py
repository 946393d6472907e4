"""``file_copy`` and ``file_move``: whole trees copied through directory descriptors."""

from __future__ import annotations

import os
import stat
from typing import Any

from agentkit.exceptions import LimitExceededError, SandboxViolationError
from agentkit_tools.builtin._sandbox import Sandbox, split_path

__all__ = ["transfer"]

#: Skipped paths listed in a directory copy's result (the count is always complete).
_MAX_SKIPPED_SHOWN = 50


def _show(parts: tuple[str, ...]) -> str:
    return "/".join(parts) or "."


def _tree_bytes(sandbox: Sandbox, dir_fd: int) -> int:
    scan = sandbox.new_scan()
    walk = sandbox.walk(dir_fd, scan, recursive=True, hidden=True)
    return sum(e.info.st_size for e in walk if stat.S_ISREG(e.info.st_mode))


def _check_tree(sandbox: Sandbox, src_fd: int, shown: str) -> None:
    """Refuse a tree too big to copy before anything is written."""
    scan = sandbox.new_scan()
    for _entry in sandbox.walk(src_fd, scan, recursive=True, hidden=True):
        pass
    if scan.stopped_by or scan.too_deep:
        raise LimitExceededError(
            f"{shown!r} holds more than {sandbox.config.max_scan_entries:,} entries or is deeper "
            f"than {sandbox.config.max_scan_depth} levels; nothing was copied (raise "
            "ToolsConfig.max_scan_entries or max_scan_depth)"
        )


def _copy_tree(sandbox: Sandbox, src_fd: int, dst_fd: int, skipped: list[str]) -> int:
    """Copy the regular files and directories under *src_fd* into *dst_fd*."""
    total = 0
    stack: list[tuple[tuple[str, ...], int]] = [((), dst_fd)]
    try:
        for entry in sandbox.walk(src_fd, sandbox.new_scan(), recursive=True, hidden=True):
            while stack[-1][0] != entry.parts[:-1]:
                os.close(stack.pop()[1])
            target = stack[-1][1]
            if entry.kind == "directory":
                os.mkdir(entry.name, 0o755, dir_fd=target)
                stack.append((entry.parts, sandbox.directory_at(target, entry.name)))
                continue
            if entry.kind == "file" and entry.info.st_nlink == 1:
                try:
                    data = sandbox.read_at(entry.dir_fd, entry.name, entry.name)
                except (SandboxViolationError, LimitExceededError, FileNotFoundError):
                    pass
                else:
                    sandbox.create_at(
                        target, entry.name, data, mode=stat.S_IMODE(entry.info.st_mode)
                    )
                    total += len(data)
                    continue
            skipped.append("/".join(entry.parts))
    finally:
        for _, fd in stack[1:]:
            os.close(fd)
    return total


def transfer(
    sandbox: Sandbox, source: str, destination: str, *, overwrite: bool, move: bool
) -> dict[str, Any]:
    """Copy or move *source* to *destination* inside the sandbox, through descriptors.

    A symlink is never followed: copying one is refused, a directory copy leaves symlinks,
    special and hard-linked files out (counted in ``skipped``), moving one moves the link.
    """
    src, dst = split_path(source), split_path(destination)
    if not src:
        raise SandboxViolationError("the sandbox root itself cannot be copied or moved")
    with sandbox.parent(src) as src_dir:
        info = sandbox.lstat_at(src_dir, src[-1])
        if info is None:
            raise FileNotFoundError(f"no such file or directory: {source!r}")
        if stat.S_ISLNK(info.st_mode) and not move:
            raise SandboxViolationError(
                f"{source!r} is a symlink; file tools never follow symlinks"
            )
        is_dir = stat.S_ISDIR(info.st_mode)
        if is_dir and not move:
            with sandbox.directory(src) as src_fd:
                _check_tree(sandbox, src_fd, source)
        if not is_dir and sandbox.is_directory(dst):
            dst = (*dst, src[-1])
        if not dst:
            raise SandboxViolationError("the sandbox root cannot be replaced")
        if dst == src or (is_dir and dst[: len(src)] == src):
            raise ValueError(f"cannot put {source!r} inside itself")
        skipped: list[str] = []
        with sandbox.parent(dst, create=True) as dst_dir:
            existing = sandbox.lstat_at(dst_dir, dst[-1])
            if existing is not None:
                if not overwrite:
                    raise FileExistsError(
                        f"{destination!r} exists; pass overwrite=true to replace it"
                    )
                if is_dir or stat.S_ISDIR(existing.st_mode):
                    sandbox.remove_at(dst_dir, dst[-1], _show(dst), recursive=True)
            if move:
                try:
                    os.rename(src[-1], dst[-1], src_dir_fd=src_dir, dst_dir_fd=dst_dir)
                except OSError as exc:
                    raise OSError(
                        exc.errno, f"cannot move {source!r} to {destination!r}: {exc}"
                    ) from None
                size = info.st_size
                if is_dir:
                    with sandbox.directory(dst) as moved:
                        size = _tree_bytes(sandbox, moved)
            elif is_dir:
                os.mkdir(dst[-1], 0o755, dir_fd=dst_dir)
                with sandbox.directory(src) as src_fd, sandbox.directory(dst) as dst_fd:
                    size = _copy_tree(sandbox, src_fd, dst_fd, skipped)
            else:
                data = sandbox.read_at(src_dir, src[-1], source)
                sandbox.replace_at(dst_dir, dst[-1], data, mode=stat.S_IMODE(info.st_mode))
                size = len(data)
    result: dict[str, Any] = {"source": _show(src), "destination": _show(dst), "bytes": size}
    if skipped:
        result["skipped"] = len(skipped)
        result["skipped_paths"] = skipped[:_MAX_SKIPPED_SHOWN]
    return result
