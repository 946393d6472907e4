"""search_tools against a reference scan: substrings, separators, digits and Unicode case, and
tools with too much text for the index (one long token, a megabyte of words) kept aside."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from search_reference import reference_search

from agentkit import Tool, ToolRegistry
from agentkit.tools._search import LONGEST_INDEXED_TOKEN, MOST_INDEXED_CHARS, SearchIndex

#: Characters whose lowercase differs in length or kind (dotted and dotless I, sigma and final
#: sigma, sharp s, the Kelvin sign, a ligature), a combining mark, a superscript digit,
#: separators and a few plain letters.
_ALPHABET = "abcAB0129_-. \u0130\u0131\u03a3\u03c3\u03c2\u00df\u1e9e\u212a\ufb01\u0307\u00b2\u00e9"
_TEXT = st.text(alphabet=_ALPHABET, max_size=14)
_NAME = st.text(alphabet="abcAB0129_-", min_size=1, max_size=8)
#: A token too long for the index (its tool is kept aside and read by every search).
_LONG_TOKEN = st.builds(
    lambda piece, times: piece * times,
    st.text(alphabet="abcAB0129\u03a3\u00df\u00e9", min_size=1, max_size=4),
    st.integers(LONGEST_INDEXED_TOKEN + 1, LONGEST_INDEXED_TOKEN + 20),
)
#: A text past the index's cap on a tool's text (some text repeated).
_HUGE_TEXT = st.builds(
    lambda text: (text + " ") * (MOST_INDEXED_CHARS // (len(text) + 1) + 1),
    st.text(alphabet=_ALPHABET, min_size=1, max_size=14),
)
#: Mostly short texts; some with a long token, a few past the cap.
_FIELD = st.one_of(
    _TEXT,
    _TEXT,
    _TEXT,
    st.builds(lambda before, token, after: before + token + after, _TEXT, _LONG_TOKEN, _TEXT),
    _HUGE_TEXT,
)


def _tool(name: str, description: str, category: str, tags: Any) -> Tool:
    return Tool(
        name=name,
        description=description,
        category=category or "general",
        tags=tuple(tags),
        function=lambda: None,
    )


_TOOL = st.tuples(_NAME, _FIELD, _FIELD, st.lists(_FIELD, max_size=3))


_RECASINGS: list[Callable[[str], str]] = [str, str.upper, str.swapcase, str.title]


def _slice_queries(data: st.DataObject, tools: list[Tool]) -> list[str]:
    """Pieces of the tools' own texts (across ``_``, digits and separators), recased, alone,
    repeated and combined: most of them find something."""
    queries: list[str] = []
    for tool in tools:
        text = " ".join((tool.name, tool.category, *tool.tags, tool.description))
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 10)))
        piece = text[start:end]
        recase = data.draw(st.sampled_from(_RECASINGS))
        queries.extend([recase(piece), f"{piece} {piece}", f"{tool.name[:3]} {piece[-2:]}"])
    return queries


@given(
    st.lists(_TOOL, max_size=12),
    st.lists(_NAME, max_size=4),
    st.lists(_TEXT, max_size=4),
    st.data(),
)
def test_search_equals_a_reference_scan(
    specs: list[tuple[str, str, str, list[str]]],
    removed: list[str],
    queries: list[str],
    data: st.DataObject,
) -> None:
    """For random registries (with replacements and removals, some tools holding a token or a
    text too long for the index) and random queries, search_tools returns exactly the tools, in
    exactly the order, of a scan scoring every tool by hand."""
    registry = ToolRegistry()
    live: dict[str, Tool] = {}
    for name, description, category, tags in specs:
        tool = _tool(name, description, category, tags)
        registry.register_tool(tool, replace=True)
        live[name] = tool
    for name in removed:
        assert registry.unregister_tool(name) == (name in live)
        live.pop(name, None)
    tools = list(live.values())
    for query in [*queries, *_slice_queries(data, tools), "", "_", "- .", "\u0307"]:
        found = [tool.name for tool in registry.search_tools(query)]
        assert found == reference_search(tools, query), query


def test_a_token_held_in_different_fields_scores_each_tool_by_its_own_fields() -> None:
    """A word in one tool's name and another's description ranks them by their own fields,
    and stays right as tools holding it come and go."""
    registry = ToolRegistry()
    registry.register_tool(_tool("alpha_tool", "does beta", "general", ()))
    registry.register_tool(_tool("beta_tool", "does alpha", "general", ()))
    registry.register_tool(_tool("gamma", "alphabet soup", "alpha", ("alpha",)))
    assert [tool.name for tool in registry.search_tools("alpha")] == [
        "gamma",  # category 2 + tags 2 + description 1
        "alpha_tool",  # name 4
        "beta_tool",  # description 1
    ]
    registry.unregister_tool("gamma")
    registry.unregister_tool("beta_tool")
    assert [tool.name for tool in registry.search_tools("alpha")] == ["alpha_tool"]
    registry.register_tool(_tool("beta_tool", "does alpha", "general", ()))
    assert [tool.name for tool in registry.search_tools("alp does")] == [
        "alpha_tool",
        "beta_tool",
    ]


def test_a_word_every_tool_holds_keeps_the_order_of_the_others() -> None:
    """A word held by every tool adds its weight to each and filters none out."""
    registry = ToolRegistry()
    tools = [_tool(f"tool_{index}", f"the item {index}", "general", ()) for index in range(300)]
    for tool in tools:
        registry.register_tool(tool)
    for query in ("item 42", "the 1", "4 the item", "tool item"):
        found = [tool.name for tool in registry.search_tools(query)]
        assert found == reference_search(tools, query), query
    assert len(registry.search_tools("item")) == 300


def _letters(count: int, seed: int) -> str:
    """*count* random CJK letters: one token whose three-letter pieces are nearly all distinct."""
    rng = random.Random(seed)
    return "".join(map(chr, rng.choices(range(0x4E00, 0x9FA5), k=count)))


def _entries_added(tool: Tool, others: list[Tool]) -> int:
    """How many index entries *tool* adds to an index of *others* (and removing it takes them
    away again)."""
    index = SearchIndex()
    for other in others:
        index.add(other)
    before = index.entries()
    index.add(tool)
    added = index.entries() - before
    index.remove(tool.name)
    assert index.entries() == before
    return added


_NEIGHBOURS = [
    _tool("weather_get", "get the forecast", "weather", ("forecast",)),
    _tool("han_lookup", "finds \u4e02\u4e03 things", "\u4e00\u4e01", ()),
    _tool("calc", "adds numbers", "math", ("sum",)),
]


def _assert_search_equals_scan(tools: list[Tool], queries: list[str]) -> None:
    """Register *tools* and check every query against the reference scan."""
    registry = ToolRegistry()
    for tool in tools:
        registry.register_tool(tool)
    for query in queries:
        found = [tool.name for tool in registry.search_tools(query)]
        assert found == reference_search(tools, query), query[:40]


def test_a_token_as_long_as_allowed_adds_no_index_entries_and_is_still_found() -> None:
    """A tool whose description is one token of 99,000 characters (about as long as
    MAX_TOOL_TEXT allows) adds nothing to the index, yet is found (and scored) exactly as the
    reference scan finds it, alone and beside indexed tools."""
    token = _letters(99_000, seed=1)
    hostile = _tool("blob_tool", f"{token} forecast", "weather", ("\u4e00\u4e01",))
    assert _entries_added(hostile, _NEIGHBOURS) == 0
    queries = [
        token[50_000:50_005],
        token[:100],
        token[-3:] + " forecast",
        "WEATHER " + token[5:7],
        "\u4e00",
        "_",
        "blob_tool " + token[7:9],
        "get_",
        token[10:20] + "x",  # not in any tool
    ]
    _assert_search_equals_scan([*_NEIGHBOURS, hostile], queries)


def test_as_many_distinct_words_as_allowed_add_no_index_entries_and_are_still_found() -> None:
    """A tool whose description is 99,000 characters of distinct two-letter words adds
    nothing to the index, yet each word of it finds it as the reference scan does."""
    words = [chr(0x4E00 + at // 20_000) + chr(0x4E00 + at % 20_000) for at in range(33_000)]
    hostile = _tool("many_words", " ".join(words), "general", ())
    assert len(hostile.description) >= 98_999
    assert _entries_added(hostile, _NEIGHBOURS) == 0
    queries = [words[0], words[12_345], f"{words[7]} {words[30_000]}", "lookup", "general"]
    _assert_search_equals_scan([*_NEIGHBOURS, hostile], queries)


def test_the_index_caps_are_where_documented() -> None:
    """A tool with text up to the caps is indexed, adding at most four entries per character;
    one character more (in the text, or in one token) keeps it aside, adding none."""
    longest = _letters(LONGEST_INDEXED_TOKEN, seed=2)
    at_token_cap = _tool("a", longest, "c", ())
    added = _entries_added(at_token_cap, _NEIGHBOURS)
    assert 0 < added <= 4 * LONGEST_INDEXED_TOKEN
    assert _entries_added(_tool("a", longest + "x", "c", ()), _NEIGHBOURS) == 0

    # Distinct tokens of the longest indexed length filling the text cap exactly.
    tokens: list[str] = []
    used = len("a") + len("c")
    while used + 1 + LONGEST_INDEXED_TOKEN <= MOST_INDEXED_CHARS:
        tokens.append(_letters(LONGEST_INDEXED_TOKEN, seed=len(tokens) + 3))
        used += 1 + LONGEST_INDEXED_TOKEN
    description = " ".join(tokens) + " " * (MOST_INDEXED_CHARS - used)
    at_text_cap = _tool("a", description, "c", ())
    added = _entries_added(at_text_cap, _NEIGHBOURS)
    assert 0 < added <= 4 * MOST_INDEXED_CHARS
    assert _entries_added(_tool("a", description + "x", "c", ()), _NEIGHBOURS) == 0
    queries = [tokens[0][:5], tokens[-1][-4:], tokens[3][20:30] + " c"]
    _assert_search_equals_scan([*_NEIGHBOURS, at_text_cap], queries)
