"""search_tools against a reference scan: substrings, separators, digits and Unicode case."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from agentkit import Tool, ToolRegistry

#: Characters whose lowercase differs in length or kind (dotted and dotless I, sigma and final
#: sigma, sharp s, the Kelvin sign, a ligature), a combining mark, a superscript digit,
#: separators and a few plain letters.
_ALPHABET = "abcAB0129_-. \u0130\u0131\u03a3\u03c3\u03c2\u00df\u1e9e\u212a\ufb01\u0307\u00b2\u00e9"
_TEXT = st.text(alphabet=_ALPHABET, max_size=14)
_NAME = st.text(alphabet="abcAB0129_-", min_size=1, max_size=8)


def _reference(tools: list[Tool], text: str) -> list[str]:
    """Score every tool by hand, as search_tools is documented to (name 4, category 2, tags 2,
    description 1 per field holding each word; ties by name; empty text lists every tool)."""
    words = text.lower().split()
    scored: list[tuple[int, str]] = []
    for tool in tools:
        fields = (
            (tool.name.lower(), 4),
            (tool.category.lower(), 2),
            (" ".join(tool.tags).lower(), 2),
            (tool.description.lower(), 1),
        )
        score = 0
        for word in words:
            gained = sum(weight for field, weight in fields if word in field)
            if not gained:
                break
            score += gained
        else:
            scored.append((score, tool.name))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [name for _, name in scored]


def _tool(name: str, description: str, category: str, tags: Any) -> Tool:
    return Tool(
        name=name,
        description=description,
        category=category or "general",
        tags=tuple(tags),
        function=lambda: None,
    )


_TOOL = st.tuples(_NAME, _TEXT, _TEXT, st.lists(_TEXT, max_size=3))


def _slice_queries(data: st.DataObject, tools: list[Tool]) -> list[str]:
    """Pieces of the tools' own texts (across ``_``, digits and separators), recased, alone,
    repeated and combined: most of them find something."""
    queries: list[str] = []
    for tool in tools:
        text = " ".join((tool.name, tool.category, *tool.tags, tool.description))
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 10)))
        piece = text[start:end]
        recase = data.draw(st.sampled_from([str, str.upper, str.swapcase, str.title]))
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
    """For random registries (with replacements and removals) and random queries, search_tools
    returns exactly the tools, in exactly the order, of a scan scoring every tool by hand."""
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
        assert found == _reference(tools, query), query


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
        assert found == _reference(tools, query), query
    assert len(registry.search_tools("item")) == 300
