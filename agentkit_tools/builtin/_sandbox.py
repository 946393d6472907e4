"""Race-free access to the file sandbox through directory file descriptors.

Every path is split into components and opened one component at a time, each relative to the
file descriptor of its parent (``openat``) with ``O_NOFOLLOW``, starting from a descriptor of
the sandbox root. A symlink anywhere along a path is refused, never followed, and a directory
swapped for a symlink between a check and a use cannot redirect the operation: the next
``openat`` through it fails. Files are opened the same way and checked with ``fstat`` on the
open descriptor: only regular files with a single link (a hard link may share its data with a
file outside) and at most ``max_file_bytes`` long are read or written. Writes go to a temporary
name and are renamed into place relative to the same parent descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from agentkit.exceptions import LimitExceededError, SandboxViolationError
from agentkit.tools import SafePattern, compile_pattern, escape
from agentkit_tools.builtin._config import ToolsConfig

__all__ = ["Entry", "Sandbox", "Scan", "glob_pattern", "kind_of", "split_path"]

#: Longest path or glob accepted, in characters.
MAX_PATH_CHARS: Final = 4096
#: Longest single file name, in bytes (the Linux limit).
MAX_NAME_BYTES: Final = 255
#: Deepest directory tree one recursive delete removes (shutil.rmtree recurses per level).
MAX_DELETE_DEPTH: Final = 256

_DIR_FLAGS: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO or device swapped in after the lstat is opened without waiting for a
# writer, then refused by the fstat check.
_READ_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_APPEND_FLAGS: Final = (
    os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
)
_CREATE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK: Final = 1 << 16


def _absolute(path: str) -> bool:
    """Whether *path* is absolute here or elsewhere (``/x``, ``\\x``, ``~x``, ``C:x``)."""
    return path.startswith(("/", "\\", "~")) or (path[1:2] == ":" and path[:1].isalpha())


def split_path(path: str) -> tuple[str, ...]:
    """The components of the sandbox-relative *path*, with ``.`` and ``..`` worked out.

    ``()`` is the sandbox root. ``..`` is resolved on the text alone, which is exact because
    no symlink is ever followed.

    Raises:
        SandboxViolationError: *path* is empty, holds a NUL byte or a lone surrogate, is
            absolute or climbs above the sandbox root.
        LimitExceededError: *path* is longer than 4096 characters or a component longer than
            255 bytes.
    """
    if not isinstance(path, str) or not path:
        raise SandboxViolationError("the path is empty: give a path relative to the sandbox root")
    _refuse_unsafe(path, "path", "give a path relative to the sandbox root")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise SandboxViolationError(f"path {path!r} leads outside the sandbox root")
            parts.pop()
        else:
            try:
                size = len(os.fsencode(part))
            except UnicodeEncodeError:
                raise SandboxViolationError(
                    f"path {path!r} holds characters no file name can have (lone surrogates)"
                ) from None
            if size > MAX_NAME_BYTES:
                raise LimitExceededError(
                    f"the path component {part[:40]!r}... is {size} bytes long, over the file "
                    f"system's limit of {MAX_NAME_BYTES}"
                )
            parts.append(part)
    return tuple(parts)


def _refuse_unsafe(text: str, what: str, fix: str) -> None:
    """Refuse a *what* (path or glob) that is too long, holds a NUL or is absolute."""
    if len(text) > MAX_PATH_CHARS:
        raise LimitExceededError(
            f"a {what} of {len(text):,} characters is over the limit of {MAX_PATH_CHARS:,}"
        )
    if "\x00" in text:
        raise SandboxViolationError(f"{what} {text!r} holds a NUL byte")
    if text.startswith(("/", "\\", "~")) or (
        len(text) > 1 and text[1] == ":" and text[0].isalpha()
    ):
        raise SandboxViolationError(f"absolute {what} {text!r} refused: {fix}")


def glob_pattern(glob: str) -> SafePattern:
    """A linear-time pattern for *glob*, matched against a whole relative POSIX path.

    Like ``Path.rglob``: the glob may match at any depth (``*.py`` finds ``a/b/c.py``); ``*``
    and ``?`` stay within one component, ``**`` spans components, ``[...]`` is a character
    class (``[!...]`` negated).

    Raises:
        SandboxViolationError: the glob holds a NUL byte, is absolute or has a ``..`` part.
        PatternError: a malformed character class.
        LimitExceededError: the glob is longer than 4096 characters.
    """
    _refuse_unsafe(glob, "glob", "globs match paths inside the search directory")
    if ".." in glob.split("/"):
        raise SandboxViolationError(
            f"glob {glob!r} has a '..' part: globs only match paths inside the search directory"
        )
    return compile_pattern("(?:.*/)?" + _translate(glob.strip("/") or "*"), dotall=True)


def _translate(glob: str) -> str:
    out: list[str] = []
    index, size = 0, len(glob)
    while index < size:
        char = glob[index]
        index += 1
        if char == "*":
            if index < size and glob[index] == "*":
                index += 1
                if index < size and glob[index] == "/":
                    index += 1
                    out.append("(?:.*/)?")
                else:
                    out.append(".*")
            else:
                out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = index
            if end < size and glob[end] == "!":
                end += 1
            if end < size and glob[end] == "]":
                end += 1
            end = glob.find("]", end)
            if end < 0:
                out.append(escape("["))
                continue
            body = glob[index:end]
            index = end + 1
            negate = body.startswith("!")
            if negate:
                body = body[1:]
            body = body.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
            body = body.replace("^", "\\^")
            out.append(f"[^/{body}]" if negate else f"[{body}]")
        else:
            out.append(escape(char))
    return "".join(out)


def kind_of(mode: int) -> str:
    """A word for the file type in *mode*: file, directory, symlink, fifo, socket or device."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def _display(parts: tuple[str, ...]) -> str:
    return "/".join(parts) or "."


@dataclass(frozen=True, slots=True)
class Entry:
    """One directory entry met by :meth:`Sandbox.walk` (its ``dir_fd`` is valid until next)."""

    parts: tuple[str, ...]
    info: os.stat_result
    dir_fd: int

    @property
    def name(self) -> str:
        """The last component."""
        return self.parts[-1]

    @property
    def kind(self) -> str:
        """file, directory, symlink, fifo, socket or device (never followed)."""
        return kind_of(self.info.st_mode)


@dataclass(slots=True)
class Scan:
    """The budget of one walk: entries seen and why the walk stopped early, if it did."""

    max_entries: int
    max_depth: int
    entries: int = 0
    stopped_by: str | None = None
    too_deep: int = 0

    @property
    def limit_hit(self) -> str | None:
        """The option whose limit cut the walk short, if one did."""
        return self.stopped_by or ("max_scan_depth" if self.too_deep else None)


class Sandbox:
    """File operations confined to ``config.root``, every path opened through descriptors."""

    def __init__(self, config: ToolsConfig) -> None:
        self.config = config
        self.max_file_bytes = config.max_file_bytes

    def new_scan(self) -> Scan:
        """A fresh walk budget from the config's ``max_scan_entries`` and ``max_scan_depth``."""
        return Scan(max_entries=self.config.max_scan_entries, max_depth=self.config.max_scan_depth)

    # -- walking -------------------------------------------------------------------------------

    def _open_root(self) -> int:
        # The root is a real path (resolved by ToolsConfig); O_NOFOLLOW refuses it if it has
        # since been replaced by a symlink.
        try:
            return os.open(self.config.root, _DIR_FLAGS)
        except OSError as exc:
            raise SandboxViolationError(
                f"the sandbox root {str(self.config.root)!r} cannot be opened as a real "
                f"directory: {exc.strerror}"
            ) from None

    def _refusal(self, exc: OSError, dir_fd: int, name: str, shown: str) -> OSError:
        """Translate an ``openat`` failure into the error a caller should see."""
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO, errno.EOPNOTSUPP):
            with contextlib.suppress(OSError):
                mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
                if stat.S_ISLNK(mode):
                    return SandboxViolationError(
                        f"{shown!r} is or goes through a symlink; file tools never follow "
                        "symlinks (use the path of the real file inside the sandbox)"
                    )
                if exc.errno == errno.ENOTDIR:
                    return NotADirectoryError(f"{shown!r} is not a directory")
                return SandboxViolationError(
                    f"{shown!r} is a {kind_of(mode)}; file tools use regular files only"
                )
        if exc.errno == errno.ENOENT:
            return FileNotFoundError(f"no such file or directory: {shown!r}")
        if exc.errno == errno.EISDIR:
            return IsADirectoryError(f"{shown!r} is a directory")
        return exc

    def _open_dir_at(self, dir_fd: int, name: str, shown: str) -> int:
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            raise self._refusal(exc, dir_fd, name, shown) from None

    def directory_at(self, dir_fd: int, name: str) -> int:
        """A new descriptor of the directory *name* in *dir_fd* (never through a symlink)."""
        return self._open_dir_at(dir_fd, name, name)

    @contextlib.contextmanager
    def directory(self, parts: tuple[str, ...], *, create: bool = False) -> Iterator[int]:
        """A descriptor of the directory *parts* (``()`` is the root), opened component-wise.

        With *create*, missing directories are made (mode 0o755) on the way.
        """
        current = self._open_root()
        try:
            for depth, name in enumerate(parts):
                shown = _display(parts[: depth + 1])
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=current)
                except FileNotFoundError:
                    if not create:
                        raise FileNotFoundError(f"no such directory: {shown!r}") from None
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, 0o755, dir_fd=current)
                    child = self._open_dir_at(current, name, shown)
                except OSError as exc:
                    raise self._refusal(exc, current, name, shown) from None
                os.close(current)
                current = child
            yield current
        finally:
            os.close(current)

    @contextlib.contextmanager
    def parent(self, parts: tuple[str, ...], *, create: bool = False) -> Iterator[int]:
        """A descriptor of the directory holding the last component of *parts*."""
        if not parts:
            raise SandboxViolationError("the sandbox root itself cannot be used here")
        with self.directory(parts[:-1], create=create) as dir_fd:
            yield dir_fd

    @staticmethod
    def lstat_at(dir_fd: int, name: str) -> os.stat_result | None:
        """The entry *name* in *dir_fd* without following it, or None when it is absent."""
        try:
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def walk(self, dir_fd: int, scan: Scan, *, recursive: bool, hidden: bool) -> Iterator[Entry]:
        """Entries under *dir_fd* in sorted path order, never following a symlink.

        Stops (setting ``scan.stopped_by``) after ``scan.max_entries`` entries; directories
        deeper than ``scan.max_depth`` are not entered and are counted in ``scan.too_deep``.
        """
        yield from self._walk(dir_fd, (), scan, recursive=recursive, hidden=hidden)

    def _walk(
        self, dir_fd: int, prefix: tuple[str, ...], scan: Scan, *, recursive: bool, hidden: bool
    ) -> Iterator[Entry]:
        names: list[str] = []
        with os.scandir(dir_fd) as listing:
            for item in listing:
                if scan.entries + len(names) >= scan.max_entries:
                    scan.stopped_by = "max_scan_entries"
                    break
                if hidden or not item.name.startswith("."):
                    names.append(item.name)
        for name in sorted(names):
            if scan.entries >= scan.max_entries:
                scan.stopped_by = "max_scan_entries"
                return
            info = self.lstat_at(dir_fd, name)
            if info is None:
                continue
            scan.entries += 1
            yield Entry((*prefix, name), info, dir_fd)
            if not (recursive and stat.S_ISDIR(info.st_mode)):
                continue
            if len(prefix) + 1 >= scan.max_depth:
                scan.too_deep += 1
                continue
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError:
                continue  # replaced by a symlink or removed since it was listed: skip it
            try:
                yield from self._walk(
                    child, (*prefix, name), scan, recursive=recursive, hidden=hidden
                )
            finally:
                os.close(child)
            if scan.stopped_by:
                return

    # -- reading -------------------------------------------------------------------------------

    def check_regular(self, info: os.stat_result, shown: str, *, writing: bool) -> None:
        """Refuse anything but a regular file with one link (*info* is never followed)."""
        if stat.S_ISLNK(info.st_mode):
            raise SandboxViolationError(f"{shown!r} is a symlink; file tools never follow symlinks")
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(f"{shown!r} is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise SandboxViolationError(
                f"{shown!r} is a {kind_of(info.st_mode)}; file tools use regular files only"
            )
        if info.st_nlink > 1:
            raise SandboxViolationError(
                f"{shown!r} has {info.st_nlink} hard links; file tools refuse hard-linked "
                f"files, whose data may be shared with a file outside the sandbox "
                f"({'write' if writing else 'read'} a copy instead)"
            )

    def over_limit(self, size: int, shown: str) -> LimitExceededError:
        """The error for a file of *size* bytes over ``max_file_bytes``."""
        return LimitExceededError(
            f"{shown!r} would be {size:,} bytes, over the {self.max_file_bytes}-byte limit "
            "(raise ToolsConfig.max_file_bytes to allow larger files)"
        )

    def open_file_at(self, dir_fd: int, name: str, shown: str, flags: int = _READ_FLAGS) -> int:
        """Open the regular, singly linked file *name* in *dir_fd*; its ``fstat`` decides.

        Raises:
            SandboxViolationError: a symlink, FIFO, socket, device or hard-linked file.
            LimitExceededError: larger than ``max_file_bytes``.
        """
        before = self.lstat_at(dir_fd, name)
        if before is None:
            raise FileNotFoundError(f"no such file: {shown!r}")
        # Refuse special files before opening them (opening a device can have effects).
        self.check_regular(before, shown, writing=bool(flags & os.O_WRONLY))
        try:
            fd = os.open(name, flags, dir_fd=dir_fd)
        except OSError as exc:
            raise self._refusal(exc, dir_fd, name, shown) from None
        try:
            info = os.fstat(fd)
            self.check_regular(info, shown, writing=bool(flags & os.O_WRONLY))
            if info.st_size > self.max_file_bytes:
                raise self.over_limit(info.st_size, shown)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def read_at(self, dir_fd: int, name: str, shown: str) -> bytes:
        """The bytes of the file *name* in *dir_fd* (at most ``max_file_bytes``)."""
        fd = self.open_file_at(dir_fd, name, shown)
        try:
            chunks: list[bytes] = []
            total = 0
            while total <= self.max_file_bytes:
                chunk = os.read(fd, min(_CHUNK, self.max_file_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            if total > self.max_file_bytes:
                raise self.over_limit(total, shown)  # it grew after the fstat
            return b"".join(chunks)
        finally:
            os.close(fd)

    def read_bytes(self, parts: tuple[str, ...]) -> bytes:
        """The bytes of the sandbox file *parts*."""
        with self.parent(parts) as dir_fd:
            return self.read_at(dir_fd, parts[-1], _display(parts))

    # -- writing -------------------------------------------------------------------------------

    @staticmethod
    def create_at(dir_fd: int, name: str, data: bytes, *, mode: int = 0o644) -> None:
        """Create the new file *name* in *dir_fd* holding *data* (never an existing one)."""
        fd = os.open(name, _CREATE_FLAGS, 0o600, dir_fd=dir_fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def replace_at(self, dir_fd: int, name: str, data: bytes, *, mode: int = 0o644) -> None:
        """Put *data* at *name* in *dir_fd* atomically: a temporary file, then a rename."""
        temporary = f".agentkit-{secrets.token_hex(8)}.tmp"
        try:
            self.create_at(dir_fd, temporary, data, mode=mode)
            os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=dir_fd)
            raise

    def write_bytes(
        self,
        parts: tuple[str, ...],
        data: bytes,
        *,
        mode: str = "overwrite",
        create_dirs: bool = True,
    ) -> tuple[bool, int]:
        """Write *data* to the sandbox file *parts*; return (created, size after).

        *mode* is ``overwrite`` (atomic replace), ``append`` or ``create`` (only when absent).
        """
        shown = _display(parts)
        if len(data) > self.max_file_bytes:
            raise self.over_limit(len(data), shown)
        with self.parent(parts, create=create_dirs) as dir_fd:
            name = parts[-1]
            existing = self.lstat_at(dir_fd, name)
            if existing is not None:
                self.check_regular(existing, shown, writing=True)
                if mode == "create":
                    raise FileExistsError(f"{shown!r} exists and mode is 'create'")
            if mode == "append" and existing is not None:
                fd = self.open_file_at(dir_fd, name, shown, _APPEND_FLAGS)
                try:
                    size = os.fstat(fd).st_size + len(data)
                    if size > self.max_file_bytes:
                        raise self.over_limit(size, shown)
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    return False, os.fstat(fd).st_size
                finally:
                    os.close(fd)
            if existing is None and mode != "overwrite":
                try:
                    self.create_at(dir_fd, name, data)
                except FileExistsError:
                    raise FileExistsError(f"{shown!r} was created meanwhile") from None
                return True, len(data)
            keep = stat.S_IMODE(existing.st_mode) if existing is not None else 0o644
            self.replace_at(dir_fd, name, data, mode=keep)
            return existing is None, len(data)

    # -- removing ------------------------------------------------------------------------------

    def remove_at(self, dir_fd: int, name: str, shown: str, *, recursive: bool) -> str:
        """Remove the entry *name* in *dir_fd* (a symlink itself, never its target).

        Returns the kind of what was removed.
        """
        info = self.lstat_at(dir_fd, name)
        if info is None:
            raise FileNotFoundError(f"no such file or directory: {shown!r}")
        kind = kind_of(info.st_mode)
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(name, dir_fd=dir_fd)
            return kind
        try:
            os.rmdir(name, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            if not recursive:
                raise OSError(
                    errno.ENOTEMPTY, f"{shown!r} is a non-empty directory; pass recursive=true"
                ) from None
            # shutil.rmtree recurses once per level: measure first, so a deep tree is refused
            # before anything is deleted instead of stopping part-way at the recursion limit.
            if _depth_over(dir_fd, name, MAX_DELETE_DEPTH):
                raise LimitExceededError(
                    f"{shown!r} is nested more than {MAX_DELETE_DEPTH} directories deep, too "
                    "deep to delete in one call (nothing was deleted): delete its deepest "
                    "directories first"
                ) from None
            # shutil.rmtree works through descriptors on Linux (avoids_symlink_attacks) and
            # refuses a top directory swapped for a symlink.
            shutil.rmtree(name, dir_fd=dir_fd)
        return kind

    def is_directory(self, parts: tuple[str, ...]) -> bool:
        """Whether *parts* is an existing directory (a symlink on the way is refused)."""
        try:
            with self.directory(parts):
                return True
        except (FileNotFoundError, NotADirectoryError):
            return False


def _depth_over(dir_fd: int, name: str, limit: int) -> bool:
    """Whether the directory *name* in *dir_fd* has directories nested more than *limit* deep.

    Iterative, through descriptors that follow no symlink: one open descriptor per level
    walked, so at most *limit* + 1 at a time.
    """
    stack: list[tuple[int, list[str]]] = []
    try:
        top = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        stack.append((top, _subdirectories(top)))
        while stack:
            fd, pending = stack[-1]
            if not pending:
                os.close(stack.pop()[0])
                continue
            if len(stack) > limit:
                return True
            child = os.open(pending.pop(), _DIR_FLAGS, dir_fd=fd)
            stack.append((child, _subdirectories(child)))
        return False
    except OSError:
        return False  # changed meanwhile: rmtree sees the tree as it is now
    finally:
        for fd, _pending in stack:
            os.close(fd)


def _subdirectories(fd: int) -> list[str]:
    with os.scandir(fd) as entries:
        return [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
