"""The registry at scale: the search index, similar-name hints, schemas compiled on first use."""

from __future__ import annotations

import threading
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from search_reference import reference_search

from agentkit import Tool, ToolNotFoundError, ToolRegistrationError, ToolRegistry
from agentkit.tools import compile_schema

#: Letters, digits, underscores and kinds of whitespace str.split() knows (\x1c is one).
_TEXT = st.text(alphabet="abAB12_- \t\n\x1cİé", max_size=12)
_NAME = st.text(alphabet="abAB12_-", min_size=1, max_size=6)


def _tool(name: str, description: str = "", category: str = "general", tags: Any = ()) -> Tool:
    return Tool(
        name=name,
        description=description,
        category=category,
        tags=tuple(tags),
        function=lambda: None,
    )


_STEP = st.tuples(
    st.sampled_from(["register", "register", "unregister", "search"]),
    _NAME,
    _TEXT,
    _TEXT,
    st.lists(_TEXT, max_size=3),
)


@given(st.lists(_STEP, max_size=30), st.lists(_TEXT, max_size=8))
def test_search_index_answers_exactly_as_a_fullreference_search(
    steps: list[tuple[str, str, str, str, list[str]]], queries: list[str]
) -> None:
    """After any registrations, replacements and removals, search_tools returns the same tools
    in the same order as scoring every tool by hand."""
    registry = ToolRegistry()
    live: dict[str, Tool] = {}
    for action, name, description, category, tags in steps:
        if action == "register":
            tool = _tool(name, description, category or "general", tags)
            registry.register_tool(tool, replace=True)
            live[name] = tool
        elif action == "unregister":
            assert registry.unregister_tool(name) == (name in live)
            live.pop(name, None)
        else:
            queries.append(description)
    # Words taken from the live tools' own texts find something; the rest mostly do not.
    for tool in live.values():
        text = f"{tool.description} {tool.category}"
        queries.extend([text, text[1:4], tool.name[1:], f"{tool.name} {tool.name}"])
    for query in queries:
        found = [tool.name for tool in registry.search_tools(query)]
        assert found == reference_search(list(live.values()), query), query


def test_search_of_many_tools_matches_substrings_and_ranks_fields() -> None:
    """Among 2,000 tools, a search finds words inside tokens and puts name hits first."""
    registry = ToolRegistry()
    tools = [
        _tool(f"tool_{index}", f"Does thing {index} with care", ("math", "text")[index % 2])
        for index in range(2_000)
    ]
    for tool in tools:
        registry.register_tool(tool)
    found = [tool.name for tool in registry.search_tools("thing 42")]
    assert found == reference_search(tools, "thing 42")
    assert {"tool_42", "tool_1420"} <= set(found)
    assert "tool_43" not in found
    assert [tool.name for tool in registry.search_tools("MATH 1999")] == []
    assert [tool.name for tool in registry.search_tools("text 1999")] == ["tool_1999"]
    registry.unregister_tool("tool_1999")
    assert registry.search_tools("text 1999") == []
    registry.register_tool(_tool("zeta", "the beta words"))
    registry.register_tool(_tool("beta", "the zeta words"))
    assert [tool.name for tool in registry.search_tools("zeta")] == ["zeta", "beta"]


def test_unknown_name_suggests_similar_names_and_never_lists_all() -> None:
    """An unknown name's error names up to three similar registered names, not every tool."""
    registry = ToolRegistry()
    for index in range(500):
        registry.register_tool(_tool(f"tool_{index}"))
    registry.register_tool(_tool("weather_lookup"))
    with pytest.raises(ToolNotFoundError) as caught:
        registry.get_tool("wether_lookup")
    message = str(caught.value)
    assert "did you mean 'weather_lookup'" in message
    assert message.count("tool_") <= 20 + 3
    with pytest.raises(ToolNotFoundError) as caught:
        registry.get_tool("Tool_42x")
    assert "did you mean 'tool_42'" in str(caught.value)
    with pytest.raises(ToolNotFoundError) as caught:
        registry.get_tool("zzzzzzzzzz")
    assert "did you mean" not in str(caught.value)


@given(st.lists(_NAME, max_size=30, unique=True), _NAME)
def test_suggestions_are_registered_names_and_an_exact_one_comes_first(
    names: list[str], wanted: str
) -> None:
    """Suggestions are at most three registered names; one equal but for case comes first."""
    registry = ToolRegistry()
    for name in names:
        registry.register_tool(_tool(name))
    if wanted in registry:
        return
    with pytest.raises(ToolNotFoundError) as caught:
        registry.get_tool(wanted)
    message = str(caught.value)
    hint = message.partition("(did you mean ")[2].partition("?)")[0]
    suggested = [part.strip("'") for part in hint.split(" or ")] if hint else []
    assert len(suggested) <= 3
    assert all(name in names for name in suggested)
    same = [name for name in names if name.lower() == wanted.lower()]
    if same:
        assert suggested[0] in same


async def test_a_schema_is_checked_at_registration_and_compiled_on_first_use() -> None:
    """A bad schema still fails at registration; a good one answers correctly when first used,
    through the fast path and through jsonschema's."""
    registry = ToolRegistry()
    with pytest.raises(ToolRegistrationError, match="not valid JSON Schema"):
        registry.register_tool(
            Tool(
                name="bad",
                description="",
                parameters={"type": "object", "properties": {"n": {"minimum": "x"}}},
                function=lambda n: n,
            )
        )
    referring = {
        "type": "object",
        "$defs": {"n": {"type": "integer"}},
        "properties": {"n": {"$ref": "#/$defs/n"}},
    }
    registry.register_tool(
        Tool(name="referring", description="", parameters=referring, function=lambda n=0: n)
    )
    wrong = await registry.execute_tool("referring", {"n": "x"})
    assert (wrong.success, wrong.error_type, wrong.error_path) == (False, "validation", "/n")
    assert (await registry.execute_tool("referring", {"n": 2})).output == 2
    fallback = compile_schema(referring)
    assert not fallback.fast
    assert fallback.first_error({"n": "x"}) is not None
    assert fallback.first_error({"n": 1}) is None


def test_a_fresh_validator_used_from_many_threads_at_once_answers_as_jsonschema() -> None:
    """Threads racing to compile the same validator on first use all get jsonschema's answers."""
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 0}, "s": {"type": "string"}},
        "required": ["n"],
    }
    reference = jsonschema.Draft202012Validator(schema)
    instances: list[Any] = [{"n": 1}, {"n": -1}, {"s": "x"}, {"n": 2, "s": 3}, [], {"n": 1.0}]
    expected = [reference.is_valid(each) for each in instances]
    for _ in range(20):
        assert _answers_from_threads(compile_schema(schema), instances) == [expected] * 8


def _answers_from_threads(validator: Any, instances: list[Any], count: int = 8) -> list[Any]:
    """What *count* threads, started together on *validator*, say about each instance."""
    start = threading.Barrier(count)
    answers: list[list[bool]] = []

    def check() -> None:
        start.wait(timeout=10)
        answers.append([validator.is_valid(each) for each in instances])

    threads = [threading.Thread(target=check) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return answers
