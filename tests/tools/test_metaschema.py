"""The quick metaschema walk never vouches for a schema jsonschema rejects."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema.exceptions import SchemaError

from agentkit import ToolRegistrationError
from agentkit.tools._metaschema import surely_valid_2020_12
from agentkit.tools._validation import compile_schema

#: Schemas draft 2020-12's metaschema rejects, one broken keyword each.
INVALID_SCHEMAS: list[Any] = [
    {"type": "strng"},
    {"type": []},
    {"type": ["string", "string"]},
    {"type": ("string", "null")},
    {"enum": "a"},
    {"enum": ("a", "b")},
    {"multipleOf": 0},
    {"multipleOf": -2.5},
    {"minimum": "1"},
    {"maximum": True},
    {"minLength": -1},
    {"maxLength": 1.5},
    {"maxItems": "3"},
    {"minProperties": False},
    {"pattern": "("},
    {"pattern": 5},
    {"required": "a"},
    {"required": ["a", "a"]},
    {"required": ["a", 1]},
    {"items": 3},
    {"items": [{"type": "string"}, "x"]},
    {"additionalProperties": "no"},
    {"not": None},
    {"anyOf": []},
    {"allOf": {"type": "string"}},
    {"oneOf": [{"type": "string"}, 7]},
    {"properties": []},
    {"properties": {"a": {"type": "strng"}}},
    {"type": "object", "properties": {"n": {"minimum": "1"}}},
    {"title": 3},
    {"description": None},
    {"deprecated": "yes"},
    {"examples": {"a": 1}},
    {"format": 1},
    {"uniqueItems": 1},
    {"$comment": 1},
    {"type": "object", "properties": {"a": {"items": {"anyOf": [{"maxItems": -5}]}}}},
    "not a schema",
    3,
    None,
]

#: Common valid schemas the walk vouches for (so jsonschema's slow check is skipped).
VOUCHED_SCHEMAS: list[Any] = [
    True,
    False,
    {},
    {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 10, "pattern": "^a+$"},
            "n": {"type": ["integer", "null"], "minimum": 0, "exclusiveMaximum": 5.5},
            "tags": {"type": "array", "items": {"enum": ["a", 1, None]}, "uniqueItems": True},
            "any": {"anyOf": [{"const": 1}, {"not": {"type": "string"}}], "default": 1},
        },
        "required": ["text"],
        "additionalProperties": False,
        "description": "d",
        "examples": [{"text": "a"}],
    },
]


@pytest.mark.parametrize("schema", INVALID_SCHEMAS, ids=repr)
def test_invalid_schemas_are_not_vouched_for_and_refused(schema: Any) -> None:
    """Each invalid schema gets no vouch from the walk and compile_schema refuses it."""
    assert not surely_valid_2020_12(schema)
    with pytest.raises(ToolRegistrationError):
        compile_schema(schema, what="parameters of tool 't'")


def _pattern_text(schema: Any) -> bool:
    """Whether *schema* has a string pattern, which RE2 checks before jsonschema does."""
    return isinstance(schema, dict) and isinstance(schema.get("pattern"), str)


@pytest.mark.parametrize(
    "schema", [schema for schema in INVALID_SCHEMAS[:-3] if not _pattern_text(schema)], ids=repr
)
def test_refusals_keep_jsonschemas_message(schema: Any) -> None:
    """The refusal message is jsonschema's own message for the schema, as before the walk."""
    with pytest.raises(SchemaError) as expected:
        jsonschema.Draft202012Validator.check_schema(schema)
    with pytest.raises(ToolRegistrationError) as caught:
        compile_schema(schema, what="parameters of tool 't'")
    assert expected.value.message in str(caught.value)


@pytest.mark.parametrize("schema", [s for s in INVALID_SCHEMAS if _pattern_text(s)], ids=repr)
def test_bad_patterns_are_refused_by_the_safe_engine_with_their_place(schema: Any) -> None:
    """An invalid pattern is refused by the RE2 check, which names where it sits and why."""
    with pytest.raises(ToolRegistrationError, match="/pattern: invalid regular expression"):
        compile_schema(schema, what="parameters of tool 't'")


@pytest.mark.parametrize("schema", VOUCHED_SCHEMAS, ids=repr)
def test_common_valid_schemas_are_vouched_for(schema: Any) -> None:
    """Common tool-shaped schemas pass the walk and jsonschema's own check alike."""
    assert surely_valid_2020_12(schema)
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_builtin_tool_schema_is_valid() -> None:
    """Every built-in tool schema the walk vouches for also passes jsonschema's check."""
    from agentkit_tools import create_builtin_tools_library

    schemas = [
        schema
        for tool in create_builtin_tools_library()
        for schema in (tool.parameters, tool.returns)
        if schema is not None
    ]
    vouched = [schema for schema in schemas if surely_valid_2020_12(schema)]
    assert len(vouched) == len(schemas)
    for schema in vouched:
        jsonschema.Draft202012Validator.check_schema(schema)


_KEYWORDS = [
    "type",
    "enum",
    "const",
    "multipleOf",
    "minimum",
    "exclusiveMaximum",
    "minLength",
    "maxItems",
    "pattern",
    "required",
    "items",
    "additionalProperties",
    "not",
    "anyOf",
    "properties",
    "title",
    "deprecated",
    "examples",
    "uniqueItems",
    "$ref",
    "$defs",
]
_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["string", "integer", "null", "strng", "(", "^a$", "#/x", ""]),
    st.lists(st.sampled_from(["string", "null", "a", 1]), max_size=3),
)


def _schemas() -> st.SearchStrategy[Any]:
    return st.recursive(
        _VALUES,
        lambda children: st.one_of(
            st.dictionaries(st.sampled_from(_KEYWORDS), children, max_size=3),
            st.lists(children, max_size=3),
            st.tuples(children),
            st.dictionaries(st.sampled_from(["a", "b"]), children, max_size=2).map(
                lambda properties: {"properties": properties}
            ),
        ),
        max_leaves=12,
    )


@given(_schemas())
def test_a_vouched_schema_always_passes_jsonschema(schema: Any) -> None:
    """Whatever the walk vouches for, jsonschema's metaschema check accepts."""
    if surely_valid_2020_12(schema):
        jsonschema.Draft202012Validator.check_schema(schema)


def test_local_definition_references_are_surely_valid() -> None:
    """A "#/$defs/NAME" reference and a $defs map take the quick path; other refs do not."""
    schema = {
        "type": "object",
        "properties": {"pet": {"$ref": "#/$defs/Pet"}},
        "$defs": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }
    assert surely_valid_2020_12(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    for ref in ("https://example.invalid/pet.json", "#/definitions/Pet", "#/$defs/a~1b", 7):
        assert not surely_valid_2020_12({"$ref": ref})
    assert not surely_valid_2020_12({"$defs": {"Pet": {"type": "kitten"}}})
