"""Exports to OpenAI, Anthropic and MCP, each checked against that format's rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit import (
    Tool,
    ToolHints,
    ToolRegistrationError,
    ToolRegistry,
    to_anthropic_tool,
    to_mcp_tool,
    to_openai_tool,
)
from agentkit.tools import (
    anthropic_strict_schema,
    from_openai_strict_arguments,
    mcp_structured_content,
    openai_strict_schema,
    strict_problem,
)

NAME_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"

#: MCP's ``Tool`` type (specification 2025-06-18, schema/2025-06-18/schema.json), written out as
#: JSON Schema; ``additionalProperties: false`` added so a misspelt key fails here.
MCP_TOOL_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {
        "ObjectSchema": {
            "type": "object",
            "properties": {
                "type": {"const": "object", "type": "string"},
                "properties": {
                    "type": "object",
                    "additionalProperties": {"type": "object", "additionalProperties": True},
                },
                "required": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["type"],
        },
        "ToolAnnotations": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "readOnlyHint": {"type": "boolean"},
                "destructiveHint": {"type": "boolean"},
                "idempotentHint": {"type": "boolean"},
                "openWorldHint": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
    },
    "type": "object",
    "properties": {
        "_meta": {"type": "object", "additionalProperties": {}},
        "name": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "inputSchema": {"$ref": "#/definitions/ObjectSchema"},
        "outputSchema": {"$ref": "#/definitions/ObjectSchema"},
        "annotations": {"$ref": "#/definitions/ToolAnnotations"},
    },
    "required": ["name", "inputSchema"],
    "additionalProperties": False,
}

#: Anthropic Messages API custom tool (``tools[]`` of a request).
ANTHROPIC_TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "description": {"type": "string"},
        "input_schema": {
            "type": "object",
            "properties": {"type": {"const": "object"}},
            "required": ["type"],
        },
    },
    "required": ["name", "input_schema"],
    "additionalProperties": False,
}

#: OpenAI Chat Completions function tool.
OPENAI_TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN},
                "description": {"type": "string"},
                "parameters": {"type": "object"},
                "strict": {"type": "boolean"},
            },
            "required": ["name", "parameters"],
            "additionalProperties": False,
        },
    },
    "required": ["type", "function"],
    "additionalProperties": False,
}

#: Keywords OpenAI strict mode supports, per type, plus the structural ones.
STRICT_STRUCTURAL = {"type", "description", "enum", "anyOf", "$ref", "$defs", "properties"}
STRICT_STRUCTURAL |= {"required", "additionalProperties", "items"}
STRICT_BY_TYPE = {
    "string": {"pattern", "format"},
    "number": {"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"},
    "integer": {"multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"},
    "array": {"minItems", "maxItems"},
}
STRICT_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6"}
STRICT_FORMATS |= {"uuid"}


def _noop(**params: Any) -> Any:
    return params


SUMMARIZE = Tool(
    name="text_summarize",
    description="Summarise a text extractively.",
    category="text",
    parameters={
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "title": "Text"},
            "max_length": {"type": "integer", "minimum": 1, "default": 200},
        },
        "required": ["text"],
        "additionalProperties": False,
    },
    returns={"type": "string"},
    hints=ToolHints(read_only=True, idempotent=True),
    function=_noop,
)

QUERY = Tool(
    name="data-query",
    description="Filter and sort records.",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            "records": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                    "required": ["id"],
                },
                "maxItems": 100,
                "uniqueItems": True,
            },
            "order": {"enum": ["asc", "desc"]},
            "where": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "equals": {"oneOf": [{"type": "string"}, {"type": "number"}]},
                    "since": {"type": "string", "format": "date-time"},
                    "colour": {"type": "string", "format": "color"},
                },
                "required": ["field"],
                "additionalProperties": False,
            },
            "mode": {"const": "strict"},
            "note": {"type": ["string", "null"]},
        },
        "required": ["records"],
    },
    returns={
        "type": "object",
        "properties": {"rows": {"type": "array"}, "count": {"type": "integer"}},
        "required": ["rows"],
    },
    hints=ToolHints(destructive=True, open_world=True),
    function=_noop,
)

DRAFT7_REFS = Tool(
    name="file_write",
    description="Write files.",
    parameters={
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "definitions": {
            "entry": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "text": {"type": "string"}},
                "required": ["path", "text"],
            }
        },
        "properties": {
            "entries": {"type": "array", "items": {"$ref": "#/definitions/entry"}},
            "backup": {"$ref": "#/definitions/entry"},
        },
        "required": ["entries"],
    },
    function=_noop,
)

NO_ARGUMENTS = Tool(name="time_now", description="The current time.", function=_noop)

TOOLS = [SUMMARIZE, QUERY, DRAFT7_REFS, NO_ARGUMENTS]


def _nodes(schema: Any, depth: int = 1) -> Iterator[tuple[dict[str, Any], int]]:
    """Every subschema of a strict-mode schema with its nesting depth."""
    assert isinstance(schema, dict), f"strict mode has no boolean schemas: {schema!r}"
    yield schema, depth
    for sub in schema.get("properties", {}).values():
        yield from _nodes(sub, depth + 1)
    if "items" in schema:
        yield from _nodes(schema["items"], depth + 1)
    for sub in schema.get("anyOf", ()):
        yield from _nodes(sub, depth + 1)
    for sub in schema.get("$defs", {}).values():
        yield from _nodes(sub, 1)


def assert_openai_strict(parameters: dict[str, Any]) -> None:
    """*parameters* follows OpenAI's strict-mode rules for function tools."""
    assert parameters["type"] == "object"
    assert "anyOf" not in parameters
    property_count = 0
    for node, depth in _nodes(parameters):
        assert depth <= 10
        assert {"type", "anyOf", "$ref", "enum"} & set(node), f"untyped node {node}"
        types = node.get("type", [])
        types = [types] if isinstance(types, str) else types
        allowed = set(STRICT_STRUCTURAL)
        for kind in types:
            allowed |= STRICT_BY_TYPE.get(kind, set())
        assert set(node) <= allowed, f"unsupported keywords {set(node) - allowed} in {node}"
        if "format" in node:
            assert node["format"] in STRICT_FORMATS
        if "object" in types:
            assert node["additionalProperties"] is False
            assert node["required"] == list(node["properties"])
            property_count += len(node["properties"])
        if "array" in types:
            assert isinstance(node["items"], dict)
        if "$ref" in node:
            assert node["$ref"].startswith("#/$defs/")
            assert set(node) <= {"$ref", "description"}
        if "enum" in node:
            assert len(node["enum"]) <= 1000
    assert property_count <= 5000


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_openai_export_matches_the_function_tool_format(tool: Tool) -> None:
    """The plain OpenAI export is a function tool carrying the schema unchanged."""
    exported = to_openai_tool(tool)
    jsonschema.validate(exported, OPENAI_TOOL_SCHEMA)
    assert exported["function"]["parameters"] == tool.parameters
    assert "strict" not in exported["function"]


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_openai_strict_export_follows_strict_mode_rules(tool: Tool) -> None:
    """The strict export: every property required, optional ones nullable,
    additionalProperties false everywhere, only supported keywords."""
    exported = to_openai_tool(tool, strict=True)
    jsonschema.validate(exported, OPENAI_TOOL_SCHEMA)
    assert exported["function"]["strict"] is True
    parameters = exported["function"]["parameters"]
    assert_openai_strict(parameters)
    jsonschema.Draft202012Validator.check_schema(parameters)


def test_strict_export_makes_optional_properties_nullable() -> None:
    """Optional properties accept null in strict mode; required ones do not."""
    parameters = to_openai_tool(QUERY, strict=True)["function"]["parameters"]
    properties = parameters["properties"]
    assert properties["order"] == {"type": ["string", "null"], "enum": ["asc", "desc", None]}
    assert properties["mode"] == {"type": ["string", "null"], "enum": ["strict", None]}
    assert properties["note"]["type"] == ["string", "null"]
    assert properties["where"]["type"] == ["object", "null"]
    assert "null" not in properties["records"]["type"]
    assert properties["where"]["properties"]["equals"]["anyOf"][-1] == {"type": "null"}
    assert "format" not in properties["where"]["properties"]["colour"]
    assert properties["where"]["properties"]["since"]["format"] == "date-time"


def test_strict_export_moves_draft07_definitions_to_defs() -> None:
    """draft-07 definitions become $defs and their references follow."""
    parameters = to_openai_tool(DRAFT7_REFS, strict=True)["function"]["parameters"]
    assert parameters["properties"]["entries"]["items"] == {"$ref": "#/$defs/entry"}
    assert parameters["properties"]["backup"] == {
        "anyOf": [{"$ref": "#/$defs/entry"}, {"type": "null"}]
    }
    assert parameters["$defs"]["entry"]["required"] == ["path", "text"]
    assert "$schema" not in parameters


@pytest.mark.parametrize(
    ("parameters", "reason"),
    [
        ({"type": "object", "properties": {"meta": {"type": "object"}}}, "free-form object"),
        ({"type": "object", "properties": {"rows": {"type": "array"}}}, "items schema"),
        (
            {"type": "object", "properties": {"n": {"allOf": [{"type": "integer"}, {}]}}},
            "'allOf'",
        ),
        ({"type": "object", "properties": {"n": {}}}, "without a type"),
        ({"type": "object", "properties": {"n": {"not": {"type": "null"}}}}, "'not'"),
    ],
)
def test_strict_export_refuses_what_strict_mode_cannot_express(
    parameters: dict[str, Any], reason: str
) -> None:
    """A schema strict mode cannot express raises with its place, instead of a wrong export."""
    tool = Tool(name="t", description="d", parameters=parameters, function=_noop)
    with pytest.raises(ToolRegistrationError, match=reason) as caught:
        to_openai_tool(tool, strict=True)
    assert "/properties/" in str(caught.value)
    assert to_openai_tool(tool)["function"]["parameters"] == parameters


def test_strict_export_refuses_too_deep_nesting() -> None:
    """More than ten levels of nesting cannot be exported strictly."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(11):
        schema = {"type": "object", "properties": {"n": schema}, "required": ["n"]}
    tool = Tool(name="deep", description="d", parameters=schema, function=_noop)
    with pytest.raises(ToolRegistrationError, match="nesting"):
        to_openai_tool(tool, strict=True)


def test_exports_do_not_share_state_with_the_tool() -> None:
    """Changing an exported schema leaves the tool's schema untouched."""
    exported = to_openai_tool(SUMMARIZE)
    exported["function"]["parameters"]["properties"]["text"]["minLength"] = 99
    assert SUMMARIZE.parameters["properties"]["text"]["minLength"] == 1


def _strict_call(tool: Tool, params: dict[str, Any]) -> dict[str, Any]:
    """What a strict-mode model sends for *params*: every omitted property as null."""
    return {name: params.get(name) for name in tool.parameters.get("properties", {})}


summarize_params = st.fixed_dictionaries(
    {"text": st.text(min_size=1, max_size=10)},
    optional={"max_length": st.integers(1, 500)},
)


@given(params=summarize_params)
def test_strict_arguments_round_trip_to_valid_params(params: dict[str, Any]) -> None:
    """A strict-mode call validates against the strict schema and, with its placeholders
    removed, is exactly the original valid call."""
    strict_schema = openai_strict_schema(SUMMARIZE.parameters)
    call = _strict_call(SUMMARIZE, params)
    jsonschema.validate(call, strict_schema)
    restored = from_openai_strict_arguments(SUMMARIZE, call)
    assert restored == params
    jsonschema.validate(restored, SUMMARIZE.parameters)


def test_strict_arguments_keep_nulls_the_schema_allows() -> None:
    """A null the original schema accepts (note: string or null) is kept; others are removed."""
    call = {"records": [{"id": 1, "name": None}], "order": None, "note": None, "where": None}
    restored = from_openai_strict_arguments(QUERY, call)
    assert restored == {"records": [{"id": 1}], "note": None}


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_anthropic_export_matches_the_messages_api_tool_format(tool: Tool) -> None:
    """The Anthropic export has name, description and an object input_schema."""
    exported = to_anthropic_tool(tool)
    jsonschema.validate(exported, ANTHROPIC_TOOL_SCHEMA)
    assert exported["input_schema"] == tool.parameters


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_mcp_export_is_a_valid_mcp_tool(tool: Tool) -> None:
    """The MCP export validates against MCP's Tool schema, and its schemas are JSON Schema."""
    exported = to_mcp_tool(tool)
    jsonschema.validate(exported, MCP_TOOL_SCHEMA)
    assert exported["inputSchema"] == tool.parameters
    jsonschema.validators.validator_for(exported["inputSchema"]).check_schema(
        exported["inputSchema"]
    )
    if "outputSchema" in exported:
        jsonschema.Draft202012Validator.check_schema(exported["outputSchema"])


def test_mcp_annotations_come_from_the_hints() -> None:
    """Every hint is given explicitly (MCP's defaults assume a destructive open-world tool)."""
    assert to_mcp_tool(SUMMARIZE)["annotations"] == {
        "title": "Text summarize",
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": False,
    }
    annotations = to_mcp_tool(QUERY)["annotations"]
    assert (annotations["destructiveHint"], annotations["openWorldHint"]) == (True, True)
    assert annotations["readOnlyHint"] is False
    assert to_mcp_tool(QUERY)["title"] == "Data query"


def test_mcp_output_schema_wraps_non_object_returns() -> None:
    """An object returns schema is used as is; any other is wrapped as {"result": ...}."""
    assert to_mcp_tool(QUERY)["outputSchema"] == QUERY.returns
    wrapped = to_mcp_tool(SUMMARIZE)["outputSchema"]
    assert wrapped["properties"] == {"result": {"type": "string"}}
    content = mcp_structured_content(SUMMARIZE, "short")
    jsonschema.validate(content, wrapped)
    assert mcp_structured_content(QUERY, {"rows": []}) == {"rows": []}
    assert "outputSchema" not in to_mcp_tool(NO_ARGUMENTS)


def test_exporting_a_tool_with_a_bad_name_is_refused() -> None:
    """A tool whose name no provider accepts cannot be exported."""
    tool = Tool(name="bad name", description="d", function=_noop)
    for export in (to_openai_tool, to_anthropic_tool, to_mcp_tool):
        with pytest.raises(ToolRegistrationError, match="invalid tool name"):
            export(tool)


def test_every_registered_tool_exports() -> None:
    """Tools taken from a registry export to all three formats."""
    registry = ToolRegistry()
    for tool in TOOLS:
        registry.register_tool(tool)
    for tool in registry.list_tools():
        jsonschema.validate(to_mcp_tool(tool), MCP_TOOL_SCHEMA)
        jsonschema.validate(to_anthropic_tool(tool), ANTHROPIC_TOOL_SCHEMA)
        jsonschema.validate(to_openai_tool(tool, strict=True), OPENAI_TOOL_SCHEMA)


FREE_FORM = Tool(
    name="free_form",
    description="Takes any headers.",
    parameters={
        "type": "object",
        "properties": {"url": {"type": "string"}, "headers": {"type": "object"}},
        "required": ["url"],
    },
    function=_noop,
)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_strict_auto_falls_back_per_tool_and_says_why(provider: str) -> None:
    """strict='auto' exports an inexpressible tool non-strict, an expressible one strict."""
    export = to_openai_tool if provider == "openai" else to_anthropic_tool
    fallback = export(FREE_FORM, strict="auto")
    body = fallback["function"] if provider == "openai" else fallback
    assert body["strict"] is False
    assert body.get("parameters", body.get("input_schema")) == FREE_FORM.parameters
    reason = strict_problem(FREE_FORM, provider=provider)  # type: ignore[arg-type]
    assert reason is not None
    assert "/properties/headers" in reason
    with pytest.raises(ToolRegistrationError, match="free-form object"):
        export(FREE_FORM, strict=True)
    strict = export(QUERY, strict="auto")
    body = strict["function"] if provider == "openai" else strict
    assert body["strict"] is True
    assert strict_problem(QUERY, provider=provider) is None  # type: ignore[arg-type]


def test_strict_refuses_an_unknown_policy() -> None:
    """strict takes True, False or 'auto'; anything else is a typed error."""
    with pytest.raises(ToolRegistrationError, match="'auto'"):
        to_openai_tool(QUERY, strict="yes")  # type: ignore[arg-type]


def test_single_branch_all_of_is_merged() -> None:
    """An allOf with one branch is merged into its parent; the outer description wins."""
    schema = {
        "type": "object",
        "properties": {
            "count": {"description": "How many", "allOf": [{"type": "integer", "minimum": 1}]},
            "entry": {"description": "The entry", "allOf": [{"$ref": "#/$defs/entry"}]},
        },
        "required": ["count", "entry"],
        "$defs": {
            "entry": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
                "additionalProperties": False,
            }
        },
    }
    strict = openai_strict_schema(schema)
    assert strict["properties"]["count"] == {
        "description": "How many",
        "type": "integer",
        "minimum": 1,
    }
    assert strict["properties"]["entry"] == {"description": "The entry", "$ref": "#/$defs/entry"}
    conflicting = {
        "type": "object",
        "properties": {"n": {"type": "string", "allOf": [{"type": "integer"}]}},
    }
    with pytest.raises(ToolRegistrationError, match="conflicts with 'type'"):
        openai_strict_schema(conflicting)


def test_anthropic_strict_keeps_optional_properties_optional_and_drops_bounds() -> None:
    """Anthropic's strict schema: closed objects, optional stays optional, no numeric bounds."""
    schema = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 10, "pattern": "^a"},
            "count": {"type": "integer", "minimum": 1, "maximum": 9},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 5},
            "first": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "when": {"type": "string", "format": "uri"},
        },
        "required": ["text"],
    }
    strict = anthropic_strict_schema(schema)
    assert strict["required"] == ["text"]
    assert strict["additionalProperties"] is False
    properties = strict["properties"]
    assert properties["text"] == {"type": "string", "pattern": "^a"}
    assert properties["count"] == {"type": "integer"}
    assert properties["tags"] == {"type": "array", "items": {"type": "string"}}
    assert properties["first"]["minItems"] == 1
    assert properties["when"]["format"] == "uri"
    tool = Tool(name="t", description="d", parameters=schema, function=_noop)
    exported = to_anthropic_tool(tool, strict=True)
    assert exported["strict"] is True
    assert exported["input_schema"] == strict
    assert "strict" not in to_anthropic_tool(tool)
    jsonschema.Draft202012Validator.check_schema(strict)


def test_mcp_output_schema_moves_definitions_to_the_root() -> None:
    """A wrapped non-object return keeps its $ref resolvable: its $defs move to the root."""
    returns = {
        "type": "array",
        "items": {"$ref": "#/$defs/Pet"},
        "$defs": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }
    tool = Tool(name="pets", description="d", returns=returns, function=_noop)
    output = to_mcp_tool(tool)["outputSchema"]
    assert output["$defs"] == returns["$defs"]
    assert "$defs" not in output["properties"]["result"]
    assert "$defs" in tool.returns  # the tool's own schema is untouched
    validator = jsonschema.Draft202012Validator(output)
    assert validator.is_valid({"result": [{"name": "Rex"}]})
    assert not validator.is_valid({"result": [{"name": 3}]})
