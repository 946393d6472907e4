"""The file sandbox against attacks: globs, symlinks, swaps, hard links, FIFOs and devices."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentkit import AgentkitError, PatternError, SandboxViolationError, ToolRegistry
from agentkit.exceptions import LimitExceededError
from agentkit.tools._regex import compile_pattern
from agentkit_tools import ToolsConfig, create_builtin_tools_library
from agentkit_tools.builtin.file import file_tools

SECRET = "top secret"


@pytest.fixture
def root(config: ToolsConfig) -> Path:
    """The sandbox root."""
    return config.root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to (not inside) the sandbox holding secret files."""
    secrets_dir = tmp_path / "outside"
    secrets_dir.mkdir()
    for name in ("secret.txt", "x.txt"):
        (secrets_dir / name).write_text(SECRET)
    return secrets_dir


def snapshot(directory: Path) -> dict[str, tuple[int, bytes | str]]:
    """Every entry under *directory* with its mode and content (or link target)."""
    found: dict[str, tuple[int, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                content: bytes | str = os.readlink(full)
            elif stat.S_ISREG(info.st_mode):
                content = full.read_bytes()
            else:
                content = b""
            found[str(full.relative_to(directory))] = (info.st_mode, content)
    return found


def leaks(output: Any) -> bool:
    """Whether a tool's output holds the secret text."""
    return SECRET in repr(output)


# -- globs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "glob",
    [
        "../../../../etc/passwd",
        "../outside/secret.txt",
        "*/../../outside/*",
        "/etc/passwd",
        "//etc/passwd",
        "\\etc\\passwd",
        "C:/Windows/win.ini",
        "~root/.bashrc",
        "a\x00b",
        "../../../../proc/self/environ",
    ],
)
async def test_search_glob_leaving_the_sandbox_is_refused(
    call: Any, root: Path, outside: Path, glob: str
) -> None:
    """A glob with '..', an absolute part or a NUL byte is refused before anything is read."""
    (root / "a.txt").write_text(SECRET)
    with pytest.raises(SandboxViolationError):
        await call("file_search", pattern="secret", glob=glob)


@pytest.mark.parametrize("glob", ["**/proc/self/environ", "proc/self/environ", "**/etc/passwd"])
async def test_search_glob_naming_system_files_stays_inside(call: Any, glob: str) -> None:
    """A glob naming /proc or /etc files matches only files inside the sandbox (none here)."""
    result = await call("file_search", pattern="=", glob=glob)
    assert result["matches"] == []
    assert result["files_searched"] == 0


async def test_search_and_list_do_not_follow_a_symlinked_directory(
    call: Any, root: Path, outside: Path
) -> None:
    """A symlink to an outside directory is listed as a symlink and never walked into."""
    (root / "inside.txt").write_text("nothing here")
    (root / "link").symlink_to(outside)
    (root / "sub").mkdir()
    (root / "sub" / "rel").symlink_to("../../outside")
    for glob in ("*", "link/*", "**/secret.txt", "sub/rel/*"):
        result = await call("file_search", pattern="secret", glob=glob)
        assert result["matches"] == [], glob
    listing = await call("file_list", recursive=True, include_hidden=True)
    assert {e["path"]: e["type"] for e in listing["entries"]} == {
        "inside.txt": "file",
        "link": "symlink",
        "sub": "directory",
        "sub/rel": "symlink",
    }
    for path in ("link", "sub/rel"):
        with pytest.raises(SandboxViolationError, match="symlink"):
            await call("file_search", pattern="secret", path=path)
        with pytest.raises(SandboxViolationError, match="symlink"):
            await call("file_list", path=path)


@pytest.fixture
def search(tools: dict[str, Any]) -> Callable[..., Any]:
    """The file_search function itself (called in the test's thread)."""
    function: Callable[..., Any] = tools["file_search"].function
    return function


@given(
    parts=st.lists(
        st.sampled_from(["..", ".", "*", "**", "a", "link", "x.txt", "", "[!a]", "?"]),
        min_size=1,
        max_size=6,
    ),
    absolute=st.booleans(),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
def test_generated_globs_never_match_outside(
    search: Callable[..., Any], root: Path, outside: Path, parts: list[str], absolute: bool
) -> None:
    """Any glob either is refused or matches only files inside the sandbox."""
    if not (root / "link").is_symlink():
        (root / "link").symlink_to(outside)
        (root / "a").mkdir()
        (root / "a" / "x.txt").write_text("inside a")
    glob = ("/" if absolute else "") + "/".join(parts)
    try:
        result = search(pattern="secret|inside", regex=True, glob=glob)
    except (SandboxViolationError, PatternError):
        assert glob.startswith("/") or ".." in glob.split("/") or "[" in glob
        return
    assert not leaks(result)
    assert {m["path"] for m in result["matches"]} <= {"a/x.txt"}


async def test_search_regex_runs_in_linear_time_and_refuses_backreferences(
    call: Any, root: Path
) -> None:
    """A catastrophic pattern returns a normal answer; a backreference is a PatternError."""
    (root / "evil.txt").write_text("a" * 5000 + "!\n" + "aaa\n")
    result = await call("file_search", pattern="(a+)+$", regex=True)
    assert [m["line"] for m in result["matches"]] == [2]
    with pytest.raises(PatternError, match="backreferences"):
        await call("file_search", pattern=r"(a)\1", regex=True)


@given(
    lines=st.lists(st.text(alphabet="ab !\r", max_size=12), max_size=700),
    pattern=st.sampled_from(
        ["a", "^a", "b$", "a+b", r"\bab\b", "(?i)A", r"\Aa", "a|b$", "^$", "x*", "a b", "!$"]
    ),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=100)
def test_search_finds_exactly_the_lines_a_line_by_line_scan_finds(
    search: Callable[..., Any], root: Path, lines: list[str], pattern: str
) -> None:
    """Batching lines for speed changes no answer: the same lines as one search per line."""
    text = "\n".join(lines)
    (root / "t.txt").write_text(text, newline="")
    result = search(pattern=pattern, regex=True, case_sensitive=True, max_results=10000)
    compiled = compile_pattern(pattern)
    split = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if split and not split[-1]:
        split.pop()
    expected = [n for n, line in enumerate(split, start=1) if compiled.search(line)]
    assert [m["line"] for m in result["matches"]] == expected


# -- the check-then-use race -----------------------------------------------------------------------


def swap_for_symlink(directory: Path, target: Path) -> None:
    """Replace *directory* with a symlink to *target* (the attacker's move)."""
    directory.rename(directory.with_name(directory.name + ".moved"))
    directory.symlink_to(target)


@pytest.fixture
def swap_on_open(
    monkeypatch: pytest.MonkeyPatch, root: Path, outside: Path
) -> Callable[[str], list[str]]:
    """Arrange for ``root/<name>`` to become a symlink to *outside* the moment it is opened."""

    def arm(name: str) -> list[str]:
        real_open = os.open
        swapped: list[str] = []

        def hooked(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if path == name and not swapped and (root / name).is_dir():
                swap_for_symlink(root / name, outside)
                swapped.append(name)
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", hooked)
        return swapped

    return arm


@pytest.mark.parametrize(
    ("tool", "params"),
    [
        ("file_read", {"path": "d/x.txt"}),
        ("file_hash", {"path": "d/x.txt"}),
        ("file_write", {"path": "d/x.txt", "content": "overwritten"}),
        ("file_write", {"path": "d/new.txt", "content": "planted"}),
        ("file_replace", {"path": "d/x.txt", "old": "top", "new": "no"}),
        ("file_delete", {"path": "d/x.txt"}),
        ("file_mkdir", {"path": "d/sub"}),
        ("file_copy", {"source": "d/x.txt", "destination": "copy.txt"}),
        ("file_copy", {"source": "x.txt", "destination": "d/x.txt", "overwrite": True}),
        ("file_list", {"path": "d"}),
        ("file_search", {"pattern": "secret", "path": "d"}),
    ],
)
def test_directory_swapped_between_check_and_use_is_refused(
    tools: dict[str, Any],
    root: Path,
    outside: Path,
    swap_on_open: Callable[[str], list[str]],
    tool: str,
    params: dict[str, Any],
) -> None:
    """A directory turned into an outward symlink just before it is opened stops the call."""
    (root / "d").mkdir()
    (root / "d" / "x.txt").write_text("inside")
    (root / "x.txt").write_text("inside")
    before = snapshot(outside)
    swapped = swap_on_open("d")
    with pytest.raises(SandboxViolationError, match="symlink"):
        tools[tool].function(**params)
    assert swapped == ["d"]
    assert snapshot(outside) == before


def test_recursive_delete_of_a_directory_swapped_for_a_symlink(
    tools: dict[str, Any], root: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory swapped for an outward symlink during a recursive delete keeps outside intact."""
    (root / "d").mkdir()
    (root / "d" / "x.txt").write_text("inside")
    before = snapshot(outside)
    real_rmdir = os.rmdir

    def hooked(path: Any, *args: Any, **kwargs: Any) -> None:
        try:
            real_rmdir(path, *args, **kwargs)
        finally:
            if path == "d" and (root / "d").is_dir() and not (root / "d").is_symlink():
                swap_for_symlink(root / "d", outside)

    monkeypatch.setattr(os, "rmdir", hooked)
    with pytest.raises(OSError, match="symbolic link"):
        tools["file_delete"].function(path="d", recursive=True)
    assert snapshot(outside) == before


def test_regular_file_swapped_for_a_fifo_is_refused_without_blocking(
    tools: dict[str, Any], root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file replaced by a FIFO after its check is opened non-blocking and refused."""
    (root / "f.txt").write_text("text")
    real_open = os.open

    def hooked(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if path == "f.txt" and not (root / "f.txt").is_fifo():
            (root / "f.txt").unlink()
            os.mkfifo(root / "f.txt")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", hooked)
    with pytest.raises(SandboxViolationError, match="fifo"):
        tools["file_read"].function(path="f.txt")


@pytest.mark.timeout(120)
def test_racing_swapper_never_lets_a_tool_touch_outside(
    tools: dict[str, Any], root: Path, outside: Path
) -> None:
    """With a thread swapping a directory and an outward symlink, no byte outside changes."""
    (root / "x.txt").write_text("inside")
    (root / "d").mkdir()
    (root / "d" / "x.txt").write_text("inside")
    before = snapshot(outside)
    stop = threading.Event()
    swaps = 0

    def swapper() -> None:
        nonlocal swaps
        spare = root / "spare"
        while not stop.is_set():
            with contextlib.suppress(OSError):
                if spare.is_dir():  # left over when a tool re-created d mid-swap
                    shutil.rmtree(spare)
                (root / "d").rename(spare)
                (root / "d").symlink_to(outside)
                (root / "d").unlink()
                spare.rename(root / "d")
                swaps += 1
            with contextlib.suppress(OSError):  # a tool deleted or replaced d: put it back
                if (root / "d").is_symlink():
                    (root / "d").unlink()
                if spare.is_dir() and not (root / "d").exists():
                    spare.rename(root / "d")
                (root / "d").mkdir(exist_ok=True)

    calls: list[tuple[str, dict[str, Any]]] = [
        ("file_read", {"path": "d/x.txt"}),
        ("file_write", {"path": "d/x.txt", "content": "written"}),
        ("file_write", {"path": "d/y.txt", "content": "planted", "mode": "append"}),
        ("file_hash", {"path": "d/x.txt"}),
        ("file_replace", {"path": "d/x.txt", "old": "e", "new": "E"}),
        ("file_list", {"path": "d", "recursive": True}),
        ("file_search", {"pattern": "secret", "path": "d"}),
        ("file_copy", {"source": "d", "destination": "c", "overwrite": True}),
        ("file_copy", {"source": "x.txt", "destination": "d/x.txt", "overwrite": True}),
        ("file_delete", {"path": "d/y.txt"}),
        ("file_delete", {"path": "d/x.txt"}),
        ("file_delete", {"path": "d", "recursive": True}),
        ("file_mkdir", {"path": "d/new"}),
    ]
    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    outcomes: set[str] = set()
    try:
        for _round in range(60):
            for name, params in calls:
                try:
                    output = tools[name].function(**params)
                except (AgentkitError, OSError, ValueError) as exc:
                    outcomes.add(type(exc).__name__)
                else:
                    outcomes.add("ok")
                    assert not leaks(output), (name, output)
    finally:
        stop.set()
        thread.join(10)
    assert swaps > 0
    assert "ok" in outcomes
    assert snapshot(outside) == before


def test_sandbox_root_replaced_by_a_symlink_is_refused(
    tools: dict[str, Any], root: Path, outside: Path
) -> None:
    """If the root directory itself is swapped for an outward symlink, every call is refused."""
    root.rename(root.with_name("sandbox.moved"))
    root.symlink_to(outside)
    for tool, params in [
        ("file_read", {"path": "secret.txt"}),
        ("file_write", {"path": "x.txt", "content": "overwritten"}),
        ("file_list", {}),
    ]:
        with pytest.raises(SandboxViolationError, match="sandbox root"):
            tools[tool].function(**params)
    assert (outside / "x.txt").read_text() == SECRET


# -- copies, moves, deletes ----------------------------------------------------------------------


async def test_copy_does_not_retarget_a_relative_symlink(
    call: Any, root: Path, tmp_path: Path
) -> None:
    """A relative link that would point outside at the copy's depth is not re-created."""
    (tmp_path / "escape.txt").write_text(SECRET)
    (root / "a" / "dir").mkdir(parents=True)
    (root / "a" / "dir" / "link").symlink_to("../../escape.txt")  # root/escape.txt: inside
    (root / "a" / "dir" / "ok.txt").write_text("fine")
    result = await call("file_copy", source="a/dir", destination="dir2")
    assert result["skipped_paths"] == ["link"]
    assert sorted(p.name for p in (root / "dir2").iterdir()) == ["ok.txt"]
    with pytest.raises(FileNotFoundError):
        await call("file_read", path="dir2/link")


async def test_move_cannot_build_an_escaping_path(call: Any, root: Path, outside: Path) -> None:
    """A symlink moved into a directory's place is never followed by later calls."""
    (root / "link").symlink_to(outside)
    await call("file_move", source="link", destination="work")
    before = snapshot(outside)
    for tool, params in [
        ("file_write", {"path": "work/x.txt", "content": "overwritten"}),
        ("file_read", {"path": "work/secret.txt"}),
        ("file_delete", {"path": "work/secret.txt"}),
        ("file_copy", {"source": "work", "destination": "copy"}),
        ("file_move", {"source": "work/secret.txt", "destination": "stolen.txt"}),
    ]:
        with pytest.raises(SandboxViolationError, match="symlink"):
            await call(tool, **params)
    assert snapshot(outside) == before
    assert (await call("file_delete", path="work"))["type"] == "symlink"


async def test_recursive_delete_removes_links_not_their_targets(
    call: Any, root: Path, outside: Path
) -> None:
    """Deleting a tree holding outward symlinks removes the links and keeps the targets."""
    before = snapshot(outside)
    (root / "tree" / "deep").mkdir(parents=True)
    (root / "tree" / "deep" / "dirlink").symlink_to(outside)
    (root / "tree" / "filelink").symlink_to(outside / "secret.txt")
    assert (await call("file_delete", path="tree", recursive=True))["type"] == "directory"
    assert not (root / "tree").exists()
    assert snapshot(outside) == before


# -- hard links, FIFOs, devices ------------------------------------------------------------------


async def test_hard_link_to_an_outside_file_is_neither_read_nor_written(
    call: Any, root: Path, outside: Path
) -> None:
    """A file with a second link may share an outside file's data, so it is refused."""
    os.link(outside / "secret.txt", root / "hl.txt")
    before = snapshot(outside)
    for tool, params in [
        ("file_read", {"path": "hl.txt"}),
        ("file_hash", {"path": "hl.txt"}),
        ("file_write", {"path": "hl.txt", "content": "overwritten"}),
        ("file_write", {"path": "hl.txt", "content": "more", "mode": "append"}),
        ("file_replace", {"path": "hl.txt", "old": "top", "new": "no"}),
        ("file_copy", {"source": "hl.txt", "destination": "stolen.txt"}),
        ("file_copy", {"source": "x.txt", "destination": "hl.txt", "overwrite": True}),
    ]:
        if tool == "file_copy" and params["source"] == "x.txt":
            (root / "x.txt").write_text("inside")
            await call(tool, **params)  # replaces the link itself: the outside file keeps its data
            continue
        with pytest.raises(SandboxViolationError, match="hard link"):
            await call(tool, **params)
    search = await call("file_search", pattern="secret")
    assert search["matches"] == []
    assert snapshot(outside) == before


@pytest.mark.timeout(30)
async def test_fifos_fail_at_once_and_do_not_exhaust_the_thread_pool(
    config: ToolsConfig, root: Path
) -> None:
    """Reading six FIFOs through the registry fails each at once; other threaded tools still run."""
    registry = ToolRegistry()
    for tool in create_builtin_tools_library(config):
        registry.register_tool(tool)
    for index in range(6):
        os.mkfifo(root / f"pipe{index}")
    results = await asyncio.gather(
        *(
            registry.execute_tool(name, {"path": f"pipe{index}", **extra}, timeout=20)
            for index in range(6)
            for name, extra in [
                ("file_read", {}),
                ("file_hash", {}),
                ("file_write", {"content": "x", "mode": "append"}),
                ("file_copy", {}),
            ]
            if name != "file_copy"
        ),
        registry.execute_tool("file_copy", {"source": "pipe0", "destination": "c"}, timeout=20),
    )
    assert [r.error_type for r in results] == ["sandbox"] * len(results)
    assert all("fifo" in (r.error or "") for r in results)
    search = await registry.execute_tool("file_search", {"pattern": "x"}, timeout=20)
    assert search.success
    assert search.output["files_searched"] == 0
    written = await registry.execute_tool(
        "file_write", {"path": "after.txt", "content": "ok"}, timeout=20
    )
    assert written.success
    assert await asyncio.get_running_loop().getaddrinfo("127.0.0.1", 80)


async def test_device_files_are_refused(call: Any, root: Path) -> None:
    """A device node or a symlink to /dev/zero is never read."""
    (root / "zero-link").symlink_to("/dev/zero")
    paths = ["zero-link"]
    try:
        os.mknod(root / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))
        paths.append("zero")
    except PermissionError:
        pass  # not root: the symlink case still runs
    for path in paths:
        for tool in ("file_read", "file_hash"):
            with pytest.raises(SandboxViolationError):
                await call(tool, path=path)
    result = await call("file_search", pattern="x")
    assert result["files_searched"] == 0


# -- limits ----------------------------------------------------------------------------------------


async def test_search_skips_large_files_and_stops_at_its_byte_budget(
    make_caller: Any, root: Path
) -> None:
    """Files over max_file_bytes are skipped and counted; max_search_bytes ends the search."""
    call = make_caller(max_file_bytes=100, max_search_bytes=250)
    (root / "big.txt").write_text("needle\n" * 50)
    for index in range(5):
        (root / f"f{index}.txt").write_text("needle\n" + "." * 80)
    result = await call("file_search", pattern="needle")
    assert result["files_skipped"] == 1
    assert result["files_searched"] == 2
    assert result["bytes_searched"] <= 250
    assert result["truncated"] is True
    assert result["stopped_by"] == "max_search_bytes"


async def test_walks_stop_at_max_scan_entries(make_caller: Any, root: Path) -> None:
    """A listing stops at max_scan_entries and says so; a copy of a bigger tree is refused."""
    call = make_caller(max_scan_entries=5)
    (root / "many").mkdir()
    for index in range(20):
        (root / "many" / f"{index:02}.txt").write_text("x")
    listing = await call("file_list", path="many")
    assert listing["count"] == 5
    assert listing["stopped_by"] == "max_scan_entries"
    with pytest.raises(LimitExceededError, match="max_scan_entries"):
        await call("file_copy", source="many", destination="copy")
    assert not (root / "copy").exists()


def remove_chain(root: Path) -> None:
    """Remove a chain of nested 'a' directories without recursion (pytest's cleanup recurses)."""
    fds = [os.open(root, os.O_RDONLY)]
    with contextlib.suppress(OSError):
        while True:
            fds.append(os.open("a", os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY, dir_fd=fds[-1]))
    while len(fds) > 1:
        os.close(fds.pop())
        os.rmdir("a", dir_fd=fds[-1])
    os.close(fds[0])


def test_deep_trees_are_walked_to_max_scan_depth_only(config: ToolsConfig, root: Path) -> None:
    """A 1,500-level tree is walked to max_scan_depth only; a delete takes 256 levels at most."""
    tools = {t.name: t for t in file_tools(config)}
    fd = os.open(root, os.O_RDONLY)
    for _level in range(1500):
        os.mkdir("a", dir_fd=fd)
        child = os.open("a", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)
    try:
        listing = tools["file_list"].function(recursive=True)
        assert listing["count"] == config.max_scan_depth
        assert listing["stopped_by"] == "max_scan_depth"
        search = tools["file_search"].function(pattern="x")
        assert search["stopped_by"] == "max_scan_depth"
        with pytest.raises(LimitExceededError, match="nothing was deleted"):
            tools["file_delete"].function(path="a", recursive=True)
        assert len(os.listdir(root / ("/".join(["a"] * 1499)))) == 1
        for depth in (1300, 1100, 900, 700, 500, 300, 100, 1):
            path = "/".join(["a"] * depth)
            assert tools["file_delete"].function(path=path, recursive=True)["type"] == "directory"
    finally:
        remove_chain(root)
    assert list(root.iterdir()) == []


async def test_read_larger_than_the_limit_names_the_option(make_caller: Any, root: Path) -> None:
    """Reading a file over max_file_bytes is a LimitExceededError naming the option."""
    call = make_caller(max_file_bytes=10)
    (root / "big.txt").write_text("x" * 11)
    with pytest.raises(LimitExceededError, match="max_file_bytes"):
        await call("file_read", path="big.txt")
    (root / "ok.txt").write_text("x" * 6)
    with pytest.raises(LimitExceededError, match="max_file_bytes"):
        await call("file_replace", path="ok.txt", old="x", new="yy")
    assert (root / "ok.txt").read_text() == "x" * 6


async def test_download_onto_a_symlink_or_hard_link_sends_nothing(
    make_caller: Any, local_server: Any, root: Path, outside: Path
) -> None:
    """web_download refuses a target that is a symlink or a hard link before any request."""
    web = make_caller(allow_private_addresses=True)
    (root / "link.txt").symlink_to(outside / "secret.txt")
    os.link(outside / "x.txt", root / "hl.txt")
    (root / "dirlink").symlink_to(outside)
    for path in ("link.txt", "hl.txt", "dirlink/new.txt"):
        with pytest.raises(SandboxViolationError):
            await web("web_download", url=local_server.url + "/f", path=path, overwrite=True)
    assert local_server.requests == []
    assert (outside / "secret.txt").read_text() == SECRET


@given(
    path=st.one_of(
        st.text(max_size=300),
        st.text(alphabet=st.sampled_from("./\\~:\x00a\udcff\ud800"), max_size=40),
        st.integers(200, 400).map(lambda size: "n" * size),
    ),
    tool=st.sampled_from(
        ["file_read", "file_write", "file_info", "file_mkdir", "file_delete", "file_list"]
    ),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
def test_any_text_as_a_path_gives_a_typed_error_or_stays_inside(
    tools: dict[str, Any], root: Path, outside: Path, path: str, tool: str
) -> None:
    """Arbitrary text as a path (surrogates, NUL, huge names) fails typed or acts inside."""
    params: dict[str, Any] = {"path": path}
    if tool == "file_write":
        params["content"] = "x"
    with contextlib.suppress(AgentkitError, OSError):
        tools[tool].function(**params)
    assert (outside / "secret.txt").read_text() == SECRET
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt", "x.txt"]


# -- generated attacks -----------------------------------------------------------------------------

_NAMES = ["..", ".", "", "d", "e", "x.txt", "out", "rel", "hl.txt", "pipe", "secret.txt", "new"]
_PATHS = st.builds(
    lambda parts, lead: lead + "/".join(parts),
    st.lists(st.sampled_from(_NAMES), min_size=1, max_size=5),
    st.sampled_from(["", "", "", "/", "./", "../"]),
)
_CALLS = st.one_of(
    st.tuples(
        st.sampled_from(["file_read", "file_hash", "file_info"]),
        st.fixed_dictionaries({"path": _PATHS}),
    ),
    st.tuples(
        st.just("file_write"),
        st.fixed_dictionaries(
            {
                "path": _PATHS,
                "content": st.just("written"),
                "mode": st.sampled_from(["overwrite", "append", "create"]),
            }
        ),
    ),
    st.tuples(
        st.just("file_delete"), st.fixed_dictionaries({"path": _PATHS, "recursive": st.booleans()})
    ),
    st.tuples(st.just("file_mkdir"), st.fixed_dictionaries({"path": _PATHS})),
    st.tuples(
        st.sampled_from(["file_copy", "file_move"]),
        st.fixed_dictionaries(
            {"source": _PATHS, "destination": _PATHS, "overwrite": st.booleans()}
        ),
    ),
    st.tuples(
        st.just("file_replace"),
        st.fixed_dictionaries({"path": _PATHS, "old": st.just("t"), "new": st.just("T")}),
    ),
    st.tuples(
        st.just("file_list"),
        st.fixed_dictionaries(
            {"path": _PATHS, "recursive": st.booleans(), "include_hidden": st.just(True)}
        ),
    ),
    st.tuples(
        st.just("file_search"),
        st.fixed_dictionaries({"pattern": st.just("t"), "path": _PATHS, "glob": _PATHS}),
    ),
)


@contextlib.contextmanager
def attack_tree() -> Iterator[tuple[dict[str, Any], Path]]:
    """A fresh sandbox laced with outward symlinks, a hard link and a FIFO, and its canary."""
    with tempfile.TemporaryDirectory() as base:
        sandbox, canary = Path(base) / "sandbox", Path(base) / "canary"
        (canary / "d").mkdir(parents=True)
        for name in ("secret.txt", "x.txt", "d/x.txt"):
            (canary / name).write_text(SECRET)
        (sandbox / "d").mkdir(parents=True)
        (sandbox / "d" / "x.txt").write_text("inside text")
        (sandbox / "e").symlink_to(canary)
        (sandbox / "d" / "rel").symlink_to("../../canary")
        (sandbox / "out").symlink_to(canary / "secret.txt")
        os.link(canary / "x.txt", sandbox / "hl.txt")
        os.mkfifo(sandbox / "pipe")
        yield {t.name: t for t in file_tools(ToolsConfig(sandbox_root=sandbox))}, canary


@pytest.mark.timeout(300)
@given(calls=st.lists(_CALLS, min_size=1, max_size=6))
@settings(max_examples=200)
def test_generated_calls_never_touch_the_canary(calls: list[tuple[str, dict[str, Any]]]) -> None:
    """Random paths with '..', '/', symlinks, hard links and FIFOs never read or change outside."""
    with attack_tree() as (tools, canary):
        before = snapshot(canary)
        for name, params in calls:
            try:
                output = tools[name].function(**params)
            except (AgentkitError, OSError, ValueError):
                continue
            assert not leaks(output), (name, params, output)
        assert snapshot(canary) == before
