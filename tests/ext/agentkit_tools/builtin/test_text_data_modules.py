"""Text and data tools as plain functions: imported alone, bound, registered; VADER sentiment."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agentkit import LimitExceededError, ToolInputError, ToolRegistry
from agentkit.tools import FunctionTool
from agentkit_tools import ToolsConfig
from agentkit_tools.builtin import data, text
from agentkit_tools.builtin._limits import ToolLimits
from agentkit_tools.builtin.data import data_filter, data_parse_csv, data_sort
from agentkit_tools.builtin.text import text_search, text_sentiment, text_split

ROWS = [{"id": 1, "name": "ada", "age": 36}, {"id": 2, "name": "bob", "age": 17}]

#: Valid arguments for every text and data tool but text_translate (which needs a server).
ARGUMENTS: dict[str, dict[str, Any]] = {
    "text_search": {"text": "one two one", "query": "one"},
    "text_summarize": {"text": "Cats purr. Cats sleep a lot. Dogs bark."},
    "text_sentiment": {"text": "I love it"},
    "text_statistics": {"text": "One sentence. Two sentences."},
    "text_extract_keywords": {"text": "agents agents bus"},
    "text_extract": {"text": "mail ada@example.org", "kinds": ["emails"]},
    "text_replace": {"text": "a-b", "find": "-", "replace": "+"},
    "text_split": {"text": "a b c", "mode": "words"},
    "text_transform": {"text": "Hello World", "operation": "snake_case"},
    "text_diff": {"a": "x\ny\n", "b": "x\nz\n"},
    "text_template": {"template": "Hi $name", "values": {"name": "Ada"}},
    "data_filter": {"rows": ROWS, "conditions": [{"field": "age", "op": "gte", "value": 18}]},
    "data_sort": {"rows": ROWS, "by": [{"field": "age"}]},
    "data_aggregate": {"rows": ROWS, "aggregations": [{"function": "sum", "field": "age"}]},
    "data_pivot": {"rows": ROWS, "index": "name", "columns": "id", "values": "age"},
    "data_select": {"rows": ROWS, "fields": ["name"], "rename": {"name": "who"}},
    "data_deduplicate": {"rows": [*ROWS, ROWS[0]]},
    "data_join": {"left": ROWS, "right": [{"id": 1, "team": "x"}], "on": "id"},
    "data_parse_csv": {"text": "a,b\n1,x\n"},
    "data_format_csv": {"rows": ROWS},
    "data_get": {"data": {"a": [1, {"b": 2}]}, "path": "/a/1/b"},
    "data_validate": {"data": 1, "schema": {"type": "string"}},
    "data_flatten": {"data": {"a": {"b": [1, 2]}}},
    "data_merge": {"objects": [{"a": 1}, {"b": 2}]},
}
MODULE_TOOLS = {item.name: item for item in (*text.TOOLS, *data.TOOLS)}


@pytest.fixture
def config(tmp_path: Path) -> ToolsConfig:
    """A config with its own sandbox directory."""
    return ToolsConfig(sandbox_root=tmp_path)


def _ready(item: FunctionTool[..., Any], config: ToolsConfig) -> FunctionTool[..., Any]:
    return item.bind(config=config) if item.injected else item


def test_modules_list_every_tool() -> None:
    """TOOLS holds the 12 text and 13 data tools, each under its own name in its module."""
    assert len(text.TOOLS) == 12
    assert len(data.TOOLS) == 13
    for module in (text, data):
        for item in module.TOOLS:
            assert getattr(module, item.name) is item
            assert item.name in module.__all__
    assert set(ARGUMENTS) == set(MODULE_TOOLS) - {"text_translate"}


@pytest.mark.parametrize("name", sorted(ARGUMENTS))
async def test_each_tool_called_alone(name: str, config: ToolsConfig) -> None:
    """Each tool, imported from its module and bound, runs as a function; output fits returns."""
    item = _ready(MODULE_TOOLS[name], config)
    output = item(**ARGUMENTS[name])
    if inspect.isawaitable(output):
        output = await output
    assert item.returns is not None
    jsonschema.Draft202012Validator(item.returns).validate(output)


@pytest.mark.parametrize("name", sorted(ARGUMENTS))
async def test_each_tool_through_a_registry(name: str, config: ToolsConfig) -> None:
    """Each tool, bound and registered alone, succeeds and its output passes validation."""
    registry = ToolRegistry(validate_output=True)
    registry.register_tool(_ready(MODULE_TOOLS[name], config))
    result = await registry.execute_tool(name, ARGUMENTS[name])
    assert result.success, result.error


async def test_unbound_tool_is_not_configured() -> None:
    """A tool registered without bind(config=...) reports not_configured, not a crash."""
    registry = ToolRegistry()
    registry.register_tool(text_search)
    result = await registry.execute_tool("text_search", {"text": "a", "query": "a"})
    assert result.error_type == "not_configured"


def test_config_is_not_in_the_schema() -> None:
    """The injected config is left out of the parameters a model sees."""
    for item in MODULE_TOOLS.values():
        assert "config" not in item.parameters["properties"], item.name


def test_bounds_follow_the_config(tmp_path: Path) -> None:
    """text_tools and data_tools fit marked bounds to config.limits; module tools keep defaults."""
    limits = ToolLimits(max_text_chars=50, max_rows=7, max_list_items=3, max_pattern_chars=9)
    fitted = {
        item.name: item
        for item in (
            *text.text_tools(ToolsConfig(sandbox_root=tmp_path, limits=limits)),
            *data.data_tools(ToolsConfig(sandbox_root=tmp_path, limits=limits)),
        )
    }
    search = fitted["text_search"].parameters["properties"]
    assert (search["text"]["maxLength"], search["query"]["maxLength"]) == (50, 9)
    assert fitted["data_filter"].parameters["properties"]["conditions"]["maxItems"] == 3
    assert fitted["data_merge"].parameters["properties"]["objects"]["maxItems"] == 7
    default = ToolLimits()
    assert text_search.parameters["properties"]["text"]["maxLength"] == default.max_text_chars
    assert data_filter.parameters["properties"]["rows"]["maxItems"] == default.max_rows


def test_outputs_are_returned_as_built(config: ToolsConfig) -> None:
    """The registry-facing function hands back the records it kept, not copies of them."""
    bound = data_filter.bind(config=config)
    assert bound.function is not None
    output = bound.function(rows=ROWS, conditions=[{"field": "age", "op": "gte", "value": 18}])
    assert output["rows"][0] is ROWS[0]


# -- typed errors ----------------------------------------------------------------------------


def test_bad_input_raises_typed_errors(config: ToolsConfig) -> None:
    """Called directly, bad input raises ToolInputError or LimitExceededError with a reason."""
    with pytest.raises(ToolInputError, match="cannot sort by 'v'"):
        data_sort.bind(config=config)(rows=[{"v": 1}, {"v": "x"}], by=[{"field": "v"}])
    with pytest.raises(ToolInputError, match="line 2 has 1 fields"):
        data_parse_csv.bind(config=config)(text="a,b\n1\n")
    with pytest.raises(ToolInputError, match="overlap"):
        text_split.bind(config=config)(text="abc", mode="chunks", chunk_size=2, overlap=2)
    small = ToolsConfig(sandbox_root=config.root, limits=ToolLimits(max_output_items=2))
    with pytest.raises(LimitExceededError, match="max_output_items"):
        text_split.bind(config=small)(text="a b c d", mode="words")


async def test_registry_reports_bad_arguments(config: ToolsConfig) -> None:
    """An unknown operator fails validation at its path; a malformed CSV is a ToolInputError."""
    registry = ToolRegistry()
    for item in data.data_tools(config):
        registry.register_tool(item)
    result = await registry.execute_tool(
        "data_filter", {"rows": ROWS, "conditions": [{"field": "age", "op": "bigger"}]}
    )
    assert result.error_type == "validation"
    assert result.error_path == "/conditions/0/op"
    result = await registry.execute_tool("data_parse_csv", {"text": 'a\n"x'})
    assert result.error_type == "ToolInputError"


# -- VADER -----------------------------------------------------------------------------------


def _score(sentence: str) -> float:
    score: float = text_sentiment(text=sentence)["score"]
    return score


def test_sentiment_negation_flips_and_names_the_word() -> None:
    """'not good' is negative, and 'good' is listed among the negative words."""
    result = text_sentiment(text="The food was not good.")
    assert result["label"] == "negative"
    assert result["negative_words"] == ["good"]
    assert result["positive_words"] == []


@pytest.mark.parametrize(
    ("weaker", "stronger"),
    [
        ("The food was good.", "The food was extremely good."),
        ("The food was good.", "The food was GOOD, really."),
        ("The food was good.", "The food was good!!!"),
        ("The food was bad.", "The food was really bad."),
    ],
)
def test_sentiment_intensity(weaker: str, stronger: str) -> None:
    """Boosters, capitals and exclamation marks move the score further from zero."""
    assert abs(_score(stronger)) > abs(_score(weaker)) > 0
    assert (_score(stronger) > 0) == (_score(weaker) > 0)


def test_sentiment_contrast_and_emoticons() -> None:
    """After 'but' the second clause dominates; an emoticon and a typographic n't count."""
    assert _score("The plot was great, but the acting was terrible.") < 0
    assert _score("The acting was terrible, but the plot was great.") > 0
    assert _score("See you tomorrow :)") > 0
    assert text_sentiment(text="I don\u2019t like it")["label"] == "negative"


def test_sentiment_shares_add_up() -> None:
    """The positive, negative and neutral shares of a text sum to one."""
    result = text_sentiment(text="Great staff, awful parking, and a lobby.")
    assert result["positive"] > 0
    assert result["negative"] > 0
    assert result["positive"] + result["negative"] + result["neutral"] == pytest.approx(1, abs=0.01)
