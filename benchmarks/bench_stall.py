"""The longest event-loop stall of every built-in tool, given the worst inputs we can craft.

Each case calls ``ToolRegistry.execute_tool`` beside a 1 ms ticker (:mod:`stall`) and records the
longest gap between ticks: what every other coroutine on the loop waited. Inputs are the largest
the tools' schemas accept, catastrophic regular expressions, and parameters that multiply the
output (joins, pivots, overlapping chunks, templates). File tools work in a temporary sandbox;
web tools fetch from a real HTTP server on 127.0.0.1 (the address guard is switched off for it);
``web_search`` and ``text_translate`` call local fakes of SearXNG and LibreTranslate.

Run the whole table (prints it, sorted by stall)::

    .venv/bin/python benchmarks/bench_stall.py [tool_name]
    .venv/bin/python -m pytest benchmarks/bench_stall.py --benchmark-only

Under ``--benchmark-disable`` (CI) only a cheap subset runs, and only behaviour is asserted:
every call ends in a ``ToolResult`` whose failure, if any, is a typed agentkit error, never an
escaped ``RecursionError``, ``MemoryError`` or ``OverflowError``. Stall figures are wall-clock
and go in reports, never in assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from stall import longest_stall

from agentkit import ToolRegistry, ToolResult
from agentkit_tools import ToolsConfig, create_builtin_tools_library
from agentkit_tools.builtin._limits import ToolLimits

#: Error types that mean a tool crashed instead of refusing bad input with a typed error.
UNTYPED = frozenset(
    {"RecursionError", "MemoryError", "OverflowError", "KeyError", "IndexError", "TypeError"}
)

EVIL_RE = "(a+)+$"
EVIL_TEXT = "a" * 25 + "!"
TEXT_LIMIT = 1_000_000
ROWS_LIMIT = ToolLimits().max_rows


@dataclass(frozen=True)
class Case:
    """One call: the tool, a label for the table and its parameters."""

    tool: str
    label: str
    params: dict[str, Any]


def _html_page() -> bytes:
    nested = "<div class='x'><a href='/l'><h1>" * 3_000 + "word " * 2_000
    links = "".join(f"<a href='/p{i}'>link {i}</a>" for i in range(20_000))
    return f"<html><head><title>t</title></head><body>{nested}{links}</body></html>".encode()


@contextlib.contextmanager
def loopback_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 with a large page, JSON, robots.txt and fake providers."""
    page = _html_page()
    big_json = json.dumps({"items": [{"n": i, "s": "x" * 20} for i in range(100_000)]}).encode()
    deep_json = b"[" * 50_000 + b"]" * 50_000
    search = json.dumps(
        {"results": [{"title": "t", "url": "http://127.0.0.1/", "content": "c"}] * 100}
    ).encode()
    routes: dict[str, tuple[str, bytes]] = {
        "/page": ("text/html", page),
        "/json": ("application/json", big_json),
        "/deep": ("application/json", deep_json),
        "/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /private\n" * 20_000),
        "/search": ("application/json", search),
        "/translate": ("application/json", json.dumps({"translatedText": "x" * 100_000}).encode()),
    }

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            kind, body = routes.get(self.path.split("?", 1)[0], ("text/plain", b"ok"))
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _sandbox_files(root: Path) -> None:
    (root / "evil.txt").write_text(EVIL_TEXT + "\n")
    (root / "big.txt").write_text(("word " * 20 + "\n") * 100_000)
    # One tree per tool that takes one, so each tool can also be measured alone.
    for name in ("tree", "tree2", "tree3"):
        for index in range(300):
            folder = root / name / f"d{index % 30}" / f"e{index}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "f.txt").write_text("x")


def _rows(count: int, key: Callable[[int], Any], width: int = 3) -> list[dict[str, Any]]:
    return [{"k": key(i), "c": str(i), **{f"f{j}": i for j in range(width)}} for i in range(count)]


def cheap_cases() -> list[Case]:
    """The reported reproductions: small inputs, quick to build and to refuse (CI runs these)."""
    same_key = _rows(600, lambda i: 1)
    wide = [{"i": i, "c": i, "v": 1} for i in range(2_000)]
    holidays = [f"{2000 + i // 365}-01-01" for i in range(1_000)]
    return [
        Case(
            "text_search",
            "(a+)+$ on 25 a's and '!'",
            {"text": EVIL_TEXT, "query": EVIL_RE, "regex": True},
        ),
        Case(
            "text_replace",
            "(a+)+$ on 25 a's and '!'",
            {"text": EVIL_TEXT, "find": EVIL_RE, "replace": "b", "regex": True},
        ),
        Case(
            "text_split",
            "chunks, overlap = chunk_size - 1",
            {"text": "a" * 300_000, "mode": "chunks", "chunk_size": 100_000, "overlap": 99_999},
        ),
        Case(
            "text_template",
            "$x x 100,000 with a 100 KB value",
            {"template": "$x" * 100_000, "values": {"x": "v" * 100_000}},
        ),
        Case(
            "data_join",
            "600 x 600 rows on one key",
            {"left": same_key, "right": same_key, "on": "k"},
        ),
        Case(
            "data_pivot",
            "2,000 rows x 2,000 columns",
            {"rows": wide, "index": "i", "columns": "c", "values": "v"},
        ),
        Case(
            "data_validate",
            "(a+)+$ pattern on 25 a's and '!'",
            {"data": EVIL_TEXT, "schema": {"type": "string", "pattern": EVIL_RE}},
        ),
        Case(
            "time_business_days",
            "100 years, 1,000 holidays",
            {"start_date": "1950-01-01", "end_date": "2049-12-31", "holidays": holidays},
        ),
    ]


def text_cases() -> list[Case]:
    """Worst inputs of the text tools."""
    big = ("Lorem ipsum dolor sit amet. " * (TEXT_LIMIT // 28))[:TEXT_LIMIT]
    spaced_digits = "1 " * (TEXT_LIMIT // 2)
    return [
        Case(
            "text_search",
            "1 MB text, every char a match",
            {"text": "a" * TEXT_LIMIT, "query": "a", "max_results": 10_000},
        ),
        Case(
            "text_search",
            "(x+x+)+y on 5,000 x",
            {"text": "x" * 5_000, "query": "(x+x+)+y", "regex": True},
        ),
        Case(
            "text_replace",
            "1 MB, each char -> 100 KB",
            {"text": "a" * TEXT_LIMIT, "find": "a", "replace": "b" * 100_000},
        ),
        Case(
            "text_replace",
            "empty-match regex, 1 MB",
            {"text": "a" * TEXT_LIMIT, "find": "x*", "replace": "yy", "regex": True},
        ),
        Case("text_split", "chunks of 1, 1 MB", {"text": big, "mode": "chunks", "chunk_size": 1}),
        Case("text_split", "words, 1 MB", {"text": "a " * (TEXT_LIMIT // 2), "mode": "words"}),
        Case(
            "text_template",
            "1 MB template, 1 MB of values",
            {"template": "${a}" * 50_000, "values": {"a": "z" * 100_000}},
        ),
        Case("text_summarize", "1 MB of sentences", {"text": big}),
        Case(
            "text_summarize",
            "one 1 MB sentence",
            {"text": "word " * (TEXT_LIMIT // 5), "max_length": 10_000_000},
        ),
        Case("text_sentiment", "1 MB", {"text": "not very good bad " * (TEXT_LIMIT // 18)}),
        Case("text_statistics", "1 MB", {"text": big}),
        Case("text_extract_keywords", "1 MB", {"text": big, "max_keywords": 200}),
        Case("text_extract", "1 MB of spaced digits (phone regex)", {"text": spaced_digits}),
        Case("text_extract", "1 MB of dots and digits", {"text": "1." * (TEXT_LIMIT // 2)}),
        Case("text_extract", "1 MB of @ and #", {"text": "@a#" * (TEXT_LIMIT // 3)}),
        Case("text_transform", "slug of 1 MB", {"text": big, "operation": "slug"}),
        Case(
            "text_transform",
            "snake_case of 1 MB",
            {"text": "aB" * (TEXT_LIMIT // 2), "operation": "snake_case"},
        ),
        Case(
            "text_diff", "two different 200 KB texts", {"a": "a\n" * 100_000, "b": "b\n" * 100_000}
        ),
        Case("text_diff", "200 KB single lines", {"a": "ab" * 100_000, "b": "ba" * 100_000}),
        Case(
            "text_translate", "100 KB to a local provider", {"text": "x" * 100_000, "target": "de"}
        ),
    ]


def data_cases() -> list[Case]:
    """Worst inputs of the data tools."""
    deep: Any = {}
    for _ in range(5_000):
        deep = {"a": deep}
    return [
        Case(
            "data_join",
            f"{ROWS_LIMIT:,} x {ROWS_LIMIT:,}, unique keys",
            {"left": _rows(ROWS_LIMIT, str), "right": _rows(ROWS_LIMIT, str), "on": "k"},
        ),
        Case(
            "data_filter",
            f"{ROWS_LIMIT:,} rows, 3 conditions",
            {
                "rows": _rows(ROWS_LIMIT, int),
                "conditions": [{"field": "f0", "op": "gte", "value": 0}] * 3,
            },
        ),
        Case(
            "data_filter",
            "contains on 1,000 long strings",
            {
                "rows": [{"s": "a" * 100_000}] * 10,
                "conditions": [{"field": "s", "op": "contains", "value": "a" * 50_000 + "b"}],
            },
        ),
        Case(
            "data_sort",
            f"{ROWS_LIMIT:,} rows, 2 keys",
            {
                "rows": _rows(ROWS_LIMIT, lambda i: -i),
                "by": [{"field": "k"}, {"field": "f1", "descending": True}],
            },
        ),
        Case(
            "data_aggregate",
            f"{ROWS_LIMIT:,} groups, list",
            {
                "rows": _rows(ROWS_LIMIT, int),
                "group_by": ["k"],
                "aggregations": [{"function": "list", "field": "f0"}],
            },
        ),
        Case(
            "data_select",
            f"{ROWS_LIMIT:,} rows",
            {"rows": _rows(ROWS_LIMIT, int), "fields": ["k", "f0"]},
        ),
        Case("data_deduplicate", f"{ROWS_LIMIT:,} rows", {"rows": _rows(ROWS_LIMIT, int)}),
        Case("data_parse_csv", "1 MB CSV", {"text": "a,b,c\n" + "1,2,3\n" * 150_000}),
        Case(
            "data_parse_csv",
            "max_rows records",
            {"text": "a,b,c\n" + "1,2,3\n" * ROWS_LIMIT},
        ),
        Case("data_format_csv", f"{ROWS_LIMIT:,} rows", {"rows": _rows(ROWS_LIMIT, int)}),
        Case("data_get", "5,000-deep object", {"data": deep, "path": "a." * 999 + "a"}),
        Case(
            "data_validate",
            "patternProperties (a+)+$",
            {
                "data": {EVIL_TEXT: 1},
                "schema": {"patternProperties": {EVIL_RE: {"type": "integer"}}},
            },
        ),
        Case(
            "data_validate",
            f"{ROWS_LIMIT:,} items",
            {
                "data": list(range(ROWS_LIMIT)),
                "schema": {"type": "array", "items": {"type": "string"}},
            },
        ),
        Case(
            "data_validate",
            f"uniqueItems over {ROWS_LIMIT:,} lists",
            {
                "data": [[i] for i in range(ROWS_LIMIT)],
                "schema": {"type": "array", "uniqueItems": True},
            },
        ),
        Case("data_flatten", "5,000-deep object", {"data": deep}),
        Case("data_flatten", f"{ROWS_LIMIT:,} rows", {"data": {"r": _rows(ROWS_LIMIT, int)}}),
        Case(
            "data_merge",
            "1,000 objects of 1,000 keys, concat",
            {"objects": [{"l": list(range(1_000))}] * 1_000, "lists": "concat"},
        ),
        Case("data_merge", "5,000-deep objects", {"objects": [deep, deep]}),
    ]


def time_cases() -> list[Case]:
    """Worst inputs of the time tools."""
    holidays = [f"{2000 + i // 365}-01-01" for i in range(1_000)]
    return [
        Case(
            "time_add_business_days",
            "10,000 days, 6-day weekend",
            {
                "start_date": "2000-01-01",
                "days": 10_000,
                "weekend": [0, 1, 2, 3, 4, 5],
                "holidays": holidays,
            },
        ),
        Case(
            "time_date_range", "10,000 days", {"start_date": "2000-01-01", "end_date": "2027-05-18"}
        ),
        Case("time_parse", "relative, 190 digits", {"text": "9" * 190 + " days ago"}),
        Case("time_parse", "200-char garbage", {"text": "x" * 200}),
        Case("time_format", "200 %c codes", {"timestamp": "2024-01-01", "format": "%c" * 100}),
        Case("time_add", "years 100,000", {"timestamp": "2024-01-01", "years": 100_000}),
        Case("time_add", "hours 1e10", {"timestamp": "2024-01-01", "hours": 1e10}),
        Case("time_difference", "1 AD to 9999", {"start": "0001-01-01", "end": "9999-12-31"}),
        Case("time_calculate_age", "born year 1", {"birth_date": "0001-01-01"}),
        Case(
            "time_convert_timezone",
            "to Pacific/Kiritimati",
            {"timestamp": "9999-12-31", "to_timezone": "Pacific/Kiritimati"},
        ),
        Case("time_date_info", "9999-12-31", {"date_text": "9999-12-31"}),
        Case("time_list_timezones", "all", {}),
        Case("time_now", "UTC", {}),
        Case("time_format_duration", "1e12 s, iso", {"seconds": 1e12, "style": "iso"}),
    ]


def math_cases() -> list[Case]:
    """Known attacks on the math tools."""
    return [
        Case("math_calculate", "round(1, -10**7)", {"expression": "round(1, -10**7)"}),
        Case("math_calculate", "9**9**9", {"expression": "9**9**9"}),
        Case("math_calculate", "factorial-ish product", {"expression": "2**10000 * 3**10000"}),
        Case(
            "math_convert_base",
            "1,100 digits to base 2",
            {"value": "z" * 1_100, "from_base": 36, "to_base": 2},
        ),
        Case("math_factorize", "a large prime", {"n": 999_999_999_999_989}),
        Case(
            "math_statistics",
            f"{ROWS_LIMIT:,} values",
            {"values": [float(i) for i in range(ROWS_LIMIT)], "percentiles": list(range(100))},
        ),
        Case(
            "math_linear_regression",
            f"{ROWS_LIMIT:,} points",
            {"x": list(range(ROWS_LIMIT)), "y": list(range(ROWS_LIMIT))},
        ),
        Case(
            "math_matrix",
            "inverse of 50x50",
            {
                "operation": "inverse",
                "a": [[float(i == j) + 1e-3 * (i + j) for j in range(50)] for i in range(50)],
            },
        ),
        Case(
            "math_random",
            "10,000 floats to 1e308",
            {"kind": "float", "minimum": -1.7e308, "maximum": 1.7e308, "count": 10_000},
        ),
        Case("math_round", "1e308 to -20", {"value": 1e308, "decimals": -20}),
        Case("math_solve_quadratic", "1e308", {"a": 1e-308, "b": 1e308, "c": 1e308}),
        Case(
            "math_compound_interest",
            "200 years daily",
            {"principal": 1e300, "annual_rate": 1000, "years": 200, "compounds_per_year": 365},
        ),
        Case(
            "math_convert_units", "km to mi", {"value": 1e308, "from_unit": "km", "to_unit": "mi"}
        ),
    ]


def file_cases() -> list[Case]:
    """Known attacks on the file tools (inside the temporary sandbox)."""
    return [
        Case(
            "file_search",
            "(a+)+$ over a file",
            {"pattern": EVIL_RE, "regex": True, "glob": "evil.txt"},
        ),
        Case("file_search", "word over 2 MB", {"pattern": "word", "glob": "big.txt"}),
        Case("file_list", "recursive tree", {"recursive": True}),
        Case("file_read", "2 MB file", {"path": "big.txt"}),
        Case("file_write", "1 MB", {"path": "out.txt", "content": "x" * 1_000_000}),
        Case("file_replace", "every word", {"path": "big.txt", "old": "word", "new": "w"}),
        Case("file_hash", "2 MB file", {"path": "big.txt", "algorithm": "sha512"}),
        Case("file_info", "a file", {"path": "big.txt"}),
        Case("file_mkdir", "a deep path", {"path": "/".join(["m"] * 200)}),
        Case("file_copy", "a tree", {"source": "tree", "destination": "tree_copy"}),
        Case("file_move", "a tree", {"source": "tree2", "destination": "tree_moved"}),
        Case("file_delete", "a tree", {"path": "tree3", "recursive": True}),
    ]


def web_cases(url: str) -> list[Case]:
    """The web tools against the loopback server."""
    return [
        Case(
            "web_scrape",
            "3,000 nested tags, 20,000 links",
            {"url": f"{url}/page", "selector": "a", "max_chars": 5_000_000},
        ),
        Case("web_extract_links", "20,000 links", {"url": f"{url}/page"}),
        Case("web_extract_metadata", "large page", {"url": f"{url}/page"}),
        Case("web_fetch", "large page", {"url": f"{url}/page", "max_chars": 5_000_000}),
        Case("web_fetch_json", "100,000 items", {"url": f"{url}/json"}),
        Case("web_fetch_json", "50,000-deep JSON", {"url": f"{url}/deep"}),
        Case("web_post_json", "a body", {"url": f"{url}/json", "body": {"a": 1}}),
        Case("web_check_status", "page", {"url": f"{url}/page"}),
        Case("web_download", "page into the sandbox", {"url": f"{url}/page", "path": "page.html"}),
        Case("web_robots_check", "40,000 rules", {"url": f"{url}/private/x"}),
        Case("web_search", "local SearXNG fake", {"query": "q"}),
        Case("web_parse_url", "8 KB URL", {"url": "http://h/?" + "a=1&" * 2_000}),
        Case(
            "web_build_url",
            "1,000 query keys",
            {"base": "http://h/", "query": {f"k{i}": "v" for i in range(1_000)}},
        ),
    ]


def all_cases(url: str) -> list[Case]:
    """Every case, all 72 tools covered."""
    return [
        *cheap_cases(),
        *text_cases(),
        *data_cases(),
        *time_cases(),
        *math_cases(),
        *file_cases(),
        *web_cases(url),
    ]


@dataclass(frozen=True)
class Row:
    """One measured call."""

    case: Case
    stall_ms: float
    result: ToolResult  # with its output dropped (see measure_cases)
    outcome: str


def _registry(root: Path, url: str) -> ToolRegistry:
    config = ToolsConfig(
        sandbox_root=root,
        allow_private_addresses=True,
        translate_url=url,
        search_url=url,
    )
    registry = ToolRegistry()
    for tool in create_builtin_tools_library(config):
        registry.register_tool(tool)
    return registry


#: Seconds allowed per call; an inline tool cannot be held to it, a thread keeps running.
CALL_TIMEOUT = 10.0


async def measure_cases(
    cases: list[Case], root: Path, url: str, *, progress: bool = False
) -> list[Row]:
    """Run each case beside the ticker, each call held to CALL_TIMEOUT."""
    registry = _registry(root, url)
    rows = []
    for case in cases:
        # Each case starts from a collected heap and keeps no output: otherwise a garbage
        # collection the next case's allocations trigger walks every earlier case's output,
        # and the table measures this benchmark's heap instead of the tool.
        gc.collect()
        stall_ms, result = await longest_stall(
            registry.execute_tool(case.tool, case.params, timeout=CALL_TIMEOUT)
        )
        outcome = _outcome(result)
        rows.append(Row(case, stall_ms, dataclasses.replace(result, output=None), outcome))
        del result
        if progress:
            print(
                f"{stall_ms:10,.1f} ms  {case.tool}: {case.label}: {outcome}",
                file=sys.stderr,
                flush=True,
            )
    return rows


def _outcome(result: ToolResult) -> str:
    if result.success:
        try:
            size = f"{len(json.dumps(result.output, default=str)):,} B out"
        except (RecursionError, MemoryError, ValueError) as exc:
            size = f"output not encodable as JSON ({type(exc).__name__})"
        return f"ok, {size}"
    return f"{result.error_type}: {(result.error or '')[:70]}"


def format_table(rows: list[Row]) -> str:
    """The rows sorted by stall, longest first, as a Markdown table."""
    lines = ["| stall ms | tool | input | outcome |", "| ---: | --- | --- | --- |"]
    for row in sorted(rows, key=lambda r: -r.stall_ms):
        outcome = row.outcome.replace("|", "/").replace("\n", " ")
        lines.append(f"| {row.stall_ms:,.1f} | {row.case.tool} | {row.case.label} | {outcome} |")
    return "\n".join(lines)


def run_all(only: str = "", *, progress: bool = False) -> list[Row]:
    """Measure every case (or only those of the tool named *only*) in a fresh sandbox."""
    with tempfile.TemporaryDirectory() as folder, loopback_server() as url:
        root = Path(folder)
        _sandbox_files(root)
        cases = [case for case in all_cases(url) if only in ("", case.tool)]
        return asyncio.run(measure_cases(cases, root, url, progress=progress))


def _assert_typed(rows: list[Row]) -> None:
    for row in rows:
        assert isinstance(row.result, ToolResult)
        assert row.result.success or row.result.error_type not in UNTYPED, (
            row.case.tool,
            row.result.error_type,
            row.result.error,
        )


@pytest.mark.timeout(300)
def test_every_tool_is_measured() -> None:
    """The cases cover every built-in tool, so the table misses none of them."""
    names = {tool.name for tool in create_builtin_tools_library()}
    covered = {case.tool for case in all_cases("http://127.0.0.1:1")}
    assert names <= covered, sorted(names - covered)


@pytest.mark.timeout(120)
def test_cheap_worst_cases_end_in_typed_results(tmp_path: Path) -> None:
    """The cheap subset of worst inputs each end in a result or a typed, refusing error."""
    rows = asyncio.run(measure_cases(cheap_cases(), tmp_path, "http://127.0.0.1:9"))
    _assert_typed(rows)
    assert {row.case.tool for row in rows} >= {"text_search", "data_join", "text_split"}


@pytest.mark.timeout(1800)
def test_stall_table(benchmark: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """With benchmarks enabled: measure every case once and print the table."""
    if not benchmark.enabled:
        pytest.skip("the full stall table runs with --benchmark-only or as a script")
    rows = benchmark.pedantic(run_all, rounds=1, iterations=1)
    with capsys.disabled():
        print("\n" + format_table(rows))
    _assert_typed(rows)


if __name__ == "__main__":
    print(format_table(run_all(sys.argv[1] if len(sys.argv) > 1 else "", progress=True)))
