"""The file tools, and the sandbox that confines them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from agentkit import SandboxViolationError
from agentkit_tools import ToolsConfig


def untouched(secret: Path) -> bool:
    """Whether the secret file outside the sandbox still holds its text."""
    return secret.read_text() == "top secret"


def exists(path: Path) -> bool:
    """Whether *path* exists (a sync helper for the async tests)."""
    return path.exists()


@pytest.fixture
def root(config: ToolsConfig) -> Path:
    """The sandbox root."""
    return config.root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A secret file next to (not inside) the sandbox."""
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    return secret


async def test_write_then_read(call: Any, root: Path) -> None:
    """Written text reads back; parents are created; line ranges work."""
    written = await call("file_write", path="notes/a.txt", content="one\ntwo\nthree\n")
    assert written == {"path": "notes/a.txt", "bytes_written": 14, "size": 14, "created": True}
    assert (root / "notes/a.txt").read_text() == "one\ntwo\nthree\n"
    whole = await call("file_read", path="notes/a.txt")
    assert whole["content"] == "one\ntwo\nthree\n"
    assert whole["total_lines"] == 3
    part = await call("file_read", path="notes/a.txt", start_line=2, max_lines=1)
    assert part["content"] == "two\n"
    assert part["truncated"] is True


async def test_write_modes(call: Any) -> None:
    """append adds to the end; create refuses an existing file."""
    await call("file_write", path="log.txt", content="a")
    await call("file_write", path="log.txt", content="b", mode="append")
    assert (await call("file_read", path="log.txt"))["content"] == "ab"
    with pytest.raises(FileExistsError, match="mode is 'create'"):
        await call("file_write", path="log.txt", content="c", mode="create")


@pytest.mark.parametrize("name", ["file_read", "file_info", "file_hash", "file_delete"])
@pytest.mark.parametrize("path", ["../secret.txt", "a/../../secret.txt"])
async def test_dotdot_escape_is_refused(call: Any, outside: Path, name: str, path: str) -> None:
    """A relative path climbing out of the sandbox is refused and the file is untouched."""
    with pytest.raises(SandboxViolationError, match="outside the sandbox"):
        await call(name, path=path)
    assert untouched(outside)


async def test_absolute_path_is_refused(call: Any, outside: Path) -> None:
    """An absolute path is refused, even one pointing at a real file."""
    with pytest.raises(SandboxViolationError, match="absolute path"):
        await call("file_read", path=str(outside))
    with pytest.raises(SandboxViolationError, match="absolute path"):
        await call("file_write", path="/tmp/agentkit-escape.txt", content="x")
    assert not exists(Path("/tmp/agentkit-escape.txt"))


async def test_symlink_escape_is_refused(call: Any, root: Path, outside: Path) -> None:
    """A symlink leading out of the sandbox is refused for reading, writing and copying."""
    (root / "link.txt").symlink_to(outside)
    (root / "linkdir").symlink_to(outside.parent)
    with pytest.raises(SandboxViolationError):
        await call("file_read", path="link.txt")
    with pytest.raises(SandboxViolationError):
        await call("file_write", path="link.txt", content="overwritten")
    with pytest.raises(SandboxViolationError):
        await call("file_read", path="linkdir/secret.txt")
    with pytest.raises(SandboxViolationError):
        await call("file_copy", source="link.txt", destination="copy.txt")
    assert untouched(outside)


async def test_copied_directory_skips_symlinks(call: Any, root: Path, outside: Path) -> None:
    """Copying a directory holding a symlink copies the files and leaves the link out."""
    (root / "dir").mkdir()
    (root / "dir" / "note.txt").write_text("kept")
    (root / "dir" / "link").symlink_to(outside)
    result = await call("file_copy", source="dir", destination="dir2")
    assert result["skipped"] == 1
    assert result["skipped_paths"] == ["link"]
    assert (root / "dir2" / "note.txt").read_text() == "kept"
    assert [entry.name for entry in (root / "dir2").iterdir()] == ["note.txt"]
    assert untouched(outside)


async def test_delete_removes_a_symlink_not_its_target(
    call: Any, root: Path, outside: Path
) -> None:
    """Deleting a link that points outside removes the link only."""
    (root / "link.txt").symlink_to(outside)
    result = await call("file_delete", path="link.txt")
    assert result["type"] == "symlink"
    assert not (root / "link.txt").is_symlink()
    assert untouched(outside)


async def test_read_bad_input(call: Any, root: Path) -> None:
    """Missing files, directories and binary data are clear errors."""
    with pytest.raises(FileNotFoundError, match="no such file"):
        await call("file_read", path="missing.txt")
    (root / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        await call("file_read", path="d")
    (root / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="not valid utf-8"):
        await call("file_read", path="bin")


async def test_file_size_limit(make_caller: Any) -> None:
    """Writing past max_file_bytes raises and writes nothing."""
    call = make_caller(max_file_bytes=10)
    with pytest.raises(ValueError, match="10-byte limit"):
        await call("file_write", path="big.txt", content="x" * 11)
    assert (await call("file_info", path="big.txt"))["exists"] is False


async def test_copy_and_move(call: Any, root: Path) -> None:
    """Copy keeps the source; move removes it; into a directory keeps the name."""
    await call("file_write", path="a.txt", content="hello")
    await call("file_mkdir", path="box")
    copied = await call("file_copy", source="a.txt", destination="box")
    assert copied["destination"] == "box/a.txt"
    moved = await call("file_move", source="a.txt", destination="b.txt")
    assert moved == {"source": "a.txt", "destination": "b.txt", "bytes": 5}
    assert not (root / "a.txt").exists()
    assert (root / "b.txt").read_text() == "hello"


async def test_copy_and_move_refuse_to_overwrite(call: Any) -> None:
    """An existing destination is kept unless overwrite is true."""
    await call("file_write", path="a.txt", content="a")
    await call("file_write", path="b.txt", content="b")
    with pytest.raises(FileExistsError, match="overwrite"):
        await call("file_copy", source="a.txt", destination="b.txt")
    with pytest.raises(FileExistsError, match="overwrite"):
        await call("file_move", source="a.txt", destination="b.txt")
    assert (await call("file_read", path="b.txt"))["content"] == "b"
    await call("file_move", source="a.txt", destination="b.txt", overwrite=True)
    assert (await call("file_read", path="b.txt"))["content"] == "a"


async def test_delete(call: Any, root: Path) -> None:
    """Files delete; non-empty directories need recursive; the root is never deleted."""
    await call("file_write", path="d/x.txt", content="x")
    with pytest.raises(OSError, match="recursive"):
        await call("file_delete", path="d")
    assert (await call("file_delete", path="d", recursive=True))["type"] == "directory"
    assert not (root / "d").exists()
    with pytest.raises(SandboxViolationError, match="root"):
        await call("file_delete", path=".", recursive=True)
    with pytest.raises(FileNotFoundError):
        await call("file_delete", path="gone.txt")


async def test_list(call: Any) -> None:
    """Listing shows files and directories; recursive and glob narrow it; hidden skipped."""
    await call("file_write", path="a.py", content="")
    await call("file_write", path="pkg/b.py", content="")
    await call("file_write", path="pkg/c.txt", content="")
    await call("file_write", path=".hidden", content="")
    top = await call("file_list")
    assert [(e["path"], e["type"]) for e in top["entries"]] == [
        ("a.py", "file"),
        ("pkg", "directory"),
    ]
    deep = await call("file_list", pattern="*.py", recursive=True)
    assert [e["path"] for e in deep["entries"]] == ["a.py", "pkg/b.py"]
    inner = await call("file_list", path="pkg")
    assert [e["path"] for e in inner["entries"]] == ["pkg/b.py", "pkg/c.txt"]


async def test_list_not_a_directory(call: Any) -> None:
    """Listing a file raises NotADirectoryError."""
    await call("file_write", path="a.txt", content="")
    with pytest.raises(NotADirectoryError):
        await call("file_list", path="a.txt")


async def test_info(call: Any) -> None:
    """Info reports type, size and MIME type; a missing path is exists=false."""
    await call("file_write", path="page.html", content="<p>hi</p>")
    info = await call("file_info", path="page.html")
    assert info["type"] == "file"
    assert info["size"] == 9
    assert info["mime_type"] == "text/html"
    assert await call("file_info", path="none") == {"path": "none", "exists": False}


def test_info_rejects_empty_path(rejects: Any) -> None:
    """An empty path fails validation."""
    assert any(e.startswith("/path") for e in rejects("file_info", path=""))


async def test_mkdir(call: Any, root: Path) -> None:
    """Nested directories are created; a second call reports created=false."""
    assert (await call("file_mkdir", path="x/y/z"))["created"] is True
    assert (root / "x/y/z").is_dir()
    assert (await call("file_mkdir", path="x/y/z"))["created"] is False


async def test_mkdir_over_a_file(call: Any) -> None:
    """Making a directory where a file exists raises FileExistsError."""
    await call("file_write", path="f", content="")
    with pytest.raises(FileExistsError):
        await call("file_mkdir", path="f")


async def test_search(call: Any) -> None:
    """Matching lines come back with file and line number, across a glob."""
    await call("file_write", path="src/a.py", content="import os\nTODO: fix\n")
    await call("file_write", path="src/b.txt", content="todo later\n")
    result = await call("file_search", pattern="todo", glob="*.py")
    assert result["matches"] == [{"path": "src/a.py", "line": 2, "text": "TODO: fix"}]
    regex = await call("file_search", pattern=r"^todo", regex=True, case_sensitive=True)
    assert [m["path"] for m in regex["matches"]] == ["src/b.txt"]


async def test_search_bad_regex(call: Any) -> None:
    """An invalid regex raises ValueError."""
    with pytest.raises(ValueError, match="invalid regular expression"):
        await call("file_search", pattern="[", regex=True)


async def test_hash(call: Any) -> None:
    """The digest is the file's real sha256 and md5."""
    await call("file_write", path="h.txt", content="abc")
    result = await call("file_hash", path="h.txt")
    assert result["hexdigest"] == hashlib.sha256(b"abc").hexdigest()
    md5 = await call("file_hash", path="h.txt", algorithm="md5")
    assert md5["hexdigest"] == hashlib.md5(b"abc").hexdigest()


def test_hash_rejects_unknown_algorithm(rejects: Any) -> None:
    """An algorithm outside the list fails validation."""
    assert rejects("file_hash", path="h.txt", algorithm="crc32")


async def test_replace(call: Any) -> None:
    """Exact text is replaced everywhere or the first N times."""
    await call("file_write", path="c.txt", content="a a a")
    assert (await call("file_replace", path="c.txt", old="a", new="b", count=2))[
        "replacements"
    ] == 2
    assert (await call("file_read", path="c.txt"))["content"] == "b b a"


async def test_replace_missing_text_changes_nothing(call: Any) -> None:
    """Replacing text that is absent raises and leaves the file as it was."""
    await call("file_write", path="c.txt", content="abc")
    with pytest.raises(ValueError, match="does not occur"):
        await call("file_replace", path="c.txt", old="zzz", new="y")
    assert (await call("file_read", path="c.txt"))["content"] == "abc"


def test_default_sandbox_is_a_fresh_temporary_directory() -> None:
    """Without a root the config makes a new, empty directory each time."""
    first, second = ToolsConfig(), ToolsConfig()
    try:
        assert first.root != second.root
        assert first.root.is_dir()
        assert list(first.root.iterdir()) == []
    finally:
        os.rmdir(first.root)
        os.rmdir(second.root)
